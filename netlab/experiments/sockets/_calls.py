"""The sockets chapter's system calls, recorded one by one, and the transports compared.

Each call runs in a host's namespace; the wire between the hosts holds nothing back but is
watched, so the frames each call caused are counted once the wire has been quiet for
``QUIET`` seconds. :func:`exchange` is the one function every transport runs.
"""

from __future__ import annotations

import os
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from netlab.analysis.ip_packets import Packet, packets
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import CLIENT_PORT, SERVER_PORT, STEP_TIMEOUT
from netlab.kernel.capture import Capture, Frame
from netlab.kernel.tcp_info import socket_state
from netlab.lab import Host, Namespace, Wire
from netlab.model.tcp_states import TcpState
from netlab.proto.framing import Decoder, encode

UDP_PORT = 9000  # the UDP server's port
CLOSED_PORT = 9001  # nobody listens here
MESSAGES = (b"one", b"two", b"three")
"""The three messages every part of the experiment sends, in this order."""
QUIET = 0.02  # seconds without a frame on the wire: the call has caused all it will


@dataclass(frozen=True, kw_only=True)
class SystemCall:
    """One system call, what it returned, and what happened in the kernel and on the wire."""

    side: str
    """``"client"`` or ``"server"``."""
    text: str
    """The call as strace might print it, without the file descriptor (``connect(…)``)."""
    fd: int
    """The file descriptor the call acted on (for ``socket()`` and ``accept()``, the one
    returned)."""
    states: tuple[str, ...]
    """The TCP states after the call, of the client, the server's listening socket and the
    server's connection (``"-"`` where there is no socket); empty for UDP, which has none."""
    frames: int
    """Frames the wire forwarded between the call's start and the quiet after it."""
    start_ns: int
    end_ns: int
    error: OSError | None = None

    def strace(self) -> str:
        """The call with its descriptor, the way ``strace`` shows it."""
        name, _, rest = self.text.partition("(")
        if name == "socket":
            return f"{self.text} = {self.fd}"
        if name == "accept":
            return f"accept({self.listener_fd}) = {self.fd}"
        sep = ", " if rest and not rest.startswith(")") else ""
        return f"{name}({self.fd}{sep}{rest}"

    listener_fd: int = -1
    """The listening socket's descriptor, for ``accept()`` only."""


@dataclass(frozen=True, kw_only=True)
class StreamResult:
    """Three messages through TCP, raw and framed."""

    sent: tuple[bytes, ...]
    received: tuple[bytes, ...]
    """What each ``recv()`` returned, after all three sends were acknowledged."""
    framed_chunks: tuple[bytes, ...]
    """The framed stream as 5-byte ``recv()`` calls returned it."""
    framed_messages: tuple[bytes, ...]
    """The messages the :class:`~netlab.proto.framing.Decoder` recovered from those chunks."""
    client_port: int
    """The client's port of the unframed exchange's connection."""
    framed_port: int
    """The client's port of the framed exchange's connection (a connection of its own)."""


@dataclass(frozen=True, kw_only=True)
class Transport:
    """One run of :func:`exchange` over one address family and socket type."""

    family: str
    kind: str
    address: str
    received: tuple[bytes, ...]
    packets: tuple[Packet, ...]
    """What a capture on the namespace's loopback interface saw during the exchange."""

    @property
    def protocols(self) -> set[str]:
        return {p.protocol for p in self.packets}



class Recorder:
    """Makes one system call at a time and notes what it changed and what it sent."""

    def __init__(self, wire: Wire, states: Callable[[], tuple[str, ...]]) -> None:
        self.wire = wire
        self.states = states
        self.calls: list[SystemCall] = []
        # Start on a quiet wire: the segments that end the part before (a FIN, its ACK)
        # may still be crossing, and must not be counted as this part's first call.
        while not wire.idle(QUIET):
            pass

    def __call__(self, side: str, text: str, sock: socket.socket, fn: Callable[[], Any],
                 *, shows: Callable[[Any], str] | None = None, expect: int = 0,
                 **extra: Any) -> Any:
        """SystemCall ``fn``; wait for ``expect`` frames, then for the wire to be quiet.

        ``expect`` is only a lower bound on the wait, for replies the peer's kernel may
        delay (an ACK of a FIN waits for the delayed-ACK timer, 40 ms or more, RFC 1122
        §4.2.3.2); what is recorded is what the wire really forwarded.
        """
        fd = sock.fileno()
        start, before = time.time_ns(), self.wire.forwarded
        error: OSError | None = None
        try:
            value = fn()
        except OSError as exc:
            value, error = exc, exc
        deadline = time.monotonic() + STEP_TIMEOUT
        while self.wire.forwarded - before < expect and time.monotonic() < deadline:
            time.sleep(0.001)
        while not self.wire.idle(QUIET):
            pass
        if error is not None:
            text += f" = -1 {os.strerror(error.errno or 0)}"
        elif shows is not None:
            text += f" = {shows(value)}"
        if isinstance(value, socket.socket):
            fd = value.fileno()
        self.calls.append(SystemCall(side=side, text=text, fd=fd, states=self.states(),
                               frames=self.wire.forwarded - before, start_ns=start,
                               end_ns=time.time_ns(), error=error, **extra))
        return value


def new_socket(host: Host, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A socket that belongs to ``host``'s namespace (made by a thread inside it)."""
    s: socket.socket = host.run(socket.socket, socket.AF_INET, kind)
    s.settimeout(STEP_TIMEOUT)
    return s


def held_state(sock: socket.socket | None) -> str:
    if sock is None or sock.fileno() < 0:
        return "-"
    return socket_state(sock).name


def tcp_life(client: Host, server: Host, wire: Wire
              ) -> tuple[list[SystemCall], str, bool, list[socket.socket]]:
    """Part 1: one TCP connection, call by call."""
    held: dict[str, socket.socket | None] = {"client": None, "listening": None}
    conn: list[socket.socket] = []
    client_end = (client.address, CLIENT_PORT)

    def states() -> tuple[str, ...]:
        c_entries = {e.local: e.state for e in client.tcp_sockets()}
        s_entries = {e.remote: e.state for e in server.tcp_sockets()}
        c = c_entries.get(client_end)
        c_text = c.name if c is not None and c is not TcpState.CLOSED else held_state(
            held["client"])
        s = s_entries.get(client_end)
        return (c_text, held_state(held["listening"]), "-" if s is None else s.name)

    rec = Recorder(wire, states)
    opened: list[socket.socket] = []
    listener = new_socket(server)
    opened.append(listener)
    held["listening"] = listener
    # socket() itself ran in the namespace above; its row is recorded with no traffic.
    rec("server", "socket(AF_INET, SOCK_STREAM)", listener, lambda: None)
    fd_link = os.readlink(f"/proc/self/fd/{listener.fileno()}")
    fd_is_socket = stat.S_ISSOCK(os.fstat(listener.fileno()).st_mode)
    rec("server", f"bind({server.address}:{SERVER_PORT})", listener,
        lambda: listener.bind((server.address, SERVER_PORT)))
    rec("server", "listen(8)", listener, lambda: listener.listen(8))
    sock = new_socket(client)
    opened.append(sock)
    held["client"] = sock
    rec("client", "socket(AF_INET, SOCK_STREAM)", sock, lambda: None)
    rec("client", f"bind({client.address}:{CLIENT_PORT})", sock,
        lambda: sock.bind(client_end))
    rec("client", f"connect({server.address}:{SERVER_PORT})", sock,
        lambda: sock.connect((server.address, SERVER_PORT)), expect=3)
    new = rec("server", "accept()", listener, lambda: listener.accept()[0],
              listener_fd=listener.fileno())
    if not isinstance(new, socket.socket):
        raise ExperimentError(f"accept() failed: {new}")
    opened.append(new)
    conn.append(new)
    rec("client", "send(b'hello')", sock, lambda: sock.send(b"hello"), shows=str,
        expect=2)
    rec("server", "recv(1024)", new, lambda: new.recv(1024), shows=repr)
    rec("server", "send(b'HELLO')", new, lambda: new.send(b"HELLO"), shows=str,
        expect=2)
    rec("client", "recv(1024)", sock, lambda: sock.recv(1024), shows=repr)
    rec("client", "close()", sock, sock.close, expect=2)
    rec("server", "recv(1024)", new, lambda: new.recv(1024), shows=repr)
    rec("server", "close()", new, new.close, expect=2)
    rec("server", "close()", listener, listener.close)
    # socket() rows: the descriptor is what socket() returned.
    return rec.calls, fd_link, fd_is_socket, opened


def byte_stream(client: Host, server: Host, wire: Wire, listener: socket.socket
                 ) -> StreamResult:
    """Part 2: three sends, one recv; then, on a connection of its own, framed messages read
    in small chunks (each part has its own connection, so each table shows only its part)."""
    port = CLIENT_PORT + 1
    with connected(client, server, listener, port) as (sock, conn):
        for m in MESSAGES:
            sock.send(m)
            while not wire.idle(QUIET):  # sent and acknowledged before the next
                pass
        received = [conn.recv(4096)]
    with connected(client, server, listener, port + 1) as (sock, conn):
        for m in MESSAGES:
            sock.send(encode(m))
            while not wire.idle(QUIET):
                pass
        decoder = Decoder()
        chunks: list[bytes] = []
        messages: list[bytes] = []
        while len(messages) < len(MESSAGES):
            chunk = conn.recv(5)
            chunks.append(chunk)
            messages += decoder.feed(chunk)
        sock.close()
        if conn.recv(5) != b"":
            raise ExperimentError("more bytes than the three frames")
        decoder.close()
    while not wire.idle(QUIET):  # both connections' FINs and ACKs crossed
        pass
    return StreamResult(sent=MESSAGES, received=tuple(received), framed_chunks=tuple(chunks),
                        framed_messages=tuple(messages), client_port=port, framed_port=port + 1)


@contextmanager
def connected(client: Host, server: Host, listener: socket.socket, port: int
               ) -> Iterator[tuple[socket.socket, socket.socket]]:
    """A client socket bound to ``port``, connected, and the server's accepted socket."""
    sock = new_socket(client)
    try:
        sock.bind((client.address, port))
        sock.connect((server.address, SERVER_PORT))
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(STEP_TIMEOUT)
            yield sock, conn
            sock.close()
    finally:
        sock.close()


def udp_calls(client: Host, server: Host, wire: Wire) -> tuple[list[SystemCall], OSError]:
    """Part 3: datagrams, and a port where nobody listens."""
    rec = Recorder(wire, lambda: ())
    srv, cli = new_socket(server, socket.SOCK_DGRAM), new_socket(client, socket.SOCK_DGRAM)
    lone = new_socket(client, socket.SOCK_DGRAM)
    dst = (server.address, UDP_PORT)
    try:
        rec("server", "socket(AF_INET, SOCK_DGRAM)", srv, lambda: None)
        rec("server", f"bind({server.address}:{UDP_PORT})", srv, lambda: srv.bind(dst))
        rec("client", "socket(AF_INET, SOCK_DGRAM)", cli, lambda: None)
        rec("client", f"bind({client.address}:{CLIENT_PORT})", cli,
            lambda: cli.bind((client.address, CLIENT_PORT)))
        for m in MESSAGES:
            rec("client", f"sendto({m!r}, {server.address}:{UDP_PORT})", cli,
                partial(cli.sendto, m, dst), shows=str, expect=1)
        peer: list[tuple[str, int]] = []

        def recvfrom() -> bytes:
            data, addr = srv.recvfrom(1024)
            peer.append(addr)
            return data

        for _ in MESSAGES:
            rec("server", "recvfrom(1024)", srv, recvfrom, shows=repr)
        rec("server", f"sendto(b'ok', {peer[0][0]}:{peer[0][1]})", srv,
            lambda: srv.sendto(b"ok", peer[0]), shows=str, expect=1)
        rec("client", "recvfrom(1024)", cli, lambda: cli.recvfrom(1024)[0], shows=repr)
        rec("client", "close()", cli, cli.close)
        rec("server", "close()", srv, srv.close)
        rec("client", "socket(AF_INET, SOCK_DGRAM)", lone, lambda: None)
        rec("client", f"bind({client.address}:{CLIENT_PORT + 1})", lone,
            lambda: lone.bind((client.address, CLIENT_PORT + 1)))
        rec("client", f"connect({server.address}:{CLOSED_PORT})", lone,
            lambda: lone.connect((server.address, CLOSED_PORT)))
        rec("client", "send(b'anyone?')", lone, lambda: lone.send(b"anyone?"),
            shows=str, expect=2)
        refused = rec("client", "recv(1024)", lone, lambda: lone.recv(1024))
        if not isinstance(refused, OSError):
            raise ExperimentError(f"recv() on a refused UDP socket returned {refused!r}")
        rec("client", "close()", lone, lone.close)
    finally:
        for s in (srv, cli, lone):
            s.close()
    return rec.calls, refused


def exchange(family: socket.AddressFamily, kind: socket.SocketKind, address: Any
             ) -> list[bytes]:
    """Send three messages through a socket of any family and type; return what each
    ``recv()`` returned. The same code, whatever the transport."""
    with socket.socket(family, kind) as server, socket.socket(family, kind) as client:
        server.bind(address)
        if kind == socket.SOCK_STREAM:
            server.listen()
        client.connect(server.getsockname())
        peer = server.accept()[0] if kind == socket.SOCK_STREAM else server
        for message in MESSAGES:
            client.send(message)
        time.sleep(QUIET)  # let everything arrive before the first recv()
        peer.setblocking(False)
        received = []
        while True:
            try:
                received.append(peer.recv(4096))
            except BlockingIOError:
                break
        peer.close()
        return received


def compare_transports() -> list[Transport]:
    """Part 4: :func:`exchange` over six transports, captured on loopback."""
    out = []
    with Namespace("transports", ipv6=True) as ns, tempfile.TemporaryDirectory() as tmp:
        cases: list[tuple[socket.AddressFamily, socket.SocketKind, Any, str]] = []
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            cases += [(socket.AF_INET, kind, ("127.0.0.1", 0), "127.0.0.1"),
                      (socket.AF_INET6, kind, ("::1", 0), "::1")]
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            name = "stream" if kind == socket.SOCK_STREAM else "dgram"
            path = os.path.join(tmp, f"{name}.sock")
            cases.append((socket.AF_UNIX, kind, path, f"<tmp>/{name}.sock"))
        for family, kind, address, shown in cases:
            cap = Capture(ns, "lo", host="lo")
            try:
                received = ns.run(exchange, family, kind, address)
            finally:
                frames: list[Frame] = cap.stop()
            out.append(Transport(family=family.name, kind=kind.name, address=shown,
                                 received=tuple(received), packets=packets(frames)))
    return out
