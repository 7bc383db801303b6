"""Hostile clients and exhausted resources against the lab's servers (issue 15, A, C, D, F).

Every case runs in a two-host lab (documentation addresses, nothing leaves the namespaces),
is bounded in count and time, and ends by checking that the server answers the next good
client and holds no more threads or descriptors than before the hostile one came.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import require_namespaces
from wsproto.events import CloseConnection

import netlab.proto.http
from netlab.lab import Host, Lab
from netlab.proto.heartbeat import HeartbeatMessage, HeartbeatServer, Reader, encode
from netlab.proto.http import HttpClient, HttpServer, Request, Response
from netlab.proto.server import ThreadedServer, listening
from netlab.proto.websocket import WebSocketClient, WebSocketServer

pytestmark = pytest.mark.live

SERVER = "192.0.2.2"
PORT = 8080  # unprivileged, and free inside our namespace
CHILD = Path(__file__).with_name("hostile_child.py")


def _resources() -> tuple[int, int]:
    return threading.active_count(), len(os.listdir("/proc/self/fd"))


@pytest.fixture
def hosts() -> Iterator[tuple[Host, Host]]:
    require_namespaces()
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server)
        yield client, server


def _dial(client: Host) -> socket.socket:
    return client.run(socket.create_connection, (SERVER, PORT), 5)


def _read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float | None]:
    """Everything the server sends until it closes (and when), or until ``timeout``."""
    data, deadline = b"", time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return data, None
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return data, time.monotonic()
        data += chunk
    return data, None


def _settled(server: ThreadedServer, before: tuple[int, int], good: Callable[[], None]) -> None:
    """The server answers a good client, then holds what it held before the hostile one."""
    good()
    deadline = time.monotonic() + 5
    while (server.open_connections or _resources() != before) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.open_connections == 0
    assert _resources() == before


def ok(request: Request) -> Response:
    return Response.text(200, f"{request.method} {request.target} {len(request.body)}\n")


@pytest.fixture
def http(hosts: tuple[Host, Host]) -> Iterator[tuple[Host, HttpServer, Callable[[], None]]]:
    client, server = hosts
    srv = HttpServer(ok)

    def good() -> None:
        with HttpClient.connect(client, SERVER, PORT) as c:
            assert c.request("GET", "/good").status == 200

    with listening(server, srv, PORT):
        yield client, srv, good


# ---------------------------------------------------------------------------------------
# A: accept() errors


@pytest.mark.parametrize("kind", ["http", "heartbeat"])
def test_a_server_short_of_descriptors_keeps_serving(kind: str) -> None:
    """30 clients against a process that can open only 4 more descriptors: every one is
    answered, and the server counted and logged the EMFILE it waited out."""
    require_namespaces()
    done = subprocess.run([sys.executable, str(CHILD), "emfile", kind, "30", "4"],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(CHILD.parent.parent)})
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["answered"] == 30 and out["after"] == 1, out
    assert out["accept_errors"].get("EMFILE", 0) >= 1, out
    assert out["logged_count"] == out["accept_errors"]["EMFILE"], out
    assert out["logged"][0].startswith("EMFILE (Too many open files): accepting again in")


# ---------------------------------------------------------------------------------------
# D: HTTP framing


def test_d_content_length_and_chunked_is_answered_then_closed(
        http: tuple[Host, HttpServer, Callable[[], None]]) -> None:
    """RFC 9112 §6.1: answer, then close; the request smuggled in the body is not answered."""
    client, srv, good = http
    before = _resources()
    smuggled = b"GET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n"
    with _dial(client) as s:
        s.sendall(b"POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n"
                  b"transfer-encoding: chunked\r\n\r\n0\r\n\r\n%s" % (len(smuggled) + 5, smuggled))
        data, closed = _read_until_closed(s, 3.0)
    assert data.count(b"HTTP/1.1 ") == 1, data
    assert data.startswith(b"HTTP/1.1 200 ") and b"\r\nconnection: close\r\n" in data.lower()
    assert b"POST /upload 0\n" in data
    assert closed is not None
    assert [e.detail for e in srv.log if e.what == "request"] == ["POST /upload"]
    _settled(srv, before, good)


def test_d_chunked_overrides_content_length_for_the_size_limit(
        http: tuple[Host, HttpServer, Callable[[], None]]) -> None:
    client, srv, good = http
    before = _resources()
    with _dial(client) as s:
        s.sendall(b"POST /small HTTP/1.1\r\nhost: x\r\ncontent-length: 999999\r\n"
                  b"transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        data, _ = _read_until_closed(s, 3.0)
    assert data.startswith(b"HTTP/1.1 200 "), data
    assert data.endswith(b"POST /small 3\n")
    _settled(srv, before, good)


def test_d_an_unknown_http_version_gets_505(
        http: tuple[Host, HttpServer, Callable[[], None]]) -> None:
    client, srv, good = http
    before = _resources()
    with _dial(client) as s:
        s.sendall(b"GET / HTTP/9.9\r\nhost: x\r\n\r\n")
        data, closed = _read_until_closed(s, 3.0)
    assert data.startswith(b"HTTP/1.1 505 HTTP Version Not Supported\r\n"), data
    assert closed is not None
    _settled(srv, before, good)


@pytest.mark.parametrize("garbage", [b"GARBAGE<script>\r\n\r\n",
                                     b"GET / HTTP/1.1\r\nbad header line\r\n\r\n"])
def test_d_a_400_does_not_echo_the_bytes(
        http: tuple[Host, HttpServer, Callable[[], None]], garbage: bytes) -> None:
    client, srv, good = http
    before = _resources()
    with _dial(client) as s:
        s.sendall(garbage)
        data, _ = _read_until_closed(s, 3.0)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n"), data
    assert b"bytearray" not in body and b"b'" not in body and b"<script>" not in body, body
    assert body.startswith(b"400 Bad Request: illegal "), body
    _settled(srv, before, good)


# ---------------------------------------------------------------------------------------
# C: WebSocket messages


def _mask_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """A client frame (RFC 6455 §5.2), masked with a fixed key."""
    key = b"\x0f\x1e\x2d\x3c"
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


UPGRADE = (b"GET / HTTP/1.1\r\nhost: 192.0.2.2\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
           b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n")


@pytest.fixture
def ws(hosts: tuple[Host, Host]) -> Iterator[tuple[Host, WebSocketServer, Callable[[], None],
                                                   list[str]]]:
    client, server = hosts
    texts: list[str] = []

    def on_text(text: str) -> str:
        texts.append(text)
        return f"{len(text)}"

    srv = WebSocketServer(on_text=on_text, idle_timeout=3.0)
    # set after construction, so that a server without these limits fails the tests, not
    # their set-up
    srv.max_message, srv.handshake_timeout, srv.message_timeout = 100_000, 1.0, 1.0

    def good() -> None:
        c = WebSocketClient(_dial(client), SERVER, "/")
        c.send_text("still serving?")
        assert c.receive_text() == "14"
        assert c.close() == 1000

    with listening(server, srv, PORT):
        yield client, srv, good, texts


def test_c_a_long_message_arrives_whole(
        ws: tuple[Host, WebSocketServer, Callable[[], None], list[str]]) -> None:
    client, srv, good, texts = ws
    before = _resources()
    c = WebSocketClient(_dial(client), SERVER, "/")
    c.send_text("x" * 70_000)
    assert c.receive_text() == "70000"
    assert [len(t) for t in texts] == [70_000]
    deadline = time.monotonic() + 2
    while srv.clients < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.push("y" * 300_000) == 1
    assert c.receive_text() == "y" * 300_000
    assert c.close() == 1000
    _settled(srv, before, good)


def test_c_a_fragmented_message_is_one_message(
        ws: tuple[Host, WebSocketServer, Callable[[], None], list[str]]) -> None:
    client, srv, good, texts = ws
    before = _resources()
    with _dial(client) as s:
        s.sendall(UPGRADE)
        s.settimeout(3)
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        assert head.startswith(b"HTTP/1.1 101 ")
        s.sendall(_mask_frame(1, b"abc", fin=False))
        s.sendall(_mask_frame(9, b"p"))  # a ping between the fragments (RFC 6455 §5.4)
        s.sendall(_mask_frame(0, b"def"))
        time.sleep(0.3)
    assert texts == ["abcdef"]
    _settled(srv, before, good)


def test_c_a_message_over_the_limit_is_closed_with_1009(
        ws: tuple[Host, WebSocketServer, Callable[[], None], list[str]]) -> None:
    client, srv, good, texts = ws
    before = _resources()
    c = WebSocketClient(_dial(client), SERVER, "/")
    c.send_text("z" * 100_001)
    event = c.receive()
    assert isinstance(event, CloseConnection) and event.code == 1009, event
    c.sock.close()
    assert texts == []
    assert srv.dropped[-1] == "a message of more than 100000 bytes"
    _settled(srv, before, good)


# ---------------------------------------------------------------------------------------
# F: slow clients, caps, bounded bookkeeping


def _drip(sock: socket.socket, data: bytes, interval: float, timeout: float) -> float | None:
    """Send ``data`` one byte every ``interval`` s; when the server closed, or None."""
    start = time.monotonic()
    for b in data:
        if time.monotonic() - start > timeout:
            return None
        try:
            sock.sendall(bytes([b]))
        except OSError:
            return time.monotonic() - start
        sock.settimeout(interval)
        try:
            if not sock.recv(65536):
                return time.monotonic() - start
        except TimeoutError:
            pass
        except OSError:
            return time.monotonic() - start
    return None


def test_f_a_slow_upgrade_request_is_dropped(
        ws: tuple[Host, WebSocketServer, Callable[[], None], list[str]]) -> None:
    """1 byte every 0.3 s never trips the 3 s idle timeout; the 1 s handshake deadline does."""
    client, srv, good, _ = ws
    before = _resources()
    with _dial(client) as s:
        closed = _drip(s, UPGRADE, 0.3, 4.0)
    assert closed is not None and closed < 2.0, closed
    assert srv.dropped[-1] == "slow upgrade request: not complete after 1 s"
    _settled(srv, before, good)


def test_f_a_slow_websocket_message_is_dropped(
        ws: tuple[Host, WebSocketServer, Callable[[], None], list[str]]) -> None:
    client, srv, good, _ = ws
    before = _resources()
    c = WebSocketClient(_dial(client), SERVER, "/")
    closed = _drip(c.sock, _mask_frame(1, b"slow" * 10), 0.3, 4.0)
    c.sock.close()
    assert closed is not None and closed < 2.0, closed
    assert srv.dropped[-1] == "slow message: not complete after 1 s"
    _settled(srv, before, good)


def test_f_a_slow_heartbeat_frame_is_dropped(hosts: tuple[Host, Host]) -> None:
    """1 byte every 0.3 s keeps clear of the 1 s idle deadline, not of the message's."""
    client, server = hosts
    hb = HeartbeatServer(idle_deadline=1.0)
    hb.message_deadline = 1.0

    def good() -> None:
        with _dial(client) as s:
            s.sendall(encode(HeartbeatMessage.ping(5)))
            s.settimeout(2)
            pong = HeartbeatMessage("pong", HeartbeatMessage.ping(5).body)
            assert Reader().feed(s.recv(100)) == [pong]

    with listening(server, hb, PORT):
        before = _resources()
        with _dial(client) as s:
            closed = _drip(s, encode(HeartbeatMessage("data", b"slow" * 10)), 0.3, 4.0)
        assert closed is not None and closed < 2.0, closed
        deadline = time.monotonic() + 2
        while hb.open_connections and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [e.what for e in hb.log][-1] == "slow message"
        _settled(hb, before, good)


def test_f_connections_over_the_cap_get_a_clear_refusal(
        http: tuple[Host, HttpServer, Callable[[], None]]) -> None:
    client, srv, good = http
    srv.max_connections = 5
    before = _resources()
    held = [_dial(client) for _ in range(5)]
    deadline = time.monotonic() + 2
    while srv.open_connections < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    with _dial(client) as extra:
        data, closed = _read_until_closed(extra, 3.0)
    assert data.startswith(b"HTTP/1.1 503 Service Unavailable\r\n"), data
    assert data.endswith(b"5 connections are open, the most this server serves at once\n")
    assert closed is not None and srv.refused == 1
    assert [e.what for e in srv.log][-1] == "refused"
    for s in held:
        s.close()
    # a connection counts until its thread reads the client's FIN: the good client comes
    # once they have, or it too would be over the cap
    deadline = time.monotonic() + 5
    while srv.open_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    _settled(srv, before, good)


def test_f_bookkeeping_is_bounded(hosts: tuple[Host, Host],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """After 40 connections the server remembers no thread, and its log its last 10 entries."""
    client, server = hosts
    monkeypatch.setattr(netlab.proto.http, "LOG_LIMIT", 10)
    srv = HttpServer(ok)
    with listening(server, srv, PORT):
        for _ in range(40):
            with HttpClient.connect(client, SERVER, PORT) as c:
                assert c.request("GET", "/", headers=[("connection", "close")]).status == 200
                c.wait_closed(2)
        deadline = time.monotonic() + 3
        while srv.threads and time.monotonic() < deadline:
            time.sleep(0.02)
        assert srv.threads == 0 and srv.accepted == 40
        assert len(srv.log) == 10
        assert srv.log[-1].connection == 40


# ---------------------------------------------------------------------------------------
# The rest of the hostile suite: floods, half-close, resets, TLS spoken badly


def test_slowloris_connections_all_get_408(
        http: tuple[Host, HttpServer, Callable[[], None]]) -> None:
    """Five clients each trickle a header line; each is answered 408 when its request is
    2 s old (Limits.request_timeout), however steadily it trickles."""
    client, srv, good = http
    before = _resources()
    socks = [_dial(client) for _ in range(5)]
    for s in socks:
        s.sendall(b"GET / HTTP/1.1\r\n")
    start = time.monotonic()
    answers = [b""] * len(socks)
    while time.monotonic() - start < 4 and not all(answers):
        for i, s in enumerate(socks):
            if answers[i]:
                continue
            with contextlib.suppress(OSError):
                s.sendall(b"x-a: b\r\n")
            s.settimeout(0.05)
            with contextlib.suppress(TimeoutError, OSError):
                answers[i] = s.recv(65536)
        time.sleep(0.2)
    took = time.monotonic() - start
    for s in socks:
        s.close()
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), answers
    assert took < 3.5
    _settled(srv, before, good)


def test_a_header_flood_gets_431(http: tuple[Host, HttpServer, Callable[[], None]]) -> None:
    client, srv, good = http
    before = _resources()
    with _dial(client) as s:
        s.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n" + b"x-a: b\r\n" * 5000 + b"\r\n")
        data, _ = _read_until_closed(s, 3.0)
    assert data.startswith(b"HTTP/1.1 431 "), data[:100]
    _settled(srv, before, good)


def test_a_pipelined_flood_is_answered_in_order(
        http: tuple[Host, HttpServer, Callable[[], None]]) -> None:
    client, srv, good = http
    before = _resources()
    n = 300
    with _dial(client) as s:
        s.sendall(b"".join(b"GET /%d HTTP/1.1\r\nhost: x\r\n\r\n" % i for i in range(n))
                  + b"GET /last HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        data, closed = _read_until_closed(s, 5.0)
    bodies = [line for line in data.replace(b"\r\n", b"\n").split(b"\n")
              if line.startswith(b"GET /")]
    assert bodies == [b"GET /%d 0" % i for i in range(n)] + [b"GET /last 0"]
    assert closed is not None
    _settled(srv, before, good)


def test_a_half_closed_client_gets_its_answer(
        http: tuple[Host, HttpServer, Callable[[], None]]) -> None:
    """The client sends its request and its FIN at once (shutdown(SHUT_WR)): the server
    still answers, then closes."""
    client, srv, good = http
    before = _resources()
    with _dial(client) as s:
        s.sendall(b"GET /half HTTP/1.1\r\nhost: x\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        data, closed = _read_until_closed(s, 3.0)
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"GET /half 0\n")
    assert closed is not None
    _settled(srv, before, good)


def test_a_reset_in_the_middle_of_a_response(hosts: tuple[Host, Host]) -> None:
    """The client asks for 4 MB and resets the connection (SO_LINGER 0) after 1 KB."""
    client, server = hosts
    srv = HttpServer(lambda request: Response(status=200, body=b"x" * (4 << 20)))

    def good() -> None:
        with HttpClient.connect(client, SERVER, PORT) as c:
            assert len(c.request("GET", "/").body) == 4 << 20

    with listening(server, srv, PORT):
        before = _resources()
        for _ in range(3):
            s = _dial(client)
            s.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            s.settimeout(3)
            assert s.recv(1024)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        deadline = time.monotonic() + 3
        while srv.open_connections and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [e.detail.split(":")[0] for e in srv.log if e.what == "closed"] == [
            "socket error"] * 3
        _settled(srv, before, good)


@pytest.mark.parametrize("what", ["plain HTTP", "a ClientHello cut short", "nothing"])
def test_tls_port_spoken_to_badly(hosts: tuple[Host, Host], what: str) -> None:
    """Plain HTTP, a third of a ClientHello, or silence on the TLS port: the handshake
    fails (or times out after the 1 s request timeout), that connection only is closed."""
    from netlab.experiments.https.certs import client_hello
    from netlab.proto.http import Limits
    from netlab.proto.tls import SERVER_NAME, Authority, client_context, server_context

    client, server = hosts
    authority = Authority()
    ctx = server_context(authority.issue())
    srv = HttpServer(ok, limits=Limits(request_timeout=1.0),
                     wrap=lambda s: ctx.wrap_socket(s, server_side=True))

    def good() -> None:
        tls = client_context(authority)
        with HttpClient.connect(client, SERVER, PORT, wrap=lambda s: tls.wrap_socket(
                s, server_hostname=SERVER_NAME)) as c:
            assert c.request("GET", "/tls").status == 200

    data = {"plain HTTP": b"GET / HTTP/1.1\r\nhost: x\r\n\r\n",
            "a ClientHello cut short": client_hello(authority)[:100], "nothing": b""}[what]
    with listening(server, srv, PORT):
        before = _resources()
        with _dial(client) as s:
            s.sendall(data)
            _, closed = _read_until_closed(s, 3.0)
        assert closed is not None
        deadline = time.monotonic() + 2
        while srv.open_connections and time.monotonic() < deadline:
            time.sleep(0.02)
        assert srv.log[-1].what == "closed" and srv.log[-1].detail.startswith("wrap failed")
        _settled(srv, before, good)


def test_a_ping_flood_is_answered(hosts: tuple[Host, Host]) -> None:
    """5,000 pings in one burst get 5,000 pongs, in order."""
    client, server = hosts
    hb = HeartbeatServer(idle_deadline=2.0)

    def good() -> None:
        with _dial(client) as s:
            s.sendall(encode(HeartbeatMessage.ping(1)))
            s.settimeout(2)
            assert Reader().feed(s.recv(100))[0].kind == "pong"

    with listening(server, hb, PORT):
        before = _resources()
        with _dial(client) as s:
            s.sendall(b"".join(encode(HeartbeatMessage.ping(i)) for i in range(5000)))
            reader, pongs = Reader(), []
            deadline = time.monotonic() + 5
            while len(pongs) < 5000 and time.monotonic() < deadline:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                pongs += reader.feed(s.recv(65536))
        assert [p.counter for p in pongs] == list(range(5000))
        _settled(hb, before, good)
