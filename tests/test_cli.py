"""The ``netlab`` command: in-process for its branches, as a real process for the rest.

The unprivileged path runs the command as ``nobody`` with every capability dropped
(setpriv), keeping only CAP_DAC_READ_SEARCH so the interpreter under /root stays reachable.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import HANDSHAKE_FACTS, LiveProcesses, fixture_trace, run_python, tshark_rows

import netlab.experiments
from netlab.analysis.trace import Trace
from netlab.cli import EX_NOPERM, main
from netlab.errors import ExperimentError, PrivilegeError
from netlab.experiments import EXPERIMENTS, Experiment
from netlab.experiments.tcp.handshake import Fact
from netlab.kernel.capture import read_pcap


def netlab_process(*args: str, demote: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``python -m netlab ARGS`` (as nobody, without capabilities, if ``demote``)."""
    return run_python("-m", "netlab", *args, demote=demote)


# ---------------------------------------------------------------------------------------
# In-process, with a stand-in experiment where the branch does not need a real run


@dataclass(frozen=True)
class _Result:
    trace: Trace
    holds: bool = True
    pcap_host: str = "client"
    keylog: bytes | None = None

    def report(self) -> str:
        return "the report"

    def facts(self) -> list[Fact]:
        return [Fact(text="a claim", holds=self.holds, evidence="some data")]


def _stand_in(monkeypatch: pytest.MonkeyPatch, run: object) -> None:
    monkeypatch.setitem(EXPERIMENTS, "handshake",
                        Experiment("handshake", "handshake", "stand-in", run, facts=1))


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    width = max(map(len, EXPERIMENTS))
    assert out.splitlines() == [f"{e.name.ljust(width)}  {e.summary}"
                                for e in EXPERIMENTS.values()]
    assert f"\n{'handshake'.ljust(width)}  TCP three-way handshake" in f"\n{out}"


def test_unknown_experiment_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "nosuch"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: netlab run")
    choices = ", ".join(f"'?{name}'?" for name in sorted(EXPERIMENTS))
    assert re.search(r"argument EXPERIMENT: invalid choice: 'nosuch' \(choose from "
                     + choices + r"\)", err)


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2
    assert "the following arguments are required: COMMAND" in capsys.readouterr().err


def test_run_writes_the_pcap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    trace = fixture_trace()
    _stand_in(monkeypatch, lambda: _Result(trace))
    assert main(["run", "handshake", "--pcap", str(tmp_path / "h.pcap")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("the report\n")
    assert f"capture saved to {tmp_path / 'h.pcap'}" in out
    assert [f.data for f in read_pcap(tmp_path / "h.pcap")] == [
        f.data for f in trace.frames["client"]]


def test_keylog_is_written_where_the_result_has_one(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    @dataclass(frozen=True)
    class _TlsResult(_Result):
        keylog: bytes = b"CLIENT_RANDOM 00 11\n"

    _stand_in(monkeypatch, lambda: _TlsResult(fixture_trace()))
    assert main(["run", "handshake", "--keylog", str(tmp_path / "k.log")]) == 0
    assert (tmp_path / "k.log").read_bytes() == b"CLIENT_RANDOM 00 11\n"
    assert f"key log saved to {tmp_path / 'k.log'}" in capsys.readouterr().out


def test_keylog_of_an_experiment_without_tls_is_a_usage_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _stand_in(monkeypatch, lambda: _Result(fixture_trace()))
    assert main(["run", "handshake", "--keylog", str(tmp_path / "k.log")]) == 2
    assert capsys.readouterr().err == "netlab: this experiment has no TLS key log to save\n"
    assert not (tmp_path / "k.log").exists()


def test_pcap_in_a_missing_directory_is_one_clear_line(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    ran = []
    _stand_in(monkeypatch, lambda: ran.append(1) or _Result(fixture_trace()))
    target = tmp_path / "no" / "such" / "dir" / "h.pcap"
    assert main(["run", "handshake", "--pcap", str(target)]) == 2
    out, err = capsys.readouterr()
    assert err == (f"netlab: cannot write {target}: {target.parent} is not a writable "
                   "directory\n")
    assert not ran and out == ""  # checked before the experiment runs, not after
    assert not target.parent.exists()


def test_a_fact_that_does_not_hold_exits_1(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    _stand_in(monkeypatch, lambda: _Result(fixture_trace(), holds=False))
    assert main(["run", "handshake"]) == 1
    assert capsys.readouterr().out == "the report\n"


@pytest.mark.parametrize(("error", "status"), [
    (ExperimentError("the server never reached ESTABLISHED"), 1),
    (PrivilegeError("Creating a network namespace"), EX_NOPERM),
])
def test_errors_are_one_line(monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str], error: Exception,
                             status: int) -> None:
    def run() -> None:
        raise error

    _stand_in(monkeypatch, run)
    assert main(["run", "handshake"]) == status
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"netlab: {error}\n"


def test_experiments_registry() -> None:
    assert EXPERIMENTS["handshake"].run is netlab.experiments.tcp.handshake.handshake
    assert all(name == e.name for name, e in EXPERIMENTS.items())


# ---------------------------------------------------------------------------------------
# As a process


def test_list_as_a_process() -> None:
    done = netlab_process("list")
    assert done.returncode == 0, done.stderr
    assert "\nhandshake " in f"\n{done.stdout}"
    assert done.stderr == ""


def test_unprivileged_run_says_what_to_do() -> None:
    """Without privileges: status 77 and one sentence naming sudo and the capabilities."""
    done = netlab_process("run", "handshake", demote=True)
    assert done.returncode == EX_NOPERM, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("netlab: ")
    assert "sudo " in lines[0] and "CAP_NET_ADMIN" in lines[0]
    assert "-m netlab run handshake" in lines[0]  # the command to re-run


@pytest.mark.live
def test_run_as_a_process(live_processes: LiveProcesses) -> None:
    done, pcap = live_processes.cli(), live_processes.cli_pcap
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert out.startswith("Three-way handshake (client 192.0.2.1:40000 → server "
                          "192.0.2.2:8080)\n\n#  time (ms)  direction ")
    assert out.count("✓") == HANDSHAKE_FACTS and "✗" not in out
    assert out.rstrip().endswith(f"capture saved to {pcap} (open it with Wireshark or "
                                 "tshark -r)")
    trace = Trace.from_frames([read_pcap(pcap)])
    assert [c.client[1] for c in trace.connections()] == [40000, 40001, 40002]


@pytest.mark.live
@pytest.mark.oracle
def test_run_pcap_read_by_tshark(live_processes: LiveProcesses, tshark: str) -> None:
    assert live_processes.cli().returncode == 0
    pcap = live_processes.cli_pcap
    rows = tshark_rows(tshark, pcap)
    assert len(rows) == 7
    streams: dict[str, set[int]] = {}
    for r in rows:
        streams.setdefault(r["tcp.stream"], set()).update(
            {int(r["tcp.srcport"]), int(r["tcp.dstport"])})
    assert sorted(map(sorted, streams.values())) == [[8080, 40000], [8080, 40002],
                                                       [8081, 40001]]

