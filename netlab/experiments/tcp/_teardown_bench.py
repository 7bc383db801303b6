"""The stepping bench of :mod:`netlab.experiments.tcp.teardown`: one lab, one listener.

A :class:`Bench` is the lab of the teardown chapter: ``client`` and ``server`` joined through
a :class:`~netlab.kernel.wire.Wire` that can hold each frame, and the server's listener on
:data:`SERVER_PORT`. Each experiment opens a :class:`_Conn` on it from its own pinned client
port, then lets the frames through one at a time and snapshots both kernels' states after
each (read through ``sock_diag``, :mod:`netlab.kernel.sockdiag`). The socket helpers run inside a
host's namespace (``host.run``), so the sockets they make belong to that host.
"""

from __future__ import annotations

import errno
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from netlab.analysis.dissect import FLAG_BITS, dissect
from netlab.analysis.timeline import CallEvent
from netlab.analysis.trace import Endpoint, Trace
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import SERVER_PORT, STEP_TIMEOUT, client_socket, listening_socket
from netlab.i18n import N_
from netlab.kernel.sockdiag import SockDiag
from netlab.kernel.tcp_info import SocketEntry, Timer, tcp_timers
from netlab.lab import Host, Lab
from netlab.model.moments import Happening, Moment, StatesAt
from netlab.model.tcp_states import Event, TcpState

ORDERLY_PORT = 40000  # client ports, pinned so that every run prints the same
HALF_CLOSE_PORT = 40001
CLOSE_ON_EOF_PORT = 40002
SIMULTANEOUS_PORT = 40003
LOST_ACK_PORT = 40004
CLOSE_WAIT_PORTS = (40005, 40006, 40007)
ABORT_PORT = 40008
UNREAD_PORT = 40009
RESTART_PORTS = ((8081, 40010), (8082, 40011))  # (server port, client port), one per old server
CHUNKS = (b"first line after your FIN\n", b"second line\n", b"last line, then my FIN\n")
"""What the server sends after the client's half-close."""


# ---------------------------------------------------------------------------------------
# Timers, as /proc/net/tcp shows them


def timers_of(host: Host) -> list[tuple[SocketEntry, Timer]]:
    return host.run(tcp_timers)


def find_entry(entries: Iterable[tuple[SocketEntry, Timer]], local: Endpoint, remote: Endpoint
          ) -> tuple[SocketEntry, Timer] | None:
    return next(((e, t) for e, t in entries if e.local == local and e.remote == remote), None)


def endpoint(end: Endpoint) -> str:
    return f"{end[0]}:{end[1]}"


# ---------------------------------------------------------------------------------------
# The bench: one lab, one listener, one connection at a time


def listen_on(address: str, port: int, reuse: bool = False) -> socket.socket:
    return listening_socket(address, port, backlog=16, reuse=reuse, timeout=STEP_TIMEOUT)


def try_bind(address: str, port: int, reuse: bool) -> str | None:
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


def recv_exactly(sock: socket.socket, n: int) -> bytes:
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


class Bench:
    """The lab, its step wire and the server's listener; connections are opened on it."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.client, self.server = lab.host("client"), lab.host("server")
        wire = lab.link(self.client, self.server, wire="step").wire
        assert wire is not None
        self.wire = wire
        self.sockets: list[socket.socket] = []
        self.diag = {h.name: h.run(SockDiag) for h in (self.client, self.server)}
        self.listener = self.keep(self.server.run(listen_on, self.server.address, SERVER_PORT))

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
            conn.snap(N_("socket() and bind() done"))
            conn.call("client", "connect()", Event.ACTIVE_OPEN, _start_connect, conn.sock,
                      conn.server_end)
            for _ in range(3):  # SYN, SYN-ACK, ACK
                conn.deliver()
        else:
            self.wire.mode = "pass"
            conn.sock.settimeout(STEP_TIMEOUT)
            conn.sock.connect(conn.server_end)
        conn.sock.settimeout(STEP_TIMEOUT)
        conn.peer = self.keep(self.listener.accept()[0])
        conn.peer.settimeout(STEP_TIMEOUT)
        conn.peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not stepped:
            self.quiet(conn)
            conn.snap(N_("connection established"))
        self.wire.mode = "step"
        return conn

    def quiet(self, conn: _Conn) -> None:
        """Wait until all data is acknowledged and nothing is on the wire."""
        deadline = time.monotonic() + STEP_TIMEOUT
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
        recv_exactly(conn.peer, 4)
        conn.peer.sendall(b"pong")
        recv_exactly(conn.sock, 4)
        self.quiet(conn)
        conn.snap(N_("request and response exchanged"))
        self.wire.mode = "step"

    def wait_for(self, what: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + STEP_TIMEOUT
        while not check():
            if time.monotonic() > deadline:
                raise ExperimentError(f"gave up waiting: {what}")
            time.sleep(0.0005)


class _Conn:
    """One connection under observation: its sockets, snapshots and calls."""

    def __init__(self, bench: Bench, port: int) -> None:
        self.bench = bench
        self.port = port
        self.client_end = (bench.client.address, port)
        self.server_end = (bench.server.address, SERVER_PORT)
        self.sock = bench.keep(bench.client.run(client_socket, bench.client.address, port))
        self.peer: socket.socket | None = None
        self.snapshots: list[StatesAt] = []
        self.calls: list[CallEvent] = []
        self._notes: list[tuple[int, Happening]] = []
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

    def note(self, what: Happening | str, timestamp_ns: int | None = None) -> None:
        """Something that happened (a sentence if a string); the next snapshot's moment
        lists them in time order."""
        if isinstance(what, str):
            what = Happening.sentence(what)
        with self._lock:
            self._notes.append((timestamp_ns or time.time_ns(), what))

    def snap(self, moment: str | None = None) -> StatesAt:
        """Read both sides' states; the moment is ``moment``, else the notes since the last."""
        t = time.time_ns()
        client, server = self.side("client"), self.side("server")
        with self._lock:
            notes = sorted(self._notes, key=lambda n: n[0])
            self._notes.clear()
        happened = Moment.of(moment) if moment else Moment(tuple(h for _, h in notes))
        snap = StatesAt(moment=happened, client=client, server=server, timestamp_ns=t)
        self.snapshots.append(snap)
        return snap

    def call(self, host: str, text: str, event: Event, fn: Callable[..., Any], *args: Any,
             snap: bool = True) -> Any:
        """Make a socket call that is an event of the diagram; snapshot afterwards."""
        t = time.time_ns()
        with self._lock:
            self.calls.append(CallEvent(host=host, call=text, event=event, timestamp_ns=t))
        self.note(Happening.call(host, text), t)
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
        wire.wait_held(1, STEP_TIMEOUT)
        held = wire.held()
        was = {host: self.side(host) for host in ("client", "server")}
        t = time.time_ns()
        frame = wire.release()
        seg = dissect(frame, timestamp_ns=t, outgoing=True, host="wire")
        if seg is None:
            raise ExperimentError("a frame without a TCP segment was on the wire")
        names = [name for name, bit in FLAG_BITS if seg.flags & bit]
        receiver = "server" if seg.dst == self.bench.server.address else "client"
        self.note(Happening.arrival(_flags(names), receiver, again=again), t)
        if reply:
            wire.wait_held(held, STEP_TIMEOUT)
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
# Helpers of single experiments


def ss_line(host: Host, local: Endpoint) -> str | None:
    ss = shutil.which("ss")
    if ss is None:
        return None
    done = host.run(subprocess.run, [ss, "-tanoH"], capture_output=True, text=True,
                    check=False)
    for line in done.stdout.splitlines():
        if f" {endpoint(local)} " in f" {line} ":
            return " ".join(line.split())
    return None


def read_fin_timeout() -> int:
    return int(Path("/proc/sys/net/ipv4/tcp_fin_timeout").read_text())


def read_until_error(sock: socket.socket) -> OSError | None:
    try:
        while sock.recv(100):
            pass
    except OSError as exc:
        return exc
    return None
