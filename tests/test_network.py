"""The network chapter's experiments, each run live once per module, with tshark as the oracle.

tshark reads netlab's pcaps with its own TCP analysis (``tcp.analysis.*``): it must find the
retransmissions, the fast retransmission, the duplicate ACKs and their SACK blocks, the
out-of-order segments, the delayed ACKs and the link's rate where netlab's facts say they are.
"""

from __future__ import annotations

import socket
import statistics
import struct
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from support import require_namespaces

from netlab.errors import LabError
from netlab.experiments.network._frames import lose_data_segments, tcp_head
from netlab.experiments.network.bottleneck import (
    QUEUE,
    RATE,
    RATE_TOLERANCE,
    BottleneckResult,
    bottleneck,
)
from netlab.experiments.network.flow import FlowResult, flow_control
from netlab.experiments.network.impairments import ImpairmentsResult, impairments
from netlab.experiments.network.nagle import BODY, HEADER, WARMUP, NagleResult, nagle
from netlab.experiments.network.recovery import MSS, RTO_LOSSES, RecoveryResult, recovery
from netlab.kernel.wire import Wire


def _tshark(tshark: str, pcap: Path, display: str, *fields: str) -> list[list[str]]:
    cmd = [tshark, "-n", "-r", str(pcap), "-Y", display, "-T", "fields",
           "-o", "tcp.relative_sequence_numbers:TRUE", "-o", "tcp.analyze_sequence_numbers:TRUE"]
    for f in fields:
        cmd += ["-e", f]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines()]


# ---------------------------------------------------------------------------------------
# Without a lab


def _frame(seq: int, payload: bytes = b"", dport: int = 8080) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", 40000, dport, seq, 0, 5 << 4, 0x18, 1000, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     socket.inet_aton("192.0.2.1"), socket.inet_aton("192.0.2.2"))
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp


def test_tcp_head_reads_a_crafted_frame() -> None:
    head = tcp_head(_frame(1234, b"hello"))
    assert head is not None
    assert (head.src, head.sport, head.dst, head.dport, head.seq, head.length) == (
        "192.0.2.1", 40000, "192.0.2.2", 8080, 1234, 5)
    assert tcp_head(b"\x00" * 60) is None  # not IPv4


def test_lose_data_segments_counts_each_sequence_number_once() -> None:
    lose = lose_data_segments({2: 1, 3: 2}, dport=8080)
    verdicts = [lose(_frame(s, b"x")) for s in (100, 200, 300, 200, 300, 300, 400)]
    # 100 passes, 200 lost once, 300 lost twice, the third copy passes, 400 passes
    assert verdicts == [False, True, True, False, True, False, False]
    assert lose(_frame(500)) is False  # no payload: never counted
    assert lose(_frame(600, b"x", dport=9)) is False  # another port


def test_wire_rejects_a_queue_without_a_rate() -> None:
    with pytest.raises(LabError, match="needs a rate"):
        Wire(None, None, queue=5)  # type: ignore[arg-type]  # checked before any socket
    with pytest.raises(LabError):
        Wire(None, None, rate=1e6, duplicate=2)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Live


@pytest.fixture(scope="module")
def neck() -> BottleneckResult:
    require_namespaces()
    return bottleneck()


@pytest.fixture(scope="module")
def mess() -> ImpairmentsResult:
    require_namespaces()
    return impairments()


@pytest.fixture(scope="module")
def rec() -> RecoveryResult:
    require_namespaces()
    return recovery()


@pytest.fixture(scope="module")
def ng() -> NagleResult:
    require_namespaces()
    return nagle()


@pytest.mark.live
def test_bottleneck_rate_by_tshark(neck: BottleneckResult, tshark: str, tmp_path: Path) -> None:
    """tshark's frame times and lengths in the server's capture give the same rate, counted
    as netlab counts it: over the frames that waited behind another in the queue."""
    pcap = neck.trace.write_pcap(tmp_path / "server.pcap", host="server")
    rows = _tshark(tshark, pcap, "ip.src == 192.0.2.1 && tcp.len > 0", "frame.time_epoch",
                   "frame.len")
    arrived = sorted((Decimal(t), int(n)) for t, n in rows)
    assert len(arrived) == len(neck.data()) - len(neck.lost())
    waited = [n > 0 for (n, _), s in sorted(
        zip(neck.replay(), neck.data(), strict=True), key=lambda p: p[1].received_ns or 0)
        if s.received_ns is not None]
    per_bit = [(t - before) / (size * 8) for (before, _), (t, size), behind
               in zip(arrived, arrived[1:], waited[1:], strict=False) if behind]
    rate = 1 / float(statistics.median(per_bit))
    assert abs(rate / RATE - 1) <= RATE_TOLERANCE
    assert abs(rate / neck.delivered_rate() - 1) < 0.001


@pytest.mark.live
def test_bottleneck_drops_are_retransmitted_by_tshark(neck: BottleneckResult, tshark: str,
                                                      tmp_path: Path) -> None:
    """In the sender's capture, tshark calls a resent segment a retransmission, or out of
    order when it leaves less than 3 ms after a new one (its heuristic, without the RTT)."""
    pcap = neck.trace.write_pcap(tmp_path / "client.pcap", host="client")
    resent = {int(s) for (s,) in _tshark(
        tshark, pcap, "tcp.analysis.retransmission || tcp.analysis.fast_retransmission"
        " || tcp.analysis.out_of_order", "tcp.seq")}
    lost = {neck.connection.relative_seq(s) for s in neck.lost()}
    assert lost and lost <= resent
    assert neck.max_queue == QUEUE and set(neck.wire_ahead) == {QUEUE}


@pytest.mark.live
def test_impairments_seen_by_tshark(mess: ImpairmentsResult, tshark: str,
                                    tmp_path: Path) -> None:
    """The server's capture: tshark sees segments out of order and a gap before the chosen
    segment's retransmission; the client's: tshark sees the chosen segment's bytes leave twice
    and flags the second as resent (a retransmission, or out of order when it leaves less than
    3 ms after a new segment: tshark's heuristic, which does not know the RTT)."""
    server = mess.trace.write_pcap(tmp_path / "server.pcap", host="server")
    client = mess.trace.write_pcap(tmp_path / "client.pcap", host="client")
    assert _tshark(tshark, server, "tcp.analysis.out_of_order || tcp.analysis.lost_segment",
                   "frame.number")
    assert mess.retransmitted(mess.chosen())
    chosen = mess.connection.relative_seq(mess.chosen())
    sent = _tshark(tshark, client, f"tcp.seq == {chosen} && tcp.len > 0", "frame.number",
                   "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
                   "tcp.analysis.out_of_order")
    assert len(sent) >= 2, sent
    first, *again = sent
    assert not any(first[1:]) and all(any(flags) for _, *flags in again), sent


@pytest.mark.live
def test_fast_retransmit_by_tshark(rec: RecoveryResult, tshark: str, tmp_path: Path) -> None:
    """tshark flags the resent 3rd segment; it counts the same duplicate ACKs as netlab (a
    window update is not one) and reads the same SACK blocks."""
    pcap = rec.trace.write_pcap(tmp_path / "client.pcap", host="client")
    resent = _tshark(tshark, pcap, "tcp.srcport == 40000 && (tcp.analysis.retransmission || "
                     "tcp.analysis.fast_retransmission || tcp.analysis.out_of_order)", "tcp.seq")
    assert [int(s) for (s,) in resent] == [2 * MSS + 1]
    dups = _tshark(tshark, pcap, "tcp.analysis.duplicate_ack && tcp.dstport == 40000",
                   "tcp.ack")
    assert [int(a) for (a,) in dups] == [2 * MSS + 1] * len(rec.dupacks("fast"))
    sacks = _tshark(tshark, pcap, "tcp.options.sack_le && tcp.dstport == 40000",
                    "tcp.options.sack_le", "tcp.options.sack_re")
    ours = rec.sack_acks("fast")
    assert len(sacks) == len(ours) >= 1
    for (le, re), seg in zip(sacks, ours, strict=True):
        assert (int(le.split(",")[0]), int(re.split(",")[0])) == rec.sack_blocks(seg)[0]


@pytest.mark.live
def test_tail_probe_and_timeouts_by_tshark(rec: RecoveryResult, tshark: str,
                                           tmp_path: Path) -> None:
    pcap = rec.trace.write_pcap(tmp_path / "client.pcap", host="client")
    tail = _tshark(tshark, pcap, "tcp.analysis.retransmission && tcp.srcport == 40001",
                   "tcp.seq")
    assert {int(s) for (s,) in tail} >= {4 * MSS + 1}  # the probe resends the last segment
    rto = _tshark(tshark, pcap, "tcp.analysis.retransmission && tcp.srcport == 40002",
                  "tcp.seq", "tcp.analysis.rto")
    assert len(rto) == RTO_LOSSES and {int(s) for s, _ in rto} == {1}
    # tshark's RTO: seconds since the original transmission; netlab's gaps add up to it
    since = [float(r) for _, r in rto]
    gaps = rec.gaps("timeout", 1)
    assert since == pytest.approx([sum(gaps[:i + 1]) for i in range(len(gaps))], abs=0.002)


@pytest.mark.live
def test_delayed_ack_by_tshark(ng: NagleResult, tshark: str, tmp_path: Path) -> None:
    """tshark's ack_rtt at the client: the header's ACK takes ~40 ms more than a round trip
    with the defaults, about a round trip with TCP_QUICKACK."""
    pcap = ng.trace.write_pcap(tmp_path / "client.pcap", host="client")

    def ack_rtts(port: int) -> list[float]:
        """ack_rtt of the server's ACKs of a header (relative ack 1 + k × 100 + 8)."""
        rows = _tshark(tshark, pcap, f"tcp.dstport == {port} && tcp.analysis.ack_rtt",
                       "tcp.ack", "tcp.analysis.ack_rtt")
        return [float(r) for a, r in rows if int(a) % (HEADER + BODY) == 1 + HEADER]

    slow, quick = ack_rtts(40000)[WARMUP:], ack_rtts(40002)[WARMUP:]
    assert statistics.median(slow) >= 0.040 + 0.010
    assert statistics.median(quick) < 0.010 + 0.010


@pytest.fixture(scope="module")
def flow() -> FlowResult:
    require_namespaces()
    return flow_control()


@pytest.mark.live
def test_flow_control_by_tshark(flow: FlowResult, tshark: str, tmp_path: Path) -> None:
    """tshark finds the same zero windows, the same probes (which it calls zero-window probes
    or keep-alives: Linux's probe carries SND.UNA − 1 and no data, like a keepalive) and the
    window update, and computes the same scaled windows."""
    pcap = flow.trace.write_pcap(tmp_path / "client.pcap", host="client")
    zero = _tshark(tshark, pcap, "tcp.analysis.zero_window && tcp.srcport == 8080",
                   "frame.number")
    assert len(zero) == len(flow.zero_windows()) >= 1
    probes = _tshark(tshark, pcap, "tcp.srcport == 40000 && (tcp.analysis.zero_window_probe "
                     "|| tcp.analysis.keep_alive)", "tcp.seq")
    c = flow.connection
    assert [int(s) for (s,) in probes] == [c.relative_seq(p) for p in flow.probes()]
    update = flow.update()
    assert update is not None
    updates = _tshark(tshark, pcap, "tcp.analysis.window_update && tcp.srcport == 8080",
                      "tcp.window_size")
    assert [int(w) for (w,) in updates][-1] == c.window(update)
    windows = _tshark(tshark, pcap, "tcp.srcport == 8080 && tcp.flags.syn == 0",
                      "tcp.window_size")
    assert [int(w) for (w,) in windows] == [w for _, w in flow.windows()]
