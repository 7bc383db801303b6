"""An idle connection through a stateful firewall: the silent death, and TCP keepalive.

Three hosts: ``client`` (192.0.2.1) — ``firewall`` — ``server`` (198.51.100.2). The
firewall's connection tracking forgets a TCP connection that stays silent for
:data:`FIREWALL_TIMEOUT` seconds (a home router or a cloud NAT gateway forgets after minutes;
the lab uses seconds). The client opens two connections to the server's port 8080 and sends
a few bytes on each, then both stay silent for :data:`IDLE` seconds, longer than the
firewall's timeout:

* port 40000, ``plain``: nothing at all is sent while it idles. The firewall forgets it. The
  client's next segment is no longer part of a connection the firewall knows, and it is
  dropped; the client retransmits with a growing back-off (RFC 6298 §5.5) until its
  ``TCP_USER_TIMEOUT`` (RFC 5482) makes it give up. The server's kernel never sees any of
  it: its socket stays ESTABLISHED.
* port 40001, ``kept``: ``SO_KEEPALIVE`` with ``TCP_KEEPIDLE`` = ``TCP_KEEPINTVL`` = 1 s.
  The client's kernel sends a keepalive probe after each idle second; the server's kernel
  answers it; each exchange refreshes the firewall's memory, and the connection still works
  after the idle period.

Captures run on the client and on the server, the two sides of the firewall: a segment the
firewall dropped was seen leaving the client and never arriving at the server.

Apart from times, every run prints the same (needs root, about 7 s):

>>> from netlab.experiments.longlived.idle import idle_connections
>>> result = idle_connections()
>>> import errno
>>> result.error.errno == errno.ETIMEDOUT, result.server_states  # the server never knew
(True, ('ESTABLISHED', 'ESTABLISHED'))
>>> result.echo
b'still there?'
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
from netlab.experiments.endpoints import LONG_TIMEOUT, SERVER_PORT, client_socket, listening_socket
from netlab.experiments.longlived._keepalive import KernelDefaults as KernelDefaults
from netlab.experiments.longlived._keepalive import keepalive_probes as keepalive_probes
from netlab.experiments.longlived._keepalive import read_defaults
from netlab.experiments.longlived._keepalive import tracked_ports as tracked_ports
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.kernel.sockdiag import SockDiag
from netlab.lab import Lab
from netlab.views.ladder import Ladder
from netlab.views.table import Grid, Table

__all__ = ["idle_connections", "IdleResult", "KernelDefaults", "keepalive_probes",
           "FIREWALL_TIMEOUT", "IDLE", "USER_TIMEOUT", "KEEPALIVE"]

PLAIN_PORT = 40000  # pinned client ports, so every run prints the same table
KEPT_PORT = 40001
FIREWALL_TIMEOUT = 2
"""Seconds connection tracking remembers an idle connection (conntrack counts whole seconds)."""
IDLE = 3.0
"""Seconds both connections stay silent, longer than the firewall's timeout."""
USER_TIMEOUT = 3.0
"""The plain connection's ``TCP_USER_TIMEOUT``, how long sent data may stay unacknowledged."""
KEEPALIVE = (1, 1, 3)
"""The kept connection's ``TCP_KEEPIDLE``, ``TCP_KEEPINTVL`` (seconds) and ``TCP_KEEPCNT``."""
MESSAGE = b"hello"
LATER = b"still there?"


@dataclass(frozen=True, kw_only=True)
class IdleResult:
    """Two connections that idled through the same firewall: one silent, one kept alive."""

    trace: Trace
    """Both connections, captured on the client and on the server."""
    defaults: KernelDefaults
    """Linux's defaults, as the client's namespace reports them."""
    tracked: tuple[tuple[int, ...], tuple[int, ...]]
    """The client ports of the connections the firewall tracked before and after the idle
    period."""
    drops: tuple[int, int]
    """The firewall's drop counter after the idle period, and at the end."""
    resumed_ns: int
    """When the client sent again on both connections, after the idle period."""
    error: OSError
    """What the plain connection's ``recv()`` raised when the client's kernel gave up."""
    gave_up_after: float
    """Seconds from sending again to that error."""
    echo: bytes
    """What the kept connection's server echoed after the idle period."""
    server_states: tuple[str, str]
    """The server's TCP state of each connection (plain, kept) after the client gave up."""
    server_received: tuple[bytes, bytes]
    """Everything the server read on each connection."""
    pcap_host: str = field(default="client")
    keylog: None = None  # no TLS in this experiment

    @property
    def plain(self) -> Connection:
        """The connection that idled in silence (client port 40000)."""
        return self.trace.connection(port=PLAIN_PORT)

    @property
    def kept(self) -> Connection:
        """The connection with keepalive on (client port 40001)."""
        return self.trace.connection(port=KEPT_PORT)

    def probes(self) -> list[Segment]:
        """The keepalive probes the client sent on the kept connection."""
        return keepalive_probes(self.kept)

    def probe_answers(self) -> list[Segment]:
        """The server's answer to each probe: the next server → client segment after it."""
        answers = []
        for probe in self.probes():
            answer = next(s for s in self.kept.segments
                          if s.number > probe.number and not self.kept.is_from_client(s))
            answers.append(answer)
        return answers

    def sent_before(self, seg: Segment) -> int:
        """Bytes the client had sent on the kept connection before ``seg``; the next one to
        send, SND.NXT, is that plus 1 in relative numbers."""
        return sum(s.length for s in self.kept.segments
                   if s.number < seg.number and self.kept.is_from_client(s))

    def retransmissions(self) -> list[Segment]:
        """The plain connection's segments sent after the idle period: the data, again and
        again (all with the same sequence number)."""
        return [s for s in self.plain.segments
                if s.time_ns >= self.resumed_ns and self.plain.is_from_client(s)]

    def backoff(self) -> list[float]:
        """Seconds between one transmission of the data and the next."""
        times = [s.time_ns for s in self.retransmissions()]
        return [(b - a) / 1e9 for a, b in zip(times, times[1:], strict=False)]

    def lost(self) -> list[Segment]:
        """Segments seen leaving the client and never arriving at the server."""
        return [s for s in self.trace.segments if s.sent_by == "client" and s.received_ns is None]

    def silent_table(self) -> Table:
        """The plain connection, from the handshake to the client's last retransmission."""
        return Table(self.trace.only(self.plain), absolute=False, options=False)

    def kept_table(self) -> Table:
        """The kept connection, keepalive probes and their answers included."""
        return Table(self.trace.only(self.kept), absolute=False, options=False)

    def silent_ladder(self) -> Ladder:
        """The silent connection as a ladder: the dropped segments end at the firewall,
        between the lanes, with a cross."""
        return Ladder(self.trace.only(self.plain),
            title=tr("An idle connection dies in the firewall"), dropped_by=tr("the firewall"))

    def firewall_grid(self) -> Grid:
        """What the firewall knew and did: the connections it tracked, the packets it dropped."""
        def ports(p: tuple[int, ...]) -> str:
            return ", ".join(map(str, p)) or "-"

        return Grid([[tr("the firewall"), tr("value")],
                     [tr("connections tracked before the silence (client ports)"),
                      ports(self.tracked[0])],
                     [tr("connections tracked after it"), ports(self.tracked[1])],
                     [tr("packets dropped after the silence"),
                      str(self.drops[1] - self.drops[0])]], right={tr("value")})

    def outcome_grid(self) -> Grid:
        """How the silent connection ended, on each side."""
        e = self.error
        return Grid([[tr("side"), tr("what it saw")],
                     [tr("client"), tr("recv() raised {error} after {s} s").format(
                         error=f"{type(e).__name__} (errno {e.errno}, {e.strerror})",
                         s=f"{self.gave_up_after:.2f}")],
                     [tr("server"), tr("the silent connection is still {state}; it read {data}")
                      .format(state=self.server_states[0], data=repr(self.server_received[0]))],
                     [tr("server"), tr("the kept connection is {state}").format(
                         state=self.server_states[1])]])

    def backoff_table(self) -> Grid:
        """Each transmission of the data after the idle period, with the gap before it."""
        first = self.retransmissions()[0].time_ns
        rows = [[tr("transmission"), tr("time (s)"), tr("gap (s)"), tr("arrived")]]
        gaps = [None, *self.backoff()]
        for i, (seg, gap) in enumerate(zip(self.retransmissions(), gaps, strict=True)):
            what = (tr("original") if i == 0 else tr("tail loss probe") if i == 1
                    else tr("retransmission {n}").format(n=i - 1))
            rows.append([what,
                         f"{(seg.time_ns - first) / 1e9:.3f}",
                         "" if gap is None else f"{gap:.3f}",
                         tr("yes") if seg.received_ns is not None else tr("no")])
        return Grid(rows, right={tr("time (s)"), tr("gap (s)")})

    def facts(self) -> list[Fact]:
        """The chapter's claims, each checked on this run's data."""
        retrans = self.retransmissions()
        gaps = self.backoff()
        probes, answers = self.probes(), self.probe_answers()
        after = [s for s in self.plain.segments if s.time_ns >= self.resumed_ns]
        lost = self.lost()
        return [
            Fact(name="firewall-forgets",
                 text=tr("the firewall forgot the idle connections it did not hear from"),
                 holds=self.tracked == ((PLAIN_PORT, KEPT_PORT), (KEPT_PORT,))
                 and all(s.received_ns is not None for s in self.plain.segments
                         if s.time_ns < self.resumed_ns),
                 evidence=f"client ports tracked: {self.tracked[0]} before, {self.tracked[1]} "
                          f"after {IDLE} s idle (timeout {FIREWALL_TIMEOUT} s)"),
            Fact(name="firewall-drops-data",
                 text=tr("after the idle period, the firewall drops the silent connection's data"),
                 holds=bool(retrans) and all(s.received_ns is None for s in retrans)
                 and all(s.sent_by == "client" for s in retrans)
                 and self.drops[1] - self.drops[0] == len(lost) == len(retrans),
                 evidence=f"{len(retrans)} transmissions sent, none arrived; the drop counter "
                          f"rose by {self.drops[1] - self.drops[0]}"),
            Fact(name="same-bytes-resent",
                 text=tr("the client resends the same bytes: a tail loss probe, then "
                      "retransmissions, each timeout double the one before"),
                 holds=len(retrans) >= 5 and len({s.seq for s in retrans}) == 1
                 and len(retrans[0].payload) == len(LATER)
                 and 0.15 < gaps[0] < 0.4 and 0.15 < gaps[1] < 0.4
                 and all(1.8 < b / a < 2.2 for a, b in zip(gaps[1:], gaps[2:], strict=False)),
                 evidence="gaps " + ", ".join(f"{g:.3f}" for g in gaps) + " s"),
            Fact(name="user-timeout",
                 text=tr("the client gives up with ETIMEDOUT after its TCP_USER_TIMEOUT"),
                 holds=self.error.errno == errno.ETIMEDOUT
                 and USER_TIMEOUT <= self.gave_up_after < USER_TIMEOUT + 1.5,
                 evidence=f"{type(self.error).__name__}: {self.error.strerror} after "
                          f"{self.gave_up_after:.2f} s"),
            Fact(name="server-never-learns",
                 text=tr("the server never learns: nothing arrives, its socket stays ESTABLISHED"),
                 holds=all(s.received_ns is None for s in after)
                 and self.server_states == ("ESTABLISHED", "ESTABLISHED")
                 and self.server_received[0] == MESSAGE,
                 evidence=f"{len(after)} segments after the idle period, 0 arrived; "
                          f"server state {self.server_states[0]}"),
            Fact(name="keepalive-probe-seq",
                 text=tr("keepalive probes carry no data and the sequence number SND.NXT − 1"),
                 holds=len(probes) >= 4 and all(
                     p.length == 0 and self.kept.relative_seq(p) == self.sent_before(p)
                     for p in probes)
                 and [self.kept.relative_seq(p) for p in probes[:2]] == [len(MESSAGE)] * 2
                 and any(self.sent_before(p) == len(MESSAGE + LATER) for p in probes),
                 evidence=f"{len(probes)} probes; relative seq, bytes sent before: " + ", ".join(
                     f"{self.kept.relative_seq(p)}/{self.sent_before(p)}" for p in probes)),
            Fact(name="probe-answered",
                 text=tr("the server's kernel answers each probe with an ACK"),
                 holds=len(answers) == len(probes) and all(
                     a.has("ACK") and a.length == 0 and a.ack == (p.seq + 1) % 2**32
                     for p, a in zip(probes, answers, strict=True)),
                 evidence=f"{len(answers)} answers, each acknowledging SND.NXT"),
            Fact(name="kept-works",
                 text=tr("the kept connection still works after the idle period"),
                 holds=self.echo == LATER and self.server_received[1] == MESSAGE + LATER,
                 evidence=f"echo {self.echo!r}"),
        ]

    def report(self) -> str:
        """Everything, as text for a terminal."""
        facts = checklist(self.facts())
        d = self.defaults
        return (
            f"Idle connections through a firewall that forgets after {FIREWALL_TIMEOUT} s\n\n"
            f"Silent connection (client port {PLAIN_PORT})\n\n{self.silent_table()}\n\n"
            f"{self.backoff_table()}\n\n"
            f"Kept alive (client port {KEPT_PORT}, keepalive every {KEEPALIVE[0]} s)\n\n"
            f"{self.kept_table()}\n\n"
            f"Linux defaults: tcp_keepalive_time {d.keepalive_time} s, intvl "
            f"{d.keepalive_intvl} s, probes {d.keepalive_probes} → {d.keepalive_detect} s; "
            f"tcp_retries2 {d.tcp_retries2} → {d.retransmit_give_up:.1f} s\n\n"
            f"Facts\n\n{facts}"
        )


def _connected(address: str, port: int, server: tuple[str, int], keepalive: bool
               ) -> socket.socket:
    """A client socket on a pinned port, connected to ``server``; set up before connect()."""
    sock = client_socket(address, port)
    if keepalive:
        idle, interval, count = KEEPALIVE
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, interval)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, count)
    else:
        # RFC 5482: how long transmitted data may remain unacknowledged before the
        # connection is dropped; Linux takes milliseconds.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(USER_TIMEOUT * 1000))
    sock.settimeout(LONG_TIMEOUT)
    sock.connect(server)
    return sock


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


@replayable
def idle_connections() -> IdleResult:
    """Run the experiment (about 7 s: the idle period, then the client's retransmissions)."""
    with Lab() as lab:
        client, fw, server = lab.host("client"), lab.host("firewall"), lab.host("server")
        lab.link(client, fw)
        lab.link(fw, server)
        firewall = fw.add_firewall(idle_timeout=FIREWALL_TIMEOUT, inside=client)
        defaults = client.run(read_defaults)
        listener = server.run(listening_socket, server.address, SERVER_PORT, timeout=LONG_TIMEOUT)
        sockets = [listener]
        try:
            with lab.capture(client, server) as cap:
                end = (server.address, SERVER_PORT)
                plain = client.run(_connected, client.address, PLAIN_PORT, end, False)
                sockets.append(plain)
                kept = client.run(_connected, client.address, KEPT_PORT, end, True)
                sockets.append(kept)
                accepted = [listener.accept()[0] for _ in range(2)]
                sockets += accepted
                by_port = {c.getpeername()[1]: c for c in accepted}
                s_plain, s_kept = by_port[PLAIN_PORT], by_port[KEPT_PORT]
                for c in accepted:
                    c.settimeout(LONG_TIMEOUT)
                received = []
                for sock, peer in ((plain, s_plain), (kept, s_kept)):
                    sock.sendall(MESSAGE)
                    received.append(_recv_exactly(peer, len(MESSAGE)))
                tracked_before = fw.run(tracked_ports)
                time.sleep(IDLE)
                tracked_after = fw.run(tracked_ports)
                drops_before = firewall.drops()
                resumed_ns = time.time_ns()
                start = time.monotonic()
                plain.sendall(LATER)
                kept.sendall(LATER)
                received[1] += _recv_exactly(s_kept, len(LATER))
                s_kept.sendall(received[1][len(MESSAGE):])
                echo = _recv_exactly(kept, len(LATER))
                try:
                    plain.recv(1)
                    raise ExperimentError("the silent connection received something")
                except TimeoutError as exc:
                    if exc.errno is None:  # our own socket timeout, not the kernel's verdict
                        raise ExperimentError(
                            f"the client had not given up after {LONG_TIMEOUT} s") from None
                    error: OSError = exc
                gave_up_after = time.monotonic() - start
                drops_after = firewall.drops()
                with server.run(SockDiag) as diag:
                    states = []
                    for c in (s_plain, s_kept):
                        entry = diag.lookup(c.getsockname(), c.getpeername())
                        states.append("CLOSED" if entry is None else entry.state.name)
                s_plain.setblocking(False)
                try:
                    received[0] += s_plain.recv(100)
                except BlockingIOError:
                    pass
        finally:
            for s in sockets:
                s.close()
    assert cap.trace is not None
    return IdleResult(
        trace=cap.trace, defaults=defaults, tracked=(tracked_before, tracked_after),
        drops=(drops_before, drops_after), resumed_ns=resumed_ns, error=error,
        gave_up_after=gave_up_after, echo=echo, server_states=(states[0], states[1]),
        server_received=(received[0], received[1]),
    )
