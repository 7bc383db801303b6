"""HTTP/1.1 over a TCP socket, with h11 doing all of the protocol (RFC 9110, RFC 9112).

h11 is a state machine with no I/O: bytes go in, *events* come out (``Request``, ``Data``,
``EndOfMessage`` …), and events go in, bytes come out. This module adds only the I/O around
it: a server that answers each request through a handler, within limits and timeouts, and a
client that can send requests one at a time or pipelined. Every event both sides saw is kept,
so a page can show the protocol step by step.

How the server and the client work
----------------------------------

The server serves one connection per thread. For each request it reads events until the
request is complete, asks the handler for a response, and writes the whole response with one
``sendall`` (so a small response is one TCP segment). Then, if both sides may go on
(HTTP/1.1 persistence, RFC 9112 §9.3), it starts the next cycle on the same connection;
requests that arrived pipelined are already in h11's buffer and are answered in order
(RFC 9112 §9.3.2: a server "MUST send the corresponding responses in the same order that
the requests were received"). Bad input is answered with the status RFC 9110 names for
it, then the connection is closed:

===============================================  ====================================
what the client sent                             answer
===============================================  ====================================
a request line or header h11 cannot parse        400 Bad Request (RFC 9112 §3)
headers longer than ``Limits.max_header_bytes``  431 (RFC 6585 §5)
a method the server does not implement           501 Not Implemented (RFC 9110 §15.6.2)
a body longer than ``Limits.max_body_bytes``     413 Content Too Large (RFC 9110 §15.5.14)
part of a request, then silence                  408 Request Timeout (RFC 9110 §15.5.9)
an HTTP version other than 1.0 and 1.1           505 HTTP Version Not Supported
                                                 (RFC 9110 §15.6.6)
===============================================  ====================================

A request with both ``Transfer-Encoding`` and ``Content-Length`` is read by its chunked
framing alone (RFC 9112 §6.3: "If a message is received with both a Transfer-Encoding and a
Content-Length header field, the Transfer-Encoding overrides the Content-Length"), answered,
and then the connection is closed, whatever follows (RFC 9112 §6.1: "Regardless, the server
MUST close the connection after responding to such a request to avoid the potential
attacks"): bytes after such a request may be a second request smuggled past a proxy that
read the framing differently. An error answer names what was wrong, never echoing the
client's bytes.

A connection that stays idle between requests for ``Limits.idle_timeout`` is closed by the
server (RFC 9112 §9.5: "A client, server, or proxy MAY close the transport connection at any
time"). Every close is a *lingering* one (RFC 9112 §9.6): the server shuts down its sending
side first (its FIN), then reads and discards what the client still sends, for a moment, so
that unread bytes do not turn its close into a reset.

h11 as a client refuses to send a second request before the first response is complete: it
does not pipeline. :class:`HttpClient` keeps one h11 connection that tracks the exchanges in
order, and lets h11 write each request's bytes with a fresh ``h11.Connection`` object (not a
new TCP connection), so requests can leave before earlier responses arrive; each response is
then read, in order, by the tracking connection. The bytes on the wire are h11's either way.
"""

from __future__ import annotations

import contextlib
import errno
import re
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import h11

from netlab.errors import ExperimentError
from netlab.i18n import N_
from netlab.proto.place import Place
from netlab.proto.server import LOG_LIMIT, ThreadedServer, listening

__all__ = ["Header", "decode_headers", "phrase", "Request", "Response", "Limits", "LogEntry",
           "HttpServer", "HttpClient", "HttpEvent", "serving", "Wrap"]

#: A header field as a (name, value) pair.
Header = tuple[str, str]
Wrap = Callable[[socket.socket], socket.socket]
"""A function applied to each connection before HTTP starts (e.g. TLS's ``wrap_socket``)."""

LINGER = 1.0  # seconds: how long a closing server reads what the client still sends
#: Reason phrases RFC 9110 changed, where Python's http.HTTPStatus still has the old ones.
REASONS = {413: "Content Too Large", 422: "Unprocessable Content"}
RECV_SIZE = 65536


def phrase(status: int) -> str:
    """The standard reason phrase of a status code, as RFC 9110 §15 names it."""
    return REASONS.get(status) or HTTPStatus(status).phrase


def _find(headers: Sequence[Header], name: str) -> str | None:
    name = name.lower()
    return next((v for k, v in headers if k.lower() == name), None)


def decode_headers(raw: Sequence[tuple[bytes, bytes]]) -> tuple[Header, ...]:
    """h11's headers (byte pairs) as text pairs; HTTP field values are Latin-1 at most."""
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)


@dataclass(frozen=True, kw_only=True)
class Request:
    """An HTTP request, as a server received it (header names in lower case, as h11 gives)."""

    method: str
    target: str
    http_version: str = "1.1"
    headers: tuple[Header, ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The value of the first header called ``name`` (any case), or None."""
        return _find(self.headers, name)


@dataclass(frozen=True, kw_only=True)
class Response:
    """An HTTP response: what a handler returns, and what a client received."""

    status: int
    headers: tuple[Header, ...] = ()
    body: bytes = b""
    reason: str = ""
    """The reason phrase; by default the standard one for the status."""
    http_version: str = "1.1"
    delay: float = 0.0
    """Seconds the server waits before it sends this response (to make a slow one)."""

    def header(self, name: str) -> str | None:
        """The value of the first header called ``name`` (any case), or None."""
        return _find(self.headers, name)

    @classmethod
    def text(cls, status: int, text: str, *, headers: Sequence[Header] = (),
             delay: float = 0.0) -> Response:
        """A ``text/plain`` response in UTF-8."""
        return cls(status=status, body=text.encode(), delay=delay,
                   headers=(("content-type", "text/plain; charset=utf-8"), *headers))


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What the server accepts, and how long it waits."""

    max_header_bytes: int = 8192
    """Request line and headers; more is answered with 431."""
    max_body_bytes: int = 65536
    """A request body; more is answered with 413."""
    request_timeout: float = 2.0
    """Seconds from a request's first byte to its last; slower is answered with 408."""
    idle_timeout: float = 5.0
    """Seconds a persistent connection may wait for its next request before the server closes it."""
    methods: frozenset[str] = frozenset({"GET", "HEAD", "POST"})
    """Methods the server implements; others are answered with 501."""


@dataclass(frozen=True, kw_only=True)
class LogEntry:
    """One thing that happened on one of the server's connections."""

    connection: int
    """Which connection, numbered from 1 in the order they were accepted."""
    peer: str
    """The client's address and port."""
    what: str
    """``"request"`` (answered), ``"error"`` (bad input, answered and closed), ``"closed"``,
    ``"refused"`` (over the connection cap: 503 and closed; ``connection`` is 0) or
    ``"accept failed"`` (``accept()`` failed and the server waits before it tries again;
    ``connection`` is 0)."""
    status: int | None = None
    detail: str = ""
    """For a request its method and target; otherwise why."""
    at: float = 0.0
    """``time.monotonic()`` when it happened."""


class _Refuse(Exception):
    """Bad input that the server answers with ``status``, then closes the connection."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class _Idle(Exception):
    """No request arrived within the idle timeout."""


_ECHO = re.compile(r":?\s*(?:bytearray\()?b(['\"]).*$", re.DOTALL)


def _describe(exc: Exception) -> str:
    """What was wrong with the input, without the client's bytes h11 quotes in its messages
    (``illegal request line: bytearray(b'...')`` becomes ``illegal request line``)."""
    return _ECHO.sub("", str(exc)) or type(exc).__name__


def _chunked(headers: Sequence[Header]) -> bool:
    return any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers)


def _send_response(h: h11.Connection, sock: socket.socket, response: Response,
                   method: str, extra: Sequence[Header] = ()) -> None:
    """Write ``response`` through h11 and put it on the wire with one ``sendall``."""
    body = b"" if method == "HEAD" else response.body
    headers = [("content-length", str(len(response.body))), *extra, *response.headers]
    reason = response.reason or phrase(response.status)
    data = h.send(h11.Response(status_code=response.status, headers=headers, reason=reason))
    if body:
        data += h.send(h11.Data(data=body)) or b""
    data += h.send(h11.EndOfMessage()) or b""
    sock.sendall(data or b"")


class HttpServer(ThreadedServer):
    """An HTTP/1.1 server: a handler maps each :class:`Request` to a :class:`Response`.

    Args:
        handler: called once per complete request, on the connection's thread. If it raises,
            the client gets 500 and the server goes on.
        limits: sizes and timeouts (see :class:`Limits`).
        wrap: applied to each accepted connection before HTTP starts (for TLS, an
            ``SSLContext``'s ``wrap_socket(conn, server_side=True)``); if it raises, that
            connection is logged and closed, and the server keeps serving.
    """

    thread_name = "netlab-http-connection"

    def __init__(self, handler: Callable[[Request], Response], *, limits: Limits = Limits(),
                 wrap: Wrap | None = None) -> None:
        super().__init__()
        self.handler = handler
        self.limits = limits
        self.wrap = wrap
        self._log: deque[LogEntry] = deque(maxlen=LOG_LIMIT)
        self._count = 0

    @property
    def log(self) -> tuple[LogEntry, ...]:
        """What happened so far, in order (the last :data:`~netlab.proto.server.LOG_LIMIT`
        entries)."""
        with self._lock:
            return tuple(self._log)

    def _note(self, number: int, peer: str, what: str, status: int | None = None,
              detail: str = "") -> None:
        with self._lock:
            self._log.append(LogEntry(connection=number, peer=peer, what=what, status=status,
                                      detail=detail, at=time.monotonic()))

    def refusal(self) -> bytes:
        """503 with ``Connection: close`` (RFC 9110 §15.6.4), in clear; nothing over TLS."""
        if self.wrap is not None:
            return b""
        h = h11.Connection(h11.SERVER)
        h.receive_data(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        h.next_event()
        h.next_event()
        text = (f"503 {phrase(503)}: {self.max_connections} connections are open, "
                "the most this server serves at once\n").encode()
        return (h.send(h11.Response(status_code=503, reason=phrase(503), headers=[
                    ("content-type", "text/plain; charset=utf-8"),
                    ("content-length", str(len(text))), ("connection", "close")])) or b""
                ) + text

    def note_refused(self, peer: tuple[str, int]) -> None:
        self._note(0, "{}:{}".format(*peer), "refused", 503,
                   f"{self.max_connections} connections open")

    def note_accept_error(self, exc: OSError, pause: float) -> None:
        name = errno.errorcode.get(exc.errno or 0, "?")
        self._note(0, "", "accept failed", None,
                   f"{name} ({exc.strerror}): accepting again in {pause:g} s")

    def serve_connection(self, conn: socket.socket) -> None:
        """Serve one connection until either side closes it; always closes ``conn``."""
        with self._lock:
            self._count += 1
            number = self._count
        try:
            peer = "{}:{}".format(*conn.getpeername()[:2])
        except OSError:
            peer = "?"
        sock = conn
        try:
            if self.wrap is not None:
                try:
                    conn.settimeout(self.limits.request_timeout)
                    sock = self.wrap(conn)
                except (OSError, ValueError) as exc:
                    self._note(number, peer, "closed", detail=f"wrap failed: {exc}")
                    return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            why = self._cycles(sock, number, peer)
            self._note(number, peer, "closed", detail=why)
            self._close(sock)
        except OSError as exc:
            self._note(number, peer, "closed", detail=f"socket error: {exc}")
        finally:
            sock.close()
            conn.close()

    def _cycles(self, sock: socket.socket, number: int, peer: str) -> str:
        """Answer requests on one connection; return why it ended."""
        h = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_header_bytes)
        while True:
            try:
                request = self._read_request(sock, h)
            except _Idle:
                return f"idle for {self.limits.idle_timeout:g} s: the server closes"
            except h11.RemoteProtocolError as exc:
                status = exc.error_status_hint
                return self._refuse(sock, h, number, peer, _Refuse(status, _describe(exc)))
            except _Refuse as exc:
                return self._refuse(sock, h, number, peer, exc)
            if request is None:
                return "the client closed"
            try:
                response = self.handler(request)
            except Exception as exc:  # a handler bug must not take the server down
                response = Response.text(500, f"500 Internal Server Error: {exc}\n")
            if response.delay:
                time.sleep(response.delay)
            both = _chunked(request.headers) and request.header("content-length") is not None
            # Noted before the answer goes out: the client may send its next request, on
            # another connection, as soon as it has the answer, and the log keeps their order.
            self._note(number, peer, "request", response.status,
                       f"{request.method} {request.target}")
            _send_response(h, sock, response, request.method,
                           [("connection", "close")] if both else [])
            if both:
                return ("Transfer-Encoding and Content-Length both present: answered, then "
                        "closed (RFC 9112 §6.1)")
            if h.our_state is h11.MUST_CLOSE or h.their_state is h11.MUST_CLOSE:
                return "the request asked to close (HTTP/1.0 or Connection: close)"
            h.start_next_cycle()

    def _read_request(self, sock: socket.socket, h: h11.Connection) -> Request | None:
        """Read one whole request; None when the client closed between requests."""
        limits = self.limits
        started = bool(h.trailing_data[0])
        deadline = time.monotonic() + (limits.request_timeout if started else limits.idle_timeout)
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = h.next_event()
            if event is h11.NEED_DATA:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timeout(started)
                sock.settimeout(remaining)
                try:
                    data = sock.recv(RECV_SIZE)
                except TimeoutError:
                    raise self._timeout(started) from None
                except ConnectionResetError:
                    data = b""
                if data and not started:
                    started = True
                    deadline = time.monotonic() + limits.request_timeout
                h.receive_data(data)
            elif isinstance(event, h11.Request):
                head = event
                # h11 bounds a request head only while it is incomplete; one that arrived
                # whole in a single read is measured here.
                size = (len(event.method) + len(event.target) + 11
                        + sum(len(k) + len(v) + 4 for k, v in event.headers) + 2)
                if size > limits.max_header_bytes:
                    raise _Refuse(431, f"the request head is {size} bytes, more than "
                                       f"{limits.max_header_bytes}")
                if event.http_version not in (b"1.0", b"1.1"):
                    raise _Refuse(505, f"HTTP/{event.http_version.decode('ascii', 'replace')}"
                                       " is not supported here, only HTTP/1.0 and HTTP/1.1")
                method = event.method.decode("ascii", "replace")
                if method not in limits.methods:
                    raise _Refuse(501, f"method {method} is not implemented here")
                fields = decode_headers(event.headers)
                length = None if _chunked(fields) else _find(fields, "content-length")
                if length is not None and int(length) > limits.max_body_bytes:
                    raise _Refuse(413, f"a body of {length} bytes is more than "
                                       f"{limits.max_body_bytes}")
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > limits.max_body_bytes:
                    raise _Refuse(413, f"the body is more than {limits.max_body_bytes} bytes")
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return Request(method=head.method.decode("ascii"),
                               target=head.target.decode("ascii", "replace"),
                               http_version=head.http_version.decode("ascii"),
                               headers=decode_headers(head.headers), body=bytes(body))
            elif isinstance(event, h11.ConnectionClosed):
                if started:
                    raise h11.RemoteProtocolError("the client closed in the middle of a request",
                                                  error_status_hint=400)
                return None

    def _timeout(self, started: bool) -> Exception:
        if started:
            return _Refuse(408, f"the request was not complete after "
                                f"{self.limits.request_timeout:g} s")
        return _Idle()

    def _refuse(self, sock: socket.socket, h: h11.Connection, number: int, peer: str,
                exc: _Refuse) -> str:
        """Answer bad input with its status, if h11 still lets the server speak."""
        detail = str(exc)
        self._note(number, peer, "error", exc.status, detail)
        if h.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            response = Response.text(exc.status, f"{exc.status} {phrase(exc.status)}: {detail}\n")
            with contextlib.suppress(OSError, h11.LocalProtocolError):
                _send_response(h, sock, response, "GET", [("connection", "close")])
        return f"answered {exc.status} and closed"

    def _close(self, sock: socket.socket) -> None:
        """A lingering close (RFC 9112 §9.6): FIN first, then drain for a moment.

        Over TLS the server first sends its close_notify alert and waits, briefly, for the
        client's (RFC 8446 §6.1: "Each party MUST send a "close_notify" alert before closing
        its write side of the connection"), then closes the TCP connection under it.
        """
        if isinstance(sock, ssl.SSLSocket):
            with contextlib.suppress(OSError, ValueError):
                sock.settimeout(LINGER)
                sock = sock.unwrap()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                if not sock.recv(RECV_SIZE):
                    break


@contextlib.contextmanager
def serving(host: Place, handler: Callable[[Request], Response], *, port: int = 80,
            limits: Limits = Limits(), wrap: Wrap | None = None, address: str | None = None
            ) -> Iterator[HttpServer]:
    """Serve HTTP on ``address:port`` (the host's first address) inside a lab host.

    On exit the listener is shut down, open connections are shut down, and every thread of
    the server has ended.
    """
    server = HttpServer(handler, limits=limits, wrap=wrap)
    with listening(host, server, port, address=address):
        yield server


@dataclass(frozen=True, kw_only=True)
class HttpEvent:
    """One h11 event a client sent or received, for showing the protocol step by step."""

    direction: str
    """``"sent"`` or ``"received"``."""
    event: Any


@dataclass
class _Pending:
    request: h11.Request
    body: bytes


class HttpClient:
    """An HTTP/1.1 client on one TCP connection (TCP_NODELAY: each request is sent at once).

    Args:
        sock: a connected socket (or a TLS socket over one).
        authority: the ``Host`` header's value, ``address:port``.
        timeout: the longest wait for any response.
    """

    def __init__(self, sock: socket.socket, authority: str, *, timeout: float = 5.0) -> None:
        self.sock = sock
        self.authority = authority
        self.timeout = timeout
        self.events: list[HttpEvent] = []
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._h = h11.Connection(h11.CLIENT)
        self._pending: deque[_Pending] = deque()

    @classmethod
    def connect(cls, host: Place, address: str, port: int = 80, *, timeout: float = 5.0,
                source_port: int | None = None, wrap: Wrap | None = None) -> HttpClient:
        """Open a connection from a lab host (optionally from a pinned ``source_port``)."""

        def dial() -> socket.socket:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                if source_port is not None:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(("0.0.0.0", source_port))
                s.settimeout(timeout)
                s.connect((address, port))
            except BaseException:
                s.close()
                raise
            return s

        sock = host.run(dial, timeout=timeout + 1)
        if wrap is not None:
            sock = wrap(sock)
        return cls(sock, f"{address}:{port}", timeout=timeout)

    def send(self, method: str, target: str, *, headers: Sequence[Header] = (),
             body: bytes = b"") -> None:
        """Send a request now, without waiting for the answers to earlier ones."""
        fields: list[Header] = [("host", self.authority), *headers]
        if (body or method == "POST") and _find(headers, "content-length") is None:
            fields.append(("content-length", str(len(body))))
        request = h11.Request(method=method, target=target, headers=fields)
        writer = h11.Connection(h11.CLIENT)  # writes the bytes; self._h tracks the exchange
        data = writer.send(request) or b""
        if body:
            data += writer.send(h11.Data(data=body)) or b""
        data += writer.send(h11.EndOfMessage()) or b""
        self.sock.sendall(data)
        self._pending.append(_Pending(request, body))
        self.events.append(HttpEvent(direction=N_("sent"), event=request))

    def receive(self) -> Response:
        """Read the response to the oldest request still unanswered (responses come in order)."""
        if not self._pending:
            raise ExperimentError("receive() with no request outstanding")
        p = self._pending.popleft()
        h = self._h
        if h.our_state is h11.DONE and h.their_state is h11.DONE:
            h.start_next_cycle()
        h.send(p.request)
        if p.body:
            h.send(h11.Data(data=p.body))
        h.send(h11.EndOfMessage())
        head: h11.Response | None = None
        body = bytearray()
        deadline = time.monotonic() + self.timeout
        while True:
            event = h.next_event()
            if event is h11.NEED_DATA:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ExperimentError(f"no complete response within {self.timeout} s")
                self.sock.settimeout(remaining)
                try:
                    h.receive_data(self.sock.recv(RECV_SIZE))
                except TimeoutError:
                    raise ExperimentError(f"no complete response within {self.timeout} s"
                                          ) from None
                continue
            self.events.append(HttpEvent(direction=N_("received"), event=event))
            if isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return Response(status=head.status_code, headers=decode_headers(head.headers),
                                body=bytes(body), reason=head.reason.decode("latin-1"),
                                http_version=head.http_version.decode("ascii"))
            elif isinstance(event, h11.ConnectionClosed):
                raise ExperimentError("the server closed the connection before it answered")

    def request(self, method: str, target: str, *, headers: Sequence[Header] = (),
                body: bytes = b"") -> Response:
        """Send a request and wait for its response."""
        self.send(method, target, headers=headers, body=body)
        return self.receive()

    def wait_closed(self, timeout: float) -> float | None:
        """Wait up to ``timeout`` seconds for the server to close; when it did, or None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(RECV_SIZE)
            except TimeoutError:
                return None
            except ConnectionResetError:
                return time.monotonic()
            if not data:
                return time.monotonic()
            self._h.receive_data(data)
        return None

    def close(self) -> None:
        """Close the connection."""
        self.sock.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

