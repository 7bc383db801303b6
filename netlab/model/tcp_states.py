"""TCP connection states: one table read by code, tests and pages.

Linux numbers its TCP states in ``include/net/tcp_states.h``; the same numbers appear in
``/proc/net/tcp`` (hexadecimal) and in ``tcpi_state`` of ``TCP_INFO``. RFC 9293 §3.3.2 names
the states of the protocol. The enum below pairs the two: its value is the kernel's number,
``rfc_name`` the RFC's name. We print the names the way
``netstat`` and most textbooks do (``SYN_SENT``, ``FIN_WAIT_1``), which are the RFC names
with underscores.

>>> from netlab.model.tcp_states import TcpState
>>> TcpState.from_kernel(2).name
'SYN_SENT'
>>> TcpState.from_kernel(0x0A)
<TcpState.LISTEN: 10>
>>> TcpState.CLOSED.rfc_name
'CLOSED'

Theory of operation
-------------------

RFC 9293 §3.3.2 draws the life of a connection as a state diagram (its Figure 5): each arrow
leaves a state on an *event* (a user call such as CLOSE, an arriving segment such as "rcv
FIN", or the TIME-WAIT timeout) and may send something on the way ("snd ACK"). ``RULES``
holds that diagram as data, one ``Rule`` per arrow, plus the arrows the figure leaves out
for legibility and its notes or later sections supply: FIN-WAIT-1 straight to TIME-WAIT
(note 2), the ABORT call (§3.10.5) and an arriving RST (§3.5.3). ``next_state`` looks an
arrow up and raises ``UnexpectedTransition`` when the diagram has none, so an experiment
that observes a state change the RFC does not allow fails loudly instead of drawing it:

>>> from netlab.model.tcp_states import Event, next_state
>>> next_state(TcpState.ESTABLISHED, Event.RCV_FIN).name
'CLOSE_WAIT'
>>> next_state(TcpState.CLOSE_WAIT, Event.TIMEOUT)  # doctest: +ELLIPSIS
Traceback (most recent call last):
  ...
netlab.model.tcp_states.UnexpectedTransition: RFC 9293 has no transition from CLOSE-WAIT on ...

``segment_event`` says which event an arriving segment is, from its flags and from whether
it newly acknowledges the receiver's own SYN or FIN:

>>> from netlab.model.tcp_states import segment_event
>>> segment_event({"FIN", "ACK"}, acks_fin=True)
<Event.RCV_FIN_ACK_OF_FIN: 'rcv FIN, ACK of FIN'>
>>> segment_event({"ACK"}) is None  # data or a window update: no arrow of the diagram
True
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass

from netlab.errors import ExperimentError

__all__ = ["TcpState", "Event", "Rule", "RULES", "UnexpectedTransition", "next_state", "rule",
           "segment_event"]


class TcpState(enum.IntEnum):
    """A TCP state, valued by the Linux kernel's number for it."""

    ESTABLISHED = 1
    SYN_SENT = 2
    SYN_RECV = 3
    FIN_WAIT_1 = 4
    FIN_WAIT_2 = 5
    TIME_WAIT = 6
    CLOSED = 7  # the kernel calls it TCP_CLOSE
    CLOSE_WAIT = 8
    LAST_ACK = 9
    LISTEN = 10
    CLOSING = 11
    NEW_SYN_RECV = 12  # a request socket; /proc/net/tcp reports it as SYN_RECV

    @classmethod
    def from_kernel(cls, code: int) -> TcpState:
        """The state for a kernel state number (``tcpi_state`` or ``/proc/net/tcp``)."""
        try:
            state = cls(code)
        except ValueError:
            raise ValueError(f"unknown kernel TCP state number {code!r}") from None
        return cls.SYN_RECV if state is cls.NEW_SYN_RECV else state

    @property
    def rfc_name(self) -> str:
        """The name RFC 9293 §3.3.2 gives this state (``SYN-RECEIVED`` …)."""
        return _RFC_NAMES[self]


_RFC_NAMES = {
    TcpState.ESTABLISHED: "ESTABLISHED",
    TcpState.SYN_SENT: "SYN-SENT",
    TcpState.SYN_RECV: "SYN-RECEIVED",
    TcpState.FIN_WAIT_1: "FIN-WAIT-1",
    TcpState.FIN_WAIT_2: "FIN-WAIT-2",
    TcpState.TIME_WAIT: "TIME-WAIT",
    TcpState.CLOSED: "CLOSED",
    TcpState.CLOSE_WAIT: "CLOSE-WAIT",
    TcpState.LAST_ACK: "LAST-ACK",
    TcpState.LISTEN: "LISTEN",
    TcpState.CLOSING: "CLOSING",
    TcpState.NEW_SYN_RECV: "SYN-RECEIVED",
}


class Event(enum.Enum):
    """An event of RFC 9293's state diagram; the value is the diagram's own label.

    RFC 9293 §3.3.2: "The events are the user calls, OPEN, SEND, RECEIVE, CLOSE, ABORT, and
    STATUS; the incoming segments, particularly those containing the SYN, ACK, RST, and FIN
    flags; and timeouts." The socket calls that make them: ``listen()`` is a passive OPEN,
    ``connect()`` an active OPEN, ``shutdown(SHUT_WR)`` and ``close()`` a CLOSE ("I have no
    more data to send", §3.6), and ``close()`` with ``SO_LINGER`` set to zero seconds, or with
    received data left unread, an ABORT.
    """

    PASSIVE_OPEN = "passive OPEN"
    ACTIVE_OPEN = "active OPEN"
    SEND = "SEND"
    CLOSE = "CLOSE"
    ABORT = "ABORT"
    RCV_SYN = "rcv SYN"
    RCV_SYN_ACK = "rcv SYN,ACK"
    RCV_ACK_OF_SYN = "rcv ACK of SYN"
    RCV_FIN = "rcv FIN"
    RCV_ACK_OF_FIN = "rcv ACK of FIN"
    RCV_FIN_ACK_OF_FIN = "rcv FIN, ACK of FIN"
    """A FIN that also acknowledges the receiver's own FIN (Figure 5, note 2)."""
    RCV_RST = "rcv RST"
    TIMEOUT = "Timeout=2MSL"


@dataclass(frozen=True)
class Rule:
    """One arrow of the state diagram: ``state`` --``event`` / ``action``--> ``next``."""

    state: TcpState
    event: Event
    next: TcpState
    action: str
    """What the diagram says is done on the way ("snd FIN", "delete TCB"), or ""."""
    source: str
    """Where RFC 9293 states it."""

    @property
    def label(self) -> str:
        """The arrow's label as the diagram writes it, such as ``rcv FIN / snd ACK``."""
        return f"{self.event.value} / {self.action}" if self.action else self.event.value


S, E = TcpState, Event
_FIGURE = "§3.3.2 Figure 5"
_SYNCHRONIZED_ABORT = (S.SYN_RECV, S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT)

RULES: tuple[Rule, ...] = (
    # Opening (Figure 5, upper half).
    Rule(S.CLOSED, E.PASSIVE_OPEN, S.LISTEN, "create TCB", _FIGURE),
    Rule(S.CLOSED, E.ACTIVE_OPEN, S.SYN_SENT, "create TCB, snd SYN", _FIGURE),
    Rule(S.LISTEN, E.RCV_SYN, S.SYN_RECV, "snd SYN,ACK", _FIGURE),
    Rule(S.LISTEN, E.SEND, S.SYN_SENT, "snd SYN", _FIGURE),
    Rule(S.LISTEN, E.CLOSE, S.CLOSED, "delete TCB", _FIGURE),
    Rule(S.SYN_SENT, E.RCV_SYN, S.SYN_RECV, "snd SYN,ACK", _FIGURE),  # simultaneous open
    Rule(S.SYN_SENT, E.RCV_SYN_ACK, S.ESTABLISHED, "snd ACK", _FIGURE),
    Rule(S.SYN_SENT, E.CLOSE, S.CLOSED, "delete TCB", _FIGURE),
    Rule(S.SYN_RECV, E.RCV_ACK_OF_SYN, S.ESTABLISHED, "", _FIGURE),
    Rule(S.SYN_RECV, E.CLOSE, S.FIN_WAIT_1, "snd FIN", _FIGURE),
    # Note 1: "The transition from SYN-RECEIVED to LISTEN on receiving a RST is conditional on
    # having reached SYN-RECEIVED after a passive OPEN" (after an active one: CLOSED, §3.5.3).
    Rule(S.SYN_RECV, E.RCV_RST, S.LISTEN, "", "§3.3.2 Figure 5, note 1"),
    # Closing (Figure 5, lower half).
    Rule(S.ESTABLISHED, E.CLOSE, S.FIN_WAIT_1, "snd FIN", _FIGURE),
    Rule(S.ESTABLISHED, E.RCV_FIN, S.CLOSE_WAIT, "snd ACK", _FIGURE),
    Rule(S.FIN_WAIT_1, E.RCV_ACK_OF_FIN, S.FIN_WAIT_2, "", _FIGURE),
    Rule(S.FIN_WAIT_1, E.RCV_FIN, S.CLOSING, "snd ACK", _FIGURE),
    # Note 2: "The figure omits a transition from FIN-WAIT-1 to TIME-WAIT if a FIN is received
    # and the local FIN is also acknowledged."
    Rule(S.FIN_WAIT_1, E.RCV_FIN_ACK_OF_FIN, S.TIME_WAIT, "snd ACK", "§3.3.2 Figure 5, note 2"),
    Rule(S.FIN_WAIT_2, E.RCV_FIN, S.TIME_WAIT, "snd ACK", _FIGURE),
    Rule(S.CLOSE_WAIT, E.CLOSE, S.LAST_ACK, "snd FIN", _FIGURE),
    Rule(S.CLOSING, E.RCV_ACK_OF_FIN, S.TIME_WAIT, "", _FIGURE),
    Rule(S.LAST_ACK, E.RCV_ACK_OF_FIN, S.CLOSED, "delete TCB", _FIGURE),
    # §3.6.1: "When a connection is closed actively, it MUST linger in the TIME-WAIT state for
    # a time 2xMSL (Maximum Segment Lifetime) (MUST-13)."
    Rule(S.TIME_WAIT, E.TIMEOUT, S.CLOSED, "delete TCB", _FIGURE),
    # §3.10.5, ABORT call: in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 and CLOSE-WAIT
    # "Send a reset segment: <SEQ=SND.NXT><CTL=RST> [...] Delete the TCB, enter CLOSED state";
    # elsewhere only "delete the TCB, enter CLOSED state".
    *(Rule(s, E.ABORT, S.CLOSED, "snd RST, delete TCB", "§3.10.5") for s in _SYNCHRONIZED_ABORT),
    *(Rule(s, E.ABORT, S.CLOSED, "delete TCB", "§3.10.5")
      for s in (S.LISTEN, S.SYN_SENT, S.CLOSING, S.LAST_ACK, S.TIME_WAIT)),
    # §3.5.3: "If the receiver was in the LISTEN state, it ignores it. [...] If the receiver
    # was in any other state, it aborts the connection and advises the user and goes to the
    # CLOSED state."
    *(Rule(s, E.RCV_RST, S.CLOSED, "delete TCB", "§3.5.3")
      for s in (S.SYN_SENT, S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT, S.CLOSING,
                S.LAST_ACK, S.TIME_WAIT)),
)
"""The state diagram of RFC 9293, one rule per arrow."""

del S, E
_BY_KEY = {(r.state, r.event): r for r in RULES}
assert len(_BY_KEY) == len(RULES), "two rules for one (state, event)"


class UnexpectedTransition(ExperimentError):
    """A state change that RFC 9293's state diagram does not have."""


def rule(state: TcpState, event: Event) -> Rule:
    """The arrow of the diagram that ``event`` follows from ``state``.

    Raises:
        UnexpectedTransition: if the diagram has no such arrow.
    """
    state = TcpState.SYN_RECV if state is TcpState.NEW_SYN_RECV else state
    found = _BY_KEY.get((state, event))
    if found is None:
        raise UnexpectedTransition(
            f"RFC 9293 has no transition from {state.rfc_name} on {event.value}")
    return found


def next_state(state: TcpState, event: Event) -> TcpState:
    """The state RFC 9293 prescribes after ``event`` in ``state`` (see :func:`rule`)."""
    return rule(state, event).next


def segment_event(flags: Collection[str], *, acks_syn: bool = False,
                  acks_fin: bool = False) -> Event | None:
    """The event an arriving segment is for the receiver's state machine, or None.

    Args:
        flags: the segment's flag names (``{"FIN", "ACK"}``); leave out a FIN or SYN that
            repeats one the receiver already had: a retransmission moves no state forward.
        acks_syn: the segment is the first to acknowledge the receiver's own SYN.
        acks_fin: the segment is the first to acknowledge the receiver's own FIN.

    A segment that carries none of these (data, a window update, a repeated ACK) is no
    event of the diagram: the receiver's state must not change.
    """
    if "RST" in flags:
        return Event.RCV_RST
    if "SYN" in flags:
        return Event.RCV_SYN_ACK if "ACK" in flags else Event.RCV_SYN
    if "FIN" in flags:
        return Event.RCV_FIN_ACK_OF_FIN if acks_fin else Event.RCV_FIN
    if acks_fin:
        return Event.RCV_ACK_OF_FIN
    if acks_syn:
        return Event.RCV_ACK_OF_SYN
    return None
