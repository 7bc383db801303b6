"""Head-of-line blocking: a slow response holds back a fast one behind it in a pipeline.

The client asks for ``/slow`` (the server takes :data:`SLOW` seconds to answer it) and for
``/fast`` (answered at once), over a link with a 50 ms round trip, three ways:

pipelined
    both requests on one HTTP/1.1 connection, one after the other without waiting. RFC 9112
    §9.3.2 makes the server answer in the order the requests came, so ``/fast`` waits.
two connections
    one request on each of two HTTP/1.1 connections, opened beforehand: what browsers do
    instead (RFC 9112 §9.4 leaves the number of connections to the client; browsers open
    about six per server).
HTTP/2
    both requests as two streams of one HTTP/2 connection (RFC 9113 §5): frames of different
    streams interleave, so ``/fast`` is answered first.

Both hosts are captured. The time of each response is the arrival, in the client's capture,
of the segment that carries its body, counted from the departure of the first request's
segment; the TCP handshakes happened before, and are not counted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from netlab.analysis.dissect import Segment
from netlab.analysis.http_capture import labels
from netlab.analysis.trace import Trace
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import TIMEOUT
from netlab.experiments.http.costs import TOLERANCE, at_client
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import N_, tr
from netlab.lab import Host, Lab
from netlab.proto.http import HttpClient, Request, Response, serving
from netlab.proto.http2 import Http2Client, serving_h2
from netlab.views.ladder import Ladder
from netlab.views.table import Grid

__all__ = ["SLOW", "WAYS", "HolRun", "HolResult", "head_of_line"]

PORT, H2_PORT = 80, 8080
#: Seconds the server takes to answer ``/slow`` (several round trips, easy to see).
SLOW = 0.3
DELAY = 0.025  # seconds, one way: a 50 ms round trip
BODIES = {"/slow": b"slow response\n", "/fast": b"fast response\n"}
#: The three ways of fetching the two resources.
WAYS = (N_("pipelined"), N_("two connections"), "HTTP/2")
REPEATS = 3  # runs per way; the soonest is kept (a busy machine only adds delay)


def slow_and_fast(request: Request) -> Response:
    """``/slow`` answers after :data:`SLOW` seconds, ``/fast`` at once."""
    body = BODIES.get(request.target)
    if body is None:
        return Response.text(404, "not found\n")
    return Response(status=200, body=body, headers=(("content-type", "text/plain"),),
                    delay=SLOW if request.target == "/slow" else 0.0)


@dataclass(frozen=True, kw_only=True)
class HolRun:
    """/slow and /fast fetched one way, captured on the client and the server."""

    way: str
    trace: Trace
    order: tuple[str, ...]
    """The targets in the order their responses were complete at the client."""
    sending_ns: int
    """The wall clock (as the capture's) just before the client sent the requests."""
    tries: tuple[float, ...] = ()
    """When ``/fast`` arrived in every run of this way, in seconds (this run is the soonest)."""

    def _carrying(self, body: bytes) -> Segment:
        found = [s for s in self.trace.segments if body in s.payload]
        if not found:
            raise ExperimentError(f"{self.way}: no captured segment carries {body!r}")
        return found[0]

    def _seen(self, seg: Segment) -> int:
        return at_client(seg, (PORT, H2_PORT))

    @property
    def start_ns(self) -> int:
        """When the first request left (the client's first data segment after ``sending_ns``).

        (Found by time, not by content: HTTP/2 compresses the request's path with HPACK.)
        """
        return min(self._seen(s) for s in self.trace.segments
                   if s.length and s.dport in (PORT, H2_PORT)
                   and self._seen(s) >= self.sending_ns)

    def arrival(self, target: str) -> float:
        """Seconds from the first request to the arrival of ``target``'s response body."""
        return (self._seen(self._carrying(BODIES[target])) - self.start_ns) / 1e9

    @property
    def connections(self) -> int:
        return sum(s.is_syn for s in self.trace.segments)


@dataclass(frozen=True, kw_only=True)
class HolResult:
    runs: tuple[HolRun, ...]
    rtt: float
    slow: float

    def run(self, way: str) -> HolRun:
        return next(r for r in self.runs if r.way == way)

    def grid(self) -> Grid:
        """When each response arrived, each way, and which came first."""
        rows = [[tr("way"), tr("TCP connections"), tr("/fast arrived (ms)"),
                 tr("/slow arrived (ms)"), tr("first complete")]]
        for r in self.runs:
            rows.append([tr(r.way), str(r.connections), f"{r.arrival('/fast') * 1e3:.1f}",
                         f"{r.arrival('/slow') * 1e3:.1f}", f"/{r.order[0]}"])
        return Grid(rows, right=set(rows[0][1:4]))

    def ladder(self) -> Ladder:
        """The pipelined run: the fast response leaves only after the slow one."""
        trace = self.run("pipelined").trace
        conn = next(c for c in trace.connections() if any(s.length for s in c.segments))
        return Ladder(trace.only(conn), title=tr("Head-of-line blocking in an HTTP/1.1 pipeline"),
                                       notes=labels(conn))

    @property
    def trace(self) -> Trace:
        """The pipelined run, which ``--pcap`` saves."""
        return self.run("pipelined").trace

    pcap_host = "client"
    keylog = None  # no TLS in this experiment

    def _unblocked(self, way: str, connections: int) -> dict[str, Any]:
        """The claim that ``way`` does not block: its text, whether it holds, the evidence."""
        w = self.run(way)
        return {"text": tr("{way}: the fast response comes first, after one RTT")
                .format(way=tr(way)),
                "holds": w.order == ("fast", "slow") and w.connections == connections
                and TOLERANCE[0] <= w.arrival("/fast") / self.rtt <= TOLERANCE[1],
                "evidence": f"/fast after {w.arrival('/fast') * 1e3:.1f} ms"}

    def facts(self) -> list[Fact]:
        """The section's claims, each checked on this run's data."""
        blocked = self.run("pipelined")
        facts = [Fact(name="pipeline-blocks",
                      text=tr("in a pipeline the fast response waits for the slow one"),
                      holds=blocked.order == ("slow", "fast") and blocked.connections == 1
                      and blocked.arrival("/fast") >= blocked.arrival("/slow")
                      and TOLERANCE[0]
                      <= blocked.arrival("/fast") / (self.rtt + self.slow) <= TOLERANCE[1],
                      evidence=f"/fast after {blocked.arrival('/fast') * 1e3:.0f} ms "
                               f"(RTT + {self.slow * 1e3:.0f} ms)")]
        facts += [Fact(name="two-connections-unblock", **self._unblocked("two connections", 2)),
                  Fact(name="http2-unblocks", **self._unblocked("HTTP/2", 1))]
        return facts

    def report(self) -> str:
        return f"Head-of-line blocking\n\n{self.grid()}\n\nFacts\n\n{checklist(self.facts())}"

    def __str__(self) -> str:
        return str(self.grid())

    def _repr_html_(self) -> str:
        return self.grid()._repr_html_()


Fetched = tuple[tuple[str, ...], int]  # the order of completion, and when sending began


def _pipelined(client: Host, address: str) -> Fetched:
    with HttpClient.connect(client, address, PORT, timeout=TIMEOUT) as c:
        sending = time.time_ns()
        c.send("GET", "/slow")
        c.send("GET", "/fast")
        return tuple(r.body.decode().split()[0] for r in (c.receive(), c.receive())), sending


def _two_connections(client: Host, address: str) -> Fetched:
    with HttpClient.connect(client, address, PORT, timeout=TIMEOUT) as a, \
            HttpClient.connect(client, address, PORT, timeout=TIMEOUT) as b:
        sending = time.time_ns()
        a.send("GET", "/slow")
        b.send("GET", "/fast")
        fast = b.receive()
        fast_at = time.monotonic()
        slow = a.receive()
        slow_at = time.monotonic()
    pair = sorted([(fast_at, fast), (slow_at, slow)], key=lambda p: p[0])
    return tuple(r.body.decode().split()[0] for _, r in pair), sending


def _http2(client: Host, address: str) -> Fetched:
    with Http2Client.connect(client, address, H2_PORT, timeout=TIMEOUT) as c:
        c.start()
        sending = time.time_ns()
        arrivals = c.get_all(["/slow", "/fast"])
        return tuple(a.response.body.decode().split()[0] for a in arrivals), sending


@replayable
def head_of_line(repeats: int = REPEATS) -> HolResult:
    """Fetch /slow then /fast in each of :data:`WAYS`, ``repeats`` times each.

    The run kept for each way is the one whose ``/fast`` arrived soonest (a busy machine only
    ever adds delay); every run's arrival is kept in :attr:`HolRun.tries`.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    fetch = {"pipelined": _pipelined, "two connections": _two_connections, "HTTP/2": _http2}
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server, delay=DELAY)
        runs = []
        with serving(server, slow_and_fast, port=PORT), \
                serving_h2(server, slow_and_fast, port=H2_PORT):
            for way in WAYS:
                tries = []
                for _ in range(repeats):
                    with lab.capture(client, server) as cap:
                        order, sending = fetch[way](client, server.address)
                        time.sleep(4 * DELAY)
                    assert cap.trace is not None
                    tries.append(HolRun(way=way, trace=cap.trace, order=order,
                                        sending_ns=sending))
                best = min(tries, key=lambda r: r.arrival("/fast"))
                runs.append(replace(best, tries=tuple(r.arrival("/fast") for r in tries)))
    return HolResult(runs=tuple(runs), rtt=2 * DELAY, slow=SLOW)
