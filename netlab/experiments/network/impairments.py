"""A misbehaving link: one chosen segment lost, random loss, reordering and duplication.

Two hosts, ``client`` (192.0.2.1) and ``server`` (192.0.2.2), joined by a userspace wire
with a one-way delay of :data:`DELAY` s that, in each direction:

* loses the :data:`CHOSEN`-th data segment the client sends (a predicate given to
  :meth:`~netlab.kernel.wire.Wire.drop_if`; its retransmission passes);
* loses a fraction :data:`LOSS` of frames at random;
* holds a fraction :data:`REORDER` of frames back by :data:`REORDER_DELAY` s, so that frames
  sent after them arrive first;
* sends a fraction :data:`DUPLICATE` of frames twice.

The random choices come from the wire's seeded generator, so runs are alike, though not identical
(the frames themselves differ from run to run). The client sends :data:`SIZE` bytes. The
captures on both hosts count each misdeed independently of the wire's own counters: a
segment seen leaving and never arriving was lost, one seen arriving without having left
was a duplicate, one that arrives after a segment sent later was overtaken. The wire also
keeps the frames it held back, so the overtaken segments it held back are told apart from any
that the hosts' kernels reordered on their own (a busy machine can deliver frames out of order
between CPUs). The server's application sees none of it: it reads every byte, in order.

>>> from netlab.experiments.network.impairments import impairments
>>> result = impairments()  # about 2 s
>>> result.received_ok
True
>>> [fact.name for fact in result.facts() if not fact.holds]
[]
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Connection, Trace
from netlab.experiments.endpoints import (
    CLIENT_PORT,
    LONG_TIMEOUT,
    SERVER_PORT,
    client_socket,
    listening_socket,
)
from netlab.experiments.network._frames import bulk, lose_data_segments, receive_all, send_bulk
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.lab import Lab
from netlab.views.table import Grid

__all__ = ["impairments", "ImpairmentsResult", "DELAY", "LOSS", "REORDER", "REORDER_DELAY",
           "DUPLICATE", "CHOSEN", "SIZE", "WireCounts"]

DELAY = 0.005
"""The one-way delay in seconds."""
LOSS = 0.01
"""The fraction of frames lost at random."""
REORDER = 0.03
"""The fraction of frames held back."""
REORDER_DELAY = 0.004
"""How long, in seconds, a frame held back waits on top of the delay."""
DUPLICATE = 0.03
"""The fraction of frames sent twice."""
CHOSEN = 5
"""The client's data segment (counted from 1, first transmissions only) the wire loses."""
SIZE = 300_000
"""How many bytes the client sends."""


@dataclass(frozen=True, kw_only=True)
class WireCounts:
    """What the wire says it did: frames lost by the rule, lost at random, held back, sent
    twice."""

    chosen: int
    lost: int
    reordered: int
    duplicated: int
    overflows: int = 0
    """Frames the kernel dropped before the wire could read them (a busy machine)."""


@dataclass(frozen=True, kw_only=True)
class ImpairmentsResult:
    """One transfer over the misbehaving link, captured on both hosts."""

    trace: Trace
    received_ok: bool
    """The server read exactly the bytes the client sent, in order."""
    counts: WireCounts
    wire: str
    held_back: tuple[bytes, ...] = ()
    """The frames the wire held back (:attr:`~netlab.kernel.wire.Wire.held_back`)."""
    pcap_host: str = field(default="server")
    keylog: None = None

    @property
    def connection(self) -> Connection:
        return self.trace.connection(port=SERVER_PORT)

    def chosen(self) -> Segment:
        """The :data:`CHOSEN`-th data segment the client sent (first transmissions only)."""
        seen: list[Segment] = []
        for s in self.connection.segments:
            if (self.connection.is_from_client(s) and s.length and s.sent_ns is not None
                    and s.seq not in {x.seq for x in seen}):
                seen.append(s)
        return seen[CHOSEN - 1]

    def lost(self) -> list[Segment]:
        """Segments seen leaving one host and never arriving at the other."""
        return [s for s in self.trace.segments if s.sent_ns is not None and s.received_ns is None]

    def duplicates(self) -> list[Segment]:
        """Segments seen arriving that no capture saw leave: the wire's second copies."""
        return [s for s in self.trace.segments if s.sent_ns is None]

    def overtaken(self) -> list[Segment]:
        """Segments that arrived after a segment their sender sent later."""
        out = []
        for s in self.trace.segments:
            if s.sent_ns is None or s.received_ns is None:
                continue
            if any(o.src == s.src and o.sent_ns is not None and o.received_ns is not None
                   and o.sent_ns > s.sent_ns and o.received_ns < s.received_ns
                   for o in self.trace.segments):
                out.append(s)
        return out

    def _held_among(self, overtaken: list[Segment]) -> list[Segment]:
        """The segments of ``overtaken`` (:meth:`overtaken`) that the wire held back."""
        numbers = {s.number for s in overtaken}
        return [s for s in self.held() if s.number in numbers]

    def held(self) -> list[Segment]:
        """The segments whose frames the wire held back, as the captures saw them leave (two
        frames alike to the byte, two duplicate ACKs sent within a millisecond, are matched in
        turn)."""
        left = Counter(self.held_back)
        out = []
        for s in self.trace.segments:
            if s.sent_ns is not None and left[s.frame] > 0:
                left[s.frame] -= 1
                out.append(s)
        return out

    def retransmitted(self, seg: Segment) -> bool:
        """Whether ``seg``'s bytes were sent again later and arrived."""
        return any(s.seq == seg.seq and s.length == seg.length and s.received_ns is not None
                   and s.number > seg.number for s in self.connection.segments)

    def grid(self) -> Grid:
        """Each misdeed: what the wire was told, what it counted, what the captures show."""
        c = self.counts
        chosen = self.chosen()
        overtaken = self.overtaken()
        rows = [[tr("misdeed"), tr("configured"), tr("the wire counted"), tr("the captures show")],
                [tr("chosen segment lost"), f"#{CHOSEN}", str(c.chosen),
                 tr("seq {seq} never arrived").format(seq=self.connection.relative_seq(chosen))
                 if chosen.received_ns is None else tr("it arrived")],
                [tr("random loss"), f"{LOSS:.0%}", str(c.lost),
                 tr("lost: {n}").format(n=len(self.lost()) - (chosen.received_ns is None))],
                [tr("held back {ms} ms").format(ms=f"{REORDER_DELAY * 1e3:g}"), f"{REORDER:.0%}",
                 str(c.reordered), tr("overtaken: {n}, of which held back: {k}").format(
                     n=len(overtaken), k=len(self._held_among(overtaken)))],
                [tr("sent twice"), f"{DUPLICATE:.0%}", str(c.duplicated),
                 tr("duplicates: {n}").format(n=len(self.duplicates()))]]
        return Grid(rows, right={tr("configured"), tr("the wire counted")})

    def facts(self) -> list[Fact]:
        """The chapter's claims about the misbehaving link, each checked on this run's data."""
        c = self.counts
        chosen = self.chosen()
        lost, dups, overtaken = self.lost(), self.duplicates(), self.overtaken()
        held_overtaken = self._held_among(overtaken)
        return [
            Fact(name="impairments-chosen-lost",
                 text=tr("the chosen segment is lost once, and its retransmission arrives"),
                 holds=c.chosen == 1 and chosen.received_ns is None
                 and self.retransmitted(chosen),
                 evidence=f"data segment #{CHOSEN} (relative seq "
                          f"{self.connection.relative_seq(chosen)}) never arrived; sent again"),
            Fact(name="impairments-losses-seen",
                 text=tr("every segment the wire lost is missing from the receiver's capture"),
                 holds=len(lost) == c.chosen + c.lost + c.overflows and c.lost >= 1,
                 evidence=f"{len(lost)} segments left and never arrived; the wire lost "
                          f"{c.chosen} chosen + {c.lost} at random"
                          + (f" + {c.overflows} it had no time to read" if c.overflows
                             else "")),
            Fact(name="impairments-duplicates",
                 text=tr("a duplicated segment arrives twice though it left once"),
                 holds=len(dups) == c.duplicated >= 1,
                 evidence=f"{len(dups)} arrivals without a departure; the wire sent "
                          f"{c.duplicated} frames twice"),
            Fact(name="impairments-overtaken",
                 text=tr("segments held back arrive after segments sent later"),
                 holds=len(held_overtaken) >= 1,
                 evidence=f"{len(held_overtaken)} of the {c.reordered} segments the wire held "
                          f"back arrived after a segment sent later"
                          + (f"; {len(overtaken) - len(held_overtaken)} more were overtaken "
                             "without being held back: the hosts' kernels can reorder frames "
                             "between CPUs on a busy machine" if len(overtaken)
                             > len(held_overtaken) else "")),
            Fact(name="impairments-in-order",
                 text=tr("the application reads every byte once, in order"),
                 holds=self.received_ok,
                 evidence=f"{SIZE} bytes received intact"),
        ]

    def report(self) -> str:
        return (f"A misbehaving link: {self.wire}\n\n{self.grid()}\n\n"
                f"Facts\n\n{checklist(self.facts())}")


def _client(server: str, size: int) -> None:
    sock = client_socket("192.0.2.1", CLIENT_PORT)
    with sock:
        sock.settimeout(LONG_TIMEOUT)
        sock.connect((server, SERVER_PORT))
        send_bulk(sock, size)
        sock.recv(1)


@replayable
def impairments() -> ImpairmentsResult:
    """Run the experiment (about 2 s)."""
    from netlab.kernel.wire import Wire

    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        link = lab.link(client, server, delay=DELAY, loss=LOSS)
        wire: Wire | None = link.wire
        assert wire is not None
        wire.reorder, wire.reorder_delay, wire.duplicate = REORDER, REORDER_DELAY, DUPLICATE
        wire.drop_if(lose_data_segments({CHOSEN: 1}, dport=SERVER_PORT))
        listener = server.run(listening_socket, server.address, SERVER_PORT,
                              timeout=LONG_TIMEOUT)
        with listener, lab.capture(client, server) as cap:
            receiving = server.start(receive_all, listener, LONG_TIMEOUT)
            client.run(_client, server.address, SIZE, timeout=4 * LONG_TIMEOUT)
            data = receiving.result(LONG_TIMEOUT)
        expected = bulk(SIZE)
        assert cap.trace is not None
        return ImpairmentsResult(
            trace=cap.trace, received_ok=data == expected, wire=link.describe(),
            held_back=tuple(wire.held_back),
            counts=WireCounts(chosen=wire.chosen_drops, lost=wire.lost,
                              reordered=wire.reordered, duplicated=wire.duplicated,
                              overflows=wire.overflows()))
