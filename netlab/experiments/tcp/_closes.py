"""One connection of the teardown chapter, as observed: a :class:`Close` of each kind.

Each keeps its segments, both sides' states after each step and the calls that were events
of RFC 9293's diagram; :meth:`Close.timeline` replays them through the diagram.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from netlab.analysis.dissect import Segment
from netlab.analysis.timeline import CallEvent, Timeline
from netlab.analysis.trace import Connection, Trace
from netlab.experiments.tcp._teardown_bench import endpoint
from netlab.i18n import tr
from netlab.kernel.tcp_info import SocketEntry, Timer
from netlab.model.moments import StatesAt
from netlab.model.tcp_states import TcpState
from netlab.views import Ladder, Table
from netlab.views.moments import moment_text
from netlab.views.table import Grid
from netlab.views.timeline import timeline_grid

__all__ = ["Close", "Orderly", "HalfClose", "LostAck", "CloseWait", "Abort", "Restart"]


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

    @property
    def ack_delay(self) -> float:
        """Seconds between the client's FIN arriving at the server and the server's answer."""
        fin = self.fin("client")
        ack = next(s for s in self.segments if s.number > fin.number and s.sent_by == "server")
        assert fin.received_ns is not None and ack.sent_ns is not None
        return (ack.sent_ns - fin.received_ns) / 1e9

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
