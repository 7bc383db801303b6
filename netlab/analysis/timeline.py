"""A connection's state changes, each checked against RFC 9293's state diagram.

An experiment that steps a connection through its life records the socket calls that are
events of the diagram (:class:`CallEvent`: ``close()`` is a CLOSE) and, once the effects of
each step have settled, both kernels' states (:class:`~netlab.model.moments.StatesAt`); its
capture adds the segments, each with the time it arrived. :class:`Timeline` replays these
observations through the diagram (:data:`netlab.model.tcp_states.RULES`): each state change
becomes a :class:`Transition` beside its cause, and a change the RFC does not allow raises
:class:`~netlab.model.tcp_states.UnexpectedTransition` instead of being drawn.
:mod:`netlab.views.timeline` draws both as tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Connection, Endpoint
from netlab.model.moments import StatesAt
from netlab.model.tcp_states import (
    Event,
    Rule,
    TcpState,
    UnexpectedTransition,
    rule,
    segment_event,
)

__all__ = ["CallEvent", "Observed", "Transition", "Timeline", "fin_seq"]


@dataclass(frozen=True, kw_only=True)
class CallEvent:
    """A socket call that is an event of the state diagram (``close()`` is a CLOSE)."""

    host: str
    call: str
    event: Event
    timestamp_ns: int
    """Just before the call."""


class Observed(Protocol):
    """One connection as an experiment observed it (a
    :class:`~netlab.experiments.tcp.teardown.Close`, say): what a :class:`Timeline` reads.

    Its ``snapshots`` and ``calls`` in time order, its ``connection`` for the segments, and
    a ``name`` for error messages.
    """

    @property
    def name(self) -> str: ...
    @property
    def snapshots(self) -> tuple[StatesAt, ...]: ...
    @property
    def calls(self) -> tuple[CallEvent, ...]: ...
    @property
    def connection(self) -> Connection: ...


@dataclass(frozen=True, kw_only=True)
class Transition:
    """One state change of one side, with what caused it and the rule that allows it."""

    host: str
    rule: Rule
    timestamp_ns: int
    call: CallEvent | None = None
    segment: Segment | None = None
    client: TcpState
    """The client's state after this transition."""
    server: TcpState


def fin_seq(seg: Segment) -> int:
    """The sequence number a FIN occupies: after the segment's data (RFC 9293 §3.4)."""
    return (seg.seq + seg.length) % 2**32


class Timeline:
    """Both sides' state changes over one connection's life, each beside its cause.

    Built from the snapshots of an :class:`Observed` connection (a
    :class:`~netlab.experiments.tcp.teardown.Close`) and the segments of its trace: between two
    snapshots, each side's events are the calls it made and the segments that arrived at it
    (:func:`netlab.model.tcp_states.segment_event`), in time order. Each event must be an arrow of
    RFC 9293's state diagram from the side's current state (:func:`netlab.model.tcp_states.rule`),
    and the arrows must lead to the state observed at the next snapshot.

    Raises:
        UnexpectedTransition: if an event has no arrow from the current state, or if the
            arrows do not lead where the kernel was found (the message says which and where).
    """

    def __init__(self, close: Observed) -> None:
        self.close = close
        conn = close.connection
        ends = {"client": conn.client, "server": conn.server}
        first = close.snapshots[0]
        self.start = {"client": first.client, "server": first.server}
        current = dict(self.start)
        transitions: list[Transition] = []
        for before, after in pairwise(close.snapshots):
            found: list[tuple[int, str, CallEvent | Segment]] = []
            for c in close.calls:
                if before.timestamp_ns < c.timestamp_ns <= after.timestamp_ns:
                    found.append((c.timestamp_ns, c.host, c))
            for s in conn.segments:
                t = s.received_ns
                if t is not None and s.received_by in ends and \
                        before.timestamp_ns < t <= after.timestamp_ns:
                    found.append((t, s.received_by, s))
            for host in ("client", "server"):
                current[host] = getattr(before, host)
            for t, host, item in sorted(found, key=lambda f: f[0]):
                if isinstance(item, CallEvent):
                    event: Event | None = item.event
                else:
                    event = self._event(conn, item, ends[host])
                if event is None:
                    continue
                try:
                    r = rule(current[host], event)
                except UnexpectedTransition as exc:
                    raise UnexpectedTransition(f"{close.name}, {host}: {exc} "
                                               f"(before: {str(after.moment)!r})") from None
                current[host] = r.next
                transitions.append(Transition(
                    host=host, rule=r, timestamp_ns=t,
                    call=item if isinstance(item, CallEvent) else None,
                    segment=item if isinstance(item, Segment) else None,
                    client=current["client"], server=current["server"]))
            for host in ("client", "server"):
                seen = getattr(after, host)
                if current[host] is not seen:
                    raise UnexpectedTransition(
                        f"{close.name}, {host}: the kernel went from "
                        f"{getattr(before, host).name} to {seen.name} by "
                        f"{str(after.moment)!r}, but "
                        f"RFC 9293's diagram leads to {current[host].name}")
        self.transitions = tuple(transitions)

    @staticmethod
    def _event(conn: Connection, seg: Segment, receiver: Endpoint) -> Event | None:
        """What ``seg`` means to the state machine of ``receiver``, which it arrived at."""
        earlier = [s for s in conn.segments if s.received_ns is not None
                   and s.received_by == seg.received_by and s.number != seg.number
                   and s.received_ns < (seg.received_ns or 0)]
        own = [s for s in conn.segments if (s.src, s.sport) == receiver]
        flags = set(seg.flag_names)
        for flag in ("SYN", "FIN"):  # a repeated SYN or FIN moves no state forward
            if flag in flags and any(s.has(flag) and s.seq == seg.seq for s in earlier):
                flags.discard(flag)

        def newly_acks(position: int | None) -> bool:
            if position is None or not seg.has("ACK"):
                return False
            wanted = (position + 1) % 2**32
            return seg.ack == wanted and not any(s.has("ACK") and s.ack == wanted
                                                 for s in earlier)

        syn = next((s.seq for s in own if s.has("SYN")), None)
        fin = next((fin_seq(s) for s in own if s.has("FIN")), None)
        return segment_event(flags, acks_syn=newly_acks(syn), acks_fin=newly_acks(fin))

    @property
    def rules(self) -> frozenset[Rule]:
        """The arrows of the diagram this connection followed."""
        return frozenset(t.rule for t in self.transitions)

    def path(self, host: str) -> list[TcpState]:
        """The states one side passed through, in order."""
        states = [self.start[host]]
        states += [t.rule.next for t in self.transitions if t.host == host]
        return states
