"""snippets/: every snippet runs as a reader would run it, and keeps the snippet habits."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from support import HANDSHAKE_FACTS, REPO, LiveProcesses, require_namespaces, run_python, saved

from netlab.analysis.trace import Trace
from netlab.experiments import EXPERIMENTS
from netlab.kernel.capture import read_pcap

SNIPPETS = sorted((REPO / "snippets").glob("*.py"))


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: p.name)
def test_snippet_shape(path: Path) -> None:
    """A docstring saying what it shows and how to run it; main() under the __main__ guard."""
    tree = ast.parse(path.read_text())
    doc = ast.get_docstring(tree)
    assert doc and "sudo" in doc and path.name in doc
    assert any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body)
    last = tree.body[-1]
    assert isinstance(last, ast.If) and ast.unparse(last.test) == "__name__ == '__main__'"


@pytest.mark.live
def test_tcp_handshake_snippet(live_processes: LiveProcesses) -> None:
    done, pcap = live_processes.snippet(), live_processes.snippet_pcap
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    assert done.stdout.count("✓") == HANDSHAKE_FACTS and "✗" not in done.stdout
    assert "\nFacts\n\n✓ connect() is what starts the handshake\n" in done.stdout
    assert done.stdout.rstrip().endswith(saved(pcap))
    trace = Trace.from_frames([read_pcap(pcap)])
    assert len(trace) == 7
    assert [c.client[1] for c in trace.connections()] == [40000, 40001, 40002]


def test_tcp_handshake_snippet_unprivileged() -> None:
    done = run_python(str(REPO / "snippets" / "tcp_handshake.py"), demote=True)
    assert done.returncode == 77, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert "sudo " in done.stderr and "CAP_NET_ADMIN" in done.stderr


@pytest.mark.live
def test_http_snippet(tmp_path: Path) -> None:
    """The HTTP chapter's snippet runs every experiment and every fact holds."""
    require_namespaces()
    pcap = tmp_path / "http.pcap"
    done = run_python(str(REPO / "snippets" / "http_connections.py"), "--pcap", str(pcap),
                      timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    assert "✗" not in done.stdout and done.stdout.count("✓") == EXPERIMENTS["http"].facts
    assert "\n✓ HTTP/1.0 opens one connection per request, HTTP/1.1 one in all\n" in done.stdout
    trace = Trace.from_frames([read_pcap(pcap)])
    assert [c.client[1] for c in trace.connections()] == [40000]


def test_http_snippet_unprivileged() -> None:
    done = run_python(str(REPO / "snippets" / "http_connections.py"), demote=True)
    assert done.returncode == 77, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "sudo " in done.stderr


SNIPPETS = {"http_one_request.py": "http-request", "http_costs.py": "http-costs",
            "http_head_of_line.py": "http-hol", "http_keepalive.py": "http-keepalive",
            "http_bad_input.py": "http-bad-input", "http_eavesdropper.py": "http-eavesdrop",
            "longlived_idle.py": "idle", "longlived_heartbeat.py": "heartbeat",
            "longlived_push.py": "push", "longlived_websocket.py": "websocket",
            "network_bottleneck.py": "bottleneck", "network_impairments.py": "impairments",
            "network_nagle.py": "nagle", "network_recovery.py": "recovery",
            "network_flow.py": "flow", "network_congestion.py": "congestion",
            "network_mtu.py": "mtu"}
FACTS = {name: EXPERIMENTS[experiment].facts for name, experiment in SNIPPETS.items()}
"""The one-experiment snippets of the HTTP, long-lived and network chapters, and how many facts
each checks."""


@pytest.mark.live
@pytest.mark.parametrize("name", FACTS)
def test_each_experiment_has_a_snippet(name: str, tmp_path: Path) -> None:
    """Each runs as a reader would run it, checks every fact, saves the client's capture."""
    require_namespaces()
    pcap = tmp_path / "out.pcap"
    done = run_python(str(REPO / "snippets" / name), "--pcap", str(pcap), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == "" and "✗" not in done.stdout and "\nFacts\n\n✓ " in done.stdout
    assert done.stdout.count("\n✓ ") == FACTS[name]
    assert done.stdout.rstrip().endswith(saved(pcap))
    trace = Trace.from_frames([read_pcap(pcap)])
    assert trace.connections() and all(c.client[0] == "192.0.2.1" for c in trace.connections())


def test_longlived_snippet_unprivileged() -> None:
    done = run_python(str(REPO / "snippets" / "longlived_idle.py"), demote=True)
    assert done.returncode == 77, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert "CAP_NET_ADMIN" in done.stderr
