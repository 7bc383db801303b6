"""Closing TCP connections: the four-way teardown, half-close, TIME_WAIT, CLOSE_WAIT and RST.

The lab of :mod:`netlab.experiments.tcp.handshake` again: ``client`` (192.0.2.1) and
``server`` (192.0.2.2) joined through a :class:`~netlab.kernel.wire.Wire` that can hold each
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
RFC 9293's state diagram (:data:`netlab.model.tcp_states.RULES`) by
:class:`~netlab.analysis.timeline.Timeline`.

States are read from the kernel's table of TCP sockets in each host's namespace, one socket
at a time (``sock_diag``, which ``ss`` uses too; :mod:`netlab.kernel.sockdiag`): the only view that
still shows a socket after its program has closed it, as a closed socket has no descriptor
left for ``TCP_INFO``. A connection missing from the table is CLOSED: the kernel has
forgotten it. Timers are read from ``/proc/net/tcp`` (:func:`netlab.kernel.tcp_info.tcp_timers`).

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
>>> [fact.name for fact in result.facts() if not fact.holds]
[]
"""


from __future__ import annotations

import socket
import struct
import time

from netlab.analysis.trace import Endpoint
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import SERVER_PORT as SERVER_PORT  # for the page
from netlab.experiments.endpoints import STEP_TIMEOUT, client_socket
from netlab.experiments.replay import replayable
from netlab.experiments.tcp._teardown_bench import (
    ABORT_PORT,
    CHUNKS,
    CLOSE_ON_EOF_PORT,
    CLOSE_WAIT_PORTS,
    HALF_CLOSE_PORT,
    LOST_ACK_PORT,
    ORDERLY_PORT,
    RESTART_PORTS,
    SIMULTANEOUS_PORT,
    UNREAD_PORT,
    Bench,
    find_entry,
    listen_on,
    read_fin_timeout,
    read_until_error,
    recv_exactly,
    ss_line,
    timers_of,
    try_bind,
)
from netlab.experiments.tcp._teardown_results import (
    Abort,
    Close,
    CloseWait,
    HalfClose,
    LostAck,
    Orderly,
    Restart,
    TeardownResult,
)
from netlab.i18n import N_
from netlab.kernel.tcp_info import socket_state
from netlab.lab import Lab
from netlab.model.tcp_states import Event, TcpState

__all__ = [
    "teardown", "TeardownResult", "Close", "Orderly", "HalfClose", "LostAck", "CloseWait",
    "Abort", "Restart",
]
# The lab's layout (ports, timeout, the half-close's chunks) and the stepping bench live in
# netlab.experiments.tcp._teardown_bench, the result classes in
# netlab.experiments.tcp._teardown_results;
# the page and the tests import them from here (CHUNKS, CLOSE_WAIT_PORTS, Close, ...).


# ---------------------------------------------------------------------------------------
# The experiments, one function per connection


def _orderly(bench: Bench) -> Orderly:
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
        found = find_entry(timers_of(bench.client), conn.client_end, conn.server_end)
        ss = ss_line(bench.client, conn.client_end)
    if found is None:
        raise ExperimentError("the client's TIME_WAIT socket was not listed")
    return Orderly(**conn.record(cap.trace, name="orderly", title=(
        N_("Orderly close: the passive side closes later (four segments)"))),
        time_wait=found[1], ss=ss)


def _half_close(bench: Bench) -> HalfClose:
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
            received.append(recv_exactly(conn.sock, len(chunk)))
        bench.quiet(conn)
        conn.snap(N_("server reads EOF, then sends 3 chunks; client reads them"))
        bench.wire.mode = "step"
        conn.call("server", "close()", Event.CLOSE, conn.peer.close)
        conn.deliver()  # FIN → client: TIME_WAIT
        conn.deliver()  # ACK → server: CLOSED
        client_eof = conn.sock.recv(100)
    return HalfClose(**conn.record(cap.trace, name="half_close", title=(
        N_("Half-close: data still flows after the client's FIN"))),
        eof=eof, received=tuple(received), client_eof=client_eof)


def _close_on_eof(bench: Bench) -> Close:
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
        task.result(STEP_TIMEOUT)
    return Close(**conn.record(cap.trace, name="close_on_eof", title=(
        N_("The server closes on EOF: its FIN rides on the ACK (three segments)"))))


def _simultaneous(bench: Bench) -> Close:
    with bench.lab.capture(bench.client, bench.server) as cap:
        conn = bench.open(SIMULTANEOUS_PORT)
        assert conn.peer is not None
        conn.call("client", "close()", Event.CLOSE, conn.sock.close)
        bench.wire.wait_held(1, STEP_TIMEOUT)  # the client's FIN waits on the wire...
        conn.call("server", "close()", Event.CLOSE, conn.peer.close)
        bench.wire.wait_held(2, STEP_TIMEOUT)  # ...when the server's FIN joins it
        conn.deliver(reply=True)  # the client's FIN → server: CLOSING, and its ACK
        conn.deliver(reply=True)  # the server's FIN → client: CLOSING, and its ACK
        conn.deliver()  # the server's ACK → client: TIME_WAIT
        conn.deliver()  # the client's ACK → server: TIME_WAIT
    return Close(**conn.record(cap.trace, name="simultaneous", title=(
        N_("Simultaneous close: both sides pass through CLOSING"))))


def _lost_ack(bench: Bench) -> LostAck:
    wire = bench.wire
    with bench.lab.capture(bench.client, bench.server) as cap:
        conn = bench.open(LOST_ACK_PORT)
        assert conn.peer is not None
        conn.call("client", "close()", Event.CLOSE, conn.sock.close)
        conn.deliver()
        conn.deliver()
        conn.call("server", "close()", Event.CLOSE, conn.peer.close)
        wire.wait_held(1, STEP_TIMEOUT)
        dropped = wire.dropped
        wire.mode = "drop"  # what the client answers to the FIN is lost
        conn.deliver(snap=False)
        bench.wait_for("the client's ACK to be dropped", lambda: wire.dropped > dropped)
        wire.mode = "step"
        conn.note(N_("the wire loses the client's ACK"))
        conn.snap()
        wire.wait_held(1, STEP_TIMEOUT)  # the server's FIN, sent again after its RTO
        before = find_entry(timers_of(bench.client), conn.client_end, conn.server_end)
        conn.deliver(reply=True, again=True)  # the client, in TIME_WAIT, answers it
        after = find_entry(timers_of(bench.client), conn.client_end, conn.server_end)
        conn.deliver()  # the client's second ACK → server: CLOSED
    assert cap.trace is not None
    if before is None or after is None:
        raise ExperimentError("the client's TIME_WAIT socket was not listed")
    lost = [s for s in cap.trace.connection(port=LOST_ACK_PORT).segments
            if s.sent_by == "client" and s.received_ns is None]
    if len(lost) != 1:
        raise ExperimentError(f"expected one lost segment, found {len(lost)}")
    return LostAck(**conn.record(cap.trace, name="lost_ack", title=(
        N_("The last ACK is lost: TIME_WAIT answers the repeated FIN"))),
        dropped=lost[0], timer_before=before[1], timer_after=after[1])


def _close_wait(bench: Bench) -> CloseWait:
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
        servers = [(e, t) for e, t in timers_of(bench.server) if e.local == conn.server_end
                   and (e.state is TcpState.LISTEN or e.remote[1] in CLOSE_WAIT_PORTS)]
        clients = [(e, t) for e, t in timers_of(bench.client) if e.local[1] in CLOSE_WAIT_PORTS]
        fin_timeout = bench.client.run(read_fin_timeout)
    return CloseWait(**conn.record(cap.trace, name="close_wait", title=(
        N_("A server that never closes: CLOSE_WAIT"))),
        server_sockets=tuple(sorted(servers, key=lambda e: e[0].remote)),
        client_sockets=tuple(sorted(clients, key=lambda e: e[0].local)),
        fin_timeout=fin_timeout)


def _abort(bench: Bench, *, unread: bool) -> Abort:
    port = UNREAD_PORT if unread else ABORT_PORT
    with bench.lab.capture(bench.client, bench.server) as cap:
        conn = bench.open(port)
        peer = conn.peer
        assert peer is not None
        if unread:
            bench.wire.mode = "pass"
            peer.sendall(b"data nobody reads\n")
            bench.quiet(conn)
            conn.snap(N_("server sends data; client never reads it"))
            bench.wire.mode = "step"
        else:
            linger = struct.pack("ii", 1, 0)  # struct linger {l_onoff = 1, l_linger = 0}
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            conn.note(N_("client sets SO_LINGER to {on, 0 s}"))
        task = bench.server.start(read_until_error, peer)
        conn.call("client", "close()", Event.ABORT, conn.sock.close)
        conn.deliver()  # RST → server: CLOSED
        error = task.result(STEP_TIMEOUT)
        fd_state = socket_state(peer)
    name, title = (("unread", N_("close() with unread data sends RST")) if unread else
                   ("abort", N_("Abortive close: SO_LINGER 0 sends RST")))
    return Abort(**conn.record(cap.trace, name=name, title=title), error=error,
                 server_fd_state=fd_state)


def _restarts(bench: Bench) -> tuple[Restart, ...]:
    """A server closes first (so its side keeps the TIME_WAIT), then restarts."""
    rows = []
    bench.wire.mode = "pass"
    server, client = bench.server, bench.client
    for (port, client_port), old in zip(RESTART_PORTS, (False, True), strict=True):
        listener = bench.keep(server.run(listen_on, server.address, port, old))
        sock = bench.keep(client.run(client_socket, client.address, client_port))
        sock.settimeout(STEP_TIMEOUT)
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
                                error=server.run(try_bind, server.address, port, new)))
    bench.wire.mode = "step"
    return tuple(rows)


@replayable
def teardown() -> TeardownResult:
    """Run the experiment (about a second, a fifth of it waiting for a retransmitted FIN)."""
    start = time.monotonic()
    with Lab() as lab:
        bench = Bench(lab)
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
