"""netlab.kernel.wire: the userspace wire's three modes, watched from both ends.

Each test checks the wire against witnesses it does not control: the captures on both
hosts' interfaces and the server kernel's own socket table.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Iterator

import pytest
from support import require_namespaces, server_socket

from netlab.analysis.dissect import dissect
from netlab.analysis.trace import Trace
from netlab.errors import ExperimentError, LabError
from netlab.kernel.capture import Capture
from netlab.kernel.tcp_info import socket_state
from netlab.lab import Host, Lab, Wire
from netlab.model.tcp_states import TcpState

pytestmark = pytest.mark.live


@pytest.fixture
def lab() -> Iterator[Lab]:
    require_namespaces()
    with Lab() as lab:
        yield lab


def _echo_once(listener: socket.socket) -> bytes:
    conn, _ = listener.accept()
    with conn:
        data = conn.recv(1000)
        conn.sendall(data[::-1])
        conn.recv(1)  # wait for the client's FIN
    return data


def _client(payload: bytes, timeout: float = 2) -> bytes:
    with socket.create_connection(("192.0.2.2", 8080), timeout=timeout,
                                  source_address=("192.0.2.1", 40000)) as s:
        s.sendall(payload)
        return s.recv(1000)


def _captures(client: Host, server: Host) -> tuple[Capture, Capture]:
    return (Capture(client.ns, "eth0", host="client"), Capture(server.ns, "eth0", host="server"))


def _echo_through(client: Host, server: Host, payload: bytes, wire: Wire | None = None
                  ) -> tuple[Capture, Capture]:
    """One echo of ``payload`` from client to server and back, captured on both hosts (until
    ``wire``, if given, has nothing left in flight and forwarded what both captures saw: the
    client's last ACK may still wait in the wire's socket when the wire looks idle)."""
    listener = server.run(server_socket)
    cap_c, cap_s = _captures(client, server)
    try:
        echo = server.start(_echo_once, listener)
        assert client.run(_client, payload) == payload[::-1]
        assert echo.result() == payload
        deadline = time.monotonic() + 2
        while wire is not None and time.monotonic() < deadline and not (
                wire.idle() and len(cap_c.frames) == len(cap_s.frames) == wire.forwarded):
            pass
    finally:
        cap_c.stop()
        cap_s.stop()
        listener.close()
    return cap_c, cap_s


def _server_states(server: Host) -> set[TcpState]:
    return {e.state for e in server.tcp_sockets() if e.local[1] == 8080}


def test_pass_forwards_every_frame_unchanged(lab: Lab) -> None:
    client, server = lab.host("client"), lab.host("server")
    wire = lab.link(client, server, wire="pass").wire
    assert isinstance(wire, Wire) and wire.mode == "pass"
    cap_c, cap_s = _echo_through(client, server, b"through the wire", wire)
    # handshake, data, echo, ACKs and the close: every frame crossed, byte for byte
    assert len(cap_c.frames) >= 8
    assert [f.data for f in cap_c.frames] == [f.data for f in cap_s.frames]
    assert wire.forwarded == len(cap_c.frames)
    assert (wire.dropped, wire.held()) == (0, 0)
    trace = Trace.from_frames([cap_c.frames, cap_s.frames], lab.names)
    assert len(trace) == len(cap_c.frames)
    assert all(s.sent_ns is not None and s.received_ns is not None and s.sent_ns < s.received_ns
               for s in trace.segments)


def test_drop_counts_drops_and_the_peer_sees_nothing(lab: Lab) -> None:
    client, server = lab.host("client"), lab.host("server")
    wire = lab.link(client, server, wire="drop").wire
    assert wire is not None
    listener = server.run(server_socket)
    cap_c, cap_s = _captures(client, server)
    try:
        with pytest.raises(TimeoutError):
            client.run(_client, b"lost", 0.3)
        time.sleep(0.05)
        assert _server_states(server) == {TcpState.LISTEN}  # no SYN ever reached it
    finally:
        cap_c.stop()
        cap_s.stop()
        listener.close()
    assert cap_s.frames == []
    assert len(cap_c.frames) >= 1
    assert wire.dropped == len(cap_c.frames)
    assert (wire.forwarded, wire.held()) == (0, 0)
    obs = dissect(cap_c.frames[0].data, timestamp_ns=0, outgoing=True, host="client")
    assert obs is not None and obs.flags == 0x02  # the SYN


def test_step_holds_each_frame_until_release(lab: Lab) -> None:
    client, server = lab.host("client"), lab.host("server")
    wire = lab.link(client, server, wire="step").wire
    assert wire is not None
    listener = server.run(server_socket)
    sock = client.run(socket.socket)
    cap_c, cap_s = _captures(client, server)
    try:
        with pytest.raises(LabError, match="no frame held"):
            wire.release()
        with pytest.raises(ExperimentError, match="expected 1 frame"):
            wire.wait_held(1, timeout=0.05)
        sock.setblocking(False)
        assert sock.connect_ex(("192.0.2.2", 8080)) == errno.EINPROGRESS
        wire.wait_held(1)
        time.sleep(0.1)  # held, however long we wait
        assert wire.held() == 1 and wire.forwarded == 0
        assert _server_states(server) == {TcpState.LISTEN}
        syn = wire.release()
        wire.wait_held(1)  # the SYN-ACK
        assert _server_states(server) == {TcpState.LISTEN, TcpState.SYN_RECV}
        assert socket_state(sock) is TcpState.SYN_SENT
        synack = wire.release()
        wire.wait_held(1)  # the ACK
        assert socket_state(sock) is TcpState.ESTABLISHED
        assert TcpState.ESTABLISHED not in _server_states(server)
        ack = wire.release()
        deadline = time.monotonic() + 2
        while TcpState.ESTABLISHED not in _server_states(server):
            assert time.monotonic() < deadline, "the server never got the ACK"
            time.sleep(0.005)
        assert wire.forwarded == 3 and wire.held() == 0
    finally:
        cap_c.stop()
        cap_s.stop()
        sock.close()
        listener.close()
    flags = [dissect(f, timestamp_ns=0, outgoing=False, host="").flags  # type: ignore[union-attr]
             for f in (syn, synack, ack)]
    assert flags == [0x02, 0x12, 0x10]
    # what was released is exactly what the hosts sent and received
    assert [f.data for f in cap_c.frames] == [f.data for f in cap_s.frames] == [syn, synack, ack]
    # and each frame arrived only after it was released: later than it left, by the pauses
    trace = Trace.from_frames([cap_c.frames, cap_s.frames], lab.names)
    first = trace.segments[0]
    assert first.received_ns is not None and first.sent_ns is not None
    assert first.received_ns - first.sent_ns > 100_000_000


def test_mode_can_change(lab: Lab) -> None:
    client, server = lab.host("client"), lab.host("server")
    wire = lab.link(client, server, wire="drop").wire
    assert wire is not None
    listener = server.run(server_socket)
    try:
        with pytest.raises(TimeoutError):
            client.run(_client, b"x", 0.3)
        dropped = wire.dropped
        assert dropped >= 1
        wire.mode = "pass"
        echo = server.start(_echo_once, listener)
        sock = client.run(socket.create_connection, ("192.0.2.2", 8080), 2)
        with sock:
            sock.sendall(b"ok")
            assert sock.recv(10) == b"ko"
        assert echo.result() == b"ok"
        assert wire.forwarded > 0
    finally:
        listener.close()


def test_slow_if_holds_only_the_frames_it_matches(lab: Lab) -> None:
    """A data segment the predicate picks crosses 20 ms later than the handshake around it;
    the one-way times come from the two hosts' captures, not from the wire."""
    from netlab.experiments.network._frames import tcp_head

    client, server = lab.host("client"), lab.host("server")
    wire = lab.link(client, server, delay=0.005).wire
    assert wire is not None
    with pytest.raises(LabError):
        wire.slow_if(lambda frame: True, -1)

    def data_to_server(frame: bytes) -> bool:
        head = tcp_head(frame)
        return head is not None and head.dport == 8080 and head.length > 0

    wire.slow_if(data_to_server, 0.020)
    try:
        cap_c, cap_s = _echo_through(client, server, b"held back")
    finally:
        wire.slow_if(None)
    trace = Trace.from_frames([cap_c.frames, cap_s.frames], lab.names)
    one_way = {("data" if s.length and s.dport == 8080 else "syn" if s.flags == 0x02 else ""):
               (s.received_ns - s.sent_ns) / 1e9 for s in trace.segments
               if s.sent_ns is not None and s.received_ns is not None}
    assert 0.004 < one_way["syn"] < 0.015  # the link's 5 ms, on a busy machine
    assert one_way["data"] - one_way["syn"] > 0.015  # plus the 20 ms hold


def test_resent_data_matches_retransmissions_only() -> None:
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    from netlab.experiments.network._frames import resent_data

    def frame(seq: int, payload: bytes, dport: int = 80) -> bytes:
        return bytes(Ether() / IP(src="192.0.2.1", dst="192.0.2.2")
                     / TCP(sport=40000, dport=dport, seq=seq, flags="A") / payload)

    resent = resent_data(dport=80)
    assert [resent(frame(1, b"x" * 10)), resent(frame(11, b"y")), resent(frame(1, b"x" * 10)),
            resent(frame(11, b"")), resent(frame(11, b"y", dport=81)),
            resent(frame(11, b"y"))] == [False, False, True, False, False, True]
