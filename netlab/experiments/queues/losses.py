"""Losses during the handshake: the wire loses one chosen segment, and the kernels recover.

Two hosts, ``client`` (192.0.2.1) and ``server`` (192.0.2.2), joined by a wire that passes
everything except the segments a predicate picks (:meth:`~netlab.kernel.wire.Wire.drop_if`).
Four connections to port 8080, each from its own client port:

1. port 40000, the first two SYNs lost: the client sends its SYN again after the initial
   retransmission timeout of one second (RFC 6298 §2.1). RFC 6298 §5.5 says "back off the
   timer" (double it), but Linux 6.5 and later keep it at one second for the first
   ``net.ipv4.tcp_syn_linear_timeouts`` retries (4 by default) and double it only after
   them; ``net.ipv4.tcp_syn_retries`` bounds how long the client tries (:func:`syn_schedule`);
2. port 40001, the SYN-ACK lost: the client repeats its SYN and the server answers it with
   its SYN-ACK again; the server's own SYN-ACK timer, started when the SYN arrived, may
   also run out first and send one more (``net.ipv4.tcp_synack_retries`` bounds the
   server's tries);
3. port 40002, the third segment (the ACK) lost and the client silent: the client is
   ESTABLISHED, the server still in SYN_RECV until its SYN-ACK retransmission draws a
   second ACK;
4. port 40003, the ACK lost but the client sends data at once: the data segment carries
   the same acknowledgment, so it completes the handshake by itself (RFC 9293 §3.10.7.4,
   in SYN-RECEIVED "if the segment acknowledgment is acceptable, then enter ESTABLISHED").

The wire delays every frame by :data:`DELAY`. Without a delay, in case 2 the client's SYN
timer and the server's SYN-ACK timer, both of one second and started a fraction of a
millisecond apart, would run out in the same tick of the kernel's clock, and whichever ran
first would decide whether the client still repeats its SYN. With it, the server's repeated
SYN-ACK cannot reach the client before two delays after the client's timer.

>>> from netlab.experiments.queues.losses import syn_schedule
>>> syn_schedule(6, 4)  # Linux's defaults: 10 resends, connect() fails after 131 s
([1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 11.0, 19.0, 35.0, 67.0], 131.0)
>>> syn_schedule(6, 0)  # before Linux 6.5: 6 resends, 127 s
([1.0, 3.0, 7.0, 15.0, 31.0, 63.0], 127.0)
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Connection, Trace
from netlab.experiments.endpoints import (
    CLIENT_PORT,
    SERVER_PORT,
    TIMEOUT,
    client_socket,
    listening_socket,
)
from netlab.experiments.queues._frames import Dropper
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import N_, ntr, tr
from netlab.kernel.sockdiag import SockDiag
from netlab.kernel.sysctl import sysctl
from netlab.kernel.tcp_info import socket_state
from netlab.lab import Lab
from netlab.model.tcp_states import TcpState
from netlab.views import Table
from netlab.views.table import Grid

__all__ = ["handshake_losses", "LossesResult", "CASES", "DELAY", "syn_schedule"]

#: What the wire loses in each of the four cases, by client port.
CASES = {CLIENT_PORT: N_("the first two SYNs"), CLIENT_PORT + 1: N_("the SYN-ACK"),
         CLIENT_PORT + 2: N_("the ACK, client silent"),
         CLIENT_PORT + 3: N_("the ACK, client sends data")}
PAYLOAD = b"hello"
DELAY = 0.010
"""The wire's one-way delay in seconds. It is longer than a tick of the kernel's timers
(4 ms at 250 Hz), so the client's SYN timer always runs out before a repeated SYN-ACK
arrives."""
RTO_RANGE = (0.9, 1.6)
"""How far a handshake retransmission's interval may stray from what the kernel's settings
predict (as a factor of it), and the bounds, in seconds, of connect() after a lost SYN-ACK
and of accept() after a lost ACK (one 1 s timeout each). Measured with
``benchmarks/timing_spread.py --runs 6 --busy 0`` and ``--busy 2`` on the 2-core build
machine (other builds running too): intervals 1.003-1.032 times the prediction, connect()
1.002-1.034 s, accept() 1.000-1.040 s. A kernel timer never fires early (0.9 allows its
tick); 1.6 keeps a late wake-up well apart from the next doubled timeout (2 s)."""


@dataclass(frozen=True, kw_only=True)
class LossesResult:
    """Four handshakes, each missing one kind of segment, and how long each took."""

    trace: Trace
    syn_retries: int
    """``net.ipv4.tcp_syn_retries`` in the client's namespace."""
    syn_linear: int
    """``net.ipv4.tcp_syn_linear_timeouts`` in the client's namespace (0 before Linux 6.5)."""
    synack_retries: int
    """``net.ipv4.tcp_synack_retries`` in the server's namespace."""
    dropped: dict[int, int]
    """Frames the wire lost in each case, by client port."""
    connect_s: dict[int, float]
    """Seconds connect() took, by client port."""
    accept_s: dict[int, float]
    """Seconds from connect() returning to accept() returning, by client port."""
    ack_lost_states: tuple[TcpState, TcpState]
    """Client and server state of the silent case, read after its ACK was lost."""
    received: bytes
    """What the server read in the data case."""
    pcap_host: str = field(default="client")
    keylog: None = None

    def connection(self, port: int) -> Connection:
        return self.trace.connection(port=port)

    def sent(self, port: int, kind: str) -> list[Segment]:
        """Every segment of ``kind`` (``SYN``, ``SYN-ACK``, ``ACK``, ``data``) a case sent."""
        def kind_of(s: Segment) -> str:
            if s.has("SYN"):
                return "SYN-ACK" if s.has("ACK") else "SYN"
            return "data" if s.length else "ACK"
        return [s for s in self.connection(port).segments if kind_of(s) == kind]

    def intervals(self, port: int, kind: str) -> list[float]:
        """Seconds between a case's successive segments of ``kind``, as sent."""
        t = [s.time_ns for s in self.sent(port, kind)]
        return [(b - a) / 1e9 for a, b in zip(t, t[1:], strict=False)]

    def expected_syn_intervals(self, n: int) -> list[float]:
        """Seconds between the first ``n + 1`` SYNs the settings predict."""
        return list(itertools.islice(_syn_timeouts(self.syn_linear), n))

    def grid(self) -> Grid:
        """Each case: what was lost, the SYNs and SYN-ACKs sent, their intervals, the times."""
        def gaps(port: int, kind: str) -> str:
            return ", ".join(f"{g:.2f}" for g in self.intervals(port, kind)) or "-"
        rows = [[tr("lost on the wire"), "SYN", "SYN-ACK", tr("SYN intervals (s)"),
                 tr("SYN-ACK intervals (s)"), tr("connect() (s)"), tr("then accept() (s)")]]
        for port, what in CASES.items():
            rows.append([tr(what), str(len(self.sent(port, "SYN"))),
                         str(len(self.sent(port, "SYN-ACK"))), gaps(port, "SYN"),
                         gaps(port, "SYN-ACK"), f"{self.connect_s[port]:.3f}",
                         f"{self.accept_s[port]:.3f}"])
        return Grid(rows, right={"SYN", "SYN-ACK", tr("connect() (s)"),
                                 tr("then accept() (s)")})

    def settings(self) -> Grid:
        """The sysctls that bound the retransmissions, and what each means."""
        resends, fails = syn_schedule(self.syn_retries, self.syn_linear)
        return Grid([
            [tr("setting"), tr("value"), tr("meaning")],
            ["net.ipv4.tcp_syn_retries", str(self.syn_retries),
             tr("how long the client keeps sending its SYN again: as long as that many "
                "resends with a doubling timeout would take, {s:g} s").format(
                 s=_syn_limit(self.syn_retries))],
            ["net.ipv4.tcp_syn_linear_timeouts", str(self.syn_linear),
             ntr("resends of the SYN at a constant 1 s before the timeout doubles: with both "
                 "settings, the client sends its SYN again {n} time, and connect() fails "
                 "after {s:g} s",
                 "resends of the SYN at a constant 1 s before the timeout doubles: with both "
                 "settings, the client sends its SYN again {n} times, and connect() fails "
                 "after {s:g} s", len(resends)).format(n=len(resends), s=fails)],
            ["net.ipv4.tcp_synack_retries", str(self.synack_retries),
             tr("times the server sends its SYN-ACK again before it forgets the connection")],
        ], right={tr("value")})

    def facts(self) -> list[Fact]:
        """The chapter's claims about losses, each checked on this run's data."""
        p_syn, p_synack, p_ack, p_data = CASES
        syns = self.sent(p_syn, "SYN")
        gaps = self.intervals(p_syn, "SYN")
        expected = self.expected_syn_intervals(len(gaps))
        shown = ", ".join(f"{g:.3f}" for g in gaps)
        sa_syn, sa_synack = self.sent(p_synack, "SYN"), self.sent(p_synack, "SYN-ACK")
        silent_synack = self.sent(p_ack, "SYN-ACK")
        data_synack = self.sent(p_data, "SYN-ACK")
        data = self.sent(p_data, "data")
        return [
            Fact(name="lost-syn",
                 text=tr("a lost SYN is sent again, the same SYN, at the intervals the kernel's "
                         "settings predict"),
                 holds=self.dropped[p_syn] == 2 and len(syns) == 3
                 and len({s.seq for s in syns}) == 1
                 and all(RTO_RANGE[0] * e < g < RTO_RANGE[1] * e
                         for g, e in zip(gaps, expected, strict=True)),
                 evidence=f"{len(syns)} SYNs with one seq, {shown} s apart "
                          f"(expected {', '.join(f'{e:g}' for e in expected)} s with "
                          f"tcp_syn_linear_timeouts = {self.syn_linear}); connect() took "
                          f"{self.connect_s[p_syn]:.3f} s"),
            Fact(name="lost-synack",
                 text=tr("a lost SYN-ACK: the client repeats its SYN and the server its SYN-ACK"),
                 holds=self.dropped[p_synack] == 1 and len(sa_syn) == 2
                 and len(sa_synack) >= 2 and len({s.seq for s in sa_synack}) == 1
                 and RTO_RANGE[0] < self.connect_s[p_synack] < RTO_RANGE[1],
                 evidence=f"{len(sa_syn)} SYNs, {len(sa_synack)} SYN-ACKs with one seq; "
                          f"connect() took {self.connect_s[p_synack]:.3f} s "
                          f"(tcp_synack_retries = {self.synack_retries})"),
            Fact(name="lost-ack",
                 text=tr("a lost ACK leaves the client ESTABLISHED and the server in SYN_RECV"),
                 holds=self.dropped[p_ack] == 1
                 and self.ack_lost_states == (TcpState.ESTABLISHED, TcpState.SYN_RECV),
                 evidence="client {}, server {} after the ACK was lost".format(
                     *(s.name for s in self.ack_lost_states))),
            Fact(name="silent-client-second-ack",
                 text=tr("if the client stays silent, the server's SYN-ACK retransmission "
                         "draws a second ACK that completes the handshake"),
                 holds=len(silent_synack) == 2 and len(self.sent(p_ack, "ACK")) >= 2
                 and RTO_RANGE[0] < self.accept_s[p_ack] < RTO_RANGE[1],
                 evidence=f"{len(silent_synack)} SYN-ACKs; accept() returned "
                          f"{self.accept_s[p_ack]:.3f} s after connect()"),
            Fact(name="data-completes-handshake",
                 text=tr("if the client sends data, the data segment completes the handshake"),
                 holds=self.dropped[p_data] == 1 and len(data_synack) == 1
                 and len(data) == 1 and data[0].has("ACK") and self.received == PAYLOAD
                 and self.accept_s[p_data] < 0.5,
                 evidence=f"{len(data_synack)} SYN-ACK; the server read {self.received!r}; "
                          f"accept() returned {self.accept_s[p_data]:.3f} s after "
                          "connect()"),
        ]

    def report(self) -> str:
        return (f"Losses during the handshake (client 192.0.2.1 → server "
                f"192.0.2.2:{SERVER_PORT})\n\n{self.grid()}\n\n{self.settings()}\n\n"
                f"All four connections\n\n{Table(self.trace, absolute=False, options=False)}"
                f"\n\nFacts\n\n{checklist(self.facts())}")


def _syn_timeouts(linear: int) -> Iterator[float]:
    """The client's successive SYN timeouts in seconds, from the initial one second:
    ``tcp_retransmit_timer()`` doubles the timeout only once the SYN has been sent again
    more than ``linear`` (``tcp_syn_linear_timeouts``) times, and never beyond 120 s."""
    for i in itertools.count(1):
        yield 1.0 if i <= linear + 1 else min(2.0 ** (i - 1 - linear), 120.0)


def _syn_limit(retries: int) -> float:
    """Seconds ``tcp_syn_retries`` = ``retries`` lets a client send SYNs: what that many
    resends take with a timeout that doubles from one second, 2^(retries + 1) − 1."""
    return 2.0 ** (retries + 1) - 1


def syn_schedule(retries: int, linear: int) -> tuple[list[float], float]:
    """When a client whose SYNs all get lost sends its SYN again (seconds after the first),
    and when its connect() fails, for ``tcp_syn_retries`` = ``retries`` and
    ``tcp_syn_linear_timeouts`` = ``linear``.

    ``tcp_syn_retries`` does not count the resends: ``tcp_write_timeout()`` gives up once
    the time since the first SYN reaches what that many resends would take with a timeout
    that doubles from one second, 2^(retries + 1) − 1 s, and checks it each time the timer
    runs out. Linear timeouts fit more resends into that time. (``tests/test_queues.py``
    checks this against the kernel.)
    """
    limit = _syn_limit(retries)
    resends: list[float] = []
    at = 0.0
    for timeout in _syn_timeouts(linear):
        at += timeout
        if at >= limit:
            break
        resends.append(at)
    return resends, at


@replayable
def handshake_losses() -> LossesResult:
    """Run the experiment (about 6 s, most of it waiting for retransmission timers)."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        wire = lab.link(client, server, wire="pass", delay=DELAY).wire
        assert wire is not None
        syn_retries = client.run(sysctl, "net.ipv4.tcp_syn_retries")
        synack_retries = server.run(sysctl, "net.ipv4.tcp_synack_retries")
        try:
            syn_linear = client.run(sysctl, "net.ipv4.tcp_syn_linear_timeouts")
        except FileNotFoundError:  # before Linux 6.5: the timeout doubles from the start
            syn_linear = 0
        listener = server.run(listening_socket, server.address, SERVER_PORT, timeout=TIMEOUT)
        sockets = [listener]
        dropped, connect_s, accept_s = {}, {}, {}
        states: tuple[TcpState, TcpState] = (TcpState.CLOSED, TcpState.CLOSED)
        received = b""
        lose = {CLIENT_PORT: ("SYN", 2), CLIENT_PORT + 1: ("SYN-ACK", 1),
                CLIENT_PORT + 2: ("ACK", 1), CLIENT_PORT + 3: ("ACK", 1)}
        try:
            with server.run(SockDiag) as diag, lab.capture(client, server) as cap:
                for port, (kind, count) in lose.items():
                    rule = Dropper(wire, kind, port=port, count=count)
                    sock = client.run(client_socket, client.address, port)
                    sockets.append(sock)
                    sock.settimeout(TIMEOUT)
                    t0 = time.monotonic()
                    sock.connect((server.address, SERVER_PORT))
                    t1 = time.monotonic()
                    connect_s[port] = t1 - t0
                    if port == CLIENT_PORT + 2:
                        rule.wait()
                        entry = diag.lookup((server.address, SERVER_PORT),
                                            (client.address, port))
                        states = (socket_state(sock),
                                  TcpState.LISTEN if entry is None else entry.state)
                    if port == CLIENT_PORT + 3:
                        sock.sendall(PAYLOAD)
                    conn, _ = listener.accept()
                    accept_s[port] = time.monotonic() - t1
                    sockets.append(conn)
                    if port == CLIENT_PORT + 3:
                        conn.settimeout(TIMEOUT)
                        received = conn.recv(100)
                    dropped[port] = rule.dropped
                    wire.idle(0.05)
        finally:
            for s in sockets:
                s.close()
        assert cap.trace is not None
        return LossesResult(trace=cap.trace, syn_retries=syn_retries,
                            synack_retries=synack_retries, syn_linear=syn_linear, dropped=dropped,
                            connect_s=connect_s, accept_s=accept_s, ack_lost_states=states,
                            received=received)
