"""netlab.experiments.queues: each experiment run once, checked against tshark on its pcap.

The experiments check their own facts; these tests count the same segments again with
tshark, an independent dissector, on the pcap each experiment saves, and check the frame
helpers and the namespace settings on their own.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from support import REPO, require_namespaces, run_python, saved

from netlab.errors import ExperimentError
from netlab.experiments import EXPERIMENTS
from netlab.experiments.endpoints import client_socket
from netlab.experiments.queues import backlog, flood
from netlab.experiments.queues._frames import Dropper, tcp_of
from netlab.experiments.queues.backlog import BacklogResult, accept_queue
from netlab.experiments.queues.fastopen import REQUEST, FastOpenResult, fast_open
from netlab.experiments.queues.flood import FloodResult, syn_flood
from netlab.experiments.queues.losses import LossesResult, handshake_losses, syn_schedule
from netlab.experiments.queues.old_syn import OldSynResult, old_duplicate_syn
from netlab.experiments.result import save_pcap
from netlab.kernel.capture import Capture
from netlab.kernel.sysctl import netstat, set_sysctl, sysctl
from netlab.lab import Lab

FIELDS = ("frame.time_epoch", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport", "tcp.flags",
          "tcp.seq_raw", "tcp.ack_raw", "tcp.options.wscale.shift", "tcp.options.sack_perm",
          "tcp.options.mss_val", "tcp.options.tfo.request", "tcp.options.tfo.cookie",
          "tcp.len")
SYN, SYNACK, RST, ACK = "0x0002", "0x0012", "0x0004", "0x0010"


@dataclass
class Run:
    result: Any
    rows: list[dict[str, str]]
    """tshark's reading of the experiment's own pcap, one dict per frame."""


def _tshark(tshark: str, pcap: Path) -> list[dict[str, str]]:
    cmd = [tshark, "-n", "-r", str(pcap), "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [dict(zip(FIELDS, line.split("\t"), strict=True))
            for line in done.stdout.splitlines()]


def _run(experiment: Callable[[], Any], tmp: pytest.TempPathFactory, tshark: str) -> Run:
    require_namespaces()
    result = experiment()
    pcap = save_pcap(result, tmp.mktemp("queues") / "run.pcap")
    return Run(result, _tshark(tshark, pcap))


@pytest.fixture(scope="module")
def why(tmp_path_factory: pytest.TempPathFactory, tshark: str) -> Run:
    return _run(old_duplicate_syn, tmp_path_factory, tshark)


@pytest.fixture(scope="module")
def losses(tmp_path_factory: pytest.TempPathFactory, tshark: str) -> Run:
    return _run(handshake_losses, tmp_path_factory, tshark)


@pytest.fixture(scope="module")
def queues(tmp_path_factory: pytest.TempPathFactory, tshark: str) -> Run:
    return _run(accept_queue, tmp_path_factory, tshark)


@pytest.fixture(scope="module")
def tfo(tmp_path_factory: pytest.TempPathFactory, tshark: str) -> Run:
    return _run(fast_open, tmp_path_factory, tshark)


@pytest.fixture(scope="module")
def flooded(tmp_path_factory: pytest.TempPathFactory, tshark: str) -> Run:
    return _run(syn_flood, tmp_path_factory, tshark)


def _facts_hold(result: Any, name: str) -> None:
    facts = result.facts()
    assert len(facts) == EXPERIMENTS[name].facts
    assert [f.evidence for f in facts if not f.holds] == []


# --- frames and settings, no lab needed -------------------------------------------------


def _frame(flags: str, payload: bytes = b"", sport: int = 40000) -> bytes:
    return bytes(Ether() / IP(src="192.0.2.1", dst="192.0.2.2")
                 / TCP(sport=sport, dport=8080, flags=flags, options=[("MSS", 1460)])
                 / payload)


@pytest.mark.parametrize(("flags", "payload", "kind"), [
    ("S", b"", "SYN"), ("SA", b"", "SYN-ACK"), ("A", b"", "ACK"), ("PA", b"hi", "data"),
    ("R", b"", "RST"), ("RA", b"", "RST"), ("FA", b"", "FIN"), ("U", b"", "other"),
])
def test_tcp_of_reads_the_kind_as_scapy_built_it(flags: str, payload: bytes, kind: str) -> None:
    tcp = tcp_of(_frame(flags, payload))
    assert tcp is not None and (tcp.sport, tcp.dport, tcp.payload) == (40000, 8080,
                                                                      len(payload))
    assert tcp.kind == kind


def test_tcp_of_ignores_what_is_not_ipv4_tcp() -> None:
    assert tcp_of(b"") is None
    assert tcp_of(bytes(Ether() / IP(proto=17) / (b"x" * 40))) is None


class _FakeWire:
    def __init__(self) -> None:
        self.predicate: Callable[[bytes], bool] | None = None

    def drop_if(self, predicate: Callable[[bytes], bool]) -> None:
        self.predicate = predicate


def test_dropper_drops_only_its_count_of_its_kind_and_keeps_them() -> None:
    wire = _FakeWire()
    dropper = Dropper(wire, "SYN", port=40000, count=2)  # type: ignore[arg-type]
    assert wire.predicate is dropper
    frames = [_frame("S"), _frame("SA"), _frame("S", sport=40001), _frame("S"), _frame("S")]
    assert [dropper(f) for f in frames] == [True, False, False, True, False]
    assert dropper.frames == [frames[0], frames[3]] and dropper.dropped == 2
    dropper.wait(0.01)
    with pytest.raises(ExperimentError, match="lose 1 ACK"):
        Dropper(wire, "ACK", port=40000).wait(0.01)  # type: ignore[arg-type]


def test_sysctl_refuses_the_machines_own_settings() -> None:
    with pytest.raises(ValueError, match="net"):
        sysctl("kernel.hostname")
    with pytest.raises(ValueError, match="net"):
        set_sysctl("vm.swappiness", 1)


def test_netstat_reads_the_tcpext_counters() -> None:
    values = netstat()
    assert "TcpExt.ListenOverflows" in values and "TcpExt.SyncookiesSent" in values
    text = Path("/proc/thread-self/net/netstat").read_text().split()
    assert text[0] == "TcpExt:"


def _connect_unanswered(port: int) -> tuple[str, float]:
    """connect() from ``port`` to the server, whose SYNs the wire loses: the error's name
    and how long connect() took."""
    with client_socket("192.0.2.1", port) as sock:
        sock.settimeout(30)
        start = time.monotonic()
        try:
            sock.connect(("192.0.2.2", 9))
        except OSError as e:
            return type(e).__name__, time.monotonic() - start
        return "connected", time.monotonic() - start


@pytest.mark.live
def test_syn_schedule_is_the_kernels() -> None:
    """syn_schedule() against the kernel: every SYN is lost, and the SYNs leave, and
    connect() gives up, when it says. With tcp_syn_retries 1, one resend with a doubling
    timeout, or two at a constant second when tcp_syn_linear_timeouts is 2: both in 3 s.
    Kernel timers of one or two seconds run out up to 32 ms late (250 Hz), each after the
    one before: 0.3 s covers three of them on a busy machine."""
    require_namespaces()
    seen: dict[int, list[float]] = {}

    def lose_syns(frame: bytes) -> bool:
        tcp = tcp_of(frame)
        if tcp is None or tcp.kind != "SYN":
            return False
        seen.setdefault(tcp.sport, []).append(time.monotonic())
        return True

    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        wire = lab.link(client, server, wire="pass").wire
        assert wire is not None
        wire.drop_if(lose_syns)
        client.run(set_sysctl, "net.ipv4.tcp_syn_retries", 1)
        for port, linear in ((40010, 0), (40011, 2)):
            client.run(set_sysctl, "net.ipv4.tcp_syn_linear_timeouts", linear)
            error, took = client.run(_connect_unanswered, port, timeout=40)
            resends, fails = syn_schedule(1, linear)
            sent = [t - seen[port][0] for t in seen[port][1:]]
            assert error == "TimeoutError" and len(sent) == len(resends), (sent, resends)
            assert all(0 <= t - r < 0.3 for t, r in zip(sent, resends, strict=True)), sent
            assert 0 <= took - fails < 0.3, took


# --- the wire's inject() ----------------------------------------------------------------


@pytest.mark.live
def test_inject_puts_a_frame_on_one_side_only() -> None:
    require_namespaces()
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        link = lab.link(client, server, wire="pass")
        assert link.wire is not None
        frame = bytes(Ether(src=link.a.mac, dst=link.b.mac)
                      / IP(src="203.0.113.9", dst=server.address)
                      / TCP(sport=1234, dport=9, flags="S"))
        at_client = Capture(client.ns, "eth0", host="client")
        at_server = Capture(server.ns, "eth0", host="server")
        link.wire.inject(frame, toward="b")
        link.wire.idle(0.1)
        seen_client, seen_server = at_client.stop(), at_server.stop()
    assert link.wire.injected == 1
    assert [f.data[:len(frame)] for f in seen_server if not f.outgoing][0] == frame
    assert not any(f.data[:len(frame)] == frame for f in seen_client)


# --- the four experiments, each against tshark -------------------------------------------


@pytest.mark.live
@pytest.mark.oracle
def test_why_three_against_tshark(why: Run) -> None:
    result: OldSynResult = why.result
    _facts_hold(result, "why-three")
    rows = [r for r in why.rows if r["tcp.dstport"] == "40000" or r["tcp.srcport"] == "40000"]
    assert [r["tcp.flags"] for r in rows] == [SYN, SYNACK, RST, SYN, SYNACK, ACK]
    old, synack, rst, new = rows[0], rows[1], rows[2], rows[3]
    assert int(old["tcp.seq_raw"]) == result.old_isn != int(new["tcp.seq_raw"])
    assert int(new["tcp.seq_raw"]) == result.new_isn
    assert int(synack["tcp.ack_raw"]) == (result.old_isn + 1) % 2**32
    assert rst["tcp.seq_raw"] == synack["tcp.ack_raw"]
    assert int(rows[5]["tcp.ack_raw"]) == (int(rows[4]["tcp.seq_raw"]) + 1) % 2**32
    assert float(new["frame.time_epoch"]) - float(rst["frame.time_epoch"]) < 0.2


@pytest.mark.live
@pytest.mark.oracle
def test_losses_against_tshark(losses: Run) -> None:
    result: LossesResult = losses.result
    _facts_hold(result, "handshake-losses")

    def sent(port: int, flags: str) -> list[dict[str, str]]:
        return [r for r in losses.rows if r["tcp.flags"] == flags
                and port in (int(r["tcp.srcport"]), int(r["tcp.dstport"]))]

    for port in (40000, 40001, 40002, 40003):  # the client's capture: every segment it saw
        assert len(sent(port, SYN)) == len(result.sent(port, "SYN")), port
        assert len(sent(port, SYNACK)) == len([s for s in result.sent(port, "SYN-ACK")
                                                if s.received_ns is not None]), port
    times = [float(r["frame.time_epoch"]) for r in sent(40000, SYN)]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps == pytest.approx(result.intervals(40000, "SYN"), abs=0.002)
    assert gaps == pytest.approx(result.expected_syn_intervals(2), rel=0.5)
    assert len({r["tcp.seq_raw"] for r in sent(40000, SYN)}) == 1


@pytest.mark.live
@pytest.mark.oracle
def test_accept_queue_against_tshark(queues: Run) -> None:
    result: BacklogResult = queues.result
    _facts_hold(result, "accept-queue")
    keep, abort = result.runs
    fits = backlog.BACKLOG + 1

    def count(run: backlog.Overflow, flags: str) -> list[int]:
        out = []
        for port in run.ports:
            out.append(sum(1 for r in queues.rows if r["tcp.flags"] == flags
                           and int(r["tcp.srcport"]) == run.server_port
                           and int(r["tcp.dstport"]) == port
                           and float(r["frame.time_epoch"]) * 1e9 < run.ended_ns))
        return out

    assert sorted(count(keep, SYNACK)) == [1] * fits + [2] * (backlog.CLIENTS - fits)
    assert count(abort, RST) == [0] * fits + [1] * (backlog.CLIENTS - fits)
    late = [r for r in queues.rows if r["tcp.flags"] == SYN
            and int(r["tcp.srcport"]) == keep.ports.stop]
    assert len(late) >= 2 and not any(int(r["tcp.dstport"]) == keep.ports.stop
                                      for r in queues.rows)
    assert keep.counters["TcpExt.ListenOverflows"] >= len(late) + backlog.CLIENTS - fits


@pytest.mark.live
@pytest.mark.oracle
def test_syn_flood_against_tshark(flooded: Run) -> None:
    result: FloodResult = flooded.result
    _facts_hold(result, "syn-flood")
    spoofed = [r for r in flooded.rows if r["tcp.flags"] == SYN
               and r["ip.src"].startswith("203.0.113.")]
    assert len(spoofed) == 3 * flood.FLOOD
    assert len({r["ip.src"] for r in spoofed}) == flood.FLOOD

    def synack_to(port: int) -> dict[str, str]:
        return next(r for r in flooded.rows if r["tcp.flags"] == SYNACK
                    and r["tcp.dstport"] == str(port))

    before, cookie = synack_to(40010), synack_to(40011)
    assert before["tcp.options.wscale.shift"] and before["tcp.options.sack_perm"]
    assert not cookie["tcp.options.wscale.shift"] and not cookie["tcp.options.sack_perm"]
    assert cookie["tcp.options.mss_val"] == "1460"
    # tcp_syncookies = 2: every spoofed SYN to port 8082 is answered, each with a cookie
    answered = {r["ip.dst"] for r in flooded.rows if r["tcp.flags"] == SYNACK
                and r["tcp.srcport"] == "8082" and r["ip.dst"].startswith("203.0.113.")}
    assert len(answered) == flood.FLOOD
    # tcp_syncookies = 0: the legitimate client's SYNs to port 8080 go unanswered
    assert not any(r["tcp.dstport"] == "40001" and r["tcp.flags"] == SYNACK
                   for r in flooded.rows)


@pytest.mark.live
@pytest.mark.oracle
def test_fast_open_against_tshark(tfo: Run) -> None:
    result: FastOpenResult = tfo.result
    _facts_hold(result, "fast-open")
    syns = [r for r in tfo.rows if r["tcp.flags"] == SYN]
    synacks = [r for r in tfo.rows if r["tcp.flags"] == SYNACK]
    assert [r["tcp.srcport"] for r in syns] == ["40000", "40001"]
    assert syns[0]["tcp.options.tfo.request"] and not syns[0]["tcp.options.tfo.cookie"]
    assert syns[0]["tcp.len"] == "0" and syns[1]["tcp.len"] == str(len(REQUEST))
    cookie = synacks[0]["tcp.options.tfo.cookie"]
    assert cookie and syns[1]["tcp.options.tfo.cookie"] == cookie
    assert not synacks[1]["tcp.options.tfo.cookie"]
    # the second SYN-ACK acknowledges the SYN and its data at once
    assert int(synacks[1]["tcp.ack_raw"]) == (int(syns[1]["tcp.seq_raw"]) + 1
                                              + len(REQUEST)) % 2**32
    first, second = result.answer_s
    assert second < first - 0.5 * 2 * 0.025


# --- snippets ---------------------------------------------------------------------------

SNIPPETS = {name: EXPERIMENTS[experiment].facts for name, experiment in (
    ("queues_why_three.py", "why-three"), ("queues_losses.py", "handshake-losses"),
    ("queues_accept_queue.py", "accept-queue"), ("queues_syn_flood.py", "syn-flood"),
    ("queues_fast_open.py", "fast-open"))}


@pytest.mark.live
@pytest.mark.parametrize("name", SNIPPETS)
def test_snippet(name: str, tmp_path: Path) -> None:
    require_namespaces()
    pcap = tmp_path / "out.pcap"
    done = run_python(str(REPO / "snippets" / name), "--pcap", str(pcap), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == "" and "✗" not in done.stdout
    assert done.stdout.count("\n✓ ") == SNIPPETS[name]
    assert done.stdout.rstrip().endswith(saved(pcap))
    assert pcap.stat().st_size > 24


def test_snippet_unprivileged() -> None:
    done = run_python(str(REPO / "snippets" / "queues_syn_flood.py"), demote=True)
    assert done.returncode == 77, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def test_the_queues_picture_counts_what_the_kernel_and_tshark_saw(queues: Run) -> None:
    result: BacklogResult = queues.result
    keep, abort = result.picture().runs
    assert (keep.syn_queue, keep.accept_queue, keep.backlog) == (
        result.runs[0].syn_queue, result.runs[0].accept_queue, backlog.BACKLOG)
    assert abort.syn_queue == 0 and abort.accept_queue == backlog.BACKLOG + 1
    rsts = sum(1 for r in queues.rows if r["tcp.flags"] == RST
               and int(r["tcp.srcport"]) == result.runs[1].server_port
               and float(r["frame.time_epoch"]) * 1e9 < result.runs[1].ended_ns)
    assert abort.overflow[0] == f"{rsts} ACKs found the accept queue full: the server " \
                                "answered them with RST"
    svg = result.picture().svg()
    assert svg.count('data-queue="accept"') == 2 * (backlog.BACKLOG + 1)
