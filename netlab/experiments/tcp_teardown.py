"""Closing TCP connections: the four-way teardown, half-close, TIME_WAIT, CLOSE_WAIT and RST.

The lab of :mod:`netlab.experiments.tcp_handshake` again: ``client`` (192.0.2.1) and
``server`` (192.0.2.2) joined through a :class:`~netlab.lab.wire.Wire` that can hold each
frame until both kernels' TCP states have been read. The server listens on port 8080; each
connection comes from its own pinned client port, and each is closed in a different way:

=====  =================  ==================================================================
port   name               what happens
=====  =================  ==================================================================
40000  ``orderly``        a whole life in slow motion: handshake, a request and a response,
                          then the client closes and the server closes later (four segments)
40001  ``half_close``     the client calls ``shutdown(SHUT_WR)``; the server reads EOF, keeps
                          sending, then closes
40002  ``close_on_eof``   the server closes as soon as it reads EOF: its FIN rides on the ACK
40003  ``simultaneous``   both close while the other's FIN is on the wire: CLOSING on both
40004  ``lost_ack``       the wire loses the client's last ACK: the server sends its FIN
                          again, and the client, in TIME_WAIT, answers it
40005  ``close_wait``     a server that never calls ``close()`` (and two more like it)
40008  ``abort``          ``close()`` with ``SO_LINGER`` {on, 0 s}: RST instead of FIN
40009  ``unread``         ``close()`` with received data left unread: RST as well
=====  =================  ==================================================================

and, without captures, a server that closes first and restarts on ports 8081 and 8082, with
and without ``SO_REUSEADDR``. Every state change of every connection is checked against
RFC 9293's state diagram (:data:`netlab.tcpstates.RULES`) by
:class:`~netlab.timeline.Timeline`.

States are read from the kernel's table of TCP sockets in each host's namespace, one socket
at a time (``sock_diag``, which ``ss`` uses too; :mod:`netlab.sockdiag`): the only view that
still shows a socket after its program has closed it, as a closed socket has no descriptor
left for ``TCP_INFO``. A connection missing from the table is CLOSED: the kernel has
forgotten it. Timers are read from ``/proc/net/tcp`` (:func:`netlab.states.tcp_timers`).

Apart from times and raw numbers, every run prints the same (needs root):

>>> from netlab.experiments import teardown
>>> result = teardown()
>>> print(result.orderly.snapshot_table())
moment                          client       server
socket() and bind() done        CLOSED       LISTEN
client calls connect()          SYN_SENT     LISTEN
SYN arrived at server           SYN_SENT     SYN_RECV
SYN, ACK arrived at client      ESTABLISHED  SYN_RECV
ACK arrived at server           ESTABLISHED  ESTABLISHED
request and response exchanged  ESTABLISHED  ESTABLISHED
client calls close()            FIN_WAIT_1   ESTABLISHED
FIN, ACK arrived at server      FIN_WAIT_1   CLOSE_WAIT
ACK arrived at client           FIN_WAIT_2   CLOSE_WAIT
server calls close()            FIN_WAIT_2   LAST_ACK
FIN, ACK arrived at client      TIME_WAIT    LAST_ACK
ACK arrived at server           TIME_WAIT    CLOSED
>>> [s.flags_text for s in result.orderly.closing]
['FIN, ACK', 'ACK', 'FIN, ACK', 'ACK']
>>> [s.flags_text for s in result.close_on_eof.closing]
['FIN, ACK', 'FIN, ACK', 'ACK']
>>> all(fact.holds for fact in result.facts())
True
"""

from __future__ import annotations

import errno
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Any

from netlab.capture import write_pcap
from netlab.decode import FLAG_BITS, Segment, dissect
from netlab.errors import ExperimentError
from netlab.experiments.tcp_handshake import Fact
from netlab.i18n import tr, tr_moment
from netlab.lab import Host, Lab
from netlab.sockdiag import SockDiag
from netlab.states import SocketEntry, StateSample, Timer, socket_state, tcp_timers
from netlab.tcpstates import Event, Rule, TcpState, UnexpectedTransition
from netlab.timeline import Call, Snapshot, Timeline, fin_seq, rules_grid
from netlab.trace import Connection, Endpoint, Trace
from netlab.views import Ladder, Table
from netlab.views.download import Download
from netlab.views.table import Grid

__all__ = [
    "teardown", "TeardownResult", "Close", "Orderly", "HalfClose", "LostAck", "CloseWait",
    "Abort", "Restart",
]

SERVER_PORT = 8080  # unprivileged; always free, since the server's namespace is new
ORDERLY_PORT = 40000  # client ports, pinned so that every run prints the same
HALF_CLOSE_PORT = 40001
CLOSE_ON_EOF_PORT = 40002
SIMULTANEOUS_PORT = 40003
LOST_ACK_PORT = 40004
CLOSE_WAIT_PORTS = (40005, 40006, 40007)
ABORT_PORT = 40008
UNREAD_PORT = 40009
RESTART_PORTS = ((8081, 40010), (8082, 40011))  # (server port, client port), one per old server
TIMEOUT = 2.0  # seconds: the longest wait for any segment or state
CHUNKS = (b"first line after your FIN\n", b"second line\n", b"last line, then my FIN\n")
"""What the server sends after the client's half-close."""


# ---------------------------------------------------------------------------------------
# Timers, as /proc/net/tcp shows them


def _timers(host: Host) -> list[tuple[SocketEntry, Timer]]:
    return host.run(tcp_timers)


def _find(entries: Iterable[tuple[SocketEntry, Timer]], local: Endpoint, remote: Endpoint
          ) -> tuple[SocketEntry, Timer] | None:
    return next(((e, t) for e, t in entries if e.local == local and e.remote == remote), None)


# ---------------------------------------------------------------------------------------
# What was observed


@dataclass(frozen=True, kw_only=True)
class Close:
    """One connection of the chapter: its packets and both kernels' states as it closed."""

    name: str
    title: str
    """The caption of its ladder diagram (in English)."""
    trace: Trace
    """Everything captured on client and server while this connection ran."""
    client_port: int
    snapshots: tuple[Snapshot, ...]
    calls: tuple[Call, ...]

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

    def table(self, *, absolute: bool = False, options: bool = False) -> Table:
        """This connection's segments (relative numbers, without options by default)."""
        return self.trace.only(self.connection).table(absolute=absolute, options=options)

    def states(self) -> list[StateSample]:
        """The snapshots as samples for a ladder diagram."""
        return [StateSample(host=host, state=getattr(s, host), timestamp_ns=s.timestamp_ns,
                            note=s.moment)
                for s in self.snapshots for host in ("client", "server")]

    def ladder(self) -> Ladder:
        """The connection as a ladder diagram, with both sides' kernel states."""
        return self.trace.only(self.connection).ladder(self.states(), title=tr(self.title))

    def snapshot_table(self) -> Grid:
        """Both kernels' states after each step, as a table."""
        rows = [[tr("moment"), tr("client"), tr("server")]]
        rows += [[tr_moment(s.moment), s.client.name, s.server.name] for s in self.snapshots]
        return Grid(rows)

    def path(self, host: str) -> list[TcpState]:
        """The distinct states ``host`` was seen in, in order."""
        return _distinct(getattr(s, host) for s in self.snapshots)

    def timeline(self) -> Timeline:
        """The state changes checked against RFC 9293 (raises if one does not fit)."""
        return Timeline(self)


@dataclass(frozen=True, kw_only=True)
class Orderly(Close):
    """The whole life of one connection, closed by the client first."""

    time_wait: Timer
    """The client's timer just after it entered TIME_WAIT."""
    ss: str | None
    """What ``ss -tano`` said about the client's socket at the same moment (if installed)."""

    @property
    def ack_delay(self) -> float:
        """Seconds between the client's FIN arriving at the server and the server's ACK."""
        fin = self.fin("client")
        ack = next(s for s in self.segments if s.number > fin.number and s.sent_by == "server")
        assert fin.received_ns is not None and ack.sent_ns is not None
        return (ack.sent_ns - fin.received_ns) / 1e9


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
                rows.append([tr(host), _endpoint(entry.local), _endpoint(entry.remote),
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


def _endpoint(end: Endpoint) -> str:
    return f"{end[0]}:{end[1]}"


def _distinct(states: Iterable[TcpState]) -> list[TcpState]:
    out: list[TcpState] = []
    for s in states:
        if not out or out[-1] is not s:
            out.append(s)
    return out


# ---------------------------------------------------------------------------------------
# The bench: one lab, one listener, one connection at a time


def _listen(address: str, port: int, reuse: bool = False) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(16)
    s.settimeout(TIMEOUT)
    return s


def _client_socket(address: str, port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((address, port))
    return s


def _try_bind(address: str, port: int, reuse: bool) -> str | None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if reuse:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, port))
        s.listen(1)
        return None
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc.errno))
    finally:
        s.close()


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ExperimentError(f"the connection ended after {len(data)} of {n} bytes")
        data += chunk
    return data


def _start_connect(sock: socket.socket, address: Endpoint) -> None:
    sock.setblocking(False)
    code = sock.connect_ex(address)
    if code != errno.EINPROGRESS:
        raise ExperimentError(f"non-blocking connect() returned {errno.errorcode.get(code)}")


def _flags(names: Iterable[str]) -> str:
    order = [name for name, _ in FLAG_BITS]
    return ", ".join(sorted(names, key=order.index))


class _Bench:
    """The lab, its step wire and the server's listener; connections are opened on it."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.client, self.server = lab.host("client"), lab.host("server")
        wire = lab.link(self.client, self.server, wire="step").wire
        assert wire is not None
        self.wire = wire
        self.sockets: list[socket.socket] = []
        self.diag = {h.name: h.run(SockDiag) for h in (self.client, self.server)}
        self.listener = self.keep(self.server.run(_listen, self.server.address, SERVER_PORT))

    def keep(self, sock: socket.socket) -> socket.socket:
        self.sockets.append(sock)
        return sock

    def close(self) -> None:
        for s in self.sockets:
            s.close()
        for d in self.diag.values():
            d.close()

    def entry(self, host: Host, local: Endpoint, remote: Endpoint) -> SocketEntry | None:
        """The kernel's socket for this connection on ``host``, None if there is none."""
        return self.diag[host.name].lookup(local, remote)

    def open(self, port: int, *, stepped: bool = False) -> _Conn:
        """Connect from ``port`` and accept; step through the handshake if ``stepped``."""
        conn = _Conn(self, port)
        if stepped:
            self.wire.mode = "step"
            conn.snap("socket() and bind() done")
            conn.call("client", "connect()", Event.ACTIVE_OPEN, _start_connect, conn.sock,
                      conn.server_end)
            for _ in range(3):  # SYN, SYN-ACK, ACK
                conn.deliver()
        else:
            self.wire.mode = "pass"
            conn.sock.settimeout(TIMEOUT)
            conn.sock.connect(conn.server_end)
        conn.sock.settimeout(TIMEOUT)
        conn.peer = self.keep(self.listener.accept()[0])
        conn.peer.settimeout(TIMEOUT)
        conn.peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not stepped:
            self.quiet(conn)
            conn.snap("connection established")
        self.wire.mode = "step"
        return conn

    def quiet(self, conn: _Conn) -> None:
        """Wait until all data is acknowledged and nothing is on the wire."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            ends = [self.entry(self.client, conn.client_end, conn.server_end),
                    self.entry(self.server, conn.server_end, conn.client_end)]
            if (self.wire.held() == 0 and all(e is None or e.tx_queue == 0 for e in ends)
                    and self.wire.idle(0.002)):
                return
            if time.monotonic() > deadline:
                raise ExperimentError(
                    f"connection from port {conn.port} never went quiet: {self.wire.held()} "
                    f"frames held, queues {[e and (e.state.name, e.tx_queue) for e in ends]}")
            time.sleep(0.001)

    def exchange(self, conn: _Conn) -> None:
        """A request and its response, let through the wire at once."""
        self.wire.mode = "pass"
        conn.sock.sendall(b"ping")
        assert conn.peer is not None
        _recv_exactly(conn.peer, 4)
        conn.peer.sendall(b"pong")
        _recv_exactly(conn.sock, 4)
        self.quiet(conn)
        conn.snap("request and response exchanged")
        self.wire.mode = "step"

    def wait_for(self, what: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not check():
            if time.monotonic() > deadline:
                raise ExperimentError(f"gave up waiting: {what}")
            time.sleep(0.0005)


class _Conn:
    """One connection under observation: its sockets, snapshots and calls."""

    def __init__(self, bench: _Bench, port: int) -> None:
        self.bench = bench
        self.port = port
        self.client_end = (bench.client.address, port)
        self.server_end = (bench.server.address, SERVER_PORT)
        self.sock = bench.keep(bench.client.run(_client_socket, bench.client.address, port))
        self.peer: socket.socket | None = None
        self.snapshots: list[Snapshot] = []
        self.calls: list[Call] = []
        self._notes: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._server_seen = False

    def side(self, host: str) -> TcpState:
        """A side's state; CLOSED if the kernel has no socket for the connection (LISTEN,
        on the server, until the connection first appears)."""
        if host == "client":
            entry = self.bench.entry(self.bench.client, self.client_end, self.server_end)
            return TcpState.CLOSED if entry is None else entry.state
        entry = self.bench.entry(self.bench.server, self.server_end, self.client_end)
        if entry is None:
            return TcpState.CLOSED if self._server_seen else TcpState.LISTEN
        self._server_seen = True
        return entry.state

    def note(self, text: str, timestamp_ns: int | None = None) -> None:
        """Something that happened; the next snapshot's moment lists them in time order."""
        with self._lock:
            self._notes.append((timestamp_ns or time.time_ns(), text))

    def snap(self, moment: str | None = None) -> Snapshot:
        t = time.time_ns()
        client, server = self.side("client"), self.side("server")
        with self._lock:
            text = moment or "; ".join(n for _, n in sorted(self._notes))
            self._notes.clear()
        snap = Snapshot(moment=text, client=client, server=server, timestamp_ns=t)
        self.snapshots.append(snap)
        return snap

    def call(self, host: str, text: str, event: Event, fn: Callable[..., Any], *args: Any,
             snap: bool = True) -> Any:
        """Make a socket call that is an event of the diagram; snapshot afterwards."""
        t = time.time_ns()
        with self._lock:
            self.calls.append(Call(host=host, call=text, event=event, timestamp_ns=t))
        self.note(f"{host} calls {text}", t)
        result = fn(*args)
        if snap:
            self.snap()
        return result

    def deliver(self, *, reply: bool = False, again: bool = False, snap: bool = True) -> None:
        """Let the oldest frame on the wire go, wait for its effect, snapshot.

        The effect is the receiver's state changing, or, with ``reply``, the receiver
        putting a segment on the wire (for an arrival that changes no state).
        """
        wire = self.bench.wire
        wire.wait_held(1, TIMEOUT)
        held = wire.held()
        was = {host: self.side(host) for host in ("client", "server")}
        t = time.time_ns()
        frame = wire.release()
        seg = dissect(frame, timestamp_ns=t, outgoing=True, host="wire")
        if seg is None:
            raise ExperimentError("a frame without a TCP segment was on the wire")
        names = [name for name, bit in FLAG_BITS if seg.flags & bit]
        receiver = "server" if seg.dst == self.bench.server.address else "client"
        self.note(f"{_flags(names)} arrived at {receiver}{' again' if again else ''}", t)
        if reply:
            wire.wait_held(held, TIMEOUT)
        else:
            self.bench.wait_for(f"{receiver} to act on {_flags(names)}",
                                lambda: self.side(receiver) is not was[receiver])
        if snap:
            self.snap()

    def record(self, trace: Trace | None, *, name: str, title: str) -> dict[str, Any]:
        """The fields every :class:`Close` has."""
        assert trace is not None
        return {"name": name, "title": title, "trace": trace, "client_port": self.port,
                "snapshots": tuple(self.snapshots), "calls": tuple(self.calls)}


# ---------------------------------------------------------------------------------------
# The experiments, one function per connection


def _ss_line(host: Host, local: Endpoint) -> str | None:
    ss = shutil.which("ss")
    if ss is None:
        return None
    done = host.run(subprocess.run, [ss, "-tanoH"], capture_output=True, text=True,
                    check=False)
    for line in done.stdout.splitlines():
        if f" {_endpoint(local)} " in f" {line} ":
            return " ".join(line.split())
    return None


def _orderly(bench: _Bench) -> Orderly:
    with bench.lab.capture(bench.client, bench.server) as cap:
        conn = bench.open(ORDERLY_PORT, stepped=True)
        bench.exchange(conn)
        assert conn.peer is not None
        conn.call("client", "close()", Event.CLOSE, conn.sock.close)
        conn.deliver()  # FIN → server: CLOSE_WAIT
        conn.deliver()  # its ACK → client: FIN_WAIT_2
        conn.call("server", "close()", Event.CLOSE, conn.peer.close)
        conn.deliver()  # FIN → client: TIME_WAIT
        conn.deliver()  # its ACK → server: CLOSED
        found = _find(_timers(bench.client), conn.client_end, conn.server_end)
        ss = _ss_line(bench.client, conn.client_end)
    if found is None:
        raise ExperimentError("the client's TIME_WAIT socket was not listed")
    return Orderly(**conn.record(cap.trace, name="orderly", title=(
        "Orderly close: the passive side closes later (four segments)")),
        time_wait=found[1], ss=ss)


def _half_close(bench: _Bench) -> HalfClose:
    with bench.lab.capture(bench.client, bench.server) as cap:
        conn = bench.open(HALF_CLOSE_PORT)
        assert conn.peer is not None
        conn.call("client", "shutdown(SHUT_WR)", Event.CLOSE, conn.sock.shutdown,
                  socket.SHUT_WR)
        conn.deliver()  # FIN → server: CLOSE_WAIT
        conn.deliver()  # ACK → client: FIN_WAIT_2
        eof = conn.peer.recv(100)
        bench.wire.mode = "pass"
        received = []
        for chunk in CHUNKS:
            conn.peer.sendall(chunk)
            received.append(_recv_exactly(conn.sock, len(chunk)))
        bench.quiet(conn)
        conn.snap("server reads EOF, then sends 3 chunks; client reads them")
        bench.wire.mode = "step"
        conn.call("server", "close()", Event.CLOSE, conn.peer.close)
        conn.deliver()  # FIN → client: TIME_WAIT
        conn.deliver()  # ACK → server: CLOSED
        client_eof = conn.sock.recv(100)
    return HalfClose(**conn.record(cap.trace, name="half_close", title=(
        "Half-close: data still flows after the client's FIN")),
        eof=eof, received=tuple(received), client_eof=client_eof)


def _close_on_eof(bench: _Bench) -> Close:
    with bench.lab.capture(bench.client, bench.server) as cap:
        conn = bench.open(CLOSE_ON_EOF_PORT)
        bench.exchange(conn)
        peer = conn.peer
        assert peer is not None

        def serve() -> None:  # the usual server loop: read until EOF, then close
            while peer.recv(100):
                pass
            conn.call("server", "close()", Event.CLOSE, peer.close, snap=False)

        task = bench.server.start(serve)
        conn.call("client", "close()", Event.CLOSE, conn.sock.close)
        conn.deliver(reply=True)  # FIN → server, which closes: its FIN carries the ACK
        conn.deliver()  # FIN, ACK → client: TIME_WAIT
        conn.deliver()  # ACK → server: CLOSED
        task.result(TIMEOUT)
    return Close(**conn.record(cap.trace, name="close_on_eof", title=(
        "The server closes on EOF: its FIN rides on the ACK (three segments)")))


def _simultaneous(bench: _Bench) -> Close:
    with bench.lab.capture(bench.client, bench.server) as cap:
        conn = bench.open(SIMULTANEOUS_PORT)
        assert conn.peer is not None
        conn.call("client", "close()", Event.CLOSE, conn.sock.close)
        bench.wire.wait_held(1, TIMEOUT)  # the client's FIN waits on the wire...
        conn.call("server", "close()", Event.CLOSE, conn.peer.close)
        bench.wire.wait_held(2, TIMEOUT)  # ...when the server's FIN joins it
        conn.deliver(reply=True)  # the client's FIN → server: CLOSING, and its ACK
        conn.deliver(reply=True)  # the server's FIN → client: CLOSING, and its ACK
        conn.deliver()  # the server's ACK → client: TIME_WAIT
        conn.deliver()  # the client's ACK → server: TIME_WAIT
    return Close(**conn.record(cap.trace, name="simultaneous", title=(
        "Simultaneous close: both sides pass through CLOSING")))


def _lost_ack(bench: _Bench) -> LostAck:
    wire = bench.wire
    with bench.lab.capture(bench.client, bench.server) as cap:
        conn = bench.open(LOST_ACK_PORT)
        assert conn.peer is not None
        conn.call("client", "close()", Event.CLOSE, conn.sock.close)
        conn.deliver()
        conn.deliver()
        conn.call("server", "close()", Event.CLOSE, conn.peer.close)
        wire.wait_held(1, TIMEOUT)
        dropped = wire.dropped
        wire.mode = "drop"  # what the client answers to the FIN is lost
        conn.deliver(snap=False)
        bench.wait_for("the client's ACK to be dropped", lambda: wire.dropped > dropped)
        wire.mode = "step"
        conn.note("the wire loses the client's ACK")
        conn.snap()
        wire.wait_held(1, TIMEOUT)  # the server's FIN, sent again after its RTO
        before = _find(_timers(bench.client), conn.client_end, conn.server_end)
        conn.deliver(reply=True, again=True)  # the client, in TIME_WAIT, answers it
        after = _find(_timers(bench.client), conn.client_end, conn.server_end)
        conn.deliver()  # the client's second ACK → server: CLOSED
    assert cap.trace is not None
    if before is None or after is None:
        raise ExperimentError("the client's TIME_WAIT socket was not listed")
    lost = [s for s in cap.trace.connection(port=LOST_ACK_PORT).segments
            if s.sent_by == "client" and s.received_ns is None]
    if len(lost) != 1:
        raise ExperimentError(f"expected one lost segment, found {len(lost)}")
    return LostAck(**conn.record(cap.trace, name="lost_ack", title=(
        "The last ACK is lost: TIME_WAIT answers the repeated FIN")),
        dropped=lost[0], timer_before=before[1], timer_after=after[1])


def _read_fin_timeout() -> int:
    return int(Path("/proc/sys/net/ipv4/tcp_fin_timeout").read_text())


def _close_wait(bench: _Bench) -> CloseWait:
    with bench.lab.capture(bench.client, bench.server) as cap:
        conn = bench.open(CLOSE_WAIT_PORTS[0])
        bench.exchange(conn)
        conn.call("client", "close()", Event.CLOSE, conn.sock.close)
        conn.deliver()  # FIN → server: CLOSE_WAIT; its ACK comes after a delay
        conn.deliver()  # ACK → client: FIN_WAIT_2. The server never calls close().
        others = []
        for port in CLOSE_WAIT_PORTS[1:]:
            other = bench.open(port)
            bench.exchange(other)
            others.append(other)
        bench.wire.mode = "pass"
        for other in others:
            other.sock.close()
        bench.wait_for("the other clients to reach FIN_WAIT_2", lambda: all(
            o.side("client") is TcpState.FIN_WAIT_2 for o in others))
        bench.wire.mode = "step"
        servers = [(e, t) for e, t in _timers(bench.server) if e.local == conn.server_end
                   and (e.state is TcpState.LISTEN or e.remote[1] in CLOSE_WAIT_PORTS)]
        clients = [(e, t) for e, t in _timers(bench.client) if e.local[1] in CLOSE_WAIT_PORTS]
        fin_timeout = bench.client.run(_read_fin_timeout)
    return CloseWait(**conn.record(cap.trace, name="close_wait", title=(
        "A server that never closes: CLOSE_WAIT")),
        server_sockets=tuple(sorted(servers, key=lambda e: e[0].remote)),
        client_sockets=tuple(sorted(clients, key=lambda e: e[0].local)),
        fin_timeout=fin_timeout)


def _read_until_error(sock: socket.socket) -> OSError | None:
    try:
        while sock.recv(100):
            pass
    except OSError as exc:
        return exc
    return None


def _abort(bench: _Bench, *, unread: bool) -> Abort:
    port = UNREAD_PORT if unread else ABORT_PORT
    with bench.lab.capture(bench.client, bench.server) as cap:
        conn = bench.open(port)
        peer = conn.peer
        assert peer is not None
        if unread:
            bench.wire.mode = "pass"
            peer.sendall(b"data nobody reads\n")
            bench.quiet(conn)
            conn.snap("server sends data; client never reads it")
            bench.wire.mode = "step"
        else:
            linger = struct.pack("ii", 1, 0)  # struct linger {l_onoff = 1, l_linger = 0}
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            conn.note("client sets SO_LINGER to {on, 0 s}")
        task = bench.server.start(_read_until_error, peer)
        conn.call("client", "close()", Event.ABORT, conn.sock.close)
        conn.deliver()  # RST → server: CLOSED
        error = task.result(TIMEOUT)
        fd_state = socket_state(peer)
    name, title = (("unread", "close() with unread data sends RST") if unread else
                   ("abort", "Abortive close: SO_LINGER 0 sends RST"))
    return Abort(**conn.record(cap.trace, name=name, title=title), error=error,
                 server_fd_state=fd_state)


def _restarts(bench: _Bench) -> tuple[Restart, ...]:
    """A server closes first (so its side keeps the TIME_WAIT), then restarts."""
    rows = []
    bench.wire.mode = "pass"
    server, client = bench.server, bench.client
    for (port, client_port), old in zip(RESTART_PORTS, (False, True), strict=True):
        listener = bench.keep(server.run(_listen, server.address, port, old))
        sock = bench.keep(client.run(_client_socket, client.address, client_port))
        sock.settimeout(TIMEOUT)
        sock.connect((server.address, port))
        peer = bench.keep(listener.accept()[0])
        peer.close()  # the server closes first...
        if sock.recv(100) != b"":
            raise ExperimentError("the client read data where it expected EOF")
        sock.close()  # ...and the client answers with its own FIN
        local, remote = (server.address, port), (client.address, client_port)

        def old_state(local: Endpoint = local, remote: Endpoint = remote) -> TcpState:
            entry = bench.entry(server, local, remote)
            return TcpState.CLOSED if entry is None else entry.state

        bench.wait_for("the old server connection to reach TIME_WAIT",
                       lambda: old_state() is TcpState.TIME_WAIT)
        listener.close()  # the old server is gone; its connection is in TIME_WAIT
        for new in (False, True):
            rows.append(Restart(port=port, old_reuseaddr=old, new_reuseaddr=new,
                                old_state=old_state(),
                                error=server.run(_try_bind, server.address, port, new)))
    bench.wire.mode = "step"
    return tuple(rows)


# ---------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True, kw_only=True)
class TeardownResult:
    """Everything the teardown chapter shows, from one run."""

    orderly: Orderly
    half_close: HalfClose
    close_on_eof: Close
    simultaneous: Close
    lost_ack: LostAck
    close_wait: CloseWait
    abort: Abort
    unread: Abort
    restarts: tuple[Restart, ...]
    duration: float
    """Seconds the whole experiment took, lab included."""
    pcap_host: str = field(default="client")

    @property
    def closes(self) -> tuple[Close, ...]:
        """Every captured connection's result, in the order they ran."""
        return (self.orderly, self.half_close, self.close_on_eof, self.simultaneous,
                self.lost_ack, self.close_wait, self.abort, self.unread)

    @cached_property
    def trace(self) -> Trace:
        """All captures merged, every connection of the chapter (for the CLI's ``--pcap``)."""
        hosts = ("client", "server")
        frames = [sorted(chain.from_iterable(c.trace.frames.get(h, ()) for c in self.closes),
                         key=lambda f: f.timestamp_ns) for h in hosts]
        return Trace.from_frames(frames, self.orderly.trace.names)

    def pcap_download(self, filename: str = "teardown.pcap") -> Download:
        """The client's capture of every connection, as a download link for a page."""
        import tempfile

        frames = list(self.trace.frames.get("client", ()))
        with tempfile.TemporaryDirectory() as tmp:
            data = write_pcap(Path(tmp) / filename, frames).read_bytes()
        summary = tr("{frames} frames captured on {host}").format(frames=len(frames),
                                                                   host="client")
        return Download(filename, data, "application/vnd.tcpdump.pcap", summary)

    def restart_grid(self) -> Grid:
        """Can a restarted server bind its port while its old connection is in TIME_WAIT?"""
        yes, no = tr("yes"), tr("no")
        rows = [[tr("old listener had SO_REUSEADDR"), tr("new listener sets SO_REUSEADDR"),
                 tr("old connection"), tr("bind() of the restarted server")]]
        rows += [[yes if r.old_reuseaddr else no, yes if r.new_reuseaddr else no,
                  r.old_state.name, r.error or tr("succeeds")] for r in self.restarts]
        return Grid(rows)

    def rules_seen(self) -> frozenset[Rule]:
        """Every arrow of RFC 9293's diagram that some connection of this run followed."""
        return frozenset(chain.from_iterable(c.timeline().rules for c in self.closes))

    def rules_grid(self) -> Grid:
        """RFC 9293's state diagram as a table, with the rules this run followed marked."""
        return rules_grid(self.rules_seen())

    def facts(self) -> list[Fact]:
        """The chapter's claims, each checked on this run's data."""
        return [check() for check in (
            self._fact_four, self._fact_states, self._fact_half_close, self._fact_three,
            self._fact_simultaneous, self._fact_time_wait, self._fact_lost_ack,
            self._fact_restart, self._fact_close_wait, self._fact_abort, self._fact_unread,
            self._fact_rfc)]

    def _fact_four(self) -> Fact:
        o = self.orderly
        c = o.closing
        hops = [(s.sent_by, s.flags_text) for s in c]
        acks = (len(c) == 4 and c[1].ack == (fin_seq(c[0]) + 1) % 2**32
                and c[3].ack == (fin_seq(c[2]) + 1) % 2**32)
        return Fact(text="when the passive side closes later, closing takes four segments: "
                         "FIN → ACK, then FIN → ACK",
                    holds=hops == [("client", "FIN, ACK"), ("server", "ACK"),
                                   ("server", "FIN, ACK"), ("client", "ACK")] and acks,
                    evidence="; ".join(f"{h} [{f}]" for h, f in hops)
                    + f"; each ACK acknowledges its FIN + 1; the server's ACK waited "
                      f"{o.ack_delay * 1000:.0f} ms")

    def _fact_states(self) -> Fact:
        o = self.orderly
        client, server = o.path("client")[-4:], o.path("server")[-4:]
        s = TcpState
        return Fact(text="active closer: ESTABLISHED → FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT; "
                         "passive closer: ESTABLISHED → CLOSE_WAIT → LAST_ACK → CLOSED",
                    holds=client == [s.ESTABLISHED, s.FIN_WAIT_1, s.FIN_WAIT_2, s.TIME_WAIT]
                    and server == [s.ESTABLISHED, s.CLOSE_WAIT, s.LAST_ACK, s.CLOSED],
                    evidence=f"client {' → '.join(x.name for x in client)}; "
                             f"server {' → '.join(x.name for x in server)}")

    def _fact_half_close(self) -> Fact:
        h = self.half_close
        data = h.data_after_fin
        during = [sn for sn in h.snapshots if sn.moment.startswith("server reads EOF")]
        return Fact(text="after shutdown(SHUT_WR) the server reads EOF, yet still sends data, "
                         "which the client (in FIN_WAIT_2) receives",
                    holds=h.eof == b"" and len(data) == len(CHUNKS)
                    and b"".join(s.payload for s in data) == b"".join(CHUNKS)
                    and h.received == CHUNKS and h.client_eof == b""
                    and [(sn.client, sn.server) for sn in during]
                    == [(TcpState.FIN_WAIT_2, TcpState.CLOSE_WAIT)],
                    evidence=f"{len(data)} data segments ({sum(s.length for s in data)} bytes) "
                             f"after the client's FIN (#{h.fin('client').number})")

    def _fact_three(self) -> Fact:
        c = self.close_on_eof
        segs = c.closing
        fin = c.fin("client")
        return Fact(text="a server that closes as soon as it reads EOF puts its FIN on the ACK: "
                         "three segments, and the client skips FIN_WAIT_2",
                    holds=[s.flags_text for s in segs] == ["FIN, ACK", "FIN, ACK", "ACK"]
                    and segs[1].ack == (fin_seq(fin) + 1) % 2**32
                    and c.path("client")[-3:] == [TcpState.ESTABLISHED, TcpState.FIN_WAIT_1,
                                                  TcpState.TIME_WAIT],
                    evidence=f"{' / '.join(s.flags_text for s in segs)}; client "
                             f"{' → '.join(x.name for x in c.path('client'))}")

    def _fact_simultaneous(self) -> Fact:
        c = self.simultaneous
        s = TcpState
        expected = [s.ESTABLISHED, s.FIN_WAIT_1, s.CLOSING, s.TIME_WAIT]
        return Fact(text="when both close at once, both pass through CLOSING and both end in "
                         "TIME_WAIT",
                    holds=c.path("client") == expected and c.path("server") == expected
                    and len(c.closing) == 4,
                    evidence=f"client {' → '.join(x.name for x in c.path('client'))}; server "
                             f"{' → '.join(x.name for x in c.path('server'))}")

    def _fact_time_wait(self) -> Fact:
        t = self.orderly.time_wait
        return Fact(text="the active closer stays in TIME_WAIT for 60 s on Linux, not 2 × MSL "
                         "(240 s by RFC 9293)",
                    holds=t.kind == 3 and 59.0 < t.seconds <= 60.0,
                    evidence=f"timer {t.name}, {t.ticks} ticks = {t.seconds:.2f} s left"
                             + (f"; ss: {self.orderly.ss}" if self.orderly.ss else ""))

    def _fact_lost_ack(self) -> Fact:
        la = self.lost_ack
        fins = la.fins
        return Fact(text="when the last ACK is lost, the FIN comes again and the TIME_WAIT "
                         "side answers it (restarting its timer)",
                    holds=len(fins) == 2 and fins[0].seq == fins[1].seq
                    and la.snapshots[-1].server is TcpState.CLOSED
                    and la.snapshots[-1].client is TcpState.TIME_WAIT
                    and la.timer_after.ticks > la.timer_before.ticks
                    and 0.15 < la.retransmission_delay < 1.5,
                    evidence=f"FIN sent again after {la.retransmission_delay * 1000:.0f} ms; "
                             f"timer {la.timer_before.seconds:.2f} s → "
                             f"{la.timer_after.seconds:.2f} s")

    def _fact_restart(self) -> Fact:
        table = {(r.old_reuseaddr, r.new_reuseaddr): r.error for r in self.restarts}
        return Fact(text="a restarted server binds its port while its old connections are in "
                         "TIME_WAIT only if the old and the new listener set SO_REUSEADDR",
                    holds=table == {(False, False): "EADDRINUSE", (False, True): "EADDRINUSE",
                                    (True, False): "EADDRINUSE", (True, True): None}
                    and all(r.old_state is TcpState.TIME_WAIT for r in self.restarts),
                    evidence=", ".join(f"{int(o)}/{int(n)}: {e or 'ok'}"
                                       for (o, n), e in table.items()))

    def _fact_close_wait(self) -> Fact:
        cw = self.close_wait
        waiting = [(e, t) for e, t in cw.server_sockets if e.state is TcpState.CLOSE_WAIT]
        fw2 = [(e, t) for e, t in cw.client_sockets if e.state is TcpState.FIN_WAIT_2]
        return Fact(text="a server that never calls close() keeps CLOSE_WAIT with no timer, "
                         "while the client's FIN_WAIT_2 times out",
                    holds=len(waiting) == len(fw2) == len(CLOSE_WAIT_PORTS)
                    and all(t.kind == 0 for _, t in waiting)
                    and all(t.kind == 3 and cw.fin_timeout - 1 < t.seconds <= cw.fin_timeout
                            for _, t in fw2),
                    evidence=f"{len(waiting)} CLOSE_WAIT (timer off); {len(fw2)} FIN_WAIT_2 "
                             f"with {max((t.seconds for _, t in fw2), default=0):.1f} s left "
                             f"(tcp_fin_timeout = {cw.fin_timeout})")

    def _abort_holds(self, a: Abort) -> bool:
        flags = [s.flags_text for s in a.closing]
        return (flags == ["RST, ACK"] and not any(s.has("FIN") for s in a.segments)
                and isinstance(a.error, ConnectionResetError)
                and a.error.errno == errno.ECONNRESET and a.server_fd_state is TcpState.CLOSED
                and a.path("client")[-1] is TcpState.CLOSED)

    def _fact_abort(self) -> Fact:
        a = self.abort
        return Fact(text="close() with SO_LINGER {on, 0 s} sends RST, not FIN; the peer gets "
                         "ConnectionResetError and neither side keeps TIME_WAIT",
                    holds=self._abort_holds(a)
                    and TcpState.TIME_WAIT not in a.path("client") + a.path("server"),
                    evidence=f"[{' / '.join(s.flags_text for s in a.closing)}]; "
                             f"{type(a.error).__name__}: "
                             f"{a.error.strerror if a.error else None}")

    def _fact_unread(self) -> Fact:
        a = self.unread
        return Fact(text="close() with received data left unread sends RST too",
                    holds=self._abort_holds(a),
                    evidence=f"[{' / '.join(s.flags_text for s in a.closing)}]; "
                             f"{type(a.error).__name__}")

    def _fact_rfc(self) -> Fact:
        try:
            counts = [len(c.timeline().transitions) for c in self.closes]
        except UnexpectedTransition as exc:
            return Fact(text="every state change follows RFC 9293's state diagram",
                        holds=False, evidence=str(exc))
        return Fact(text="every state change follows RFC 9293's state diagram", holds=True,
                    evidence=f"{sum(counts)} transitions on {len(counts)} connections, "
                             f"{len(self.rules_seen())} distinct rules")

    def report(self) -> str:
        """Everything, as text for a terminal."""
        parts = [f"Closing TCP connections (client 192.0.2.1 → server 192.0.2.2:{SERVER_PORT}),"
                 f" {self.duration:.2f} s"]
        for c in self.closes:
            parts.append(f"{c.title} (client port {c.client_port})\n\n"
                         f"{c.table()}\n\n{c.snapshot_table()}")
        parts.append(f"State changes of one connection, checked against RFC 9293\n\n"
                     f"{self.orderly.timeline()}")
        parts.append(f"Sockets of the server that never closes\n\n"
                     f"{self.close_wait.sockets_grid()}")
        parts.append(f"Restarting a server that closed first\n\n{self.restart_grid()}")
        facts = "\n".join(f"{'✓' if f.holds else '✗'} {f.text}\n    {f.evidence}"
                          for f in self.facts())
        parts.append(f"Facts\n\n{facts}")
        return "\n\n".join(parts)


def teardown() -> TeardownResult:
    """Run the experiment (about a second, a fifth of it waiting for a retransmitted FIN)."""
    start = time.monotonic()
    with Lab() as lab:
        bench = _Bench(lab)
        try:
            orderly = _orderly(bench)
            half_close = _half_close(bench)
            close_on_eof = _close_on_eof(bench)
            simultaneous = _simultaneous(bench)
            lost_ack = _lost_ack(bench)
            close_wait = _close_wait(bench)
            abort = _abort(bench, unread=False)
            unread = _abort(bench, unread=True)
            restarts = _restarts(bench)
        finally:
            bench.close()
    return TeardownResult(
        orderly=orderly, half_close=half_close, close_on_eof=close_on_eof,
        simultaneous=simultaneous, lost_ack=lost_ack, close_wait=close_wait, abort=abort,
        unread=unread, restarts=restarts, duration=time.monotonic() - start)
