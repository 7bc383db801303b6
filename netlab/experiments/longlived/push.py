"""Updates pushed over long-lived connections, against the same updates fetched by polling.

Two hosts, ``client`` (192.0.2.1) and ``server`` (192.0.2.2), joined by a link with
:data:`ONE_WAY` seconds of delay each way. The server produces :data:`UPDATES` updates, at
irregular moments about :data:`PERIOD` seconds apart (:func:`schedule`), and offers them
five ways at once:

``push``
    a WebSocket on port 80: the server sends each update the moment it exists, over the
    connection the client opened once (:mod:`netlab.proto.websocket`);
``Server-Sent Events``
    HTTP on port 8083: one ``GET`` whose response never ends; the server writes each update
    into it as an event the moment it exists (``netlab.proto.sse``);
``long polling``
    HTTP on port 8082: the client asks ``GET /updates?after=N&wait=1`` and the server holds
    the request until there is an update to answer with (or ``HOLD`` seconds pass); the
    client asks again as soon as the answer arrives, over one persistent connection;
``poll``
    HTTP on port 8080: the client asks ``GET /updates?after=N`` every :data:`POLL` seconds
    over one persistent HTTP/1.1 connection (:mod:`netlab.proto.http`);
``poll, new connection each time``
    HTTP on port 8081, the same requests, each on a connection of its own
    (``Connection: close``), the way a naive poller or an HTTP/1.0 client does it.

Five clients run at the same time, each until it has all the updates. Everything is
measured from the capture: connections (SYNs), segments, bytes on the wire (whole
Ethernet frames, both directions), and each update's delivery latency: from the moment the
server made it to the moment the segment carrying it arrived at the client.

>>> from netlab.experiments.longlived.push import push_vs_poll
>>> result = push_vs_poll()
>>> [m.name for m in result.methods]
['push', 'Server-Sent Events', 'long polling', 'poll', 'poll, new connection each time']
>>> [m.connections for m in result.methods][:4]
[1, 1, 1, 1]
>>> [fact.name for fact in result.facts() if not fact.holds]
[]
"""

from __future__ import annotations

import random
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from netlab.analysis.http_capture import exchanges
from netlab.analysis.trace import Trace
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import LONG_TIMEOUT, client_socket
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import N_, tr
from netlab.lab import Lab
from netlab.proto.http import HttpClient, Request, Response, serving
from netlab.proto.server import listening
from netlab.proto.sse import EventStreamClient, EventStreamServer
from netlab.proto.websocket import WebSocketClient, WebSocketServer
from netlab.views.chart import BarChart
from netlab.views.table import Grid

__all__ = ["push_vs_poll", "PushPollResult", "Method", "UPDATES", "PERIOD", "POLL", "ONE_WAY",
           "schedule", "SLACK", "POLL_SLACK", "HOLD"]

WS_PORT, POLL_PORT, FRESH_PORT, LONG_POLL_PORT, SSE_PORT = 80, 8080, 8081, 8082, 8083
PUSH_CLIENT_PORT, POLL_CLIENT_PORT, LONG_POLL_CLIENT_PORT, SSE_CLIENT_PORT = (
    40000, 40001, 40002, 40003)
HOLD = 5.0
"""Seconds the server holds a long-polling request with nothing to answer (then answers it
empty); longer than any gap between two updates here, so no hold expires."""
UPDATES = 8
"""How many updates the server makes."""
PERIOD = 0.3
"""Mean seconds between two updates; each gap is drawn between half and one and a half times
this (with a fixed seed: every run has the same schedule), as real updates do not keep time
with the poller's clock."""
POLL = 0.15
"""Seconds between two polls."""
ONE_WAY = 0.025
"""The link's one-way delay, in seconds (a 50 ms round trip)."""
SLACK = 0.005
"""Seconds by which the server may send a pushed update after making it, in the median.
Measured with ``benchmarks/timing_spread.py --runs 8 --busy 2`` on the 2-core machine that
builds the site (two CPU-bound processes beside it, and other builds: load average 13): at
most 0.5 ms in the median; 5 ms is ten times that. The wire's transit is left out on purpose:
the lab's wire is a Python thread, which a busy machine runs late (pushed latencies of 26-44
ms in the median there)."""
POLL_SLACK = 0.1
"""Seconds by which the server may answer a polled update later than one poll interval after
making it. Measured the same way: at worst 196 ms, 46 ms over the 150 ms interval, as the
poller's thread wakes late; 100 ms is about twice that."""


def _update(i: int) -> str:
    return f"update {i:02d}"


@dataclass(frozen=True, kw_only=True)
class Method:
    """What one way of getting the updates cost, measured from the capture."""

    name: str
    connections: int
    """TCP connections opened (SYNs sent by the client)."""
    requests: int
    """HTTP requests sent (0 for push)."""
    empty: int
    """Responses that carried no update."""
    segments: int
    """TCP segments, both directions."""
    wire_bytes: int
    """Bytes on the wire (whole Ethernet frames, both directions)."""
    payload_bytes: int
    """Bytes of TCP payload (the application's bytes), both directions."""
    latencies: tuple[float, ...]
    """For each update, seconds from its creation to its arrival at the client."""
    send_delays: tuple[float, ...]
    """For each update, seconds from its creation to the server's sending the segment that
    carried it (its latency without the wire's transit, however late a busy machine ran the
    wire)."""

    @property
    def median(self) -> float:
        return statistics.median(self.latencies)

    @property
    def median_send_delay(self) -> float:
        return statistics.median(self.send_delays)


@dataclass(frozen=True, kw_only=True)
class PushPollResult:
    """The three methods side by side."""

    trace: Trace
    methods: tuple[Method, ...]
    created_ns: tuple[int, ...]
    """When the server made each update."""
    received: tuple[tuple[str, ...], ...]
    """What each client's application received, in order, per method."""
    pcap_host: str = field(default="client")
    keylog: None = None  # no TLS in this experiment

    def method(self, name: str) -> Method:
        return next(m for m in self.methods if m.name == name)

    def grid(self) -> Grid:
        """The comparison as a table."""
        rows = [[tr("method"), tr("connections"), tr("requests"), tr("empty answers"),
                 tr("segments"), tr("bytes on the wire"), tr("median latency (ms)"),
                 tr("worst latency (ms)")]]
        for m in self.methods:
            rows.append([tr(m.name), str(m.connections), str(m.requests), str(m.empty),
                         str(m.segments), f"{m.wire_bytes:,}", f"{m.median * 1e3:.1f}",
                         f"{max(m.latencies) * 1e3:.1f}"])
        return Grid(rows, right=set(rows[0][1:]))

    def latency_chart(self) -> BarChart:
        """Median and worst delivery latency of each method."""
        return BarChart([(tr(m.name), [(tr("median"), m.median * 1e3),
                                       (tr("worst"), max(m.latencies) * 1e3)])
                         for m in self.methods], unit="ms",
                        title=tr("Delivery latency of {n} updates").format(n=UPDATES))

    def bytes_chart(self) -> BarChart:
        """Bytes on the wire of each method."""
        return BarChart([(tr(m.name), [(tr("bytes on the wire"), float(m.wire_bytes))])
                         for m in self.methods], unit="B",
                        title=tr("Bytes on the wire for {n} updates").format(n=UPDATES))

    def facts(self) -> list[Fact]:
        """The chapter's claims, each checked on this run's data."""
        push, sse, held = self.method("push"), self.method("Server-Sent Events"), \
            self.method("long polling")
        poll, fresh = self.method("poll"), self.method("poll, new connection each time")
        everything = tuple(_update(i) for i in range(UPDATES))
        return [
            Fact(name="push-all-delivered",
                 text=tr("every method delivered every update, in order"),
                 holds=all(r == everything for r in self.received)
                 and all(len(m.latencies) == UPDATES for m in self.methods),
                 evidence=f"{UPDATES} updates each"),
            Fact(name="push-one-way",
                 text=tr("push: one connection; the server sends each update the moment it "
                         "is made, so it arrives one one-way delay later"),
                 holds=push.connections == 1 and push.requests == 0
                 and ONE_WAY <= min(push.latencies) and push.median_send_delay < SLACK
                 and push.median < poll.median / 2,
                 evidence=f"sent {push.median_send_delay * 1e3:.1f} ms after it was made, "
                          f"arrived after {push.median * 1e3:.1f} ms (medians), one-way "
                          f"delay {ONE_WAY * 1e3:.0f} ms"),
            Fact(name="push-sse",
                 text=tr("Server-Sent Events: one connection and one request, whose response "
                         "carries each update the moment it is made"),
                 holds=sse.connections == 1 and sse.requests == 1
                 and ONE_WAY <= min(sse.latencies) and sse.median_send_delay < SLACK,
                 evidence=f"sent {sse.median_send_delay * 1e3:.1f} ms after it was made, "
                          f"arrived after {sse.median * 1e3:.1f} ms (medians)"),
            Fact(name="push-long-polling",
                 text=tr("long polling: one connection, one request per update and no empty "
                         "answer; the held request is answered the moment an update is made"),
                 holds=held.connections == 1 and held.empty == 0
                 and held.requests in (UPDATES, UPDATES + 1)
                 and ONE_WAY <= min(held.latencies) and held.median_send_delay < SLACK,
                 evidence=f"{held.requests} requests, {held.empty} empty; sent "
                          f"{held.median_send_delay * 1e3:.1f} ms after it was made, arrived "
                          f"after {held.median * 1e3:.1f} ms (medians)"),
            Fact(name="push-poll-waits",
                 text=tr("polling waits for the next poll: an update leaves the server up to "
                         "a poll interval after it was made"),
                 holds=poll.median > 2 * push.median and ONE_WAY <= min(poll.latencies)
                 and max(poll.send_delays) <= POLL + POLL_SLACK,
                 evidence=f"sent up to {max(poll.send_delays) * 1e3:.0f} ms after it was made "
                          f"(poll every {POLL * 1e3:.0f} ms); arrived after "
                          f"{poll.median * 1e3:.1f} ms in the median, "
                          f"{max(poll.latencies) * 1e3:.1f} ms at worst"),
            Fact(name="push-poll-empty",
                 text=tr("polls outnumber updates, and many come back empty-handed"),
                 holds=poll.requests > UPDATES and poll.empty >= 0.3 * poll.requests,
                 evidence=f"{poll.empty} of {poll.requests} answers carried no update"),
            Fact(name="push-fresh-connections",
                 text=tr("a new connection per poll: one handshake per request, and more than "
                         "twice the bytes per request"),
                 holds=fresh.connections == fresh.requests > 1
                 and fresh.wire_bytes > poll.wire_bytes > push.wire_bytes
                 and fresh.wire_bytes / fresh.requests > 2 * poll.wire_bytes / poll.requests,
                 evidence=f"{fresh.connections} connections; bytes "
                          f"{push.wire_bytes} < {poll.wire_bytes} < {fresh.wire_bytes}; per "
                          f"request {poll.wire_bytes / poll.requests:.0f} and "
                          f"{fresh.wire_bytes / fresh.requests:.0f}"),
        ]

    def report(self) -> str:
        """Everything, as text for a terminal."""
        facts = checklist(self.facts())
        return (f"{UPDATES} updates, one every {PERIOD * 1e3:.0f} ms on average; polls every "
                f"{POLL * 1e3:.0f} ms; RTT {2 * ONE_WAY * 1e3:.0f} ms\n\n{self.grid()}\n\n"
                f"Facts\n\n{facts}")


def schedule() -> tuple[float, ...]:
    """Seconds from the start at which the server makes each update (the same every run)."""
    rng = random.Random(6455)
    due, out = 0.0, []
    for _ in range(UPDATES):
        due += rng.uniform(PERIOD / 2, PERIOD * 1.5)
        out.append(round(due, 3))
    return tuple(out)


class _Source:
    """The server's updates: made on a schedule, pushed, and kept for the pollers."""

    def __init__(self, ws: WebSocketServer, sse: EventStreamServer) -> None:
        self.ws, self.sse = ws, sse
        self.lock = threading.Condition()
        self.made: list[tuple[int, str]] = []

    def run(self) -> None:
        start = time.monotonic()
        for i, due in enumerate(schedule()):
            time.sleep(max(0.0, start + due - time.monotonic()))
            text = _update(i)
            with self.lock:
                self.made.append((time.time_ns(), text))
                self.lock.notify_all()  # the long-polling requests waiting for it
            self.ws.push(text)
            self.sse.push(text)

    def handler(self, request: Request) -> Response:
        query = parse_qs(urlsplit(request.target).query)
        after = int(query.get("after", ["-1"])[0])
        with self.lock:
            if "wait" in query:  # long polling: hold the request until there is news
                self.lock.wait_for(lambda: len(self.made) > after + 1, HOLD)
            fresh = [t for _, t in self.made[after + 1:]]
        return Response.text(200, "".join(f"{t}\n" for t in fresh))


def _ws_socket(address: str, server: tuple[str, int], port: int = PUSH_CLIENT_PORT
               ) -> socket.socket:
    sock = client_socket(address, port)
    sock.settimeout(LONG_TIMEOUT)
    sock.connect(server)
    return sock


def _poll(get: object, stop_at: float, every: float = POLL) -> tuple[list[str], int]:
    """Poll with ``get(after)`` every ``every`` seconds until every update is in (at once
    again after each answer with ``every=0``: long polling)."""
    got: list[str] = []
    polls = 0
    next_poll = time.monotonic()
    while len(got) < UPDATES:
        if time.monotonic() > stop_at:
            raise ExperimentError(f"polling got {len(got)} of {UPDATES} updates in time")
        time.sleep(max(0.0, next_poll - time.monotonic()))
        next_poll += every
        body = get(len(got) - 1)  # type: ignore[operator]
        polls += 1
        got += [line for line in body.decode().split("\n") if line]
    return got, polls


@replayable
def push_vs_poll() -> PushPollResult:
    """Run the experiment (about 2.5 s: the updates' schedule)."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        wire = lab.link(client, server, delay=ONE_WAY).wire
        assert wire is not None
        ws_server, sse_server = WebSocketServer(), EventStreamServer(timeout=LONG_TIMEOUT)
        source = _Source(ws_server, sse_server)
        with listening(server, ws_server, WS_PORT), \
                listening(server, sse_server, SSE_PORT), \
                serving(server, source.handler, port=LONG_POLL_PORT), \
                serving(server, source.handler, port=POLL_PORT), \
                serving(server, source.handler, port=FRESH_PORT), \
                lab.capture(client, server) as cap:
            ws = WebSocketClient(client.run(_ws_socket, client.address,
                                            (server.address, WS_PORT)),
                                 server.address, "/updates", timeout=LONG_TIMEOUT)
            keep = HttpClient.connect(client, server.address, POLL_PORT,
                                      source_port=POLL_CLIENT_PORT, timeout=LONG_TIMEOUT)
            held = HttpClient.connect(client, server.address, LONG_POLL_PORT,
                                      source_port=LONG_POLL_CLIENT_PORT, timeout=LONG_TIMEOUT)
            events = EventStreamClient(
                client.run(_ws_socket, client.address, (server.address, SSE_PORT),
                           SSE_CLIENT_PORT),
                f"{server.address}:{SSE_PORT}", "/updates", timeout=LONG_TIMEOUT)
            stop_at = time.monotonic() + LONG_TIMEOUT
            results: dict[str, list[str]] = {}
            errors: list[BaseException] = []

            def keep_get(after: int) -> bytes:
                return keep.request("GET", f"/updates?after={after}").body

            def held_get(after: int) -> bytes:
                return held.request("GET", f"/updates?after={after}&wait=1").body

            def fresh_get(after: int) -> bytes:
                with HttpClient.connect(client, server.address, FRESH_PORT,
                                        timeout=LONG_TIMEOUT) as one:
                    return one.request("GET", f"/updates?after={after}",
                                       headers=[("connection", "close")]).body

            def run(name: str, work: object) -> None:
                try:
                    results[name] = work()  # type: ignore[operator]
                except BaseException as exc:
                    errors.append(exc)

            def pushed() -> list[str]:
                return [ws.receive_text() for _ in range(UPDATES)]

            def streamed() -> list[str]:
                return [events.receive() for _ in range(UPDATES)]

            threads = [threading.Thread(target=run, args=args) for args in (
                ("push", pushed),
                ("sse", streamed),
                ("long", lambda: _poll(held_get, stop_at, every=0.0)[0]),
                ("poll", lambda: _poll(keep_get, stop_at)[0]),
                ("fresh", lambda: _poll(fresh_get, stop_at)[0]))]
            threads.append(threading.Thread(target=source.run))
            for t in threads:
                t.start()
            for t in threads:
                t.join(LONG_TIMEOUT + 1)
            if errors:
                raise errors[0]
            ws.close()
            keep.close()
            held.close()
            events.close()
            quiet_by = time.monotonic() + 2.0  # the last FINs and ACKs are still on the
            while not wire.idle() and time.monotonic() < quiet_by:  # wire: capture them
                pass
    assert cap.trace is not None
    created = tuple(t for t, _ in source.made)
    methods = (
        _measure(N_("push"), cap.trace, WS_PORT, created),
        _measure(N_("Server-Sent Events"), cap.trace, SSE_PORT, created),
        _measure(N_("long polling"), cap.trace, LONG_POLL_PORT, created),
        _measure(N_("poll"), cap.trace, POLL_PORT, created),
        _measure(N_("poll, new connection each time"), cap.trace, FRESH_PORT, created),
    )
    return PushPollResult(trace=cap.trace, methods=methods, created_ns=created,
                          received=tuple(tuple(results[k]) for k in
                                         ("push", "sse", "long", "poll", "fresh")))


def _measure(name: str, trace: Trace, port: int, created: tuple[int, ...]) -> Method:
    conns = [c for c in trace.connections() if c.server[1] == port]
    segs = [s for c in conns for s in c.segments]
    asks = sorted(s.received_ns for c in conns for s in c.segments
                  if c.is_from_client(s) and s.payload.startswith(b"GET ")
                  and s.received_ns is not None)
    latencies, delays = [], []
    for i, made in enumerate(created):
        needle = _update(i).encode()
        carriers = sorted((s for c in conns for s in c.segments
                           if not c.is_from_client(s) and needle in s.payload
                           and s.received_ns is not None and s.sent_ns is not None),
                          key=lambda s: s.received_ns or 0)
        if not carriers:
            continue
        first = carriers[0]
        assert first.received_ns is not None and first.sent_ns is not None
        latencies.append((first.received_ns - made) / 1e9)
        delays.append((first.sent_ns - made) / 1e9)
    requests = empty = 0
    if port == SSE_PORT:  # one request, whose response never ends
        requests = len(asks)
    elif port != WS_PORT:  # the HTTP messages, decoded from the captured bytes
        for c in conns:
            for ex in exchanges(c):
                requests += 1
                empty += ex.response is not None and not ex.response.body
    return Method(name=name, connections=sum(1 for c in conns for s in c.segments
                                             if s.is_syn),
                  requests=requests, empty=empty, segments=len(segs),
                  wire_bytes=sum(len(s.frame) for s in segs),
                  payload_bytes=sum(s.length for s in segs), latencies=tuple(latencies),
                  send_delays=tuple(delays))
