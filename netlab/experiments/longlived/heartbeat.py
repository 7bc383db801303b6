"""Application heartbeats against TCP keepalive: what each can tell about the other side.

The lab of :mod:`netlab.experiments.longlived.idle`, ``client`` — ``firewall`` — ``server``,
with a :class:`~netlab.kernel.wire.Wire` on the server's link so the experiment can cut it. The
server runs two programs: a :class:`~netlab.proto.heartbeat.HeartbeatServer` on port 8080,
and on port 8081 a program that accepts a connection and never does anything with it. The
client opens

* ``heartbeat`` (port 40000 → 8080): a :class:`~netlab.proto.heartbeat.HeartbeatClient`
  that pings every :data:`INTERVAL` seconds and declares the server dead when no pong came
  for :data:`DEADLINE` seconds;
* ``keepalive`` (port 40001 → 8081): TCP keepalive only, a probe after each idle second
  (``TCP_KEEPIDLE`` = ``TCP_KEEPINTVL`` = 1 s), dead after 2 unanswered probes
  (``TCP_KEEPCNT``).

Then, in order:

1. **healthy**, for longer than the firewall's idle timeout: both connections survive
   (pings and probes keep the firewall's memory fresh);
2. **the application hangs**: the heartbeat server stops reading and answering, while its
   kernel carries on. The client's pings are still acknowledged by the server's kernel, and
   keepalive probes are still answered, yet no pong comes: the heartbeat client declares
   the server dead within its deadline, and keepalive notices nothing;
3. **the link is cut** (the wire drops every frame), with a fresh heartbeat connection,
   ``heartbeat2`` (port 40002 → 8080): the heartbeat client notices within its deadline,
   the server drops the silent client after its own deadline, and keepalive notices too,
   after its probes go unanswered.

Apart from times, every run gives the same (needs root, about 8 s):

>>> from netlab.experiments.longlived.heartbeat import heartbeats
>>> result = heartbeats()
>>> import errno
>>> result.hang.reason, result.cut.reason, result.keepalive_error.errno == errno.ETIMEDOUT
('no pong', 'no pong', True)
>>> [fact.name for fact in result.facts() if not fact.holds]
[]
"""

from __future__ import annotations

import errno
import socket
import time
from dataclasses import dataclass, field

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Connection, Trace
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import LONG_TIMEOUT, client_socket, listening_socket
from netlab.experiments.longlived.idle import keepalive_probes
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.kernel.sockdiag import SockDiag
from netlab.lab import Lab
from netlab.proto.heartbeat import (
    HeartbeatClient,
    HeartbeatEvent,
    HeartbeatServer,
    ProtocolError,
    Reader,
    Verdict,
)
from netlab.proto.server import listening
from netlab.views.ladder import Ladder
from netlab.views.table import Grid

__all__ = ["heartbeats", "HeartbeatResult", "INTERVAL", "DEADLINE", "SERVER_DEADLINE",
           "KEEPALIVE", "FIREWALL_TIMEOUT", "SLACK"]

HEARTBEAT_PORT, PLAIN_PORT = 8080, 8081
H1_PORT, K_PORT, H2_PORT = 40000, 40001, 40002  # pinned client ports
FIREWALL_TIMEOUT = 2
"""The firewall's idle timeout, in seconds."""
INTERVAL = 0.25
"""Seconds between the client's pings."""
DEADLINE = 1.0
"""Seconds without a pong after which the client declares the server dead."""
SERVER_DEADLINE = 1.5
"""Seconds without a message after which the server drops a client."""
KEEPALIVE = (1, 1, 2)
"""``TCP_KEEPIDLE``, ``TCP_KEEPINTVL`` (seconds) and ``TCP_KEEPCNT`` of the keepalive
connection."""
HEALTHY = 2.5
"""Seconds of the healthy phase, at least: longer than the firewall's idle timeout. The
phase ends half an interval after the next pong, away from any ping."""
SLACK = 0.25
"""Seconds a verdict may come after its deadline, since the client's and the server's
threads check their deadlines between other work, and a busy machine may run them late.
Measured with ``benchmarks/timing_spread.py --runs 6 --only heartbeat`` on the 2-core build
machine (other builds running too): the latest verdict 2.3 ms after its deadline idle, 201 ms
with two CPU-bound processes beside it (``--busy 2``); 250 ms is that and a quarter."""
PONG_BYTES = 9
"""A pong's size: a 4-byte length, the kind byte and a 4-byte counter."""
PROBE_SPACING = (0.9, 1.2)
"""How far apart, in keepalive intervals, the unanswered probes go out: the kernel's timer.
Measured the same way: 1.020-1.028 intervals idle, 1.020-1.032 with two CPU-bound processes
beside it; a kernel timer does not fire early (0.9 allows a tick), and 1.2 is several times
the largest lateness."""


@dataclass(frozen=True, kw_only=True)
class HeartbeatResult:
    """The three phases, as the client, the server and the capture saw them."""

    trace: Trace
    """Every connection, captured on the client and on the server."""
    started_ns: int
    frozen_ns: int
    """When the heartbeat server's application stopped answering."""
    thawed_ns: int
    cut_ns: int
    """When the wire on the server's link began to drop every frame."""
    hang: Verdict
    """The first heartbeat client's verdict (during the hang)."""
    cut: Verdict
    """The second heartbeat client's verdict (after the cut)."""
    alive_after_healthy: bool
    """Neither connection had failed at the end of the healthy phase."""
    keepalive_error: OSError
    """What the keepalive connection's ``recv()`` raised after the cut."""
    keepalive_failed_ns: int
    server_log: tuple[HeartbeatEvent, ...]
    """The heartbeat server's log."""
    plain_server_state: str
    """The server's state of the keepalive connection at the end (it enabled no keepalive)."""
    wire_dropped: int
    """Frames the wire dropped after the cut."""
    pcap_host: str = field(default="client")
    keylog: None = None  # no TLS in this experiment

    def connection(self, port: int) -> Connection:
        return self.trace.connection(port=port)

    @property
    def keepalive(self) -> Connection:
        return self.connection(K_PORT)

    def between(self, conn: Connection, start_ns: int, end_ns: int) -> Trace:
        """One connection's segments first seen between two moments, as a trace."""
        segs = tuple(s for s in conn.segments if start_ns <= s.time_ns < end_ns)
        return Trace(segs, self.trace.names, self.trace.frames)

    @property
    def hang_after(self) -> float:
        """Seconds from the application's hang to the client's verdict."""
        return (self.hang.time_ns - self.frozen_ns) / 1e9

    @property
    def cut_after(self) -> float:
        """Seconds from the cut to the second heartbeat client's verdict."""
        return (self.cut.time_ns - self.cut_ns) / 1e9

    @property
    def keepalive_after(self) -> float:
        """Seconds from the cut to the keepalive connection's error."""
        return (self.keepalive_failed_ns - self.cut_ns) / 1e9

    def server_dropped(self) -> HeartbeatEvent:
        """The server's log entry for the second heartbeat client, dropped after the cut."""
        return next(e for e in self.server_log if e.peer[1] == H2_PORT and e.what != "connected")

    @property
    def server_after(self) -> float:
        """Seconds from the cut to the server dropping the silent client."""
        return (self.server_dropped().time_ns - self.cut_ns) / 1e9

    def last_pong(self) -> Segment:
        """The last pong the hung server sent before it stopped answering."""
        conn = self.connection(H1_PORT)
        return [s for s in conn.segments if not conn.is_from_client(s) and s.length
                and s.time_ns < self.hang.time_ns][-1]

    def pings_during_hang(self) -> list[tuple[Segment, Segment | None]]:
        """Each ping the client sent after the hung server's last pong, with the server's
        answer. (A ping that arrived as the application froze may still have had its pong:
        the hang starts, for the client, after the last pong.)"""
        conn = self.connection(H1_PORT)
        since = self.last_pong().time_ns
        out = []
        for seg in conn.segments:
            if (conn.is_from_client(seg) and seg.length
                    and since < seg.time_ns < self.hang.time_ns):
                answer = next((s for s in conn.segments
                               if s.number > seg.number and not conn.is_from_client(s)), None)
                out.append((seg, answer))
        return out

    def probes(self, start_ns: int, end_ns: int) -> list[Segment]:
        """The keepalive probes sent between two moments."""
        return [p for p in keepalive_probes(self.keepalive) if start_ns <= p.time_ns < end_ns]

    def unanswered_probes(self) -> list[Segment]:
        """The keepalive probes the cut left unanswered, the kernel's count: every probe sent
        after the cut, and one sent just before it if the wire dropped its answer."""
        return [p for p in self.probes(self.thawed_ns, self.keepalive_failed_ns)
                if not self.answered(p)]

    def answered(self, probe: Segment) -> bool:
        """True if the server's kernel answered the probe (an ACK of the byte after it)."""
        return any(s.number > probe.number and not self.keepalive.is_from_client(s)
                   and s.received_ns is not None and s.ack == (probe.seq + 1) % 2**32
                   for s in self.keepalive.segments)

    def hang_ladder(self) -> Ladder:
        """The heartbeat connection from the last ping answered before the hang to the
        client's verdict (the last pong is found in the capture, not assumed to be within a
        fixed time: on a busy machine the pings drift)."""
        conn = self.connection(H1_PORT)
        pings = [s for s in conn.segments if s.length and s.time_ns < self.frozen_ns]
        last_pong = max((i for i, s in enumerate(pings) if not conn.is_from_client(s)),
                        default=None)
        start = self.frozen_ns - 300_000_000
        if last_pong is not None:
            asked = [s for s in pings[:last_pong] if conn.is_from_client(s)]
            start = (asked[-1] if asked else pings[last_pong]).time_ns - 1_000_000
        window = self.between(conn, start, self.hang.time_ns)
        return Ladder(window,
            title=tr("The server's application hangs: its kernel still ACKs every ping"),
            notes=_messages(window))

    def comparison(self) -> Grid:
        """What each mechanism told the client, in each phase: the chapter's summary."""
        hang_probes = self.probes(self.frozen_ns, self.thawed_ns)
        unanswered = self.unanswered_probes()
        answered = sum(self.answered(p) for p in hang_probes)
        rows = [[tr("what happened"), tr("TCP keepalive"), tr("heartbeat")],
                [tr("the server's application hangs"),
                 tr("{n} of {m} probes answered: looks alive").format(n=answered,
                                                                      m=len(hang_probes)),
                 tr("dead after {s} s").format(s=f"{self.hang_after:.2f}")],
                [tr("the server's link is cut"),
                 tr("dead after {s} s").format(s=f"{self.keepalive_after:.2f}")
                 + tr(" ({n} probes unanswered)").format(n=len(unanswered)),
                 tr("dead after {s} s").format(s=f"{self.cut_after:.2f}")],
                [tr("the server learns the client is gone"),
                 tr("no: still {state}").format(state=self.plain_server_state),
                 tr("after {s} s").format(s=f"{self.server_after:.2f}")]]
        return Grid(rows)

    def facts(self) -> list[Fact]:
        """The chapter's claims, each checked on this run's data."""
        hang_pings = self.pings_during_hang()
        hang_probes = self.probes(self.frozen_ns, self.thawed_ns)
        unanswered = self.unanswered_probes()
        healthy = [s for c in (self.connection(H1_PORT), self.keepalive) for s in c.segments
                   if self.started_ns <= s.time_ns < self.frozen_ns]
        gaps = [(b.time_ns - a.time_ns) / 1e9 for a, b in zip(healthy, healthy[1:],
                                                               strict=False)]
        idle, interval, count = KEEPALIVE
        dropped = self.server_dropped()
        hang = self.hang_ladder().trace.segments
        return [
            Fact(name="heartbeat-keeps-alive",
                 text=tr("pings and keepalive probes keep both connections through the firewall"),
                 holds=self.alive_after_healthy and (self.frozen_ns - self.started_ns) / 1e9
                 > FIREWALL_TIMEOUT and all(s.received_ns is not None for s in healthy),
                 evidence=f"{len(healthy)} segments in {HEALTHY} s, all delivered"
                          + (f"; the longest gap {max(gaps):.2f} s" if gaps else "")),
            Fact(name="hung-kernel-acks",
                 text=tr("a hung application's kernel still acknowledges every ping"),
                 holds=len(hang_pings) >= 3 and all(
                     a is not None and a.has("ACK") and a.length == 0
                     and a.ack == (p.seq + p.length) % 2**32 for p, a in hang_pings)
                 and any(s.time_ns < self.frozen_ns and s.length == PONG_BYTES
                         and not self.connection(H1_PORT).is_from_client(s) for s in hang)
                 and all(s.length in (0, PONG_BYTES) for s in hang),
                 evidence=f"{len(hang_pings)} pings during the hang, each ACKed with no pong"),
            Fact(name="keepalive-answered-hang",
                 text=tr("keepalive probes are answered while the application hangs"),
                 holds=len(hang_probes) >= 1 and all(self.answered(p) for p in hang_probes),
                 evidence=f"{len(hang_probes)} probes during the hang, all answered"),
            Fact(name="heartbeat-detects-hang",
                 text=tr("the heartbeat client declares the hung server dead within its deadline"),
                 # the last pong came at most an interval (and a late answer) before the hang
                 holds=self.hang.reason == "no pong"
                 and DEADLINE - INTERVAL - SLACK <= self.hang_after <= DEADLINE + SLACK
                 and self.hang.last_pong_ns is not None
                 and DEADLINE <= (self.hang.time_ns - self.hang.last_pong_ns) / 1e9
                 <= DEADLINE + SLACK,
                 evidence=f"{self.hang.reason} after {self.hang_after:.3f} s "
                          f"(deadline {DEADLINE} s)"),
            Fact(name="heartbeat-detects-cut",
                 text=tr("after the cut, the heartbeat client notices within its deadline"),
                 holds=self.cut.reason == "no pong" and self.cut_after <= DEADLINE + SLACK
                 and self.cut.last_pong_ns is not None
                 and self.cut.last_pong_ns >= self.cut_ns - (INTERVAL + SLACK) * 1e9,
                 evidence=f"{self.cut.reason} after {self.cut_after:.3f} s"),
            Fact(name="server-drops-silent",
                 text=tr("the server drops the silent client after its own deadline"),
                 holds=dropped.what == "silent client"
                 and self.server_after <= SERVER_DEADLINE + SLACK,
                 evidence=f"{dropped.what} ({dropped.detail}) {self.server_after:.3f} s after "
                          "the cut"),
            Fact(name="keepalive-notices-cut",
                 text=tr("keepalive notices the cut only after its unanswered probes"),
                 holds=self.keepalive_error.errno == errno.ETIMEDOUT and len(unanswered) == count
                 and not any(self.answered(p)
                             for p in self.probes(self.cut_ns, self.keepalive_failed_ns))
                 and all(interval * PROBE_SPACING[0] < (b.time_ns - a.time_ns) / 1e9
                         < interval * PROBE_SPACING[1]
                         for a, b in zip(unanswered, unanswered[1:], strict=False))
                 and self.cut_after < self.keepalive_after <= idle + interval * count + 0.5,
                 evidence=f"{type(self.keepalive_error).__name__}: "
                          f"{self.keepalive_error.strerror} {self.keepalive_after:.2f} s after "
                          f"the cut, {len(unanswered)} probes unanswered"),
            Fact(name="server-without-keepalive",
                 text=tr("without keepalive of its own, the server still thinks the client is "
                      "there"),
                 holds=self.plain_server_state == "ESTABLISHED",
                 evidence=f"server side of the keepalive connection: {self.plain_server_state}"),
        ]

    def report(self) -> str:
        """Everything, as text for a terminal."""
        facts = checklist(self.facts())
        return (f"Heartbeats vs keepalive (ping every {INTERVAL} s, deadline {DEADLINE} s; "
                f"keepalive {KEEPALIVE})\n\n{self.comparison()}\n\nFacts\n\n{facts}")


def _messages(trace: Trace) -> dict[int, str]:
    """A label per segment that carried heartbeat messages: ``ping 7``, ``pong 7``."""
    notes = {}
    for seg in trace.segments:
        if seg.payload:
            try:
                found = Reader().feed(seg.payload)
            except ProtocolError:
                continue
            if found:
                notes[seg.number] = " + ".join(
                    f"{m.kind} {m.counter}" if m.kind in ("ping", "pong") else m.kind
                    for m in found)
    return notes


def _keepalive_socket(address: str, port: int, server: tuple[str, int]) -> socket.socket:
    sock = client_socket(address, port)
    idle, interval, count = KEEPALIVE
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, interval)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, count)
    sock.settimeout(LONG_TIMEOUT)
    sock.connect(server)
    return sock


def _connected(address: str, port: int, server: tuple[str, int]) -> socket.socket:
    sock = client_socket(address, port)
    sock.settimeout(LONG_TIMEOUT)
    sock.connect(server)
    return sock


@replayable
def heartbeats() -> HeartbeatResult:
    """Run the experiment (about 8 s)."""
    with Lab() as lab:
        client, fw, server = lab.host("client"), lab.host("firewall"), lab.host("server")
        lab.link(client, fw)
        wire = lab.link(fw, server, wire="pass").wire
        assert wire is not None
        fw.add_firewall(idle_timeout=FIREWALL_TIMEOUT, inside=client)
        plain_listener = server.run(listening_socket, server.address, PLAIN_PORT)
        opened = [plain_listener]
        hb_server = HeartbeatServer(idle_deadline=SERVER_DEADLINE)
        clients: list[HeartbeatClient] = []
        try:
            with listening(server, hb_server, HEARTBEAT_PORT), lab.capture(client, server) as cap:
                started_ns = time.time_ns()
                hb = (server.address, HEARTBEAT_PORT)
                ka = client.run(_keepalive_socket, client.address, K_PORT,
                                (server.address, PLAIN_PORT))
                opened.append(ka)
                ignored, _ = plain_listener.accept()  # and never used: a do-nothing server
                opened.append(ignored)
                first = HeartbeatClient(client.run(_connected, client.address, H1_PORT, hb),
                                        interval=INTERVAL, deadline=DEADLINE)
                clients.append(first)
                time.sleep(HEALTHY)
                _between_pings(first)
                alive = first.verdict is None and not _failed(ka)

                frozen_ns = time.time_ns()
                hb_server.freeze()
                hang = first.wait(LONG_TIMEOUT)
                time.sleep(1.0)  # hung a while longer: long enough for keepalive probes
                thawed_ns = time.time_ns()
                hb_server.thaw()
                first.close()

                second = HeartbeatClient(client.run(_connected, client.address, H2_PORT, hb),
                                         interval=INTERVAL, deadline=DEADLINE)
                clients.append(second)
                time.sleep(4 * INTERVAL)
                _between_pings(second)
                if second.verdict is not None or not second.pongs:
                    raise ExperimentError(f"the second heartbeat failed early: {second.verdict}")
                cut_ns = time.time_ns()
                dropped_before = wire.dropped
                wire.mode = "drop"
                cut = second.wait(LONG_TIMEOUT)
                try:
                    ka.recv(1)
                    raise ExperimentError("the keepalive connection received data")
                except TimeoutError as exc:
                    if exc.errno is None:
                        raise ExperimentError(
                            f"keepalive had not noticed the cut after {LONG_TIMEOUT} s") from None
                    ka_error: OSError = exc
                ka_failed_ns = time.time_ns()
                deadline = time.monotonic() + LONG_TIMEOUT
                while hb_server.open_connections and time.monotonic() < deadline:
                    time.sleep(0.02)
                with server.run(SockDiag) as diag:
                    entry = diag.lookup(ignored.getsockname(), ignored.getpeername())
                plain_state = "CLOSED" if entry is None else entry.state.name
                wire_dropped = wire.dropped - dropped_before
        finally:
            for c in clients:
                c.close()
            for s in opened:
                s.close()
    assert cap.trace is not None
    return HeartbeatResult(
        trace=cap.trace, started_ns=started_ns, frozen_ns=frozen_ns, thawed_ns=thawed_ns,
        cut_ns=cut_ns, hang=hang, cut=cut, alive_after_healthy=alive, keepalive_error=ka_error,
        keepalive_failed_ns=ka_failed_ns, server_log=hb_server.log,
        plain_server_state=plain_state, wire_dropped=wire_dropped)


def _between_pings(client: HeartbeatClient) -> None:
    """Wait for the client's next pong, then half an interval: a phase that begins then does
    not race a ping in flight, so how long since the last pong does not depend on which of
    the two came first."""
    seen = len(client.pongs)
    deadline = time.monotonic() + LONG_TIMEOUT
    while len(client.pongs) == seen:
        if client.verdict is not None or time.monotonic() > deadline:
            raise ExperimentError(f"the heartbeat stopped before a phase began: {client.verdict}")
        time.sleep(0.005)
    time.sleep(INTERVAL / 2)


def _failed(sock: socket.socket) -> bool:
    """True if the kernel has reported an error on ``sock`` (SO_ERROR), without reading."""
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0
