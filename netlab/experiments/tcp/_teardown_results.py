"""What the teardown chapter observed: one :class:`Close` per connection, and the whole run.

The values :func:`netlab.experiments.tcp.teardown.teardown` returns, frozen once the
experiment is over; their views (tables, ladder diagrams, the RFC 9293 timeline) and the
chapter's facts are computed from them, so a page or a test can look again without
running anything. :mod:`netlab.experiments.tcp.teardown` re-exports every public name.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from pathlib import Path

from netlab.analysis.timeline import fin_seq
from netlab.analysis.trace import Trace
from netlab.experiments.endpoints import SERVER_PORT
from netlab.experiments.result import Fact, checklist
from netlab.experiments.tcp._closes import (
    Abort as Abort,
)
from netlab.experiments.tcp._closes import (
    Close as Close,
)
from netlab.experiments.tcp._closes import (
    CloseWait as CloseWait,
)
from netlab.experiments.tcp._closes import (
    HalfClose as HalfClose,
)
from netlab.experiments.tcp._closes import (
    LostAck as LostAck,
)
from netlab.experiments.tcp._closes import (
    Orderly as Orderly,
)
from netlab.experiments.tcp._closes import (
    Restart as Restart,
)
from netlab.experiments.tcp._teardown_bench import CHUNKS, CLOSE_WAIT_PORTS
from netlab.i18n import tr
from netlab.kernel.capture import write_pcap
from netlab.model.tcp_states import RULES, Event, Rule, TcpState, UnexpectedTransition
from netlab.views.download import Download
from netlab.views.table import Grid
from netlab.views.timeline import rules_grid

FIN_RTO = (0.15, 1.5)
"""Seconds after which the passive closer sends its FIN again when the last ACK was lost: its
retransmission timeout, at least 200 ms on Linux (TCP_RTO_MIN) less a timer tick, and well
under the 1.5 s the experiment waits. Measured with ``benchmarks/timing_spread.py --runs 6
--only teardown`` on the 2-core build machine: 0.203-0.207 s idle, 0.203-0.208 s with two
CPU-bound processes beside it (``--busy 2``)."""

__all__ = ["Close", "Orderly", "HalfClose", "LostAck", "CloseWait", "Abort", "Restart",
           "TeardownResult"]


# ---------------------------------------------------------------------------------------
# What was observed


@dataclass(frozen=True, kw_only=True)
class TeardownResult:
    """Everything the teardown chapter shows, from one run."""

    orderly: Orderly
    half_close: HalfClose
    close_on_eof: Close
    simultaneous: Close
    lost_ack: LostAck
    close_wait: CloseWait
    abort: Abort
    unread: Abort
    restarts: tuple[Restart, ...]
    duration: float
    """Seconds the whole experiment took, lab included."""
    pcap_host: str = field(default="client")
    keylog: None = None  # no TLS in this experiment

    @property
    def closes(self) -> tuple[Close, ...]:
        """Every captured connection's result, in the order they ran."""
        return (self.orderly, self.half_close, self.close_on_eof, self.simultaneous,
                self.lost_ack, self.close_wait, self.abort, self.unread)

    @cached_property
    def trace(self) -> Trace:
        """All captures merged, every connection of the chapter (for the CLI's ``--pcap``)."""
        hosts = ("client", "server")
        frames = [sorted(chain.from_iterable(c.trace.frames.get(h, ()) for c in self.closes),
                         key=lambda f: f.timestamp_ns) for h in hosts]
        return Trace.from_frames(frames, self.orderly.trace.names)

    def pcap_download(self, filename: str = "teardown.pcap") -> Download:
        """The client's capture of every connection, as a download link for a page."""
        import tempfile

        frames = list(self.trace.frames.get("client", ()))
        with tempfile.TemporaryDirectory() as tmp:
            data = write_pcap(Path(tmp) / filename, frames).read_bytes()
        summary = tr("{frames} frames captured on {host}").format(frames=len(frames),
                                                                   host="client")
        return Download(filename, data, "application/vnd.tcpdump.pcap", summary)

    def restart_grid(self) -> Grid:
        """Can a restarted server bind its port while its old connection is in TIME_WAIT?"""
        yes, no = tr("yes"), tr("no")
        rows = [[tr("old listener had SO_REUSEADDR"), tr("new listener sets SO_REUSEADDR"),
                 tr("old connection"), tr("bind() of the restarted server")]]
        rows += [[yes if r.old_reuseaddr else no, yes if r.new_reuseaddr else no,
                  r.old_state.name, r.error or tr("succeeds")] for r in self.restarts]
        return Grid(rows)

    def rules_seen(self) -> frozenset[Rule]:
        """Every arrow of RFC 9293's diagram that some connection of this run followed."""
        return frozenset(chain.from_iterable(c.timeline().rules for c in self.closes))

    def rules_grid(self) -> Grid:
        """RFC 9293's state diagram as a table, with the rules this run followed marked."""
        return rules_grid(self.rules_seen())

    def facts(self) -> list[Fact]:
        """The chapter's claims, each checked on this run's data."""
        return [check() for check in (
            self._fact_four, self._fact_delayed_fin_ack, self._fact_states,
            self._fact_half_close, self._fact_three,
            self._fact_simultaneous, self._fact_time_wait, self._fact_lost_ack,
            self._fact_restart, self._fact_close_wait, self._fact_abort, self._fact_unread,
            self._fact_rfc)]

    def _fact_four(self) -> Fact:
        o = self.orderly
        c = o.closing
        hops = [(s.sent_by, s.flags_text) for s in c]
        acks = (len(c) == 4 and c[1].ack == (fin_seq(c[0]) + 1) % 2**32
                and c[3].ack == (fin_seq(c[2]) + 1) % 2**32
                and o.connection.relative_seq(c[0]) == 5 and o.connection.relative_ack(c[1]) == 6
                and all(s.length == 0 for s in c))
        return Fact(name="four-segments",
                    text=tr("when the passive side closes later, closing takes four segments: "
                         "FIN → ACK, then FIN → ACK"),
                    holds=hops == [("client", "FIN, ACK"), ("server", "ACK"),
                                   ("server", "FIN, ACK"), ("client", "ACK")] and acks,
                    evidence="; ".join(f"{h} [{f}]" for h, f in hops)
                    + f"; each ACK acknowledges its FIN + 1; the server's ACK waited "
                      f"{o.ack_delay * 1000:.0f} ms")

    def _fact_delayed_fin_ack(self) -> Fact:
        # Linux: a FIN received in ESTABLISHED enters delayed-ACK "pingpong" mode (tcp_fin() →
        # inet_csk_enter_pingpong_mode()), so its ACK waits for the delayed-ACK timer. The
        # timer's length is the receiver's estimate of the gap between data segments
        # (icsk_ack.ato): TCP_ATO_MIN, 40 ms, once data have arrived; 0 on a connection that
        # received none, so the timer fires at the next tick. Bounds, from the spread of 20
        # runs (docs/teardown.md): 42-44 ms and 1-5 ms measured; 36 ms allows the timer's 4 ms
        # tick at HZ=250, 500 ms is RFC 9293's cap (§3.8.6.3), 20 ms is four times the
        # largest tick-only delay seen and half of TCP_ATO_MIN.
        after_data, no_data = self.orderly.ack_delay, self.half_close.ack_delay
        return Fact(name="fin-ack-delayed",
                    text=tr("the ACK of a FIN waits for the delayed-ACK timer: at least 40 ms "
                            "after data were received, one timer tick when none were"),
                    holds=0.036 <= after_data < 0.5 and no_data < 0.020,
                    evidence=f"after a request and a response: {after_data * 1000:.0f} ms; "
                             f"no data before the FIN: {no_data * 1000:.1f} ms")

    def _fact_states(self) -> Fact:
        o = self.orderly
        client, server = o.path("client")[-4:], o.path("server")[-4:]
        s = TcpState
        close_row = o.snapshots[6]
        return Fact(name="closer-states",
                    text=tr("active closer: ESTABLISHED → FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT; "
                         "passive closer: ESTABLISHED → CLOSE_WAIT → LAST_ACK → CLOSED"),
                    holds=client == [s.ESTABLISHED, s.FIN_WAIT_1, s.FIN_WAIT_2, s.TIME_WAIT]
                    and server == [s.ESTABLISHED, s.CLOSE_WAIT, s.LAST_ACK, s.CLOSED]
                    and str(close_row.moment) == "client calls close()"
                    and close_row.client is s.FIN_WAIT_1,
                    evidence=f"client {' → '.join(x.name for x in client)}; "
                             f"server {' → '.join(x.name for x in server)}")

    def _fact_half_close(self) -> Fact:
        h = self.half_close
        data = h.data_after_fin
        during = [sn for sn in h.snapshots if str(sn.moment).startswith("server reads EOF")]
        return Fact(name="half-close",
                    text=tr("after shutdown(SHUT_WR) the server reads EOF, yet still sends data, "
                         "which the client (in FIN_WAIT_2) receives"),
                    holds=h.eof == b"" and len(data) == len(CHUNKS)
                    and b"".join(s.payload for s in data) == b"".join(CHUNKS)
                    and [s.payload for s in data] == list(CHUNKS)
                    and all(s.number > h.fin("client").number for s in data)
                    and h.received == CHUNKS and h.client_eof == b""
                    and [(sn.client, sn.server) for sn in during]
                    == [(TcpState.FIN_WAIT_2, TcpState.CLOSE_WAIT)],
                    evidence=f"{len(data)} data segments ({sum(s.length for s in data)} bytes) "
                             f"after the client's FIN (#{h.fin('client').number})")

    def _fact_three(self) -> Fact:
        c = self.close_on_eof
        segs = c.closing
        fin = c.fin("client")
        return Fact(name="three-segments",
                    text=tr("a server that closes as soon as it reads EOF puts its FIN on the ACK: "
                         "three segments, and the client skips FIN_WAIT_2"),
                    holds=[s.flags_text for s in segs] == ["FIN, ACK", "FIN, ACK", "ACK"]
                    and [s.sent_by for s in segs] == ["client", "server", "client"]
                    and str(c.snapshots[3].moment)
                    == "FIN, ACK arrived at server; server calls close()"
                    and segs[1].ack == (fin_seq(fin) + 1) % 2**32
                    and c.path("client")[-3:] == [TcpState.ESTABLISHED, TcpState.FIN_WAIT_1,
                                                  TcpState.TIME_WAIT],
                    evidence=f"{' / '.join(s.flags_text for s in segs)}; client "
                             f"{' → '.join(x.name for x in c.path('client'))}")

    def _fact_simultaneous(self) -> Fact:
        c = self.simultaneous
        s = TcpState
        expected = [s.ESTABLISHED, s.FIN_WAIT_1, s.CLOSING, s.TIME_WAIT]
        fc, fs = c.fin("client"), c.fin("server")
        crossed = (fc.sent_ns is not None and fs.sent_ns is not None
                   and fc.received_ns is not None and fs.received_ns is not None
                   and fs.sent_ns < fc.received_ns and fc.sent_ns < fs.received_ns)
        return Fact(name="simultaneous-close",
                    text=tr("when both close at once, both pass through CLOSING and both end in "
                         "TIME_WAIT"),
                    holds=c.path("client") == expected and c.path("server") == expected
                    and len(c.closing) == 4 and crossed,
                    evidence=f"client {' → '.join(x.name for x in c.path('client'))}; server "
                             f"{' → '.join(x.name for x in c.path('server'))}")

    def _fact_time_wait(self) -> Fact:
        t = self.orderly.time_wait
        return Fact(name="time-wait-60s",
                    text=tr("the active closer stays in TIME_WAIT for 60 s on Linux, not 2 × MSL "
                         "(240 s by RFC 9293)"),
                    holds=t.kind == 3 and 5900 < t.ticks <= 6000 and 59.0 < t.seconds <= 60.0
                    and os.sysconf("SC_CLK_TCK") == 100
                    and [h for h in ("client", "server")
                         if self.orderly.path(h)[-1] is TcpState.TIME_WAIT] == ["client"]
                    and (self.orderly.ss is None or "timer:(timewait,59sec" in self.orderly.ss
                         or "timer:(timewait,60sec" in self.orderly.ss),
                    evidence=f"timer {t.name}, {t.ticks} ticks = {t.seconds:.2f} s left"
                             + (f"; ss: {self.orderly.ss}" if self.orderly.ss else ""))

    def _fact_lost_ack(self) -> Fact:
        la = self.lost_ack
        fins = la.fins
        return Fact(name="lost-last-ack",
                    text=tr("when the last ACK is lost, the FIN comes again and the TIME_WAIT "
                         "side answers it (restarting its timer)"),
                    holds=len(fins) == 2 and fins[0].seq == fins[1].seq
                    and la.dropped.received_ns is None
                    and la.dropped.ack == (fins[0].seq + 1) % 2**32
                    and [(sn.client, sn.server) for sn in la.snapshots[-3:]] == [
                        (TcpState.TIME_WAIT, TcpState.LAST_ACK),
                        (TcpState.TIME_WAIT, TcpState.LAST_ACK),
                        (TcpState.TIME_WAIT, TcpState.CLOSED)]
                    and la.snapshots[-1].server is TcpState.CLOSED
                    and la.snapshots[-1].client is TcpState.TIME_WAIT
                    and la.timer_after.ticks > la.timer_before.ticks
                    and FIN_RTO[0] < la.retransmission_delay < FIN_RTO[1],
                    evidence=f"FIN sent again after {la.retransmission_delay * 1000:.0f} ms; "
                             f"timer {la.timer_before.seconds:.2f} s → "
                             f"{la.timer_after.seconds:.2f} s")

    def _fact_restart(self) -> Fact:
        table = {(r.old_reuseaddr, r.new_reuseaddr): r.error for r in self.restarts}
        return Fact(name="restart-reuseaddr",
                    text=tr("a restarted server binds its port while its old connections are in "
                         "TIME_WAIT only if the old and the new listener set SO_REUSEADDR"),
                    holds=table == {(False, False): "EADDRINUSE", (False, True): "EADDRINUSE",
                                    (True, False): "EADDRINUSE", (True, True): None}
                    and all(r.old_state is TcpState.TIME_WAIT for r in self.restarts),
                    evidence=", ".join(f"{int(o)}/{int(n)}: {e or 'ok'}"
                                       for (o, n), e in table.items()))

    def _fact_close_wait(self) -> Fact:
        cw = self.close_wait
        waiting = [(e, t) for e, t in cw.server_sockets if e.state is TcpState.CLOSE_WAIT]
        fw2 = [(e, t) for e, t in cw.client_sockets if e.state is TcpState.FIN_WAIT_2]
        return Fact(name="close-wait",
                    text=tr("a server that never calls close() keeps CLOSE_WAIT with no timer, "
                         "while the client's FIN_WAIT_2 times out"),
                    holds=len(waiting) == len(fw2) == len(CLOSE_WAIT_PORTS) == 3
                    and [s.flags_text for s in cw.closing] == ["FIN, ACK", "ACK"]
                    and all(t.kind == 0 for _, t in waiting)
                    and all(t.kind == 3 and cw.fin_timeout - 1 < t.seconds <= cw.fin_timeout
                            for _, t in fw2),
                    evidence=f"{len(waiting)} CLOSE_WAIT (timer off); {len(fw2)} FIN_WAIT_2 "
                             f"with {max((t.seconds for _, t in fw2), default=0):.1f} s left "
                             f"(tcp_fin_timeout = {cw.fin_timeout})")

    def _abort_holds(self, a: Abort) -> bool:
        flags = [s.flags_text for s in a.closing]
        return (flags == ["RST, ACK"] and not any(s.has("FIN") for s in a.segments)
                and isinstance(a.error, ConnectionResetError)
                and a.error.errno == errno.ECONNRESET and a.server_fd_state is TcpState.CLOSED
                and a.path("client")[-1] is TcpState.CLOSED)

    def _fact_abort(self) -> Fact:
        a = self.abort
        return Fact(name="abort-rst",
                    text=tr("close() with SO_LINGER {on, 0 s} sends RST, not FIN; the peer gets "
                         "ConnectionResetError and neither side keeps TIME_WAIT"),
                    holds=self._abort_holds(a)
                    and a.path("client") == a.path("server")
                    == [TcpState.ESTABLISHED, TcpState.CLOSED],
                    evidence=f"[{' / '.join(s.flags_text for s in a.closing)}]; "
                             f"{type(a.error).__name__}: "
                             f"{a.error.strerror if a.error else None}")

    def _fact_unread(self) -> Fact:
        a = self.unread
        return Fact(name="unread-rst",
                    text=tr("close() with received data left unread sends RST too"),
                    holds=self._abort_holds(a) and a.connection.relative_ack(a.closing[0]) == 19,
                    evidence=f"[{' / '.join(s.flags_text for s in a.closing)}]; "
                             f"{type(a.error).__name__}")

    def _fact_rfc(self) -> Fact:
        try:
            counts = [len(c.timeline().transitions) for c in self.closes]
        except UnexpectedTransition as exc:
            return Fact(name="rfc-diagram",
                        text=tr("every state change follows RFC 9293's state diagram"),
                        holds=False, evidence=str(exc))
        seen = {(r.state, r.event) for r in self.rules_seen()}
        s, e = TcpState, Event
        closing = {e.CLOSE, e.RCV_FIN, e.RCV_ACK_OF_FIN, e.RCV_FIN_ACK_OF_FIN, e.TIMEOUT}
        missed = {(r.state, r.event) for r in RULES if r.source.startswith("§3.3.2")
                  and r.event in closing and r.state not in (s.LISTEN, s.SYN_SENT)} - seen
        tl = self.orderly.timeline()
        segs = self.orderly.segments
        orderly = ([t.rule.next for t in tl.transitions if t.host == "client"]
                   == [s.SYN_SENT, s.ESTABLISHED, s.FIN_WAIT_1, s.FIN_WAIT_2, s.TIME_WAIT]
                   and [t.rule.next for t in tl.transitions if t.host == "server"]
                   == [s.SYN_RECV, s.ESTABLISHED, s.CLOSE_WAIT, s.LAST_ACK, s.CLOSED]
                   and [t.segment for t in tl.transitions if t.segment]
                   == [*segs[:3], *segs[-4:]])
        return Fact(name="rfc-diagram",
                    text=tr("every state change follows RFC 9293's state diagram"),
                    holds=orderly and missed == {(s.TIME_WAIT, e.TIMEOUT), (s.SYN_RECV, e.CLOSE)}
                    and {(s.FIN_WAIT_1, e.RCV_FIN_ACK_OF_FIN), (s.CLOSING, e.RCV_ACK_OF_FIN),
                         (s.ESTABLISHED, e.ABORT), (s.ESTABLISHED, e.RCV_RST)} <= seen,
                    evidence=f"{sum(counts)} transitions on {len(counts)} connections, "
                             f"{len(self.rules_seen())} distinct rules; closing arrows not "
                             "taken: " + ", ".join(sorted(f"{st.name} {ev.name}"
                                                          for st, ev in missed)))

    def report(self) -> str:
        """Everything, as text for a terminal."""
        parts = [f"Closing TCP connections (client 192.0.2.1 → server 192.0.2.2:{SERVER_PORT}),"
                 f" {self.duration:.2f} s"]
        for c in self.closes:
            parts.append(f"{c.title} (client port {c.client_port})\n\n"
                         f"{c.table()}\n\n{c.snapshot_table()}")
        parts.append(f"State changes of one connection, checked against RFC 9293\n\n"
                     f"{self.orderly.timeline_table()}")
        parts.append(f"Sockets of the server that never closes\n\n"
                     f"{self.close_wait.sockets_grid()}")
        parts.append(f"Restarting a server that closed first\n\n{self.restart_grid()}")
        facts = checklist(self.facts())
        parts.append(f"Facts\n\n{facts}")
        return "\n\n".join(parts)
