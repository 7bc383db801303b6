"""The long-lived connections chapter's experiments, each run live once per module.

tshark is the oracle where it has an opinion: it must find the same keepalive probes, the
same retransmissions, the same WebSocket handshake keys and frames in netlab's pcaps.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
from pathlib import Path

import pytest
from support import require_namespaces

from netlab.analysis.trace import Connection
from netlab.experiments.longlived.heartbeat import (
    DEADLINE,
    INTERVAL,
    SLACK,
    HeartbeatResult,
    heartbeats,
)
from netlab.experiments.longlived.idle import (
    FIREWALL_TIMEOUT,
    IdleResult,
    KernelDefaults,
    idle_connections,
    keepalive_probes,
)
from netlab.experiments.longlived.push import UPDATES, PushPollResult, push_vs_poll, schedule
from netlab.experiments.longlived.websocket import WebSocketResult, websocket
from netlab.proto.websocket import accept_key, frames


@pytest.fixture(scope="module")
def idle() -> IdleResult:
    require_namespaces()
    return idle_connections()


@pytest.fixture(scope="module")
def hb() -> HeartbeatResult:
    require_namespaces()
    return heartbeats()


@pytest.fixture(scope="module")
def pp() -> PushPollResult:
    require_namespaces()
    return push_vs_poll()


@pytest.fixture(scope="module")
def ws() -> WebSocketResult:
    require_namespaces()
    return websocket()


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


def test_kernel_defaults_arithmetic() -> None:
    d = KernelDefaults(keepalive_time=7200, keepalive_intvl=75, keepalive_probes=9,
                       tcp_retries2=15)
    assert d.keepalive_detect == 7875  # 2 h 11 min 15 s
    assert d.retransmit_give_up == pytest.approx(924.6)  # tcp_model_timeout(), 15 retries
    assert KernelDefaults(keepalive_time=1, keepalive_intvl=1, keepalive_probes=1,
                          tcp_retries2=3).retransmit_give_up == pytest.approx(0.2 * 15)


def test_kernel_defaults_grid() -> None:
    d = KernelDefaults(keepalive_time=7200, keepalive_intvl=75, keepalive_probes=9,
                       tcp_retries2=15)
    assert [r[:2] for r in d.grid().rows] == [
        ["tcp_keepalive_time", "7200 s"], ["tcp_keepalive_intvl", "75 s"],
        ["tcp_keepalive_probes", "9"], ["", "7875 s = 2 h 11 min 15 s"]]
    assert [r[:2] for r in d.grid("tcp_retries2", "retransmission").rows] == [
        ["tcp_retries2", "15"], ["", "924.6 s = 15.4 min"]]


def test_accept_key_matches_an_independent_sha1() -> None:
    """RFC 6455 §4.2.2, computed here from the RFC's words, not with netlab's function."""
    key = base64.b64encode(bytes(range(16))).decode()
    expected = base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    assert accept_key(key) == expected
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # §1.3


def test_frame_decoder_on_rfc_examples() -> None:
    # RFC 6455 §5.7: a single-frame masked text message "Hello", and an unmasked ping.
    masked = bytes.fromhex("818537fa213d7f9f4d5158")
    (f,) = frames(masked)
    assert (f.fin, f.opcode_name, f.masked, f.payload, f.size) == (True, "text", True,
                                                                   b"Hello", 11)
    (p,) = frames(bytes.fromhex("890548656c6c6f"))
    assert (p.opcode_name, p.masked, p.payload) == ("ping", False, b"Hello")
    # 256 bytes in an unmasked binary frame: the 16-bit extended length.
    big = bytes.fromhex("827e0100") + b"x" * 256
    assert frames(big)[0].payload == b"x" * 256 and frames(big)[0].header_size == 4
    assert frames(big[:-1]) == []  # incomplete: nothing yet
    # fragments: a text frame without FIN, then a continuation
    parts = frames(bytes.fromhex("010348656c") + bytes.fromhex("80026c6f"))
    assert [(f.fin, f.opcode_name) for f in parts] == [(False, "text"), (True, "continuation")]


def test_schedule_is_fixed_and_irregular() -> None:
    due = schedule()
    assert due == schedule() and len(due) == UPDATES
    gaps = {round(b - a, 3) for a, b in zip((0.0, *due), due, strict=False)}
    assert len(gaps) > 3


def test_keepalive_probe_recognition_on_a_crafted_connection() -> None:
    from netlab.analysis.dissect import Segment

    def seg(n: int, src: str, seq: int, ack: int, payload: bytes = b"", flags: int = 0x10
            ) -> Segment:
        sport, dport = (40000, 80) if src == "c" else (80, 40000)
        a, b = ("192.0.2.1", "192.0.2.2") if src == "c" else ("192.0.2.2", "192.0.2.1")
        return Segment(number=n, src=a, sport=sport, dst=b, dport=dport, flags=flags, seq=seq,
                       ack=ack, window=100, options=(), payload=payload, sent_ns=n,
                       received_ns=n, frame=b"")

    segs = (seg(1, "c", 99, 0, flags=0x02), seg(2, "s", 499, 100, flags=0x12),
            seg(3, "c", 100, 500), seg(4, "c", 100, 500, b"abc", 0x18), seg(5, "s", 500, 103),
            seg(6, "c", 102, 500), seg(7, "s", 500, 103),  # probe without data
            seg(8, "c", 102, 500, b"c"),  # probe with one garbage byte (RFC 1122)
            seg(9, "c", 103, 500, b"d", 0x18))  # new data: not a probe
    conn = Connection(segs, ("192.0.2.1", 40000), ("192.0.2.2", 80))
    assert [p.number for p in keepalive_probes(conn)] == [6, 8]


# ---------------------------------------------------------------------------------------
# The silent death and keepalive


@pytest.mark.live
def test_idle_facts(idle: IdleResult) -> None:
    assert [f"{f.text}: {f.evidence}" for f in idle.facts() if not f.holds] == []


@pytest.mark.live
def test_idle_grids(idle: IdleResult) -> None:
    fw = dict(idle.firewall_grid().rows)
    assert fw["connections tracked before the silence (client ports)"] == "40000, 40001"
    assert fw["connections tracked after it"] == "40001"
    assert fw["packets dropped after the silence"] == str(len(idle.retransmissions()))
    client, silent, kept = idle.outcome_grid().rows
    assert "TimeoutError (errno 110, Connection timed out)" in client[1]
    assert silent[1] == "the silent connection is still ESTABLISHED; it read b'hello'"
    assert kept[1] == "the kept connection is ESTABLISHED"


@pytest.mark.live
def test_idle_defaults_come_from_the_lab_kernel(idle: IdleResult) -> None:
    proc = Path("/proc/sys/net/ipv4")
    # a fresh namespace starts from the kernel's built-in defaults, not the host's settings
    assert idle.defaults.keepalive_time == 7200 and idle.defaults.tcp_retries2 == 15
    assert (proc / "tcp_keepalive_time").exists()


@pytest.mark.live
@pytest.mark.oracle
def test_tshark_finds_the_same_probes_and_retransmissions(idle: IdleResult, tshark: str,
                                                          tmp_path: Path) -> None:
    pcap = idle.trace.write_pcap(tmp_path / "idle.pcap", host="client")
    rows = _tshark(tshark, pcap, "tcp.analysis.keep_alive", "tcp.srcport", "tcp.seq", "tcp.len")
    ours = [("40001", str(idle.kept.relative_seq(p)), "0") for p in idle.probes()]
    assert [tuple(r) for r in rows] == ours
    acks = _tshark(tshark, pcap, "tcp.analysis.keep_alive_ack", "tcp.ack")
    assert [r[0] for r in acks] == [str(idle.kept.relative_ack(a)) for a in idle.probe_answers()]
    resent = _tshark(tshark, pcap, "tcp.analysis.retransmission", "tcp.srcport", "tcp.seq")
    assert [tuple(r) for r in resent] == [("40000", "6")] * (len(idle.retransmissions()) - 1)


@pytest.mark.live
def test_server_capture_saw_nothing_after_the_silence(idle: IdleResult) -> None:
    server_frames = idle.trace.frames["server"]
    late = [f for f in server_frames if f.timestamp_ns >= idle.resumed_ns]
    plain_port = (40000).to_bytes(2, "big")
    assert not any(plain_port in f.data[34:38] for f in late)  # TCP ports, IPv4 no options
    assert idle.tracked[1] == (40001,) and FIREWALL_TIMEOUT < 3


# ---------------------------------------------------------------------------------------
# Heartbeats


@pytest.mark.live
def test_heartbeat_facts(hb: HeartbeatResult) -> None:
    assert [f"{f.text}: {f.evidence}" for f in hb.facts() if not f.holds] == []


@pytest.mark.live
def test_heartbeat_timings(hb: HeartbeatResult) -> None:
    # the hang: declared one deadline after the last pong
    assert hb.hang.last_pong_ns is not None
    assert DEADLINE <= (hb.hang.time_ns - hb.hang.last_pong_ns) / 1e9 <= DEADLINE + SLACK
    # the cut: within the deadline, since the last pong came at most one interval before
    assert DEADLINE - INTERVAL - SLACK <= hb.cut_after <= DEADLINE + SLACK
    assert hb.cut_after < hb.server_after < hb.keepalive_after
    assert hb.wire_dropped > 0
    grid = hb.comparison()
    assert [r[0] for r in grid.rows] == ["the server's application hangs",
                                         "the server's link is cut",
                                         "the server learns the client is gone"]


@pytest.mark.live
def test_pings_are_nine_bytes_on_the_wire(hb: HeartbeatResult) -> None:
    conn = hb.connection(40000)
    sizes = {s.length for s in conn.segments if s.length}
    assert sizes == {9}  # 4-byte length + 1 kind byte + 4-byte counter


# ---------------------------------------------------------------------------------------
# Push against polling


@pytest.mark.live
def test_push_facts(pp: PushPollResult) -> None:
    assert [f"{f.text}: {f.evidence}" for f in pp.facts() if not f.holds] == []


@pytest.mark.live
@pytest.mark.oracle
def test_push_counts_match_tshark(pp: PushPollResult, tshark: str, tmp_path: Path) -> None:
    pcap = pp.trace.write_pcap(tmp_path / "push.pcap", host="client")
    for method, port in zip(pp.methods, (80, 8083, 8082, 8080, 8081), strict=True):
        syns = _tshark(tshark, pcap, f"tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.dstport=={port}",
                       "frame.number")
        assert len(syns) == method.connections
        size = _tshark(tshark, pcap, f"tcp.port=={port}", "frame.len")
        assert sum(int(r[0]) for r in size) == method.wire_bytes
        if port not in (80, 8083):  # tshark reads an SSE stream's head only once it ends
            gets = _tshark(tshark, pcap, f"http.request && tcp.dstport=={port}", "frame.number")
            assert len(gets) == method.requests


# ---------------------------------------------------------------------------------------
# WebSocket


@pytest.mark.live
def test_websocket_facts(ws: WebSocketResult) -> None:
    assert [f"{f.text}: {f.evidence}" for f in ws.facts() if not f.holds] == []


@pytest.mark.live
def test_websocket_accept_from_the_capture(ws: WebSocketResult) -> None:
    key = ws.header(ws.request, "Sec-WebSocket-Key")
    assert key is not None and len(base64.b64decode(key)) == 16  # §4.1: a 16-byte nonce
    digest = hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    assert ws.header(ws.response, "Sec-WebSocket-Accept") == base64.b64encode(digest).decode()


@pytest.mark.live
@pytest.mark.oracle
def test_websocket_matches_tshark(ws: WebSocketResult, tshark: str, tmp_path: Path) -> None:
    pcap = ws.trace.write_pcap(tmp_path / "ws.pcap", host="client")
    keys = _tshark(tshark, pcap, "http.sec_websocket_key || http.sec_websocket_accept",
                   "http.sec_websocket_key", "http.sec_websocket_accept")
    assert [r for row in keys for r in row if r] == [
        ws.header(ws.request, "Sec-WebSocket-Key"), ws.header(ws.response, "Sec-WebSocket-Accept")]
    rows = _tshark(tshark, pcap, "websocket", "websocket.opcode", "websocket.mask",
                   "websocket.payload_length")
    ours = [(str(f.opcode), "1" if f.masked else "0", str(len(f.payload))) for _, f in ws.frames()]
    assert [(r[0], "1" if r[1] in ("1", "True") else "0", r[2]) for r in rows] == ours
