"""Shared fixtures: tshark, and one live run of the handshake experiment for the session.

The handshake experiment takes seconds (`time netlab run handshake`: 4.9 s on the 2-core
machine that builds the site, while other builds ran; most of it waiting for a SYN
retransmission), so it runs once per session; the tests that only read its result share
it. While it runs, tcpdump captures the same interfaces from inside the hosts' namespaces (a
second, independent capture of the very same traffic), and the state of this process and of
the root namespace is recorded before and after, for the cleanup tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import (
    LiveProcesses,
    LiveRun,
    Tcpdump,
    crafted_frames,
    host_state,
    require_namespaces,
    require_program,
    settled_host_state,
)

import netlab.lab.lab
from netlab.analysis.trace import Trace
from netlab.experiments.tcp.handshake import handshake
from netlab.kernel.capture import write_pcap
from netlab.lab.lab import Host, Lab, LabCapture


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Views print English unless a test asks otherwise (the docs build sets the language)."""
    monkeypatch.delenv("NETLAB_DOCS_LANG", raising=False)


@pytest.fixture(scope="session")
def tshark() -> str:
    """The tshark program, or a skip that says how to install it."""
    return require_program("tshark")


@pytest.fixture(scope="session")
def crafted_pcap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`support.crafted_frames` as a pcap file (written by netlab)."""
    return write_pcap(tmp_path_factory.mktemp("crafted") / "crafted.pcap", crafted_frames())


@pytest.fixture(scope="session")
def live_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProcesses]:
    """The CLI and the snippet running the handshake (live), started together."""
    require_namespaces()
    procs = LiveProcesses.start(tmp_path_factory.mktemp("processes"))
    yield procs
    procs.cli()  # reap both, even if no test asked for one
    procs.snippet()


@pytest.fixture(scope="session")
def handshake_run(tmp_path_factory: pytest.TempPathFactory,
                  live_processes: LiveProcesses) -> LiveRun:
    """The handshake experiment, run once (live: needs root), with tcpdump alongside.

    ``live_processes`` is only requested so that those runs overlap with this one.
    """
    require_namespaces()
    require_program("tcpdump")
    directory = tmp_path_factory.mktemp("handshake")
    witnesses: dict[str, Tcpdump] = {}

    class WitnessedCapture(LabCapture):
        """netlab's capture, with tcpdump on the same interfaces for as long as it runs."""

        def __init__(self, lab: Lab, hosts: tuple[Host, ...]) -> None:
            try:
                for h in hosts:
                    witnesses[h.name] = Tcpdump(h.ns, h.interfaces[0].name,
                                                directory / f"tcpdump-{h.name}.pcap")
            except BaseException:
                for w in witnesses.values():
                    w.stop()
                raise
            super().__init__(lab, hosts)

        def stop(self) -> Trace:
            trace = super().stop()
            for w in witnesses.values():
                w.stop()
            return trace

    before = host_state()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(netlab.lab.lab, "LabCapture", WitnessedCapture)
        result = handshake()
    after = settled_host_state(before)
    pcaps = {h: result.trace.write_pcap(directory / f"netlab-{h}.pcap", host=h)
             for h in ("client", "server")}
    return LiveRun(result=result, pcaps=pcaps,
                   tcpdump={n: w.frames for n, w in witnesses.items()},
                   tcpdump_drops={n: w.kernel_drops for n, w in witnesses.items()},
                   before=before, after=after)
