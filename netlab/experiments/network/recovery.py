"""Loss and recovery: fast retransmit with SACK, the tail loss probe, the retransmission timeout.

Two hosts, ``client`` (192.0.2.1) and ``server`` (192.0.2.2), joined by a userspace wire with
a one-way delay of :data:`DELAY` s, which loses chosen data segments of the client
(:meth:`~netlab.kernel.wire.Wire.drop_if`). Three connections, one after the other; on each
the client sends a message and the server answers once it has all of it:

``fast`` (client port 40000)
    :data:`FAST_SIZE` bytes in one write: a flight of 10 segments (Linux's initial
    window). The 3rd is lost. Each later segment makes the server repeat its last ACK (a
    *duplicate ACK*) with a SACK block (RFC 2018) naming what did arrive beyond the hole;
    the client resends the missing segment without waiting for a timeout. The classic rule
    (RFC 5681 §3.2) waits for three duplicate ACKs; Linux uses RACK (RFC 8985), which marks a
    segment lost once a segment sent after it has been acknowledged and a short reordering
    window has passed.
``tail`` (40001)
    five segments; the last two are lost. No segment follows them, so no duplicate ACK
    can report the loss. RACK-TLP's *tail loss probe* resends the last segment after about
    two smoothed round-trip times (the probe timeout, PTO) instead of the retransmission
    timeout of at least 200 ms; the SACK that answers the probe reveals the other hole,
    which is then resent at once. The wire holds every retransmission :data:`RESEND_EXTRA` s
    longer: RACK does not trust the round trip of a resent segment that comes back faster
    than the fastest round trip seen so far (its ACK might be for the original, RFC 8985
    §6.2), and on a wire whose delay never varies that happens by chance, in about one run
    in four. Then nothing is marked lost, and the other hole waits for the timeout.
``timeout`` (40002)
    one small segment, lost :data:`RTO_LOSSES` times in a row. Nothing but timers can
    recover it: a probe, then retransmission timeouts, each double the one before
    (RFC 6298 §5.5, exponential back-off), until a copy gets through.

>>> from netlab.experiments.network.recovery import recovery
>>> result = recovery()  # about 3 s
>>> [fact.name for fact in result.facts() if not fact.holds]
[]
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Connection, Trace
from netlab.experiments.endpoints import LONG_TIMEOUT, SERVER_PORT, client_socket, listening_socket
from netlab.experiments.network._frames import lose_data_segments, resent_data
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.lab import Lab
from netlab.views.table import Grid

__all__ = ["recovery", "RecoveryResult", "DELAY", "MSS", "FAST_SIZE", "TAIL_SIZE",
           "RTO_LOSSES", "RESEND_EXTRA", "PLANS", "PORTS"]

DELAY = 0.010
"""One-way delay, seconds (a 20 ms round trip)."""
MSS = 1448
"""Payload bytes of a full segment (1500-byte MTU, TCP timestamps on)."""
FAST_SIZE = 10 * MSS
"""The message of the ``fast`` connection, a flight of 10 full segments."""
TAIL_SIZE = 5 * MSS
"""The message of the ``tail`` connection, 5 full segments."""
RTO_SIZE = 100
RTO_LOSSES = 4
"""How many times in a row the wire loses the ``timeout`` connection's one segment."""
PORTS = {"fast": 40000, "tail": 40001, "timeout": 40002}
"""The client port of each connection."""
SIZES = {"fast": FAST_SIZE, "tail": TAIL_SIZE, "timeout": RTO_SIZE}
PLANS = {"fast": {3: 1}, "tail": {4: 1, 5: 1}, "timeout": {1: RTO_LOSSES}}
"""Which data segments (from 1) the wire loses on each connection, and how many times."""
RESEND_EXTRA = 0.002
"""How much longer (seconds) the wire holds a retransmission on the ``tail`` connection, so
the probe's round trip is never the fastest yet (a round trip's spread here is about
0.2 ms)."""
RTO_MIN = 0.200
"""Linux's smallest retransmission timeout (``TCP_RTO_MIN``), seconds."""


@dataclass(frozen=True, kw_only=True)
class RecoveryResult:
    """Three connections that each lost chosen segments, captured on both hosts."""

    trace: Trace
    received: dict[str, bool]
    """Whether the server read every byte of each message."""
    pcap_host: str = field(default="client")
    keylog: None = None

    def connection(self, case: str) -> Connection:
        return self.trace.connection(port=PORTS[case])

    def data(self, case: str) -> list[Segment]:
        """The client's data segments on one connection, retransmissions included."""
        c = self.connection(case)
        return [s for s in c.segments if c.is_from_client(s) and s.length]

    def sends(self, case: str, seq: int) -> list[Segment]:
        """Every transmission of the data at relative sequence number ``seq``."""
        c = self.connection(case)
        return [s for s in self.data(case) if c.relative_seq(s) == seq]

    def lost_seqs(self, case: str) -> list[int]:
        """The relative sequence numbers of the segments the wire lost (first time)."""
        return [1 + (n - 1) * MSS for n in sorted(PLANS[case])]

    def dupacks(self, case: str) -> list[Segment]:
        """The server's duplicate ACKs as RFC 5681 §2 defines them (and Wireshark counts
        them): no data, no SYN or FIN, the same ack *and the same window* as the ACK
        before. An ACK that only opens the window is a window update, not a duplicate."""
        c = self.connection(case)
        out: list[Segment] = []
        last: tuple[int, int] | None = None
        for s in c.segments:
            if c.is_from_client(s) or s.length or s.has("SYN") or s.has("FIN"):
                continue
            if (s.ack, s.window) == last:
                out.append(s)
            last = (s.ack, s.window)
        return out

    def sack_acks(self, case: str) -> list[Segment]:
        """The server's ACKs that carry SACK blocks."""
        c = self.connection(case)
        return [s for s in c.segments if not c.is_from_client(s) and s.option("SACK")]

    def sack_blocks(self, seg: Segment) -> list[tuple[int, int]]:
        """The SACK blocks of a server segment, relative to the client's ISN."""
        value = seg.option("SACK") or ()
        isn = self.trace.connection_of(seg).isn[self.trace.connection_of(seg).client]
        return [((a - isn) % 2**32, (b - isn) % 2**32) for a, b in zip(value[::2], value[1::2],
                                                                       strict=True)]

    def gaps(self, case: str, seq: int) -> list[float]:
        """Seconds between one transmission of the data at ``seq`` and the next."""
        times = [s.time_ns for s in self.sends(case, seq)]
        return [(b - a) / 1e9 for a, b in zip(times, times[1:], strict=False)]

    def fast_retransmit(self) -> tuple[float, int, int]:
        """Seconds from the lost segment's first to its second transmission, and how many
        ACKs with SACK blocks, and how many duplicate ACKs, the client had received in
        between."""
        first, again = self.sends("fast", self.lost_seqs("fast")[0])[:2]

        def before(segs: list[Segment]) -> int:
            return sum(1 for d in segs if d.received_ns is not None
                       and d.received_ns <= (again.sent_ns or 0))

        return ((again.time_ns - first.time_ns) / 1e9, before(self.sack_acks("fast")),
                before(self.dupacks("fast")))

    def backoff_grid(self) -> Grid:
        """Each transmission of the lone segment of the ``timeout`` connection, the wait
        before it, and whether it arrived."""
        sends = self.sends("timeout", 1)
        rows = [[tr("transmission"), tr("time (s)"), tr("gap (s)"), tr("arrived")]]
        for i, seg in enumerate(sends):
            what = (tr("original") if i == 0 else tr("tail loss probe") if i == 1
                    else tr("retransmission {n}").format(n=i - 1))
            gap = "" if i == 0 else f"{(seg.time_ns - sends[i - 1].time_ns) / 1e9:.3f}"
            rows.append([what, f"{(seg.time_ns - sends[0].time_ns) / 1e9:.3f}", gap,
                         tr("yes") if seg.received_ns is not None else tr("no")])
        return Grid(rows, right={tr("time (s)"), tr("gap (s)")})

    def grid(self) -> Grid:
        """Each loss, and how long the client took to send the segment again."""
        rows = [[tr("segment lost"), tr("lost"), tr("sent again after (ms)"), tr("by")]]
        seconds, sacks, dups = self.fast_retransmit()
        rows.append([tr("in the middle of a flight"), "#3", f"{seconds * 1e3:.0f}",
                     tr("fast retransmit; ACKs with SACK before it: {n}, duplicate ACKs "
                        "among them: {d}")
                     .format(n=sacks, d=dups)])
        last, other = self.lost_seqs("tail")[1], self.lost_seqs("tail")[0]
        tail = tr("at the tail of a flight")
        rows.append([tail, "#5", f"{self.gaps('tail', last)[0] * 1e3:.0f}",
                     tr("tail loss probe")])
        rows.append([tail, "#4", f"{self.gaps('tail', other)[0] * 1e3:.0f}",
                     tr("the SACK that answers the probe")])
        gaps = ", ".join(f"{g * 1e3:.0f}" for g in self.gaps("timeout", 1))
        rows.append([tr("alone, again and again"), f"#1 × {RTO_LOSSES}", gaps,
                     tr("a probe, then timeouts that double")])
        return Grid(rows, right={tr("sent again after (ms)")})

    def facts(self) -> list[Fact]:
        """The chapter's claims about recovery, each checked on this run's data."""
        seconds, sacks, dups = self.fast_retransmit()
        fast_hole = self.lost_seqs("fast")[0]
        blocks = [self.sack_blocks(d) for d in self.sack_acks("fast")
                  if self.connection("fast").relative_ack(d) == fast_hole]
        tail_last, tail_other = self.lost_seqs("tail")[1], self.lost_seqs("tail")[0]
        probe = self.gaps("tail", tail_last)
        other = self.sends("tail", tail_other)
        probe_seg = self.sends("tail", tail_last)[1] if len(probe) else None
        tail = self.connection("tail")
        # the server's answer to the probe, as the client received it: the resend follows it
        # at once (measured from the probe itself, a busy machine's late wire thread counted
        # too: 228 ms once with two CPU-bound processes beside the build)
        answer = next((s for s in tail.segments if probe_seg is not None
                       and not tail.is_from_client(s) and s.received_ns is not None
                       and s.received_ns > probe_seg.time_ns), None)
        after = ((other[1].time_ns - answer.received_ns) / 1e9  # type: ignore[operator]
                 if answer is not None and len(other) == 2 else None)
        rto = self.gaps("timeout", 1)
        return [
            Fact(name="fast-retransmit",
                 text=tr("a lost segment in the middle of a flight is resent once SACK shows "
                         "later segments arrived, well before any timeout"),
                 holds=sacks >= 1 and seconds < RTO_MIN,
                 evidence=f"resent after {seconds * 1e3:.0f} ms, {sacks} ACKs with SACK "
                          f"received ({dups} of them duplicate ACKs); the smallest timeout "
                          f"is {RTO_MIN * 1e3:.0f} ms"),
            Fact(name="sack-block-after-hole",
                 text=tr("each ACK of the hole carries a SACK block that starts where the hole "
                         "ends"),
                 holds=bool(blocks) and all(b and b[0][0] == fast_hole + MSS for b in blocks),
                 evidence="SACK blocks " + "; ".join(
                     " ".join(f"{a}-{b}" for a, b in bl) for bl in blocks)),
            Fact(name="tail-loss-probe",
                 text=tr("a lost tail is resent by a tail loss probe after about two round trips, "
                         "not after a timeout"),
                 holds=len(probe) == 1 and 2 * 2 * DELAY <= probe[0] < RTO_MIN,
                 evidence=f"the last segment again after {probe[0] * 1e3:.0f} ms"
                 if probe else "no probe"),
            Fact(name="probe-reveals-hole",
                 text=tr("the SACK that answers the probe reveals the other lost segment, resent "
                         "without waiting for a timeout"),
                 holds=after is not None and 0 < after < RTO_MIN,
                 evidence=f"segment #4 resent {after * 1e3:.1f} ms after the answer to the "
                          "probe arrived"
                 if after is not None else f"segment #4 sent {len(other)} times"),
            Fact(name="rto-backoff",
                 text=tr("with nothing else to go on, timeouts recover: each waits twice as long "
                         "as the one before"),
                 holds=len(rto) == RTO_LOSSES and rto[1] >= RTO_MIN and all(
                     1.6 < b / a < 2.4 for a, b in zip(rto[1:], rto[2:], strict=False)),
                 evidence="gaps " + ", ".join(f"{g * 1e3:.0f}" for g in rto) + " ms"),
            Fact(name="recovery-whole",
                 text=tr("every message arrives whole"),
                 holds=all(self.received.values()),
                 evidence=", ".join(f"{k}: {'yes' if v else 'no'}"
                                    for k, v in self.received.items())),
        ]

    def report(self) -> str:
        return (f"Loss and recovery over a {2 * DELAY * 1e3:g} ms round trip\n\n{self.grid()}\n\n"
                f"Facts\n\n{checklist(self.facts())}")


def _serve(listener: socket.socket, size: int) -> bool:
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(LONG_TIMEOUT)
        data = b""
        while len(data) < size and (chunk := conn.recv(size - len(data))):
            data += chunk
        conn.sendall(b"ok")
        return data == bytes(i % 251 for i in range(size))


def _client(server: str, port: int, size: int) -> bytes:
    sock = client_socket("192.0.2.1", port)
    with sock:
        sock.settimeout(LONG_TIMEOUT)
        sock.connect((server, SERVER_PORT))
        sock.sendall(bytes(i % 251 for i in range(size)))
        return sock.recv(2)  # the answer: everything arrived; no FIN before it


@replayable
def recovery() -> RecoveryResult:
    """Run the experiment (about 3 s)."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        link = lab.link(client, server, delay=DELAY)
        wire = link.wire
        assert wire is not None
        received = {}
        with lab.capture(client, server) as cap:
            for case, port in PORTS.items():
                wire.drop_if(lose_data_segments(PLANS[case], dport=SERVER_PORT))
                wire.slow_if(resent_data(dport=SERVER_PORT) if case == "tail" else None,
                             RESEND_EXTRA)
                listener = server.run(listening_socket, server.address, SERVER_PORT,
                                      reuse=True, timeout=LONG_TIMEOUT)
                with listener:
                    serving = server.start(_serve, listener, SIZES[case])
                    client.run(_client, server.address, port, SIZES[case], timeout=LONG_TIMEOUT)
                    received[case] = serving.result(LONG_TIMEOUT)
            wire.drop_if(None)
            wire.slow_if(None)
        assert cap.trace is not None
        return RecoveryResult(trace=cap.trace, received=received)
