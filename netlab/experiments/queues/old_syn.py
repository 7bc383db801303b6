"""Why three segments, not two: an old duplicate SYN, answered and refused.

RFC 9293 §3.5: "The principal reason for the three-way handshake is to prevent old
duplicate connection initiations from causing confusion." Its Figure 8 shows one: a SYN
from an earlier attempt, delayed in the network, reaches the server while the client is
opening a new connection between the same ports. The server cannot tell it is old, and
answers it. Only the client can, because the SYN-ACK acknowledges a sequence number it is
no longer using, and it answers with RST ("If the connection is in any non-synchronized
state (LISTEN, SYN-SENT, SYN-RECEIVED), and the incoming segment acknowledges something
not yet sent ..., a reset is sent", §3.5.2).

The wire plays the network that delays the old SYN:

1. the client's first attempt from port 40000: the wire loses its SYN and keeps it
   (:meth:`~netlab.kernel.wire.Wire.drop_if`); the client gives up after 0.3 s;
2. the client tries again from the same port, with a new initial sequence number; the
   wire holds this SYN back too, and delivers the old one instead
   (:meth:`~netlab.kernel.wire.Wire.inject`), then steps segment by segment so both
   kernels can be read in between;
3. the client sends its new SYN again at once, not after the usual second: when a
   SYN-ACK acknowledges something it never sent, Linux rearms its retransmission timer at
   its minimum ("Previous FIN/ACK or RST/ACK might be ignored", in
   ``tcp_rcv_synsent_state_process()``). That SYN opens the real connection.

With two segments, the server would have opened a connection at step 2 on the strength of
the old SYN alone; and its own sequence number would never have been confirmed, since
only the third segment acknowledges it.
"""

from __future__ import annotations

import errno
import time
from dataclasses import dataclass, field

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Trace
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import (
    CLIENT_PORT,
    SERVER_PORT,
    STEP_TIMEOUT,
    TIMEOUT,
    client_socket,
    listening_socket,
)
from netlab.experiments.queues._frames import Dropper
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import N_, tr
from netlab.kernel.sockdiag import SockDiag
from netlab.kernel.tcp_info import socket_state
from netlab.lab import Lab
from netlab.model.moments import Moment, StatesAt
from netlab.model.tcp_states import TcpState
from netlab.views import Table
from netlab.views.moments import moment_text
from netlab.views.table import Grid

__all__ = ["old_duplicate_syn", "OldSynResult"]

RESEND_AT_ONCE = 0.2
"""Seconds within which the client resends its new SYN after the RST: "at once" against the
1 s initial retransmission timeout (RFC 6298) it would otherwise wait."""
GIVE_UP = 0.3  # seconds: the first attempt's connect() timeout, before its SYN is resent


@dataclass(frozen=True, kw_only=True)
class OldSynResult:
    """The old SYN's story, the real connection after it, and the capture of both."""

    trace: Trace
    old_isn: int
    """The first attempt's initial sequence number (the old SYN's seq)."""
    new_isn: int
    """The second attempt's."""
    moments: tuple[StatesAt, ...]
    accepted_peer: tuple[str, int]
    """What accept() returned, once the real connection was open."""
    accepted: int
    """How many connections accept() handed over in all."""
    pcap_host: str = field(default="server")
    keylog: None = None

    def segments(self) -> tuple[Segment, ...]:
        return self.trace.connection(port=CLIENT_PORT).segments

    def old_syn_reply(self) -> tuple[Segment, Segment]:
        """The server's SYN-ACK to the old SYN, and the client's RST."""
        segs = self.segments()
        synack = next(s for s in segs if s.has("SYN", "ACK"))
        rst = next(s for s in segs if s.has("RST"))
        return synack, rst

    def real_handshake(self) -> tuple[Segment, Segment, Segment]:
        """The SYN, SYN-ACK and ACK of the connection that opened."""
        segs = self.segments()
        synacks = [s for s in segs if s.has("SYN", "ACK")]
        synack = synacks[-1]
        syn = next(s for s in segs if s.is_syn and s.seq == self.new_isn
                   and s.received_ns is not None)
        ack = next(s for s in segs if s.number > synack.number and s.has("ACK")
                   and not s.has("SYN") and s.src == syn.src)
        return syn, synack, ack

    def resend_delay(self) -> float:
        """Seconds between the new SYN (lost) and its retransmission."""
        new = [s for s in self.segments() if s.is_syn and s.seq == self.new_isn]
        if len(new) < 2:
            raise ExperimentError("the new SYN was not sent again")
        return (new[1].time_ns - new[0].time_ns) / 1e9

    def moment_table(self) -> Grid:
        rows = [[tr("moment"), tr("client"), tr("server"), tr("accept queue")]]
        rows += [[moment_text(m.moment), m.client.name, m.server.name, str(m.accept_queue)]
                 for m in self.moments]
        return Grid(rows, right={tr("accept queue")})

    def table(self) -> Table:
        return Table(self.trace.only(self.trace.connection(port=CLIENT_PORT)),
                     absolute=True, options=False)

    def facts(self) -> list[Fact]:
        synack, rst = self.old_syn_reply()
        syn, real_synack, ack = self.real_handshake()
        m = {str(x.moment): x for x in self.moments}
        held = m["SYN-ACK to the old SYN on the wire"]
        after = m["RST delivered"]
        try:
            resent: float | None = self.resend_delay()
        except ExperimentError:
            resent = None
        return [
            Fact(name="old-syn-arrives",
                 text=tr("the old SYN reached the server while the client was opening a new "
                         "connection with another initial sequence number"),
                 holds=self.old_isn != self.new_isn
                 and held.client is TcpState.SYN_SENT,
                 evidence=f"old ISN {self.old_isn}, new ISN {self.new_isn}; client "
                          f"{held.client.name}"),
            Fact(name="server-answers-old-syn",
                 text=tr("the server cannot tell: it answers the old SYN with a SYN-ACK and "
                         "holds a half-open connection, which a two-way handshake would "
                         "already have opened"),
                 holds=synack.ack == (self.old_isn + 1) % 2**32
                 and held.server is TcpState.SYN_RECV and held.accept_queue == 0,
                 evidence=f"SYN-ACK ack={synack.ack} = old ISN + 1; server "
                          f"{held.server.name}, accept queue {held.accept_queue}"),
            Fact(name="client-resets-old-syn",
                 text=tr("the client knows the SYN-ACK answers no SYN of its own, and resets it"),
                 holds=rst.src == synack.dst and rst.seq == synack.ack and not rst.has("ACK")
                 and rst.sent_ns is not None and synack.received_ns is not None
                 and rst.sent_ns > synack.received_ns,
                 evidence=f"RST seq={rst.seq} = the SYN-ACK's ack "
                          "(RFC 9293 §3.5.2: <SEQ=SEG.ACK><CTL=RST>)"),
            Fact(name="rst-removes-half-open",
                 text=tr("the RST removes the half-open connection: accept() never sees it"),
                 holds=after.server is TcpState.LISTEN and self.accepted == 1
                 and [x.server for x in self.moments] == [
                     TcpState.SYN_RECV, TcpState.SYN_RECV, TcpState.LISTEN,
                     TcpState.ESTABLISHED]
                 and self.accepted_peer == (rst.src, rst.sport)
                 and syn.seq == self.new_isn,
                 evidence=f"server {after.server.name} after the RST; accept() returned one "
                          f"connection, whose SYN carries the new ISN {syn.seq}"),
            Fact(name="third-confirms-isn",
                 text=tr("only the third segment confirms the server's sequence number"),
                 holds=ack.ack == (real_synack.seq + 1) % 2**32
                 and syn.ack == 0 and not syn.has("ACK"),
                 evidence=f"SYN-ACK seq={real_synack.seq}; the ACK acknowledges "
                          f"{ack.ack} = server ISN + 1"),
            Fact(name="resend-at-once",
                 text=tr("after its RST, the client sends its new SYN again at once, not after "
                         "the usual second"),
                 holds=resent is not None and resent < RESEND_AT_ONCE
                 and len(self.segments()) == 7,
                 evidence=(f"the new SYN again {resent * 1e3:.1f} ms after the first"
                           if resent is not None else "the new SYN was not sent again")
                 + f"; {len(self.segments())} segments in all"),
        ]

    def report(self) -> str:
        return (f"An old duplicate SYN (client 192.0.2.1:{CLIENT_PORT} → server "
                f"192.0.2.2:{SERVER_PORT})\n\n{self.table()}\n\nBoth kernels\n\n"
                f"{self.moment_table()}\n\nFacts\n\n{checklist(self.facts())}")


@replayable
def old_duplicate_syn() -> OldSynResult:
    """Run the experiment (well under a second)."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        wire = lab.link(client, server, wire="pass").wire
        assert wire is not None
        listener = server.run(listening_socket, server.address, SERVER_PORT, timeout=TIMEOUT)
        sockets = [listener]
        moments: list[StatesAt] = []
        try:
            with server.run(SockDiag) as diag, lab.capture(client, server) as cap:
                far = (server.address, SERVER_PORT)
                end = (client.address, CLIENT_PORT)
                first = Dropper(wire, "SYN", port=CLIENT_PORT)
                old = client.run(client_socket, *end)
                old.settimeout(GIVE_UP)
                try:
                    old.connect(far)
                    raise ExperimentError("the first attempt connected: its SYN got through")
                except TimeoutError:
                    pass
                old.close()
                old_syn = first.frames[0]

                second = Dropper(wire, "SYN", port=CLIENT_PORT)
                sock = client.run(client_socket, *end)
                sockets.append(sock)
                sock.setblocking(False)
                code = sock.connect_ex(far)
                if code != errno.EINPROGRESS:
                    raise ExperimentError(f"connect() returned {errno.errorcode[code]}")
                second.wait(STEP_TIMEOUT)

                def snap(text: str) -> StatesAt:
                    entry = diag.lookup(far, end)
                    queue = diag.listener(far)
                    moment = StatesAt(moment=Moment.of(text), client=socket_state(sock),
                                      server=TcpState.LISTEN if entry is None else entry.state,
                                      timestamp_ns=time.time_ns(),
                                      accept_queue=0 if queue is None else queue.rx_queue)
                    moments.append(moment)
                    return moment

                wire.mode = "step"
                wire.inject(old_syn, toward="b")
                wire.wait_held(1, STEP_TIMEOUT)
                snap(N_("SYN-ACK to the old SYN on the wire"))
                wire.release()
                wire.wait_held(1, STEP_TIMEOUT)
                snap(N_("the client's RST on the wire"))
                wire.release()
                deadline = time.monotonic() + STEP_TIMEOUT
                while snap(N_("RST delivered")).server is not TcpState.LISTEN:
                    if time.monotonic() > deadline:
                        raise ExperimentError("the half-open connection outlived the RST")
                    moments.pop()
                    time.sleep(0.002)
                while wire.held():
                    wire.release()
                wire.mode = "pass"
                conn, peer = listener.accept()  # the new SYN, sent again
                sockets.append(conn)
                snap(N_("accept() returned"))
                listener.settimeout(0.1)
                accepted = 1
                try:
                    sockets.append(listener.accept()[0])
                    accepted += 1
                except TimeoutError:
                    pass
        finally:
            for s in sockets:
                s.close()
        assert cap.trace is not None
        old_isn = int.from_bytes(old_syn[38:42], "big")
        new_isn = int.from_bytes(second.frames[0][38:42], "big")
        return OldSynResult(trace=cap.trace, old_isn=old_isn, new_isn=new_isn,
                            moments=tuple(moments), accepted_peer=peer, accepted=accepted)
