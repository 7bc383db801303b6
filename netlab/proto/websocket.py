"""WebSocket over a TCP socket, with wsproto doing all of the protocol (RFC 6455).

A WebSocket connection starts as an HTTP/1.1 request with ``Upgrade: websocket``
(RFC 6455 §4.1). The server answers ``101 Switching Protocols`` (§4.2.2), and from then on the
same TCP connection carries WebSocket *frames* in both directions, at any time, either side
first: a long-lived connection that began as HTTP. Like h11 for HTTP, wsproto is a state
machine with no I/O; this module adds the sockets, a server thread per connection, and a
decoder of the frames seen in a capture.

The server proves that it read this very handshake by hashing the client's
``Sec-WebSocket-Key`` with a fixed GUID (§4.2.2, item 5.4):

>>> from netlab.proto.websocket import accept_key
>>> accept_key("dGhlIHNhbXBsZSBub25jZQ==")  # the example of RFC 6455 §1.3
's3pPLMBiTxaQ9kYGzzhZRbK+xOo='

Frames (§5.2) carry an opcode: text (1), binary (2), close (8), ping (9), pong (10). A ping
must be answered by a pong with the same payload (§5.5.2, §5.5.3), so ping/pong is a
heartbeat built into the protocol. Every frame from the client is *masked* with a 4-byte key
(§5.3) and frames from the server are not:

>>> from netlab.proto.websocket import frames
>>> [(f.opcode_name, f.masked, f.payload) for f in frames(b"\\x89\\x02hi\\x81\\x02ok")]
[('ping', False, b'hi'), ('text', False, b'ok')]
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.events import Event as WsEvent
from wsproto.frame_protocol import CloseReason

from netlab.errors import ExperimentError, NetlabError
from netlab.proto.server import LOG_LIMIT, ThreadedServer

__all__ = ["accept_key", "GUID", "WebSocketFrame", "frames", "OPCODES", "WebSocketServer",
           "WebSocketClient", "WebSocketError", "MAX_MESSAGE", "Assembler"]

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
"""The globally unique identifier appended to the key before hashing (RFC 6455 §1.3)."""
OPCODES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}
"""The frame opcodes (RFC 6455 §5.2 and §11.8)."""
RECV_SIZE = 65536
MAX_MESSAGE = 1 << 20
"""The longest message accepted by default, in bytes (UTF-8 for text): 1 MiB."""


class WebSocketError(NetlabError):
    """The peer broke the WebSocket protocol, or the handshake failed."""


def accept_key(key: str) -> str:
    r"""The ``Sec-WebSocket-Accept`` value for a ``Sec-WebSocket-Key`` (RFC 6455 §4.2.2).

    "the base64-encoded SHA-1 of the concatenation of the \|Sec-WebSocket-Key\| (as a
    string, not base64-decoded) with the string '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'".
    """
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode()


@dataclass(frozen=True, kw_only=True)
class WebSocketFrame:
    """One WebSocket frame as it crossed the wire (RFC 6455 §5.2)."""

    fin: bool
    opcode: int
    masked: bool
    mask: bytes
    """The 4-byte masking key (empty when not masked)."""
    payload: bytes
    """The payload, unmasked."""
    size: int
    """The frame's length on the wire, header, key and payload together."""

    @property
    def opcode_name(self) -> str:
        return OPCODES.get(self.opcode, f"reserved {self.opcode}")

    @property
    def header_size(self) -> int:
        """Bytes of the frame that are not payload."""
        return self.size - len(self.payload)


def frames(data: bytes) -> list[WebSocketFrame]:
    """Decode the frames in ``data``, the bytes one side sent after the handshake.

    Stops at an incomplete frame at the end (the capture may end mid-frame).
    """
    out = []
    at = 0
    while len(data) - at >= 2:
        b0, b1 = data[at], data[at + 1]
        length, head = b1 & 0x7F, 2
        if length == 126:
            if len(data) - at < 4:
                break
            (length,) = struct.unpack_from("!H", data, at + 2)
            head = 4
        elif length == 127:
            if len(data) - at < 10:
                break
            (length,) = struct.unpack_from("!Q", data, at + 2)
            head = 10
        masked = bool(b1 & 0x80)
        if masked and len(data) - at < head + 4:
            break  # the capture ends inside the masking key
        mask = data[at + head:at + head + 4] if masked else b""
        head += len(mask)
        end = at + head + length
        if end > len(data):
            break
        body = data[at + head:end]
        if masked:  # §5.3: octet i of the payload XOR octet i mod 4 of the key
            body = bytes(b ^ mask[i % 4] for i, b in enumerate(body))
        out.append(WebSocketFrame(fin=bool(b0 & 0x80), opcode=b0 & 0x0F, masked=masked, mask=mask,
                         payload=body, size=end - at))
        at = end
    return out


def _send(sock: socket.socket, ws: WSConnection, event: WsEvent, lock: threading.Lock) -> None:
    with lock:
        sock.sendall(ws.send(event))


class _TooBig(Exception):
    pass


class Assembler:
    """Whole messages from wsproto's pieces.

    wsproto hands a message over in pieces: one per frame of a fragmented message
    (RFC 6455 §5.4: FIN clear, then continuation frames), and, within a long frame, one per
    ``recv()``. Each piece says whether it ends the message (``message_finished``); this
    joins them, and refuses a message longer than ``limit`` bytes (counted as it grows, so
    a peer announcing a huge frame holds at most ``limit`` bytes of the server's memory).
    """

    def __init__(self, *, limit: int = MAX_MESSAGE) -> None:
        self.limit = limit
        self._parts: list[Any] = []
        self._size = 0

    @property
    def pending(self) -> bool:
        """True while a message has begun and not ended."""
        return bool(self._parts)

    def add(self, event: TextMessage | BytesMessage) -> TextMessage | BytesMessage | None:
        """Add a piece; the whole message once its last piece came, else None.

        Raises:
            _TooBig: the message is longer than the limit.
        """
        data = event.data
        self._size += len(data.encode()) if isinstance(data, str) else len(data)
        if self._size > self.limit:
            raise _TooBig(f"a message of more than {self.limit} bytes")
        self._parts.append(data)
        if not event.message_finished:
            return None
        parts, self._parts, self._size = self._parts, [], 0
        if isinstance(event, TextMessage):
            return TextMessage(data="".join(parts))
        return BytesMessage(data=b"".join(parts))


class WebSocketServer(ThreadedServer):
    """Serve WebSocket connections, one thread each.

    Run it in a lab host with :func:`netlab.proto.server.listening`
    (``with listening(host, WebSocketServer(), 80):``), which stops it at the end.

    Each text message is passed to ``on_text`` whole, however many frames and reads it
    took; its return value, if not None, is sent back. A message longer than
    ``max_message`` bytes is answered with a close of status 1009 (RFC 6455 §7.4.1: "an
    endpoint is terminating the connection because it has received a message that is too
    big for it to process"). Pings are answered with pongs (RFC 6455 §5.5.2: "Upon receipt
    of a Ping frame, an endpoint MUST send a Pong frame in response"), and a close is
    answered with a close.

    Args:
        on_text: the application: text in, text (or nothing) out.
        idle_timeout: seconds a connection may be silent before the server closes it.
        max_message: the longest message accepted, in bytes.
        handshake_timeout: seconds from the connection to the end of the upgrade request.
        message_timeout: seconds from a message's first byte to its last (or a ping's).
            A client that takes longer, however steadily it trickles bytes, is dropped.
    """

    thread_name = "netlab-websocket"

    def __init__(self, *, on_text: Callable[[str], str | None] | None = None,
                 idle_timeout: float = 5.0, max_message: int = MAX_MESSAGE,
                 handshake_timeout: float = 2.0, message_timeout: float = 5.0) -> None:
        super().__init__()
        self.on_text = on_text
        self.idle_timeout = idle_timeout
        self.max_message = max_message
        self.handshake_timeout = handshake_timeout
        self.message_timeout = message_timeout
        self.handshakes: list[str] = []
        """The request target of each upgrade the server accepted (the last
        :data:`~netlab.proto.server.LOG_LIMIT`)."""
        self.dropped: list[str] = []
        """Why each connection the server ended itself was dropped (the last
        :data:`~netlab.proto.server.LOG_LIMIT`)."""
        self._clients: dict[socket.socket, tuple[WSConnection, threading.Lock]] = {}

    @property
    def clients(self) -> int:
        """Open WebSocket connections (handshake done)."""
        with self._lock:
            return len(self._clients)

    def push(self, text: str) -> int:
        """Send a text message to every open connection; return how many were sent."""
        with self._lock:
            targets = list(self._clients.items())
        sent = 0
        for sock, (ws, lock) in targets:
            try:
                _send(sock, ws, TextMessage(data=text), lock)
                sent += 1
            except OSError:
                pass  # the connection's own thread cleans up
        return sent

    def refusal(self) -> bytes:
        """503 to an upgrade request over the connection cap (RFC 9110 §15.6.4)."""
        text = (f"503 Service Unavailable: {self.max_connections} connections are open, "
                "the most this server serves at once\n").encode()
        return (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8"
                b"\r\nconnection: close\r\ncontent-length: %d\r\n\r\n" % len(text) + text)

    def _drop(self, why: str) -> None:
        with self._lock:
            self.dropped.append(why)
            del self.dropped[:-LOG_LIMIT]

    def note_refused(self, peer: tuple[str, int]) -> None:
        self._drop(f"refused {peer[0]}:{peer[1]}: {self.max_connections} connections open")

    def note_accept_error(self, exc: OSError, pause: float) -> None:
        self._drop(f"accept failed: {exc.strerror}; accepting again in {pause:g} s")

    def serve_connection(self, conn: socket.socket) -> None:
        """Upgrade one connection and serve its frames until a close, an error or silence.

        Bad input (not a WebSocket handshake, an unmasked client frame, a frame wsproto
        rejects) ends this connection only; wsproto answers what RFC 6455 asks for (a close
        with status 1002, for instance) and the server goes on. So does slowness: an upgrade
        request not complete ``handshake_timeout`` seconds after the connection, or a
        message ``message_timeout`` seconds after its first byte.
        """
        ws = WSConnection(ConnectionType.SERVER)
        lock = threading.Lock()
        whole = Assembler(limit=self.max_message)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # the upgrade request must be whole by this time; then each message, from its first byte
        deadline: float | None = time.monotonic() + self.handshake_timeout
        upgraded = False
        try:
            while True:
                wait = self.idle_timeout
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        what = "message" if upgraded else "upgrade request"
                        limit = self.message_timeout if upgraded else self.handshake_timeout
                        self._drop(f"slow {what}: not complete after {limit:g} s")
                        return
                conn.settimeout(wait)
                try:
                    data = conn.recv(RECV_SIZE)
                except TimeoutError:
                    if deadline is not None and deadline - time.monotonic() <= 0:
                        continue  # the deadline's own message, above
                    self._drop(f"silent for {self.idle_timeout:g} s")
                    return
                ws.receive_data(data or None)
                done = False  # a message or control frame completed by these bytes
                for event in ws.events():
                    if isinstance(event, Request):
                        done = upgraded = True
                        with self._lock:
                            self.handshakes.append(event.target)
                            del self.handshakes[:-LOG_LIMIT]
                        _send(conn, ws, AcceptConnection(), lock)
                        with self._lock:
                            self._clients[conn] = (ws, lock)
                    elif isinstance(event, (TextMessage, BytesMessage)):
                        try:
                            message = whole.add(event)
                        except _TooBig as exc:
                            self._drop(str(exc))
                            with self._lock:
                                self._clients.pop(conn, None)
                            _send(conn, ws, CloseConnection(
                                code=CloseReason.MESSAGE_TOO_BIG,
                                reason=f"more than {self.max_message} bytes"), lock)
                            return
                        if message is None:
                            continue
                        done = True
                        if isinstance(message, TextMessage) and self.on_text is not None:
                            reply = self.on_text(message.data)
                            if reply is not None:
                                _send(conn, ws, TextMessage(data=reply), lock)
                    elif isinstance(event, (Ping, Pong)):
                        done = True
                        if isinstance(event, Ping):
                            _send(conn, ws, event.response(), lock)
                    elif isinstance(event, CloseConnection):
                        with self._lock:
                            self._clients.pop(conn, None)
                        _send(conn, ws, event.response(), lock)
                        return
                if not data:
                    return
                if upgraded:
                    if done and not whole.pending:  # nothing begun is left unfinished
                        deadline = None
                    elif deadline is None:  # these bytes began a message
                        deadline = time.monotonic() + self.message_timeout
        except Exception:  # OSError, a timeout, or wsproto's RemoteProtocolError for bad
            return  # input: this client is dropped, the server goes on
        finally:
            with self._lock:
                self._clients.pop(conn, None)


class WebSocketClient:
    """A WebSocket client on a connected socket: the handshake is done in the constructor.

    Args:
        sock: a TCP socket connected to the server.
        host: the ``Host`` header's value.
        target: the request target (``/updates``).
        timeout: the longest wait for the handshake or any message.
        max_message: the longest message accepted, in bytes; a longer one is answered with
            a close of status 1009 and raises :class:`WebSocketError`.
    """

    def __init__(self, sock: socket.socket, host: str, target: str = "/", *,
                 timeout: float = 5.0, max_message: int = MAX_MESSAGE) -> None:
        self.sock = sock
        self.timeout = timeout
        self.ws = WSConnection(ConnectionType.CLIENT)
        self._whole = Assembler(limit=max_message)
        self._lock = threading.Lock()
        self.received: list[tuple[int, object]] = []
        """Every wsproto event after the handshake (messages whole), with the time it was
        read (``time.time_ns()``)."""
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(timeout)
        _send(sock, self.ws, Request(host=host, target=target), self._lock)
        event = self._next()
        if not isinstance(event, AcceptConnection):
            raise WebSocketError(f"the server refused the upgrade: {event!r}")
        self.accepted = event

    def _next(self) -> WsEvent:
        """The next event from the server, a message whole (reading as needed)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self.ws.events():
                if isinstance(event, (TextMessage, BytesMessage)):
                    try:
                        whole = self._whole.add(event)
                    except _TooBig as exc:
                        _send(self.sock, self.ws, CloseConnection(
                            code=CloseReason.MESSAGE_TOO_BIG, reason=str(exc)), self._lock)
                        raise WebSocketError(f"the server sent {exc}") from None
                    if whole is None:
                        continue
                    event = whole
                if not isinstance(event, (AcceptConnection, RejectConnection)):
                    self.received.append((time.time_ns(), event))
                return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise ExperimentError(f"nothing from the WebSocket server within "
                                      f"{self.timeout} s")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(RECV_SIZE)
            except TimeoutError:
                raise ExperimentError(f"nothing from the WebSocket server within "
                                      f"{self.timeout} s") from None
            self.ws.receive_data(data or None)

    def send_text(self, text: str) -> None:
        _send(self.sock, self.ws, TextMessage(data=text), self._lock)

    def receive(self) -> object:
        """The next message, pong or close from the server (a wsproto event)."""
        return self._next()

    def receive_text(self) -> str:
        """The next text message (pongs on the way are kept in :attr:`received`)."""
        while True:
            event = self._next()
            if isinstance(event, TextMessage):
                return str(event.data)
            if isinstance(event, (BytesMessage, CloseConnection)):
                raise WebSocketError(f"expected a text message, got {event!r}")

    def ping(self, payload: bytes) -> float:
        """Send a ping; wait for its pong; return the round trip in seconds."""
        start = time.monotonic()
        _send(self.sock, self.ws, Ping(payload=payload), self._lock)
        while True:
            event = self._next()
            if isinstance(event, Pong) and event.payload == payload:
                return time.monotonic() - start

    def close(self) -> int:
        """The closing handshake (§7.1.2): send a close frame, read the server's; its code."""
        _send(self.sock, self.ws, CloseConnection(code=1000, reason="bye"), self._lock)
        try:
            while True:
                event = self._next()
                if isinstance(event, CloseConnection):
                    return int(event.code)
        finally:
            self.sock.close()
