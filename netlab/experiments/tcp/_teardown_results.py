"""What the teardown chapter observed: one :class:`Close` per connection, and the whole run.

The values :func:`netlab.experiments.tcp.teardown.teardown` returns, frozen once the
experiment is over; their views (tables, ladder diagrams, the RFC 9293 timeline) and the
chapter's facts are computed from them, so a page or a test can look again without
running anything. :mod:`netlab.experiments.tcp.teardown` re-exports every public name.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from pathlib import Path

from netlab.analysis.dissect import Segment
from netlab.analysis.timeline import CallEvent, Timeline, fin_seq
from netlab.analysis.trace import Connection, Trace
from netlab.experiments.endpoints import SERVER_PORT
from netlab.experiments.result import Fact, checklist
from netlab.experiments.tcp._teardown_bench import CHUNKS, CLOSE_WAIT_PORTS, endpoint
from netlab.i18n import tr
from netlab.kernel.capture import write_pcap
from netlab.kernel.tcp_info import SocketEntry, Timer
from netlab.model.moments import StatesAt
from netlab.model.tcp_states import Rule, TcpState, UnexpectedTransition
from netlab.views import Ladder, Table
from netlab.views.download import Download
from netlab.views.moments import moment_text
from netlab.views.table import Grid
from netlab.views.timeline import rules_grid, timeline_grid

__all__ = ["Close", "Orderly", "HalfClose", "LostAck", "CloseWait", "Abort", "Restart",
           "TeardownResult"]


# ---------------------------------------------------------------------------------------
# What was observed


@dataclass(frozen=True, kw_only=True)
class Close:
    """One connection of the chapter: its packets and both kernels' states as it closed."""

    name: str
    title: str
    """The caption of its ladder diagram (in English)."""
    trace: Trace
    """Everything captured on client and server while this connection ran."""
    client_port: int
    snapshots: tuple[StatesAt, ...]
    calls: tuple[CallEvent, ...]

    @property
    def connection(self) -> Connection:
        return self.trace.connection(port=self.client_port)

    @property
    def segments(self) -> tuple[Segment, ...]:
        return self.connection.segments

    @property
    def closing(self) -> tuple[Segment, ...]:
        """The segments from the first FIN or RST on (the teardown itself)."""
        segs = self.segments
        first = next(i for i, s in enumerate(segs) if s.has("FIN") or s.has("RST"))
        return segs[first:]

    def fin(self, host: str) -> Segment:
        """The first FIN ``host`` sent."""
        return next(s for s in self.segments if s.has("FIN") and s.sent_by == host)

    def table(self, *, absolute: bool = False, options: bool = False) -> Table:
        """This connection's segments (relative numbers, without options by default)."""
        return Table(self.trace.only(self.connection), absolute=absolute, options=options)

    def states(self) -> tuple[StatesAt, ...]:
        """Both sides' states after each step, for a ladder diagram."""
        return self.snapshots

    def ladder(self) -> Ladder:
        """The connection as a ladder diagram, with both sides' kernel states."""
        return Ladder(self.trace.only(self.connection), states=self.states(),
                      title=tr(self.title))

    def snapshot_table(self) -> Grid:
        """Both kernels' states after each step, as a table."""
        rows = [[tr("moment"), tr("client"), tr("server")]]
        rows += [[moment_text(s.moment), s.client.name, s.server.name] for s in self.snapshots]
        return Grid(rows)

    def path(self, host: str) -> list[TcpState]:
        """The distinct states ``host`` was seen in, in order."""
        return _distinct(getattr(s, host) for s in self.snapshots)

    def timeline(self) -> Timeline:
        """The state changes checked against RFC 9293 (raises if one does not fit)."""
        return Timeline(self)

    def timeline_table(self) -> Grid:
        """The state changes, each beside its cause and its rule, as a table."""
        return timeline_grid(self.timeline())


@dataclass(frozen=True, kw_only=True)
class Orderly(Close):
    """The whole life of one connection, closed by the client first."""

    time_wait: Timer
    """The client's timer just after it entered TIME_WAIT."""
    ss: str | None
    """What ``ss -tano`` said about the client's socket at the same moment (if installed)."""

    @property
    def ack_delay(self) -> float:
        """Seconds between the client's FIN arriving at the server and the server's ACK."""
        fin = self.fin("client")
        ack = next(s for s in self.segments if s.number > fin.number and s.sent_by == "server")
        assert fin.received_ns is not None and ack.sent_ns is not None
        return (ack.sent_ns - fin.received_ns) / 1e9


@dataclass(frozen=True, kw_only=True)
class HalfClose(Close):
    """``shutdown(SHUT_WR)`` on the client; the server goes on sending."""

    eof: bytes
    """What the server's first ``recv()`` returned after the client's FIN."""
    received: tuple[bytes, ...]
    """What the client received after its FIN, chunk by chunk."""
    client_eof: bytes
    """What the client's ``recv()`` returned after the server's FIN."""

    @property
    def data_after_fin(self) -> tuple[Segment, ...]:
        """Segments with data that the server sent after the client's FIN."""
        fin = self.fin("client")
        return tuple(s for s in self.segments if s.number > fin.number and s.length
                     and s.sent_by == "server")


@dataclass(frozen=True, kw_only=True)
class LostAck(Close):
    """The client's last ACK never arrives; the server's FIN comes again."""

    dropped: Segment
    """The ACK the wire lost."""
    timer_before: Timer
    """The client's TIME_WAIT timer after the lost ACK."""
    timer_after: Timer
    """The same timer after the repeated FIN arrived."""

    @property
    def fins(self) -> tuple[Segment, ...]:
        """The server's FIN and its retransmission."""
        return tuple(s for s in self.segments if s.has("FIN") and s.sent_by == "server")

    @property
    def retransmission_delay(self) -> float:
        """Seconds between the server's FIN and its retransmission (the server's RTO)."""
        first, again = self.fins
        assert first.sent_ns is not None and again.sent_ns is not None
        return (again.sent_ns - first.sent_ns) / 1e9


@dataclass(frozen=True, kw_only=True)
class CloseWait(Close):
    """A server that reads a request, answers, and never calls ``close()``."""

    server_sockets: tuple[tuple[SocketEntry, Timer], ...]
    """The server's TCP sockets at the end, listener included."""
    client_sockets: tuple[tuple[SocketEntry, Timer], ...]
    fin_timeout: int
    """``net.ipv4.tcp_fin_timeout`` in the client's namespace (seconds)."""

    def sockets_grid(self) -> Grid:
        """Both hosts' sockets and their timers, as ``ss -tano`` would list them."""
        rows = [["", tr("local"), tr("remote"), tr("state"), tr("timer"), tr("left (s)")]]
        for host, sockets in (("server", self.server_sockets), ("client", self.client_sockets)):
            for entry, timer in sockets:
                rows.append([tr(host), endpoint(entry.local), endpoint(entry.remote),
                             entry.state.name, tr(timer.name),
                             f"{timer.seconds:.1f}" if timer.kind else "-"])
        return Grid(rows, right={tr("left (s)")})


@dataclass(frozen=True, kw_only=True)
class Abort(Close):
    """A close that sends RST: the peer's ``recv()`` fails."""

    error: OSError | None
    """What the server's ``recv()`` raised."""
    server_fd_state: TcpState
    """The server socket's state by ``TCP_INFO`` afterwards (it still holds the descriptor)."""


@dataclass(frozen=True, kw_only=True)
class Restart:
    """A server that closed first, restarted while its old connection was in TIME_WAIT."""

    port: int
    old_reuseaddr: bool
    new_reuseaddr: bool
    old_state: TcpState
    """The old connection's state on the server when the new listener tried to bind."""
    error: str | None
    """The errno name bind() failed with, or None if it succeeded."""


def _distinct(states: Iterable[TcpState]) -> list[TcpState]:
    out: list[TcpState] = []
    for s in states:
        if not out or out[-1] is not s:
            out.append(s)
    return out


# ---------------------------------------------------------------------------------------
# The result


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
            self._fact_four, self._fact_states, self._fact_half_close, self._fact_three,
            self._fact_simultaneous, self._fact_time_wait, self._fact_lost_ack,
            self._fact_restart, self._fact_close_wait, self._fact_abort, self._fact_unread,
            self._fact_rfc)]

    def _fact_four(self) -> Fact:
        o = self.orderly
        c = o.closing
        hops = [(s.sent_by, s.flags_text) for s in c]
        acks = (len(c) == 4 and c[1].ack == (fin_seq(c[0]) + 1) % 2**32
                and c[3].ack == (fin_seq(c[2]) + 1) % 2**32)
        return Fact(text="when the passive side closes later, closing takes four segments: "
                         "FIN → ACK, then FIN → ACK",
                    holds=hops == [("client", "FIN, ACK"), ("server", "ACK"),
                                   ("server", "FIN, ACK"), ("client", "ACK")] and acks,
                    evidence="; ".join(f"{h} [{f}]" for h, f in hops)
                    + f"; each ACK acknowledges its FIN + 1; the server's ACK waited "
                      f"{o.ack_delay * 1000:.0f} ms")

    def _fact_states(self) -> Fact:
        o = self.orderly
        client, server = o.path("client")[-4:], o.path("server")[-4:]
        s = TcpState
        return Fact(text="active closer: ESTABLISHED → FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT; "
                         "passive closer: ESTABLISHED → CLOSE_WAIT → LAST_ACK → CLOSED",
                    holds=client == [s.ESTABLISHED, s.FIN_WAIT_1, s.FIN_WAIT_2, s.TIME_WAIT]
                    and server == [s.ESTABLISHED, s.CLOSE_WAIT, s.LAST_ACK, s.CLOSED],
                    evidence=f"client {' → '.join(x.name for x in client)}; "
                             f"server {' → '.join(x.name for x in server)}")

    def _fact_half_close(self) -> Fact:
        h = self.half_close
        data = h.data_after_fin
        during = [sn for sn in h.snapshots if str(sn.moment).startswith("server reads EOF")]
        return Fact(text="after shutdown(SHUT_WR) the server reads EOF, yet still sends data, "
                         "which the client (in FIN_WAIT_2) receives",
                    holds=h.eof == b"" and len(data) == len(CHUNKS)
                    and b"".join(s.payload for s in data) == b"".join(CHUNKS)
                    and h.received == CHUNKS and h.client_eof == b""
                    and [(sn.client, sn.server) for sn in during]
                    == [(TcpState.FIN_WAIT_2, TcpState.CLOSE_WAIT)],
                    evidence=f"{len(data)} data segments ({sum(s.length for s in data)} bytes) "
                             f"after the client's FIN (#{h.fin('client').number})")

    def _fact_three(self) -> Fact:
        c = self.close_on_eof
        segs = c.closing
        fin = c.fin("client")
        return Fact(text="a server that closes as soon as it reads EOF puts its FIN on the ACK: "
                         "three segments, and the client skips FIN_WAIT_2",
                    holds=[s.flags_text for s in segs] == ["FIN, ACK", "FIN, ACK", "ACK"]
                    and segs[1].ack == (fin_seq(fin) + 1) % 2**32
                    and c.path("client")[-3:] == [TcpState.ESTABLISHED, TcpState.FIN_WAIT_1,
                                                  TcpState.TIME_WAIT],
                    evidence=f"{' / '.join(s.flags_text for s in segs)}; client "
                             f"{' → '.join(x.name for x in c.path('client'))}")

    def _fact_simultaneous(self) -> Fact:
        c = self.simultaneous
        s = TcpState
        expected = [s.ESTABLISHED, s.FIN_WAIT_1, s.CLOSING, s.TIME_WAIT]
        return Fact(text="when both close at once, both pass through CLOSING and both end in "
                         "TIME_WAIT",
                    holds=c.path("client") == expected and c.path("server") == expected
                    and len(c.closing) == 4,
                    evidence=f"client {' → '.join(x.name for x in c.path('client'))}; server "
                             f"{' → '.join(x.name for x in c.path('server'))}")

    def _fact_time_wait(self) -> Fact:
        t = self.orderly.time_wait
        return Fact(text="the active closer stays in TIME_WAIT for 60 s on Linux, not 2 × MSL "
                         "(240 s by RFC 9293)",
                    holds=t.kind == 3 and 59.0 < t.seconds <= 60.0,
                    evidence=f"timer {t.name}, {t.ticks} ticks = {t.seconds:.2f} s left"
                             + (f"; ss: {self.orderly.ss}" if self.orderly.ss else ""))

    def _fact_lost_ack(self) -> Fact:
        la = self.lost_ack
        fins = la.fins
        return Fact(text="when the last ACK is lost, the FIN comes again and the TIME_WAIT "
                         "side answers it (restarting its timer)",
                    holds=len(fins) == 2 and fins[0].seq == fins[1].seq
                    and la.snapshots[-1].server is TcpState.CLOSED
                    and la.snapshots[-1].client is TcpState.TIME_WAIT
                    and la.timer_after.ticks > la.timer_before.ticks
                    and 0.15 < la.retransmission_delay < 1.5,
                    evidence=f"FIN sent again after {la.retransmission_delay * 1000:.0f} ms; "
                             f"timer {la.timer_before.seconds:.2f} s → "
                             f"{la.timer_after.seconds:.2f} s")

    def _fact_restart(self) -> Fact:
        table = {(r.old_reuseaddr, r.new_reuseaddr): r.error for r in self.restarts}
        return Fact(text="a restarted server binds its port while its old connections are in "
                         "TIME_WAIT only if the old and the new listener set SO_REUSEADDR",
                    holds=table == {(False, False): "EADDRINUSE", (False, True): "EADDRINUSE",
                                    (True, False): "EADDRINUSE", (True, True): None}
                    and all(r.old_state is TcpState.TIME_WAIT for r in self.restarts),
                    evidence=", ".join(f"{int(o)}/{int(n)}: {e or 'ok'}"
                                       for (o, n), e in table.items()))

    def _fact_close_wait(self) -> Fact:
        cw = self.close_wait
        waiting = [(e, t) for e, t in cw.server_sockets if e.state is TcpState.CLOSE_WAIT]
        fw2 = [(e, t) for e, t in cw.client_sockets if e.state is TcpState.FIN_WAIT_2]
        return Fact(text="a server that never calls close() keeps CLOSE_WAIT with no timer, "
                         "while the client's FIN_WAIT_2 times out",
                    holds=len(waiting) == len(fw2) == len(CLOSE_WAIT_PORTS)
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
        return Fact(text="close() with SO_LINGER {on, 0 s} sends RST, not FIN; the peer gets "
                         "ConnectionResetError and neither side keeps TIME_WAIT",
                    holds=self._abort_holds(a)
                    and TcpState.TIME_WAIT not in a.path("client") + a.path("server"),
                    evidence=f"[{' / '.join(s.flags_text for s in a.closing)}]; "
                             f"{type(a.error).__name__}: "
                             f"{a.error.strerror if a.error else None}")

    def _fact_unread(self) -> Fact:
        a = self.unread
        return Fact(text="close() with received data left unread sends RST too",
                    holds=self._abort_holds(a),
                    evidence=f"[{' / '.join(s.flags_text for s in a.closing)}]; "
                             f"{type(a.error).__name__}")

    def _fact_rfc(self) -> Fact:
        try:
            counts = [len(c.timeline().transitions) for c in self.closes]
        except UnexpectedTransition as exc:
            return Fact(text="every state change follows RFC 9293's state diagram",
                        holds=False, evidence=str(exc))
        return Fact(text="every state change follows RFC 9293's state diagram", holds=True,
                    evidence=f"{sum(counts)} transitions on {len(counts)} connections, "
                             f"{len(self.rules_seen())} distinct rules")

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
