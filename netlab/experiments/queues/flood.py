"""A SYN flood against a small SYN queue, with ``net.ipv4.tcp_syncookies`` 0, 1 and 2.

Each spoofed SYN makes the server keep a half-open connection (SYN_RECV) and send a
SYN-ACK that nobody will answer, so a few dozen SYNs fill a listener's SYN queue. The
SYN cookie (RFC 4987 §3.6) is Linux's way out: when the queue is full, the server keeps
nothing and encodes what it must remember (a hash of the addresses, ports and a counter,
and the MSS to a few values) in the sequence number of its SYN-ACK; an ACK that returns
the cookie + 1 rebuilds the connection. What does not fit in the sequence number, window
scaling and SACK, can ride only in the timestamps option: a client without timestamps
loses them.

The flood stays inside the lab. scapy builds 64 SYNs from documentation addresses
(203.0.113.1 to .64, RFC 5737) and the wire between the hosts puts them on the server's
link (:meth:`~netlab.kernel.wire.Wire.inject`); the server's SYN-ACKs go to the client's
host, which is not those addresses and drops them. For each value of
``tcp_syncookies`` (set in the server's namespace only), on its own port: one ordinary
connection first, then the flood, then a legitimate client with 2.5 s to connect. The
client's namespace has TCP timestamps off, to show what a cookie cannot carry.
"""

from __future__ import annotations

import random
import socket
import time
from dataclasses import dataclass, field

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Trace
from netlab.experiments.endpoints import CLIENT_PORT, SERVER_PORT, client_socket, listening_socket
from netlab.experiments.queues._frames import counters
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.kernel.sysctl import set_sysctl
from netlab.lab import Host, Lab
from netlab.model.tcp_states import TcpState
from netlab.views.table import Grid

__all__ = ["syn_flood", "FloodResult", "FloodRun", "FLOOD", "BACKLOG"]

#: Spoofed SYNs per run, a bounded burst eight times the SYN queue.
FLOOD = 64
#: The listener's backlog, which bounds its SYN queue (Linux 6.x lets it reach one more).
BACKLOG = 8
SPOOFED = "203.0.113.{}"  # RFC 5737 TEST-NET-3: no host of the lab has these
PATIENCE = 2.5  # seconds the legitimate client waits: its SYN is sent three times


@dataclass(frozen=True, kw_only=True)
class FloodRun:
    """One value of tcp_syncookies: the flood, the queue, the counters, the client."""

    syncookies: int
    server_port: int
    flood_ms: float
    """How long the flood took to put on the wire."""
    syn_queue: int
    """The listener's connections in SYN_RECV after the flood."""
    counters: dict[str, int]
    """How much each counter grew during the flood and the legitimate connection."""
    outcome: str
    """``connected`` or the error connect() raised."""

    @property
    def ports(self) -> tuple[int, int]:
        """The client's ports, for the ordinary connection before the flood and the one after."""
        first = CLIENT_PORT + 10 * self.syncookies
        return first, first + 1


@dataclass(frozen=True, kw_only=True)
class FloodResult:
    """The three runs, one per value of tcp_syncookies, and the capture of all three."""

    trace: Trace
    runs: tuple[FloodRun, ...]
    pcap_host: str = field(default="server")
    keylog: None = None

    def run(self, syncookies: int) -> FloodRun:
        return next(r for r in self.runs if r.syncookies == syncookies)

    def synack(self, port: int) -> Segment | None:
        """The first SYN-ACK the server sent to the client's ``port``, if any."""
        return next((s for s in self.trace.segments
                     if s.dport == port and s.has("SYN", "ACK")), None)

    def synack_options(self, port: int) -> str:
        s = self.synack(port)
        if s is None:
            return tr("none")
        return " ".join(k for k, _ in s.options if k not in ("NOP", "EOL"))

    def grid(self) -> Grid:
        head = ["tcp_syncookies", tr("flood"), tr("SYN queue"), "TCPReqQFullDrop",
                "SyncookiesSent", "SyncookiesRecv", tr("legitimate client"),
                tr("SYN-ACK options before the flood"), tr("after")]
        rows = [head]
        for r in self.runs:
            c = r.counters
            rows.append([str(r.syncookies), f"{FLOOD} SYN / {r.flood_ms:.0f} ms",
                         str(r.syn_queue), str(c["TcpExt.TCPReqQFullDrop"]),
                         str(c["TcpExt.SyncookiesSent"]), str(c["TcpExt.SyncookiesRecv"]),
                         _outcome(r.outcome), self.synack_options(r.ports[0]),
                         self.synack_options(r.ports[1])])
        return Grid(rows, right={head[i] for i in (2, 3, 4, 5)})

    def facts(self) -> list[Fact]:
        off, on, always = self.run(0), self.run(1), self.run(2)
        beyond = FLOOD - BACKLOG
        normal, cookie = self.synack(on.ports[0]), self.synack(on.ports[1])
        pre2 = self.synack(always.ports[0])
        return [
            Fact(name="flood-without-cookies",
                 text=tr("without SYN cookies the flood fills the SYN queue, the rest of it is "
                         "dropped, and a legitimate client cannot connect"),
                 holds=BACKLOG <= off.syn_queue <= BACKLOG + 1
                 and off.counters["TcpExt.TCPReqQFullDrop"] >= beyond - 1
                 and off.counters["TcpExt.SyncookiesSent"] == 0
                 and off.outcome == "TimeoutError",
                 evidence=f"{off.syn_queue} in SYN_RECV, TCPReqQFullDrop "
                          f"+{off.counters['TcpExt.TCPReqQFullDrop']}; the client: "
                          f"{off.outcome} after {PATIENCE} s"),
            Fact(name="flood-with-cookies",
                 text=tr("with tcp_syncookies = 1 the SYNs beyond the full queue get cookies, "
                         "and the legitimate client connects through one"),
                 holds=BACKLOG <= on.syn_queue <= BACKLOG + 1
                 and on.counters["TcpExt.SyncookiesSent"] >= beyond - 1
                 and on.counters["TcpExt.SyncookiesRecv"] >= 1 and on.outcome == "connected",
                 evidence=f"{on.syn_queue} in SYN_RECV, SyncookiesSent "
                          f"+{on.counters['TcpExt.SyncookiesSent']}, SyncookiesRecv "
                          f"+{on.counters['TcpExt.SyncookiesRecv']}; the client: {on.outcome}"),
            Fact(name="cookie-loses-options",
                 text=tr("a cookie SYN-ACK to a client without timestamps keeps the MSS but "
                         "loses window scaling and SACK"),
                 holds=normal is not None and cookie is not None
                 and bool(normal.option("WS")) and bool(normal.option("SACK_PERM"))
                 and cookie.option("WS") is None and cookie.option("SACK_PERM") is None
                 and cookie.option("MSS") is not None,
                 evidence=f"before the flood: {self.synack_options(on.ports[0])}; "
                          f"with a cookie: {self.synack_options(on.ports[1])}"),
            Fact(name="cookies-always",
                 text=tr("with tcp_syncookies = 2 every SYN gets a cookie, flood or not, and "
                         "the SYN queue stays empty"),
                 holds=always.syn_queue == 0 and pre2 is not None
                 and pre2.option("WS") is None
                 and always.counters["TcpExt.SyncookiesSent"] >= FLOOD + 1
                 and always.outcome == "connected",
                 evidence=f"{always.syn_queue} in SYN_RECV, SyncookiesSent "
                          f"+{always.counters['TcpExt.SyncookiesSent']}; before the flood: "
                          f"{self.synack_options(always.ports[0])}"),
        ]

    def report(self) -> str:
        return (f"A SYN flood ({FLOOD} spoofed SYNs from {SPOOFED.format('1')} to "
                f".{FLOOD}; listen({BACKLOG}))\n\n{self.grid()}\n\nFacts\n\n"
                f"{checklist(self.facts())}")


def _outcome(outcome: str) -> str:
    return tr("connect() succeeded") if outcome == "connected" else outcome


def _spoofed(src_mac: str, dst_mac: str, dst: str, port: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [bytes(Ether(src=src_mac, dst=dst_mac)
                  / IP(src=SPOOFED.format(i), dst=dst, id=rng.randrange(65536))
                  / TCP(sport=rng.randrange(1024, 65536), dport=port, flags="S",
                        seq=rng.randrange(2**32), window=64240, options=[("MSS", 1460)]))
            for i in range(1, FLOOD + 1)]


def _syn_recv(server: Host, port: int) -> int:
    return sum(1 for e in server.tcp_sockets()
               if e.local[1] == port and e.state is TcpState.SYN_RECV)


def _connect(client: Host, server: Host, port: int, server_port: int,
             listener: socket.socket, timeout: float) -> str:
    sock = client.run(client_socket, client.address, port)
    sock.settimeout(timeout)
    try:
        sock.connect((server.address, server_port))
        conn, _ = listener.accept()
        conn.close()
        return "connected"
    except OSError as exc:
        return type(exc).__name__
    finally:
        sock.close()


@replayable
def syn_flood() -> FloodResult:
    """Run the experiment (about 4 s, most of it the client waiting without cookies)."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        link = lab.link(client, server, wire="pass")
        wire = link.wire
        assert wire is not None
        server.route_via(client.address)  # the SYN-ACKs to the spoofed addresses
        client.run(set_sysctl, "net.ipv4.tcp_timestamps", 0)
        runs = []
        with lab.capture(client, server) as cap:
            for value in (0, 1, 2):
                port = SERVER_PORT + value
                server.run(set_sysctl, "net.ipv4.tcp_syncookies", value)
                listener = server.run(listening_socket, server.address, port,
                                      backlog=BACKLOG, timeout=1.0)
                try:
                    first = CLIENT_PORT + 10 * value
                    _connect(client, server, first, port, listener, 1.0)
                    frames = _spoofed(link.a.mac, link.b.mac, server.address, port, value)
                    before = server.run(counters)
                    t0 = time.monotonic()
                    for frame in frames:
                        wire.inject(frame, toward="b")
                    flood_ms = (time.monotonic() - t0) * 1000
                    time.sleep(0.1)
                    queue = _syn_recv(server, port)
                    outcome = _connect(client, server, first + 1, port, listener, PATIENCE)
                    after = server.run(counters)
                finally:
                    listener.close()
                runs.append(FloodRun(syncookies=value, server_port=port, flood_ms=flood_ms,
                                     syn_queue=queue, outcome=outcome,
                                     counters={k: after[k] - before[k] for k in after}))
        assert cap.trace is not None
        return FloodResult(trace=cap.trace, runs=tuple(runs))
