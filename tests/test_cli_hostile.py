"""The ``netlab`` command against a careless or hostile user (issue 15, E and B).

Arguments are checked before anything runs, output files are never written through a
planted link, the key log is private, and a closed pipe or a full disk gives one line
(or none), never a traceback. Interruptions, as real processes, are in test_interrupt.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import REPO, fixture_trace

import netlab.cli
from netlab.analysis.trace import Trace
from netlab.cli import main
from netlab.experiments import EXPERIMENTS, Experiment
from netlab.experiments.result import Fact


@dataclass(frozen=True)
class _Result:
    trace: Trace
    pcap_host: str = "client"
    keylog: bytes = b"CLIENT_RANDOM 00 11\n"

    def report(self) -> str:
        return "the report"

    def facts(self) -> list[Fact]:
        return [Fact(text="a claim", holds=True, evidence="some data")]


def _tls_result() -> _Result:
    return _Result(fixture_trace())


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A stand-in TLS experiment called "handshake"; the list grows when it runs."""
    runs: list[int] = []

    def run() -> _Result:
        runs.append(1)
        return _tls_result()

    run.__annotations__["return"] = _Result
    monkeypatch.setitem(EXPERIMENTS, "handshake",
                        Experiment("handshake", "handshake", "stand-in", run, facts=1))
    return runs


@pytest.mark.parametrize("args, message", [
    (["--pcap", ""], "netlab: --pcap needs a file name, not an empty string"),
    (["--keylog", ""], "netlab: --keylog needs a file name, not an empty string"),
    (["--pcap", "{tmp}"], "netlab: cannot write {tmp}: it is a directory"),
    (["--pcap", "/dev/null"], "netlab: cannot write /dev/null: it is not a regular file"),
    (["--pcap", "{tmp}/same", "--keylog", "{tmp}/./same"],
     "netlab: --pcap and --keylog name the same file, {tmp}/same: give each its own"),
])
def test_bad_outputs_are_refused_before_the_run(
        ran: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        args: list[str], message: str) -> None:
    args = [a.format(tmp=tmp_path) for a in args]
    assert main(["run", "handshake", *args]) == 2
    out, err = capsys.readouterr()
    assert err == message.format(tmp=tmp_path) + "\n"
    assert out == "" and not ran
    assert list(tmp_path.iterdir()) == []


def test_keylog_of_a_real_experiment_without_tls_is_refused_before_it_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real handshake experiment, which needs root and 2.5 s: refused at once, unrun."""
    assert main(["run", "handshake", "--keylog", str(tmp_path / "k.log")]) == 2
    assert capsys.readouterr() == ("", "netlab: this experiment has no TLS key log to save\n")


def test_a_planted_link_is_refused_and_never_followed(
        ran: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "k.log").symlink_to(victim)
    assert main(["run", "handshake", "--keylog", str(tmp_path / "k.log")]) == 2
    assert "it is a symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "precious\n" and not ran


def test_outputs_replace_the_target_and_the_key_log_is_private(
        ran: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Written beside the target, then renamed over it: a link planted after the check is
    replaced, not followed; the key log is mode 0600, the pcap what the umask allows."""
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    keylog, pcap = tmp_path / "k.log", tmp_path / "c.pcap"
    keylog.write_text("old keys\n")
    keylog.chmod(0o644)
    real = netlab.cli._check_outputs

    def check_then_plant(*args: Any) -> str | None:
        why = real(*args)
        pcap.symlink_to(victim)  # the race a check alone cannot win
        return why

    monkeypatch.setattr(netlab.cli, "_check_outputs", check_then_plant)
    assert main(["run", "handshake", "--pcap", str(pcap), "--keylog", str(keylog)]) == 0
    assert victim.read_text() == "precious\n"
    assert not pcap.is_symlink() and pcap.read_bytes()[:4] == b"\x4d\x3c\xb2\xa1"
    assert keylog.read_bytes() == b"CLIENT_RANDOM 00 11\n"
    assert keylog.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pcap", "k.log", "victim"]
    assert len(ran) == 1


def _netlab(*args: str, stdout: int | None = subprocess.PIPE,
            shell: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    if shell is not None:
        return subprocess.run(["bash", "-c", f"set -o pipefail; {shell}"], env=env,
                              capture_output=True, text=True, timeout=60, cwd="/")
    return subprocess.run([sys.executable, "-m", "netlab", *args], env=env, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=60, cwd="/")


def test_a_full_disk_is_one_line() -> None:
    with open("/dev/full", "w") as full:
        done = _netlab("list", stdout=full.fileno())
    assert done.returncode == 74
    assert done.stderr == "netlab: cannot write the output: No space left on device\n"


def test_a_closed_pipe_is_quiet() -> None:
    """``netlab --help | head -1`` and ``netlab list | head -1``: the first line, no
    traceback; the CLI's status says the reader went away (141, like a SIGPIPE)."""
    py = sys.executable
    for args in ("--help", "list"):
        done = _netlab(shell=f"{py} -m netlab {args} | (head -c 1 >/dev/null; sleep 0.3; "
                             f"exec 0<&-); exit ${{PIPESTATUS[0]}}")
        assert done.stderr == "" and done.returncode in (0, 141), done
    # enough output to fill the pipe: the write after the reader left must fail, quietly
    done = _netlab(shell=f"{py} -c 'import sys; sys.argv[1:] = [\"list\"]; "
                         "import netlab.cli as c; c._out = lambda t=\"\", o=c._out: "
                         "[o(t) for _ in range(2000)] and None; sys.exit(c.main())' "
                         "| head -1 >/dev/null; exit ${PIPESTATUS[0]}")
    assert (done.returncode, done.stderr) == (141, "")


STATUSES = (0, 1, 2, 70, 74, 77, 130, 141)
"""The exit statuses the CLI promises (README's table)."""


def test_help_lists_every_exit_status() -> None:
    done = _netlab("run", "--help")
    assert done.returncode == 0
    listed = [int(line.split()[0]) for line in
              done.stdout.partition("exit status:\n")[2].splitlines() if line.strip()]
    assert tuple(listed) == STATUSES
    readme = (REPO / "README.md").read_text()
    assert tuple(int(code) for code in re.findall(r"^\| (\d+) \|", readme, re.M)) == STATUSES


def test_an_interrupt_lost_where_python_cannot_raise_it_is_still_one_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    """SIGINT while the interpreter runs a finalizer (or the logging module's fork handler,
    where ``netlab run https-certs`` met it): the KeyboardInterrupt cannot propagate; Python
    would print "Exception ignored in" with a traceback and the run would end with 0."""
    import signal

    class Finalized:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs here, inside __del__

    def body() -> int:
        Finalized()  # made and finalized at once
        return 0

    status = netlab.cli._guarded("netlab: ", body)
    err = capsys.readouterr().err
    assert (status, err) == (130, "netlab: interrupted; the lab was taken down\n")


def test_an_interrupt_that_cuts_a_scratch_directory_short_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """SIGTERM just after a scratch directory was made, before its ``with`` block could
    remove it (or while it was being removed): the interrupted run removes it all the same.
    Another live process's directory stays."""
    import signal
    import tempfile

    from netlab.kernel import scratch

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    private = scratch.root()
    others = private / f"netlab-x.1.{scratch._start_time(1)}.keep"  # init's: alive
    others.mkdir()

    def body() -> int:
        made = scratch._make("netlab-https-")  # as directory() makes it, before its try
        (made / "client.pcap").write_bytes(b"a password")
        os.kill(os.getpid(), signal.SIGTERM)  # the handler raises KeyboardInterrupt here
        return 0

    status = netlab.cli._guarded("netlab: ", body)
    err = capsys.readouterr().err
    assert (status, err) == (130, "netlab: interrupted; the lab was taken down\n")
    assert list(private.iterdir()) == [others]
