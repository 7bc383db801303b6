"""netlab.proto.heartbeat: the messages, and the server against bad and absent clients.

The live tests run a real server in a two-host lab (client 192.0.2.1, server 192.0.2.2). A
bad client must cost the server nothing lasting: after each one the server still serves a
good client, and its threads and file descriptors are back where they started.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from support import require_namespaces

from netlab.lab import Host, Lab
from netlab.proto.heartbeat import (
    MAX_FRAME,
    HeartbeatClient,
    HeartbeatMessage,
    HeartbeatServer,
    ProtocolError,
    Reader,
    encode,
)
from netlab.proto.server import listening

PORT = 9000


def test_round_trip_in_every_split() -> None:
    messages = [HeartbeatMessage.ping(1), HeartbeatMessage("pong", b"\0\0\0\1"),
                HeartbeatMessage("data", b"x" * 300)]
    wire = b"".join(encode(m) for m in messages)
    for cut in range(len(wire)):
        r = Reader()
        assert r.feed(wire[:cut]) + r.feed(wire[cut:]) == messages


def test_bytes_on_the_wire() -> None:
    assert encode(HeartbeatMessage.ping(258)) == b"\0\0\0\x05P\0\0\x01\x02"
    assert HeartbeatMessage.ping(2**32 + 5).counter == 5


def test_unknown_kind_and_empty_message_are_errors() -> None:
    with pytest.raises(ProtocolError, match="unknown kind b'X'") as caught:
        Reader().feed(encode(HeartbeatMessage.ping(3)) + b"\0\0\0\x01X")
    assert caught.value.messages == [HeartbeatMessage.ping(3)]  # what came before the bad one
    with pytest.raises(ProtocolError, match="unknown kind b''"):
        Reader().feed(b"\0\0\0\0")
    with pytest.raises(ProtocolError):
        encode(HeartbeatMessage("shout", b""))


def test_oversized_frame_is_refused_before_it_is_buffered() -> None:
    r = Reader(limit=100)
    with pytest.raises(ProtocolError, match="announces 101 bytes"):
        r.feed(struct.pack("!I", 101))  # the prefix alone: not one byte of the body needed


def test_interval_must_be_shorter_than_deadline() -> None:
    a, b = socket.socketpair()
    with a, b, pytest.raises(ValueError, match="shorter than the deadline"):
        HeartbeatClient(a, interval=1.0, deadline=1.0)


# ---------------------------------------------------------------------------------------
# Live: a server in a lab


@dataclass
class Bench:
    lab: Lab
    client: Host
    server: Host
    hb: HeartbeatServer

    def connect(self) -> socket.socket:
        def dial() -> socket.socket:
            return socket.create_connection(("192.0.2.2", PORT), timeout=5)

        return self.client.run(dial)

    def good_client_works(self) -> None:
        with HeartbeatClient(self.connect(), interval=0.05, deadline=1.0) as c:
            deadline = time.monotonic() + 2
            while len(c.pongs) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(c.pongs) >= 2 and c.verdict is None

    def wait_idle(self, timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while self.hb.open_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.hb.open_connections == 0

    def last(self, what: str | None = None) -> str:
        ends = [e for e in self.hb.log if e.what != "connected"]
        assert ends, "the server logged no end of connection"
        return ends[-1].what if what is None else ends[-1].detail


def _resources() -> tuple[int, int]:
    return threading.active_count(), len(os.listdir("/proc/self/fd"))


@pytest.fixture
def bench() -> Iterator[Bench]:
    require_namespaces()
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server)

        hb = HeartbeatServer(idle_deadline=1.0, max_frame=1024, write_timeout=0.5,
                             send_buffer=16384)
        with listening(server, hb, PORT):
            yield Bench(lab, client, server, hb)


def _assert_recovered(bench: Bench, before: tuple[int, int]) -> None:
    """The server dropped the bad client and holds nothing more than before it came."""
    bench.wait_idle()
    time.sleep(0.05)  # the connection's thread has logged its end; let it exit
    assert _resources() == before
    bench.good_client_works()
    bench.wait_idle()
    time.sleep(0.05)
    assert _resources() == before


@pytest.mark.live
def test_pings_are_answered(bench: Bench) -> None:
    bench.good_client_works()
    assert bench.hb.pings >= 2


@pytest.mark.live
def test_garbage_is_refused_and_the_server_goes_on(bench: Bench) -> None:
    before = _resources()
    bad = bench.connect()
    bad.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # "GET " is a 1.2 GB length prefix
    bad.settimeout(2)
    assert bad.recv(10) == b""  # closed by the server, nothing sent back
    bad.close()
    assert bench.last() == "bad message"
    assert "more than the limit of 1024" in bench.last("detail")
    _assert_recovered(bench, before)


@pytest.mark.live
def test_unknown_kind_is_refused(bench: Bench) -> None:
    before = _resources()
    bad = bench.connect()
    bad.sendall(encode(HeartbeatMessage.ping(1)) + b"\0\0\0\x03Zzz")
    bad.settimeout(2)
    received = b""
    while chunk := bad.recv(100):  # the pong of the good ping, then the close
        received += chunk
    bad.close()
    assert Reader().feed(received) == [HeartbeatMessage("pong", HeartbeatMessage.ping(1).body)]
    assert bench.last() == "bad message" and "unknown kind b'Z'" in bench.last("detail")
    _assert_recovered(bench, before)


@pytest.mark.live
def test_oversized_frame_is_refused_at_once(bench: Bench) -> None:
    before = _resources()
    bad = bench.connect()
    start = time.monotonic()
    bad.sendall(struct.pack("!I", 10 * MAX_FRAME) + b"x" * 100)
    bad.settimeout(2)
    try:
        assert bad.recv(10) == b""
    except ConnectionResetError:  # the server closed with our 100 bytes unread: RST
        pass
    assert time.monotonic() - start < 0.5  # not after an idle deadline: at once
    bad.close()
    assert bench.last() == "bad message" and "announces 40960 bytes" in bench.last("detail")
    _assert_recovered(bench, before)


@pytest.mark.live
def test_a_client_that_never_reads_is_dropped(bench: Bench) -> None:
    before = _resources()
    bad = bench.connect()
    bad.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    bad.setblocking(False)
    ping = encode(HeartbeatMessage("ping", b"p" * 1000))  # each pong is as big: it piles up
    deadline = time.monotonic() + 2
    while not bench.hb.open_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    sent, deadline = 0, time.monotonic() + 5
    while bench.hb.open_connections and time.monotonic() < deadline:
        try:
            sent += bad.send(ping)
        except BlockingIOError:  # the server has stopped reading too: wait for its verdict
            time.sleep(0.01)
    assert bench.hb.open_connections == 0, "the server still holds the client that never reads"
    bad.close()
    assert bench.last() == "not reading"
    assert sent > 16384  # it really was sent more than its buffers could hold
    _assert_recovered(bench, before)


@pytest.mark.live
def test_a_silent_client_is_dropped_after_the_idle_deadline(bench: Bench) -> None:
    before = _resources()
    quiet = bench.connect()
    start = time.monotonic()
    quiet.settimeout(3)
    assert quiet.recv(10) == b""
    took = time.monotonic() - start
    quiet.close()
    assert 0.9 <= took <= 1.4, took
    assert bench.last() == "silent client"
    _assert_recovered(bench, before)


@pytest.mark.live
def test_a_hung_server_is_declared_dead_within_the_deadline(bench: Bench) -> None:
    with HeartbeatClient(bench.connect(), interval=0.1, deadline=0.5) as c:
        time.sleep(0.3)
        assert c.verdict is None and c.pongs
        frozen = time.time_ns()
        bench.hb.freeze()
        verdict = c.wait(3)
        bench.hb.thaw()
    assert verdict.reason == "no pong"
    assert 0.35 <= (verdict.time_ns - frozen) / 1e9 <= 0.65
    assert verdict.last_pong_ns is not None and verdict.last_pong_ns <= frozen + 50_000_000


@pytest.mark.live
def test_the_server_closing_is_noticed(bench: Bench) -> None:
    c = HeartbeatClient(bench.connect(), interval=0.05, deadline=2.0)
    time.sleep(0.2)
    bench.hb.stop()
    assert c.wait(3).reason in ("closed by server", "connection error")
    c.close()


@pytest.mark.live
def test_many_clients_leave_nothing_behind(bench: Bench) -> None:
    before = _resources()
    clients = [HeartbeatClient(bench.connect(), interval=0.05, deadline=1.0)
               for _ in range(20)]
    time.sleep(0.3)
    assert bench.hb.open_connections == 20
    assert all(c.pongs and c.verdict is None for c in clients)
    for c in clients:
        c.close()
    bench.wait_idle()
    time.sleep(0.05)
    assert _resources() == before
    assert sum(e.what == "closed by client" for e in bench.hb.log) == 20


@pytest.mark.live
def test_data_goes_both_ways(bench: Bench) -> None:
    bench.hb.on_data = lambda body: body.upper()
    with HeartbeatClient(bench.connect(), interval=0.05, deadline=1.0) as c:
        c.send(b"hello")
        deadline = time.monotonic() + 2  # the server registers the connection on its own thread
        while bench.hb.open_connections < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bench.hb.push(b"news") == 1
        deadline = time.monotonic() + 2
        while len(c.data) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sorted(body for _, body in c.data) == [b"HELLO", b"news"]
