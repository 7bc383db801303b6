"""The two queues of a listening socket, filled until the accept queue overflows.

A listening socket has two queues (``man 2 listen``): connections still in the handshake,
in SYN_RECV (the SYN queue), and connections the kernel has finished, ESTABLISHED, waiting
for ``accept()`` (the accept queue). ``listen(backlog)`` bounds the accept queue: Linux
takes a new connection while ``sk_ack_backlog`` is not more than the backlog, so it holds
backlog + 1 (``sk_acceptq_is_full()``).

The SYN queue is bounded too: a SYN that finds as many connections in SYN_RECV as the
backlog gets a SYN cookie instead of a place in the queue (or is dropped, without
cookies; see the SYN flood experiment). So the clients come in two waves over a wire with a
20 ms one-way delay. The server listens with a backlog of 4 and never calls ``accept()``.
Three clients connect and are queued for ``accept()``; then four connect at the same
moment, so all four SYNs find room in the SYN queue, and their ACKs arrive together: two
fill the accept queue to five, two overflow.
Twice, with ``net.ipv4.tcp_abort_on_overflow`` set in the server's namespace:

- 0 (the default): the overflowing ACKs are ignored. Those clients are ESTABLISHED, the
  server keeps them in SYN_RECV and sends its SYN-ACK again, and a late client's SYN is
  dropped outright while the accept queue is full;
- 1: the server answers the overflowing ACKs with RST.

The queues are read live: the listener's Recv-Q (the accept queue) and Send-Q (the
backlog) through ``sock_diag``, the SYN_RECV entries from ``/proc/net/tcp``, and the
namespace's ``ListenOverflows`` and ``ListenDrops`` counters.
"""

from __future__ import annotations

import errno
import socket
import time
from dataclasses import dataclass, field

from netlab.analysis.trace import Trace
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import (
    CLIENT_PORT,
    SERVER_PORT,
    client_socket,
    listening_socket,
)
from netlab.experiments.queues._frames import counters
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.kernel.sockdiag import SockDiag
from netlab.kernel.sysctl import set_sysctl
from netlab.kernel.tcp_info import socket_state
from netlab.lab import Host, Lab
from netlab.model.tcp_states import TcpState
from netlab.views.pictures import ListenerQueues, QueuesPicture
from netlab.views.table import Grid

__all__ = ["accept_queue", "BacklogResult", "Overflow", "BACKLOG", "CLIENTS"]

#: The listener's backlog; its accept queue holds one more, its SYN queue as many.
BACKLOG = 4
#: Clients per wave (three settle in the accept queue, then four connect at once).
WAVES = (3, 4)
CLIENTS = sum(WAVES)
DELAY = "20ms"  # one-way: every SYN arrives before the first ACK
WATCH = 1.4  # seconds: long enough for the first SYN-ACK retransmission (after 1 s)


@dataclass(frozen=True, kw_only=True)
class Overflow:
    """One run of the seven clients against a listener that never accepts."""

    abort_on_overflow: int
    server_port: int
    accept_queue: int
    """The listener's Recv-Q, the connections waiting for accept()."""
    backlog: int
    """The listener's Send-Q, the backlog passed to listen()."""
    syn_queue: int
    """Connections of this listener in SYN_RECV."""
    clients: tuple[str, ...]
    """Each client's state (or the error its recv() raised), in connection order."""
    counters: dict[str, int]
    """How much each namespace counter grew during the run."""
    ended_ns: int = 0
    """When the run stopped looking; its sockets are closed after it (cleanup follows)."""
    late: str = ""
    """What happened to the late client (only with abort_on_overflow 0)."""

    @property
    def ports(self) -> range:
        return range(CLIENT_PORT + self.abort_on_overflow * 10,
                     CLIENT_PORT + self.abort_on_overflow * 10 + CLIENTS)


@dataclass(frozen=True, kw_only=True)
class BacklogResult:
    """The two runs, and the capture of both."""

    trace: Trace
    runs: tuple[Overflow, Overflow]
    pcap_host: str = field(default="server")
    keylog: None = None

    def grid(self) -> Grid:
        """Each run: the queues, the clients' states, the counters."""
        rows = [["tcp_abort_on_overflow", tr("accept queue (Recv-Q)"), tr("backlog (Send-Q)"),
                 tr("SYN queue (SYN_RECV)"), tr("clients"), "ListenOverflows", "ListenDrops"]]
        for r in self.runs:
            states = ", ".join(f"{n}× {s}" for s, n in _counts(r.clients).items())
            rows.append([str(r.abort_on_overflow), str(r.accept_queue), str(r.backlog),
                         str(r.syn_queue), states, str(r.counters["TcpExt.ListenOverflows"]),
                         str(r.counters["TcpExt.ListenDrops"])])
        return Grid(rows, right={rows[0][i] for i in (1, 2, 3, 5, 6)})

    def segments_to(self, run: Overflow, kind: str) -> dict[int, int]:
        """How many SYN-ACKs (``"SYN-ACK"``) or RSTs (``"RST"``) each client port received."""
        out = dict.fromkeys(run.ports, 0)
        for s in self.trace.segments:
            if s.dport in out and s.sport == run.server_port and s.time_ns < run.ended_ns:
                if (kind == "RST" and s.has("RST")) or (kind == "SYN-ACK" and s.has("SYN", "ACK")):
                    out[s.dport] += 1
        return out

    def picture(self) -> QueuesPicture:
        """Each run's two queues, as the kernel counted them."""
        runs = []
        for r in self.runs:
            reset = r.clients.count("ConnectionResetError")
            left = len(r.clients) - r.accept_queue
            if r.abort_on_overflow:
                first = tr("{n} ACKs found the accept queue full: the server answered them "
                           "with RST").format(n=reset)
            else:
                first = tr("{n} ACKs found the accept queue full and were ignored: the "
                           "server keeps them in SYN_RECV").format(n=left)
            counted = tr("ListenOverflows +{o}, ListenDrops +{d}").format(
                o=r.counters["TcpExt.ListenOverflows"], d=r.counters["TcpExt.ListenDrops"])
            runs.append(ListenerQueues(label=f"tcp_abort_on_overflow = {r.abort_on_overflow}",
                                       backlog=r.backlog, syn_queue=r.syn_queue,
                                       accept_queue=r.accept_queue,
                                       overflow=(first, counted)))
        return QueuesPicture(runs)

    def facts(self) -> list[Fact]:
        keep, abort = self.runs
        fits = BACKLOG + 1
        keep_synacks = self.segments_to(keep, "SYN-ACK")
        abort_rsts = self.segments_to(abort, "RST")
        est = TcpState.ESTABLISHED.name
        late_syns = [s for s in self.trace.segments
                     if s.is_syn and s.sport == keep.ports.stop and s.received_ns is not None]
        return [
            Fact(name="accept-queue-bound",
                 text=tr("listen(backlog) bounds the accept queue: it holds backlog + 1 "
                         "connections that nobody has accepted"),
                 holds=keep.backlog == abort.backlog == BACKLOG
                 and keep.accept_queue == abort.accept_queue == fits,
                 evidence=f"Recv-Q {keep.accept_queue} and {abort.accept_queue}, "
                          f"Send-Q {keep.backlog}"),
            Fact(name="overflow-ignored",
                 text=tr("with tcp_abort_on_overflow = 0 the overflowing ACKs are ignored: "
                         "the clients are ESTABLISHED, the server keeps them in SYN_RECV and "
                         "sends its SYN-ACK again"),
                 holds=keep.clients == (est,) * CLIENTS and keep.syn_queue == CLIENTS - fits
                 and sorted(keep_synacks.values()) == [1] * fits + [2] * (CLIENTS - fits)
                 and keep.counters["TcpExt.ListenOverflows"] >= CLIENTS - fits
                 and keep.counters["TcpExt.SyncookiesSent"] == 0,
                 evidence=f"clients {', '.join(keep.clients)}; {keep.syn_queue} in SYN_RECV; "
                          f"SYN-ACKs per client {list(keep_synacks.values())}; "
                          f"ListenOverflows +{keep.counters['TcpExt.ListenOverflows']}"),
            Fact(name="late-syn-dropped",
                 text=tr("while the accept queue is full, a new SYN is dropped and counted "
                         "in ListenOverflows and ListenDrops"),
                 holds=keep.late == "TimeoutError" and len(late_syns) >= 2
                 and keep.counters["TcpExt.ListenDrops"]
                 >= keep.counters["TcpExt.ListenOverflows"] > CLIENTS - fits,
                 evidence=f"the late client: {keep.late} after {len(late_syns)} SYNs; "
                          f"ListenOverflows +{keep.counters['TcpExt.ListenOverflows']}, "
                          f"ListenDrops +{keep.counters['TcpExt.ListenDrops']}"),
            Fact(name="overflow-reset",
                 text=tr("with tcp_abort_on_overflow = 1 the server answers an overflowing ACK "
                         "with RST, and the client's next read fails"),
                 holds=sorted(abort_rsts.values()) == [0] * fits + [1] * (CLIENTS - fits)
                 and abort.clients.count("ConnectionResetError") == CLIENTS - fits
                 and abort.clients.count(est) == fits and abort.syn_queue == 0,
                 evidence=f"RSTs per client {list(abort_rsts.values())}; clients "
                          f"{', '.join(abort.clients)}"),
        ]

    def report(self) -> str:
        return (f"The SYN queue and the accept queue (listen({BACKLOG}), "
                f"{WAVES[0]} then {WAVES[1]} clients, nobody calls accept())\n\n"
                f"{self.grid()}\n\nFacts\n\n{checklist(self.facts())}")


def _counts(items: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def _connect_all(address: str, ports: range, server: tuple[str, int]) -> list[socket.socket]:
    """Start every connection at once (non-blocking), then wait for each to finish."""
    socks = []
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((address, port))
        s.setblocking(False)
        code = s.connect_ex(server)
        if code != errno.EINPROGRESS:
            raise ExperimentError(f"non-blocking connect() returned {errno.errorcode[code]}")
        socks.append(s)
    return socks


def _client_state(sock: socket.socket) -> str:
    """ESTABLISHED, or the error a read raises once the server has reset the connection."""
    sock.settimeout(0.05)
    try:
        sock.recv(1)
    except TimeoutError:
        return socket_state(sock).name
    except OSError as exc:
        return type(exc).__name__
    return socket_state(sock).name


def _syn_recv(server: Host, port: int) -> int:
    return sum(1 for e in server.tcp_sockets()
               if e.local[1] == port and e.state is TcpState.SYN_RECV)


def _overflow(lab: Lab, client: Host, server: Host, abort: int) -> Overflow:
    port = SERVER_PORT + abort
    server.run(set_sysctl, "net.ipv4.tcp_abort_on_overflow", abort)
    listener = server.run(listening_socket, server.address, port, backlog=BACKLOG)
    socks: list[socket.socket] = []
    try:
        before = server.run(counters)
        first = CLIENT_PORT + abort * 10
        socks = client.run(_connect_all, client.address, range(first, first + WAVES[0]),
                           (server.address, port))
        time.sleep(0.15)  # the first wave is in the accept queue
        socks += client.run(_connect_all, client.address,
                            range(first + WAVES[0], first + CLIENTS), (server.address, port))
        late = ""
        if abort == 0:
            time.sleep(0.15)  # the second wave's ACKs have arrived: the accept queue is full
            lone = client.run(client_socket, client.address, first + CLIENTS)
            socks.append(lone)
            lone.settimeout(WATCH)
            try:
                lone.connect((server.address, port))
                late = "connected"
            except OSError as exc:
                late = type(exc).__name__
        else:
            time.sleep(0.3)
        with server.run(SockDiag) as diag:
            entry = diag.listener((server.address, port))
        if entry is None:
            raise ExperimentError(f"no listener on port {port}")
        syn_queue = _syn_recv(server, port)
        after = server.run(counters)
        return Overflow(abort_on_overflow=abort, server_port=port,
                        accept_queue=entry.rx_queue, backlog=entry.tx_queue,
                        syn_queue=syn_queue,
                        clients=tuple(_client_state(s) for s in socks[:CLIENTS]),
                        counters={k: after[k] - before[k] for k in after}, late=late,
                        ended_ns=time.time_ns())
    finally:
        for s in socks:
            s.close()
        listener.close()


@replayable
def accept_queue() -> BacklogResult:
    """Run the experiment (about 3 s)."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server, delay=DELAY)
        with lab.capture(client, server) as cap:
            keep = _overflow(lab, client, server, 0)
            abort = _overflow(lab, client, server, 1)
        assert cap.trace is not None
        return BacklogResult(trace=cap.trace, runs=(keep, abort))

