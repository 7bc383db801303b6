"""netlab.proto.websocket: the server and client against each other and against bad input.

The frame decoder and the accept key are checked against RFC 6455's own examples in
tests/test_longlived.py; here a live server in a two-host lab must survive clients that
break the protocol, and leave no thread or descriptor behind.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from support import require_namespaces

from netlab.lab import Host, Lab
from netlab.proto.server import listening
from netlab.proto.websocket import WebSocketClient, WebSocketServer, frames

PORT = 80


@pytest.fixture
def lab_server() -> Iterator[tuple[Host, WebSocketServer]]:
    require_namespaces()
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server)

        ws = WebSocketServer(on_text=str.upper, idle_timeout=1.0)
        with listening(server, ws, PORT):
            yield client, ws


def _dial(client: Host) -> socket.socket:
    return client.run(socket.create_connection, ("192.0.2.2", PORT), 5)


def _resources() -> tuple[int, int]:
    return threading.active_count(), len(os.listdir("/proc/self/fd"))


def _settle(ws: WebSocketServer, before: tuple[int, int]) -> None:
    deadline = time.monotonic() + 3
    while (ws.open_connections or _resources() != before) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ws.open_connections == 0 and _resources() == before


def _works(client: Host) -> None:
    c = WebSocketClient(_dial(client), "192.0.2.2", "/")
    c.send_text("still serving?")
    assert c.receive_text() == "STILL SERVING?"
    assert c.ping(b"x") < 1
    assert c.close() == 1000


@pytest.mark.live
def test_echo_ping_close(lab_server: tuple[Host, WebSocketServer]) -> None:
    client, ws = lab_server
    before = _resources()
    _works(client)
    assert ws.handshakes == ["/"]
    _settle(ws, before)


@pytest.mark.live
def test_push_reaches_every_client(lab_server: tuple[Host, WebSocketServer]) -> None:
    client, ws = lab_server
    a = WebSocketClient(_dial(client), "192.0.2.2", "/a")
    b = WebSocketClient(_dial(client), "192.0.2.2", "/b")
    deadline = time.monotonic() + 2
    while ws.clients < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ws.push("news") == 2
    assert a.receive_text() == b.receive_text() == "news"
    a.close()
    b.close()


@pytest.mark.live
@pytest.mark.parametrize("garbage", [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # plain HTTP, no upgrade
    b"\x00\xff" * 100,  # not HTTP at all
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n",  # no Sec-WebSocket-Key
], ids=["no-upgrade", "binary", "no-key"])
def test_bad_handshakes_are_dropped(lab_server: tuple[Host, WebSocketServer],
                                    garbage: bytes) -> None:
    client, ws = lab_server
    before = _resources()
    bad = _dial(client)
    bad.sendall(garbage)
    bad.settimeout(3)
    try:
        while bad.recv(4096):  # whatever wsproto answers (a 400), then the close
            pass
    except ConnectionResetError:
        pass
    bad.close()
    _settle(ws, before)
    _works(client)
    _settle(ws, before)


@pytest.mark.live
def test_an_unmasked_client_frame_is_a_protocol_error(
        lab_server: tuple[Host, WebSocketServer]) -> None:
    """RFC 6455 §5.1: "a server MUST close the connection upon receiving a frame that is
    not masked"."""
    client, ws = lab_server
    before = _resources()
    c = WebSocketClient(_dial(client), "192.0.2.2", "/")
    c.sock.sendall(b"\x81\x02hi")  # a text frame without a mask
    c.sock.settimeout(3)
    data = b""
    try:
        while chunk := c.sock.recv(4096):
            data += chunk
    except ConnectionResetError:
        pass
    c.sock.close()
    sent = frames(data)
    assert sent and sent[-1].opcode_name == "close"
    assert int.from_bytes(sent[-1].payload[:2], "big") == 1002  # protocol error (§7.4.1)
    _settle(ws, before)
    _works(client)


@pytest.mark.live
def test_a_silent_connection_is_closed(lab_server: tuple[Host, WebSocketServer]) -> None:
    client, ws = lab_server
    before = _resources()
    quiet = _dial(client)
    start = time.monotonic()
    quiet.settimeout(3)
    assert quiet.recv(10) == b""
    assert 0.9 < time.monotonic() - start < 1.5
    quiet.close()
    _settle(ws, before)
