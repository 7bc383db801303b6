"""The HTTP chapter's experiments together, with every claim of the chapter checked.

:func:`http` runs, each in a lab of its own: one request (:mod:`~netlab.experiments.http_basics`),
the cost of connections (:mod:`~netlab.experiments.http_costs`), head-of-line blocking
(:mod:`~netlab.experiments.http_hol`), persistence and the idle timeout, and the eavesdropper
(:mod:`~netlab.experiments.http_eavesdrop`). It takes about ten seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from netlab.experiments.facts import Fact
from netlab.experiments.http_basics import OneRequest, Persistence, one_request, persistence
from netlab.experiments.http_costs import TOLERANCE, CostResult, connection_costs
from netlab.experiments.http_eavesdrop import LOGIN_PASSWORD, Eavesdrop, eavesdrop
from netlab.experiments.http_hol import HolResult, head_of_line
from netlab.trace import Trace

__all__ = ["HttpResult", "http", "IDLE_TOLERANCE"]

#: The server's idle close may come late by the time its thread needs to wake and send the
#: FIN, never early.
IDLE_TOLERANCE = (1.0, 1.15)


@dataclass(frozen=True, kw_only=True)
class HttpResult:
    """Every experiment of the HTTP chapter, from one run."""

    one: OneRequest
    costs: CostResult
    hol: HolResult
    persistence: Persistence
    eavesdrop: Eavesdrop
    pcap_host: str = "client"

    @property
    def trace(self) -> Trace:
        """The one-request trace (what ``netlab run http --pcap`` saves)."""
        return self.one.trace

    def facts(self) -> list[Fact]:
        """The chapter's claims, each checked on this run's data."""
        one, costs, hol, per = self.one, self.costs, self.hol, self.persistence
        conn = one.connection
        ex = one.exchange
        first_http = min(ex.request_message.segments)
        syn, synack, ack = conn.handshake()
        sent = one.events[0].event
        got = next(e.event for e in one.events if type(e.event).__name__ == "Response")
        got_body = b"".join(bytes(e.event.data) for e in one.events
                            if type(e.event).__name__ == "Data")
        facts = [
            Fact(text="the TCP handshake completes before the first HTTP byte",
                 holds=ack.number < first_http,
                 evidence=f"SYN #{syn.number}, SYN-ACK #{synack.number}, ACK #{ack.number}; "
                          f"request in #{first_http}"),
            Fact(text="the request decoded from the capture is the one the client sent",
                 holds=(ex.request.method.encode(), ex.request.target.encode(),
                        tuple((k.encode(), v.encode()) for k, v in ex.request.headers))
                 == (sent.method, sent.target, tuple(sent.headers)),
                 evidence=f"{ex.request.method} {ex.request.target}, "
                          f"{len(ex.request.headers)} headers"),
            Fact(text="the response decoded from the capture is the one the client read",
                 holds=ex.response is not None and ex.response.status == got.status_code
                 and ex.response.body == got_body,
                 evidence=f"{got.status_code} {got_body!r}"),
        ]
        handshakes = {r.mode: r.handshakes for r in costs.runs}
        n = costs.runs[0].requests
        facts.append(Fact(text="HTTP/1.0 opens one connection per request, HTTP/1.1 one in all",
                          holds=handshakes == {"HTTP/1.0": n, "HTTP/1.1": 1, "pipelined": 1},
                          evidence=f"SYNs: {handshakes}"))
        for r in costs.runs:
            facts.append(Fact(
                text=f"{r.mode}: the time is what counting round trips predicts",
                holds=TOLERANCE[0] <= r.ratio <= TOLERANCE[1],
                evidence=f"{r.elapsed * 1e3:.1f} ms measured, {r.round_trips} RTT = "
                         f"{r.predicted * 1e3:.0f} ms predicted, ratio {r.ratio:.3f}"))
        pipelined = costs.run("pipelined")
        facts.append(Fact(text="a pipelining client sends every request before the first response",
                          holds=pipelined.sent_before_first_response() == n,
                          evidence=f"{pipelined.sent_before_first_response()} of {n}"))
        blocked = hol.run("pipelined")
        facts.append(Fact(text="in a pipeline the fast response waits for the slow one",
                          holds=blocked.order == ("slow", "fast") and TOLERANCE[0]
                          <= blocked.arrival("/fast") / (hol.rtt + hol.slow) <= TOLERANCE[1],
                          evidence=f"/fast after {blocked.arrival('/fast') * 1e3:.0f} ms "
                                   f"(RTT + {hol.slow * 1e3:.0f} ms)"))
        for way in ("two connections", "HTTP/2"):
            w = hol.run(way)
            facts.append(Fact(text=f"{way}: the fast response comes first, after one RTT",
                              holds=w.order == ("fast", "slow")
                              and TOLERANCE[0] <= w.arrival("/fast") / hol.rtt <= TOLERANCE[1],
                              evidence=f"/fast after {w.arrival('/fast') * 1e3:.1f} ms"))
        after = per.idle_close_after()
        facts += [
            Fact(text="HTTP/1.1 keeps the connection open by default",
                 holds=len(per.persistent.segments) > 0 and sum(
                     1 for s in per.persistent.segments if s.has("SYN") and not s.has("ACK")) == 1
                 and all(r.header("connection") is None for r in per.kept_alive),
                 evidence="two responses on one connection, no Connection header"),
            Fact(text="the server closes an idle connection after its keep-alive timeout",
                 holds=per.closer(per.persistent) == "server"
                 and IDLE_TOLERANCE[0] <= after / per.idle_timeout <= IDLE_TOLERANCE[1],
                 evidence=f"server's FIN {after * 1e3:.0f} ms after its last response "
                          f"(timeout {per.idle_timeout:g} s)"),
            Fact(text="Connection: close makes the server answer, then close first",
                 holds=per.closing.header("connection") == "close"
                 and per.closer(per.closed_on_request) == "server",
                 evidence=f"connection: {per.closing.header('connection')}"),
            Fact(text="a host on the path reads the password of a login over HTTP",
                 holds=self.eavesdrop.password_found(),
                 evidence=f"{LOGIN_PASSWORD!r} in segment #"
                          f"{self.eavesdrop.password_segment().number}"),
        ]
        return facts

    def report(self) -> str:
        """Everything, as text for a terminal."""
        facts = "\n".join(f"{'✓' if f.holds else '✗'} {f.text}\n    {f.evidence}"
                          for f in self.facts())
        return (f"One HTTP request over TCP\n\n{self.one.trace.table(options=False)}\n\n"
                f"The cost of connections\n\n{self.costs.grid()}\n\n"
                f"Head-of-line blocking\n\n{self.hol.grid()}\n\nFacts\n\n{facts}")


def http() -> HttpResult:
    """Run every experiment of the HTTP chapter."""
    return HttpResult(one=one_request(), costs=connection_costs(), hol=head_of_line(),
                      persistence=persistence(), eavesdrop=eavesdrop())
