"""Server-Sent Events: one HTTP response that never ends, the server writing an event at a time.

The client sends one ordinary ``GET`` (``Accept: text/event-stream``); the server answers
``200`` with ``Content-Type: text/event-stream`` and no length, and then keeps the response
open, writing each event as it happens: ``data: <text>``, then an empty line (the HTML
standard, section 9.2 "Server-sent events"). With no ``Content-Length`` and no chunked coding,
the body ends when the server closes the connection (RFC 9112, section 6.3, item 8). A
browser reads such a stream with ``new EventSource(url)``.

:class:`EventStreamServer` is a :class:`~netlab.proto.server.ThreadedServer` (run it with
:func:`~netlab.proto.server.listening`); :meth:`~EventStreamServer.push` sends one event to
every open stream. :class:`EventStreamClient` reads the events from a connected socket.

>>> from netlab.proto.sse import event_bytes, parse_events
>>> event_bytes("update 01")
b'data: update 01\\n\\n'
>>> parse_events(b"data: a\\n\\ndata: b\\n\\ndata: c")
(['a', 'b'], b'data: c')
"""

from __future__ import annotations

import contextlib
import socket

from netlab.errors import NetlabError
from netlab.proto.server import ThreadedServer

__all__ = ["EventStreamServer", "EventStreamClient", "SseError", "event_bytes", "parse_events"]

HEAD_LIMIT = 8192  # bytes of request head the server reads before it gives up
RESPONSE_HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                 b"cache-control: no-store\r\n\r\n")


class SseError(NetlabError):
    """The peer did not speak Server-Sent Events as expected."""


def event_bytes(text: str) -> bytes:
    """One event carrying ``text`` (one line) as its data."""
    if "\n" in text or "\r" in text:
        raise SseError("an event's data is one line here")
    return f"data: {text}\n\n".encode()


def parse_events(buffer: bytes) -> tuple[list[str], bytes]:
    """The complete events at the start of ``buffer`` (their ``data``), and what is left."""
    events = []
    while b"\n\n" in buffer:
        block, buffer = buffer.split(b"\n\n", 1)
        data = [line[5:].lstrip(b" ") for line in block.split(b"\n")
                if line.startswith(b"data:")]
        if data:
            events.append(b"\n".join(data).decode())
    return events, buffer


class EventStreamServer(ThreadedServer):
    """Answer each request with an event stream that stays open until the client leaves."""

    thread_name = "netlab-sse"

    def __init__(self, *, timeout: float = 5.0) -> None:
        super().__init__()
        self.timeout = timeout
        self._streams: list[socket.socket] = []

    def push(self, text: str) -> int:
        """Send one event to every open stream; return how many were sent."""
        data = event_bytes(text)
        with self._lock:
            streams = list(self._streams)
        sent = 0
        for conn in streams:
            with contextlib.suppress(OSError):  # the connection's own thread cleans up
                conn.sendall(data)
                sent += 1
        return sent

    def serve_connection(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(self.timeout)
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(1024)
                if not chunk or len(head) > HEAD_LIMIT:
                    return
                head += chunk
            if not head.startswith(b"GET "):
                conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                return
            conn.sendall(RESPONSE_HEAD)
            with self._lock:
                self._streams.append(conn)
            conn.settimeout(None)  # the stream lasts as long as the client keeps it
            while conn.recv(1024):  # nothing more is expected: wait for the client to leave
                pass
        except OSError:
            return
        finally:
            with self._lock:
                if conn in self._streams:
                    self._streams.remove(conn)


class EventStreamClient:
    """Subscribe over a connected socket and read events one at a time."""

    def __init__(self, sock: socket.socket, authority: str, target: str, *,
                 timeout: float = 5.0) -> None:
        self.sock = sock
        self.sock.settimeout(timeout)
        self._buffer = b""
        self._events: list[str] = []
        sock.sendall(f"GET {target} HTTP/1.1\r\nhost: {authority}\r\n"
                     "accept: text/event-stream\r\n\r\n".encode())
        while b"\r\n\r\n" not in self._buffer:
            self._read()
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 200") or b"text/event-stream" not in head:
            raise SseError(f"not an event stream: {head[:60]!r}")

    def _read(self) -> None:
        chunk = self.sock.recv(4096)
        if not chunk:
            raise SseError("the server closed the stream")
        self._buffer += chunk

    def receive(self) -> str:
        """The next event's data (waits for it, up to the timeout)."""
        while not self._events:
            events, self._buffer = parse_events(self._buffer)
            self._events += events
            if not self._events:
                self._read()
        return self._events.pop(0)

    def close(self) -> None:
        self.sock.close()
