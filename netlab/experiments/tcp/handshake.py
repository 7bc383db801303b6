"""The TCP three-way handshake, in slow motion, with both kernels' states between segments.

Two hosts, ``client`` (192.0.2.1) and ``server`` (192.0.2.2), in network namespaces of
their own, are joined through a :class:`~netlab.kernel.wire.Wire` in ``step`` mode: every
frame waits on the wire until the experiment has read the TCP state of both sides, then
goes on. Captures run on both hosts' interfaces, so each segment is seen leaving one host
and arriving at the other.

Three connections are made, each from its own client port:

1. port 40000 → 8080, where a server listens: the handshake itself (SYN, SYN-ACK, ACK);
   then, and only then, the server calls ``accept()``;
2. port 40001 → 8081, where nobody listens: the server's kernel answers with RST;
3. port 40002 → 8080 with the wire cutting every frame: the SYN gets no answer, the
   client stays in SYN_SENT and retransmits its SYN after the initial retransmission
   timeout of one second (RFC 6298 §2.1).

Everything but the times and the raw numbers is the same on every run (needs root):

>>> from netlab.experiments import handshake
>>> result = handshake()
>>> print(result.table(absolute=False, options=False))  # doctest: +ELLIPSIS
#  time (ms)  direction        flags     seq  ack  len    win
1      0.000  client → server  SYN         0    -    0  64240
2 ... server → client  SYN, ACK    0    1    0  65160
3 ... client → server  ACK         1    1    0  64512
>>> print(result.snapshot_table())
moment                                  client       server       accept queue
socket() and bind() done                CLOSED       LISTEN                  0
SYN on the wire                         SYN_SENT     LISTEN                  0
SYN-ACK on the wire                     SYN_SENT     SYN_RECV                0
ACK on the wire                         ESTABLISHED  SYN_RECV                0
ACK delivered, accept() not yet called  ESTABLISHED  ESTABLISHED             1
accept() returned                       ESTABLISHED  ESTABLISHED             0
>>> [fact.name for fact in result.facts() if not fact.holds]
[]
"""

from __future__ import annotations

import errno
import time
from dataclasses import dataclass, field

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Connection, Trace
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import (
    CLIENT_PORT,
    SERVER_PORT,
    STEP_TIMEOUT,
    client_socket,
    listening_socket,
)
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import N_, tr
from netlab.kernel.sockdiag import SockDiag
from netlab.kernel.tcp_info import socket_state
from netlab.lab import Lab
from netlab.model.moments import Moment, StatesAt
from netlab.model.tcp_states import TcpState
from netlab.views import Ladder, Table
from netlab.views.moments import moment_text
from netlab.views.table import Grid

__all__ = ["handshake", "HandshakeResult", "Negotiation", "Fact"]

CLOSED_PORT = 8081  # nobody listens here
UNANSWERED_WAIT = 1.5  # seconds: long enough to see the SYN retransmitted after 1 s
RTO_BOUNDS = (0.9, UNANSWERED_WAIT)
"""Seconds within which the unanswered SYN is sent again: the initial retransmission timeout
is 1 s (RFC 6298 §2.1); a busy machine can only delay the timer, and a retransmission after
UNANSWERED_WAIT would not be captured at all. Measured with
``benchmarks/timing_spread.py --runs 6 --only handshake`` on the 2-core build machine: 1.011-1.035 s
idle, 1.001-1.031 s with two CPU-bound processes beside it (``--busy 2``)."""


@dataclass(frozen=True, kw_only=True)
class Negotiation:
    """What the SYN and the SYN-ACK agree on through their options (RFC 9293 §3.2, RFC 7323)."""

    mss: tuple[int | None, int | None]
    """Each side's maximum segment size, the largest payload it is willing to receive."""
    window_scale: tuple[int | None, int | None]
    """Each side's window scale shift; used only if both sides send it (RFC 7323 §2.2)."""
    sack: bool
    """Selective acknowledgments are on (RFC 2018), since both sides sent SACK_PERM."""
    timestamps: bool
    """Both sent the timestamps option (RFC 7323 §3)."""

    def grid(self) -> Grid:
        """The negotiation as a table: option, client's value, server's value, in effect."""
        c_ws, s_ws = self.window_scale
        yes, no = tr("yes"), tr("no")
        scaling = c_ws is not None and s_ws is not None
        return Grid([
            [tr("option"), tr("client (SYN)"), tr("server (SYN-ACK)"), tr("in effect")],
            ["MSS", str(self.mss[0]), str(self.mss[1]), tr("each side's own value")],
            [tr("window scale"), str(c_ws), str(s_ws), yes if scaling else no],
            [tr("SACK permitted"), *([yes, yes] if self.sack else ["?", "?"]),
             yes if self.sack else no],
            [tr("timestamps"), *([yes, yes] if self.timestamps else ["?", "?"]),
             yes if self.timestamps else no],
        ])

    def __str__(self) -> str:
        return str(self.grid())

    def _repr_html_(self) -> str:
        return self.grid()._repr_html_()


@dataclass(frozen=True, kw_only=True)
class HandshakeResult:
    """Everything the handshake chapter shows, from one run."""

    trace: Trace
    """All three connections, merged from the client's and the server's captures."""
    snapshots: tuple[StatesAt, ...]
    """Both sides' states between the segments of the first connection."""
    segments_before_connect: int
    """Segments on the wire after socket() and bind(), before connect()."""
    segments_during_accept: int
    """Segments on the wire while the server called accept()."""
    refused: OSError
    """What connect() raised for the port with no listener."""
    unanswered_states: tuple[TcpState, ...]
    """The client's state while its SYN went unanswered (sampled after each SYN)."""
    unanswered: OSError
    """What connect() raised when it gave up waiting."""
    pcap_host: str = field(default="client")
    keylog: None = None  # no TLS in this experiment

    @property
    def connection(self) -> Connection:
        """The connection whose handshake completed (client port 40000)."""
        return self.trace.connection(port=CLIENT_PORT)

    @property
    def refused_connection(self) -> Connection:
        return self.trace.connection(port=CLIENT_PORT + 1)

    @property
    def unanswered_connection(self) -> Connection:
        return self.trace.connection(port=CLIENT_PORT + 2)

    @property
    def segments(self) -> tuple[Segment, Segment, Segment]:
        """The SYN, SYN-ACK and ACK."""
        return self.connection.handshake()

    def table(self, *, absolute: bool = True, options: bool = True) -> Table:
        """The handshake as a table."""
        return Table(self.trace.only(self.connection), absolute=absolute, options=options)

    def states(self) -> tuple[StatesAt, ...]:
        """Both kernels' states at each moment, for a ladder diagram."""
        return self.snapshots

    def ladder(self) -> Ladder:
        """The handshake as a ladder diagram, with both sides' kernel states."""
        return Ladder(self.trace.only(self.connection), states=self.states(),
                      title=tr("TCP three-way handshake, captured on client and server"))

    def negotiation(self) -> Negotiation:
        syn, synack, _ = self.segments
        both = (syn, synack)
        return Negotiation(
            mss=(syn.option("MSS"), synack.option("MSS")),
            window_scale=(syn.option("WS"), synack.option("WS")),
            sack=all(s.option("SACK_PERM") for s in both),
            timestamps=all(s.option("TS") for s in both),
        )

    def snapshot_table(self) -> Grid:
        """Both kernels' states at each moment, as a table."""
        rows = [[tr("moment"), tr("client"), tr("server"), tr("accept queue")]]
        rows += [[moment_text(s.moment), s.client.name, s.server.name, str(s.accept_queue)]
                 for s in self.snapshots]
        return Grid(rows, right={tr("accept queue")})

    def retransmission_delay(self) -> float:
        """Seconds between the unanswered SYN and its first retransmission."""
        syns = [s for s in self.unanswered_connection.segments if s.has("SYN")]
        if len(syns) < 2:
            raise ExperimentError("the unanswered SYN was not retransmitted")
        return (syns[1].time_ns - syns[0].time_ns) / 1e9

    def facts(self) -> list[Fact]:
        """The chapter's claims, each checked on this run's data."""
        syn, synack, ack = self.segments
        conn = self.connection
        rst = [s for s in self.refused_connection.segments if s.has("RST")]
        refused_syn = self.refused_connection.syn()
        unanswered = [s for s in self.unanswered_connection.segments]
        last = self.snapshots[-1]
        before_accept = next(s for s in self.snapshots if str(s.moment).startswith("ACK delivered"))
        retrans = self.retransmission_delay()
        nego = self.negotiation()
        shift = nego.window_scale[0]
        return [
            Fact(name="handshake-connect-starts",
                 text=tr("connect() is what starts the handshake"),
                 holds=self.segments_before_connect == 0 and syn.number == conn.segments[0].number,
                 evidence=f"{self.segments_before_connect} segments before connect(); "
                          "the first one after it is the SYN"),
            Fact(name="synack-acks-isn",
                 text=tr("the SYN-ACK acknowledges the client's ISN + 1"),
                 holds=synack.ack == (syn.seq + 1) % 2**32
                 and conn.relative_seq(syn) == 0 and conn.relative_ack(synack) == 1,
                 evidence=f"SYN seq={syn.seq}, SYN-ACK ack={synack.ack}"),
            Fact(name="ack-acks-isn",
                 text=tr("the final ACK acknowledges the server's ISN + 1"),
                 holds=ack.ack == (synack.seq + 1) % 2**32 and ack.seq == (syn.seq + 1) % 2**32,
                 evidence=f"SYN-ACK seq={synack.seq}, ACK ack={ack.ack}"),
            Fact(name="handshake-no-data",
                 text=tr("the handshake carries no data"),
                 holds=syn.length == synack.length == ack.length == 0
                 and [s.number for s in conn.segments[:3]]
                 == [syn.number, synack.number, ack.number],
                 evidence=f"payload lengths {syn.length}, {synack.length}, {ack.length}"),
            Fact(name="kernel-completes-handshake",
                 text=tr("the kernel completes the handshake before accept() is called"),
                 holds=before_accept.server is TcpState.ESTABLISHED
                 and before_accept.accept_queue == 1 and self.segments_during_accept == 0,
                 evidence=f"server {before_accept.server.name} with "
                          f"{before_accept.accept_queue} connection in the accept queue before "
                          f"accept(); {self.segments_during_accept} segments during accept()"),
            Fact(name="handshake-states",
                 text=tr("client: CLOSED → SYN_SENT → ESTABLISHED; "
                      "server: LISTEN → SYN_RECV → ESTABLISHED"),
                 holds=_distinct(s.client for s in self.snapshots)
                 == [TcpState.CLOSED, TcpState.SYN_SENT, TcpState.ESTABLISHED]
                 and _distinct(s.server for s in self.snapshots)
                 == [TcpState.LISTEN, TcpState.SYN_RECV, TcpState.ESTABLISHED]
                 and last.client is last.server is TcpState.ESTABLISHED
                 and [(s.client, s.server) for s in self.snapshots[1:4]] == [
                     (TcpState.SYN_SENT, TcpState.LISTEN),
                     (TcpState.SYN_SENT, TcpState.SYN_RECV),
                     (TcpState.ESTABLISHED, TcpState.SYN_RECV)],
                 evidence="; ".join(f"{s.client.name}/{s.server.name}" for s in self.snapshots)),
            Fact(name="refused-rst",
                 text=tr("a SYN to a port with no listener is answered by RST "
                      "(ConnectionRefusedError)"),
                 holds=isinstance(self.refused, ConnectionRefusedError) and len(rst) == 1
                 and rst[0].has("RST", "ACK") and rst[0].length == 0
                 and rst[0].ack == (refused_syn.seq + 1) % 2**32,
                 evidence=f"{type(self.refused).__name__}: {self.refused.strerror}; "
                          f"reply [{rst[0].flags_text if rst else 'none'}]"),
            Fact(name="unanswered-syn",
                 text=tr("a SYN that gets no answer leaves the client in SYN_SENT, retransmitting"),
                 holds=set(self.unanswered_states) == {TcpState.SYN_SENT}
                 and all(s.is_syn for s in unanswered)
                 and len(unanswered) == 2 and isinstance(self.unanswered, TimeoutError)
                 and len({s.seq for s in unanswered}) == 1
                 and RTO_BOUNDS[0] < retrans < RTO_BOUNDS[1],
                 evidence=f"{len(unanswered)} SYNs with the same seq, the second "
                          f"{retrans:.3f} s after the first; "
                          f"{type(self.unanswered).__name__} after {UNANSWERED_WAIT} s"),
            Fact(name="handshake-options",
                 text=tr("both sides announce an MSS of 1460 bytes, window scaling, SACK and "
                         "timestamps in the SYN and the SYN-ACK"),
                 holds=nego.mss == (1460, 1460) and None not in nego.window_scale
                 and nego.sack and nego.timestamps and ack.option("WS") is None,
                 evidence=f"MSS {nego.mss}, window scale {nego.window_scale}, SACK "
                          f"{nego.sack}, timestamps {nego.timestamps}"),
            Fact(name="window-scale-after-syn",
                 text=tr("the windows of the SYN and the SYN-ACK are not scaled; the final "
                         "ACK's raw window times 2 to the shift is the window it offers"),
                 holds=conn.window(syn) == syn.window and shift is not None
                 and conn.window(ack) == ack.window << shift and ack.window < syn.window,
                 evidence=f"SYN window {syn.window}; final ACK: raw {ack.window} × 2**{shift} "
                          f"= {conn.window(ack)} bytes"),
        ]

    def report(self) -> str:
        """Everything, as text for a terminal."""
        facts = checklist(self.facts())
        return (
            f"Three-way handshake (client 192.0.2.1:{CLIENT_PORT} → server "
            f"192.0.2.2:{SERVER_PORT})\n\n{self.table()}\n\n"
            f"Kernel states between segments\n\n{self.snapshot_table()}\n\n"
            f"Negotiated in the SYN and SYN-ACK\n\n{self.negotiation()}\n\n"
            f"All three connections\n\n{Table(self.trace, absolute=False, options=False)}\n\n"
            f"Facts\n\n{facts}"
        )


def _distinct(states: object) -> list[TcpState]:
    out: list[TcpState] = []
    for s in states:  # type: ignore[attr-defined]
        if not out or out[-1] is not s:
            out.append(s)
    return out


def _server_side(diag: SockDiag, server_end: tuple[str, int], client_end: tuple[str, int]
                 ) -> tuple[TcpState, int]:
    """The server's state for the connection from ``client_end``, and its accept queue.

    LISTEN while the server's kernel has no socket for the connection: the listener is the
    socket that answers its segments. The state is read before the queue: the kernel puts
    a connection in the accept queue before it makes it ESTABLISHED (``tcp_check_req()``
    queues the new socket, then ``tcp_child_process()`` moves it on from SYN_RECV).
    """
    entry = diag.lookup(server_end, client_end)
    listener = diag.listener(server_end)
    return (TcpState.LISTEN if entry is None else entry.state,
            0 if listener is None else listener.rx_queue)


@replayable
def handshake() -> HandshakeResult:
    """Run the experiment (about 2 s, most of it waiting for a SYN retransmission)."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        link = lab.link(client, server, wire="step")
        wire = link.wire
        assert wire is not None
        listener = server.run(listening_socket, server.address, SERVER_PORT, timeout=STEP_TIMEOUT)
        sockets = [listener]
        snapshots: list[StatesAt] = []
        try:
            with server.run(SockDiag) as diag, lab.capture(client, server) as cap:
                sock = client.run(client_socket, client.address, CLIENT_PORT)
                sockets.append(sock)
                end = (client.address, CLIENT_PORT)

                def snap(moment: str) -> StatesAt:
                    state, queue = _server_side(diag, listener.getsockname(), end)
                    s = StatesAt(moment=Moment.of(moment), client=socket_state(sock),
                                 server=state, accept_queue=queue, timestamp_ns=time.time_ns())
                    snapshots.append(s)
                    return s

                snap(N_("socket() and bind() done"))
                before_connect = wire.forwarded + wire.held()
                sock.setblocking(False)
                code = sock.connect_ex((server.address, SERVER_PORT))
                if code != errno.EINPROGRESS:
                    raise ExperimentError(
                        f"non-blocking connect() returned {errno.errorcode[code]}")
                wire.wait_held(1, STEP_TIMEOUT)
                snap(N_("SYN on the wire"))
                for moment in (N_("SYN-ACK on the wire"), N_("ACK on the wire")):
                    wire.release()
                    wire.wait_held(1, STEP_TIMEOUT)
                    snap(moment)
                wire.release()
                deadline = time.monotonic() + STEP_TIMEOUT
                waiting = N_("ACK delivered, accept() not yet called")
                while snap(waiting).server is not TcpState.ESTABLISHED:
                    if time.monotonic() > deadline:
                        raise ExperimentError("the server never reached ESTABLISHED")
                    snapshots.pop()
                    time.sleep(0.001)
                wire.mode = "pass"
                before_accept = wire.forwarded
                conn, _ = listener.accept()
                sockets.append(conn)
                wire.idle()
                during_accept = wire.forwarded - before_accept
                snap(N_("accept() returned"))

                refused_sock = client.run(client_socket, client.address, CLIENT_PORT + 1)
                sockets.append(refused_sock)
                refused_sock.settimeout(STEP_TIMEOUT)
                try:
                    refused_sock.connect((server.address, CLOSED_PORT))
                    raise ExperimentError(f"something listens on port {CLOSED_PORT}")
                except ConnectionRefusedError as exc:
                    refused: OSError = exc

                wire.mode = "drop"
                lone = client.run(client_socket, client.address, CLIENT_PORT + 2)
                sockets.append(lone)
                lone.settimeout(UNANSWERED_WAIT)
                task = client.start(lone.connect, (server.address, SERVER_PORT))
                samples = []
                for n in (1, 2):
                    deadline = time.monotonic() + STEP_TIMEOUT
                    while wire.dropped < n and time.monotonic() < deadline:
                        time.sleep(0.005)
                    samples.append(socket_state(lone))
                try:
                    task.result(UNANSWERED_WAIT + STEP_TIMEOUT)
                    raise ExperimentError("connect() succeeded through a wire that drops all")
                except TimeoutError as exc:
                    unanswered: OSError = exc
        finally:
            for s in sockets:
                s.close()
        assert cap.trace is not None
        return HandshakeResult(
            trace=cap.trace,
            snapshots=tuple(snapshots),
            segments_before_connect=before_connect,
            segments_during_accept=during_accept,
            refused=refused,
            unanswered_states=tuple(samples),
            unanswered=unanswered,
        )
