"""HTTP on top of TCP: one request in one trace, and how long a connection lives today.

:func:`one_request`: a client (192.0.2.1, port 40000) asks a server (192.0.2.2, port 80)
for ``/hello`` across a link with a 50 ms round trip, then closes. Both hosts are captured.
The request and response are decoded from the captured bytes (:mod:`netlab.analysis.http_capture`),
and the client's h11 events are kept, so the page can show the same exchange as bytes on the
wire and as protocol events.

:func:`persistence`: what "short connection" means in HTTP/1.1, where connections persist
by default (RFC 9112 §9.3): two requests on one connection, then silence until the server's
idle timeout closes it; and one request that asks for ``Connection: close``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import h11

from netlab.analysis.dissect import Segment
from netlab.analysis.http_capture import Exchange, exchanges, labels
from netlab.analysis.trace import Connection, Trace
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import CLIENT_PORT, TIMEOUT
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.lab import Lab
from netlab.proto.http import HttpClient, HttpEvent, Limits, LogEntry, Request, Response, serving
from netlab.views.ladder import Ladder
from netlab.views.message import WireText
from netlab.views.table import Grid, Table

__all__ = ["OneRequest", "one_request", "Persistence", "persistence", "hello", "event_grid",
           "IDLE_TOLERANCE"]

PORT = 80
DELAY = 0.025  # seconds, one way: a 50 ms round trip
#: The range that the server's idle close divided by its idle timeout must fall in (late by
#: the time its thread needs to wake and send the FIN, never early).
IDLE_TOLERANCE = (1.0, 1.15)
BODY = "Hello from netlab!\n"
"""What ``/hello`` answers."""


def hello(request: Request) -> Response:
    """The server of this chapter: ``/hello`` says hello, anything else is 404."""
    if request.target == "/hello":
        return Response.text(200, BODY)
    return Response.text(404, f"Nothing at {request.target}\n")


def _fields(event: object) -> str:
    """An h11 event's fields as text, headers as ``name: value``."""
    parts = []
    for name in ("method", "target", "status_code", "reason", "http_version"):
        value = getattr(event, name, None)
        if value is not None:
            parts.append(f"{name}={value.decode() if isinstance(value, bytes) else value}")
    headers = getattr(event, "headers", None)
    if headers:
        parts.append("headers=[" + ", ".join(f"{k.decode()}: {v.decode()}" for k, v in headers)
                     + "]")
    data = getattr(event, "data", None)
    if data is not None:
        parts.append(f"data={bytes(data)!r}")
    return " ".join(parts)


def event_grid(events: list[HttpEvent]) -> Grid:
    """h11 events as a table: which way, the event's type, its fields."""
    rows = [[tr("direction"), tr("h11 event"), tr("fields")]]
    rows += [[tr(e.direction), type(e.event).__name__, _fields(e.event)] for e in events]
    return Grid(rows)


@dataclass(frozen=True, kw_only=True)
class OneRequest:
    """One GET, captured on both hosts."""

    trace: Trace
    events: tuple[HttpEvent, ...]
    """What the client's h11 connection sent and received."""
    server_log: tuple[LogEntry, ...]
    pcap_host: str = "client"
    keylog: None = None  # no TLS in this experiment

    @property
    def connection(self) -> Connection:
        return self.trace.connection(port=CLIENT_PORT)

    @property
    def exchange(self) -> Exchange:
        """The request and response, decoded from the captured bytes."""
        (ex,) = exchanges(self.connection)
        return ex

    def segment(self, number: int) -> Segment:
        return next(s for s in self.trace.segments if s.number == number)

    def ladder(self) -> Ladder:
        return Ladder(self.trace, title=tr("One HTTP request over TCP, captured on client and "
                                          "server"), notes=labels(self.connection))

    def event_grid(self) -> Grid:
        return event_grid(list(self.events))

    def facts(self) -> list[Fact]:
        """The section's claims, each checked on this run's data."""
        ex = self.exchange
        first_http = min(ex.request_message.segments)
        syn, synack, ack = self.connection.handshake()
        sent = self.events[0].event
        got = next(e.event for e in self.events if isinstance(e.event, h11.Response))
        got_body = b"".join(bytes(e.event.data) for e in self.events
                            if isinstance(e.event, h11.Data))
        conn = self.connection
        req = ex.request_message.segments
        resp = ex.response_message.segments if ex.response_message is not None else ()
        first_fin = next((s for s in conn.segments if s.has("FIN")), None)
        raw = ex.request_message.raw
        kinds = [(e.direction, type(e.event).__name__) for e in self.events]
        return [
            Fact(name="handshake-before-http",
                 text=tr("the TCP handshake completes before the first HTTP byte"),
                 holds=ack.number < first_http,
                 evidence=f"SYN #{syn.number}, SYN-ACK #{synack.number}, ACK #{ack.number}; "
                          f"request in #{first_http}"),
            Fact(name="request-decoded",
                 text=tr("the request decoded from the capture is the one the client sent"),
                 holds=(ex.request.method.encode(), ex.request.target.encode(),
                        tuple((k.encode(), v.encode()) for k, v in ex.request.headers))
                 == (sent.method, sent.target, tuple(sent.headers)),
                 evidence=f"{ex.request.method} {ex.request.target}, "
                          f"{len(ex.request.headers)} headers"),
            Fact(name="response-decoded",
                 text=tr("the response decoded from the capture is the one the client read"),
                 holds=ex.response is not None and ex.response.status == got.status_code
                 and ex.response.body == got_body,
                 evidence=f"{got.status_code} {got_body!r}"),
            Fact(name="one-segment-each-way",
                 text=tr("the request travels in one segment and the response in one later "
                         "segment; the client's FIN follows, and no other segment carries "
                         "data"),
                 holds=(syn.number, synack.number, ack.number) == (1, 2, 3)
                 and req == (4,) and len(resp) == 1 and resp[0] > req[0]
                 and first_fin is not None and conn.is_from_client(first_fin)
                 and first_fin.number > resp[0]
                 and all(not s.length for s in conn.segments if s.number not in req + resp),
                 evidence=f"request in #{', #'.join(map(str, req))}, response in "
                          f"#{', #'.join(map(str, resp))}, first FIN "
                          + (f"#{first_fin.number} from {first_fin.src}"
                             if first_fin is not None else "none")),
            Fact(name="request-is-text",
                 text=tr("the request is text: a request line, header lines, an empty line, "
                         "and no body"),
                 holds=raw.startswith(b"GET /hello HTTP/1.1\r\n") and raw.endswith(b"\r\n\r\n")
                 and ex.request.header("host") == "192.0.2.2:80" and ex.request.body == b"",
                 evidence=repr(raw.split(b"\r\n", 1)[0]) + f", {len(raw)} bytes"),
            Fact(name="response-is-text",
                 text=tr("the response: a status line, header lines, an empty line, then "
                         "exactly as many bytes of body as Content-Length says"),
                 holds=ex.response is not None and ex.response.status == 200
                 and ex.response.reason == "OK"
                 and int(ex.response.header("content-length") or -1) == len(ex.response.body)
                 == len(BODY.encode())
                 and ex.response_message is not None
                 and ex.response_message.raw.endswith(b"\r\n\r\n" + ex.response.body),
                 evidence=f"{ex.response.status} {ex.response.reason}, Content-Length "
                          f"{ex.response.header('content-length')}, body "
                          f"{len(ex.response.body)} bytes" if ex.response is not None
                 else "no response"),
            Fact(name="h11-events",
                 text=tr("h11 turns the bytes into events: the Request sent; a Response, "
                         "Data and EndOfMessage received"),
                 holds=kinds == [("sent", "Request"), ("received", "Response"),
                                 ("received", "Data"), ("received", "EndOfMessage")]
                 and ex.response is not None and got_body == ex.response.body,
                 evidence=", ".join(f"{d} {k}" for d, k in kinds)),
        ]

    def report(self) -> str:
        return (f"One HTTP request over TCP\n\n{Table(self.trace, absolute=False, options=False)}"
                f"\n\n{WireText(self.exchange.request_message.raw)}\n\n"
                f"{WireText(self.exchange.response_message.raw)}\n\n"  # type: ignore[union-attr]
                f"{self.event_grid()}\n\nFacts\n\n{checklist(self.facts())}")


@replayable
def one_request() -> OneRequest:
    """Connect, GET /hello, read the response, close."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server, delay=DELAY)
        with serving(server, hello, port=PORT) as srv:
            with lab.capture(client, server) as cap:
                http = HttpClient.connect(client, server.address, PORT, source_port=CLIENT_PORT,
                                          timeout=TIMEOUT)
                with http:
                    response = http.request("GET", "/hello", headers=[("accept", "text/plain")])
                time.sleep(4 * DELAY)  # the FINs and last ACK cross the wire
            log = srv.log
    if response.status != 200:
        raise ExperimentError(f"the server answered {response.status}")
    assert cap.trace is not None
    return OneRequest(trace=cap.trace, events=tuple(http.events), server_log=log)


@dataclass(frozen=True, kw_only=True)
class Persistence:
    """Connections kept alive, closed on request, and closed by the server's idle timeout."""

    trace: Trace
    """Captured on the client and the server (the server's FIN is timed where it left)."""
    idle_timeout: float
    kept_alive: tuple[Response, Response]
    """The two responses on the persistent connection (client port 40010)."""
    closing: Response
    """The response to the request with ``Connection: close`` (client port 40011)."""
    server_log: tuple[LogEntry, ...]
    pcap_host: str = "server"
    keylog: None = None  # no TLS in this experiment

    @property
    def persistent(self) -> Connection:
        return self.trace.connection(port=CLIENT_PORT + 10)

    @property
    def closed_on_request(self) -> Connection:
        return self.trace.connection(port=CLIENT_PORT + 11)

    def first_fin(self, conn: Connection) -> Segment:
        return next(s for s in conn.segments if s.has("FIN"))

    def closer(self, conn: Connection) -> str:
        """Who sent the connection's first FIN: ``"client"`` or ``"server"``."""
        return "client" if conn.is_from_client(self.first_fin(conn)) else "server"

    def idle_close_after(self) -> float:
        """Seconds from the server's last response to its FIN, on the persistent connection."""
        conn = self.persistent
        last = [s for s in conn.segments if s.length and not conn.is_from_client(s)][-1]
        return (self.first_fin(conn).time_ns - last.time_ns) / 1e9

    def ladder(self, conn: Connection, title: str = "") -> Ladder:
        return Ladder(self.trace.only(conn), title=title, notes=labels(conn))

    def facts(self) -> list[Fact]:
        """The section's claims, each checked on this run's data."""
        after = self.idle_close_after()
        syns = sum(s.is_syn for s in self.persistent.segments)
        return [
            Fact(name="keep-alive-default",
                 text=tr("HTTP/1.1 keeps the connection open by default"),
                 holds=syns == 1 and all(r.header("connection") is None for r in self.kept_alive)
                 and len([s for s in self.persistent.segments
                          if s.length and not self.persistent.is_from_client(s)]) == 2,
                 evidence=f"two responses on {syns} connection, no Connection header"),
            Fact(name="idle-timeout-close",
                 text=tr("the server closes an idle connection after its keep-alive timeout"),
                 holds=self.closer(self.persistent) == "server"
                 and IDLE_TOLERANCE[0] <= after / self.idle_timeout <= IDLE_TOLERANCE[1],
                 evidence=f"server's FIN {after * 1e3:.0f} ms after its last response "
                          f"(timeout {self.idle_timeout:g} s)"),
            Fact(name="connection-close",
                 text=tr("Connection: close makes the server answer, then close first"),
                 holds=self.closing.header("connection") == "close"
                 and self.closer(self.closed_on_request) == "server",
                 evidence=f"connection: {self.closing.header('connection')}"),
        ]

    def report(self) -> str:
        return (f"Persistent connections and the idle timeout\n\n"
                f"{Table(self.trace, absolute=False, options=False)}\n\n"
                f"Facts\n\n{checklist(self.facts())}")


@replayable
def persistence(idle_timeout: float = 1.0) -> Persistence:
    """Two requests on one connection, then idle; then one request with ``Connection: close``.

    Args:
        idle_timeout: the server's keep-alive idle timeout, in seconds.
    """
    limits = Limits(idle_timeout=idle_timeout)
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server, delay=DELAY)
        with serving(server, hello, port=PORT, limits=limits) as srv:
            with lab.capture(client, server) as cap:
                with HttpClient.connect(client, server.address, PORT, timeout=TIMEOUT,
                                        source_port=CLIENT_PORT + 10) as http:
                    first = http.request("GET", "/hello")
                    second = http.request("GET", "/hello")
                    if http.wait_closed(idle_timeout + 2) is None:
                        raise ExperimentError(f"the server did not close the idle connection "
                                              f"within {idle_timeout + 2:g} s")
                with HttpClient.connect(client, server.address, PORT, timeout=TIMEOUT,
                                        source_port=CLIENT_PORT + 11) as http:
                    closing = http.request("GET", "/hello", headers=[("connection", "close")])
                    http.wait_closed(TIMEOUT)
                time.sleep(4 * DELAY)
            log = srv.log
    assert cap.trace is not None
    return Persistence(trace=cap.trace, idle_timeout=idle_timeout, kept_alive=(first, second),
                       closing=closing, server_log=log)
