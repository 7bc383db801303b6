"""What a socket is: the system calls, the file descriptors, and what each puts on the wire.

Two hosts, ``client`` (192.0.2.1) and ``server`` (192.0.2.2), in network namespaces of
their own, are joined through a :class:`~netlab.kernel.wire.Wire` in ``pass`` mode, which
counts every frame it forwards. Each system call is made on its own, and the experiment
waits until the wire has been quiet for a moment before the next one, so every frame is
attributed to the call that caused it. Captures run on both hosts' interfaces.

1. **The life of a TCP socket**: ``socket``, ``bind``, ``listen``, ``accept`` on the server;
   ``socket``, ``bind``, ``connect`` on the client; ``send`` and ``recv`` both ways;
   ``close``. After each call: the kernel's TCP state of every socket involved and the
   segments the call caused.
2. **A byte stream**: three ``send()`` calls, each acknowledged before the next, then one
   ``recv()`` on the server returns all three at once; then the same three messages in
   a length-prefixed framing (:mod:`netlab.proto.framing`), read back in 5-byte chunks.
3. **UDP**: three ``sendto()`` calls and three ``recvfrom()`` calls, no handshake and no
   teardown; a datagram to a port where nobody listens, answered by ICMP "port
   unreachable", which a connected UDP socket reports as ``ConnectionRefusedError``.
4. **One API, many transports**: the same function exchanges three messages over TCP and
   UDP on IPv4 and IPv6 (on the loopback interface of a namespace with IPv6 enabled), and
   over Unix domain sockets, with a capture on the namespace's only interface.

The calls, states and packets are the same on every run; file descriptor numbers and
times vary (needs root):

>>> from netlab.experiments import sockets
>>> result = sockets()
>>> print(result.life_table(fds=False, segments=False))
 #  side    system call                   client       listening  connected
 1  server  socket(AF_INET, SOCK_STREAM)  -            CLOSED     -
 2  server  bind(192.0.2.2:8080)          -            CLOSED     -
 3  server  listen(8)                     -            LISTEN     -
 4  client  socket(AF_INET, SOCK_STREAM)  CLOSED       LISTEN     -
 5  client  bind(192.0.2.1:40000)         CLOSED       LISTEN     -
 6  client  connect(192.0.2.2:8080)       ESTABLISHED  LISTEN     ESTABLISHED
 7  server  accept()                      ESTABLISHED  LISTEN     ESTABLISHED
 8  client  send(b'hello') = 5            ESTABLISHED  LISTEN     ESTABLISHED
 9  server  recv(1024) = b'hello'         ESTABLISHED  LISTEN     ESTABLISHED
10  server  send(b'HELLO') = 5            ESTABLISHED  LISTEN     ESTABLISHED
11  client  recv(1024) = b'HELLO'         ESTABLISHED  LISTEN     ESTABLISHED
12  client  close()                       FIN_WAIT_2   LISTEN     CLOSE_WAIT
13  server  recv(1024) = b''              FIN_WAIT_2   LISTEN     CLOSE_WAIT
14  server  close()                       TIME_WAIT    LISTEN     -
15  server  close()                       TIME_WAIT    -          -
>>> for number, call in enumerate(result.life, start=1):
...     if result.segments_of(call):
...         print(number, result.segments_text(call))
6 → SYN | ← SYN, ACK | → ACK
8 → PSH, ACK (5 B) | ← ACK
10 ← PSH, ACK (5 B) | → ACK
12 → FIN, ACK | ← ACK
14 ← FIN, ACK | → ACK
>>> [m for m in result.stream.received]
[b'onetwothree']
>>> [len(c.payload) for c in result.udp_packets() if c.protocol == "UDP"]
[3, 3, 5, 2, 7]
>>> [fact.name for fact in result.facts() if not fact.holds]
[]
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from netlab.analysis.ip_packets import Packet, packets
from netlab.analysis.trace import Trace
from netlab.experiments.endpoints import CLIENT_PORT, SERVER_PORT, STEP_TIMEOUT
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.lab import Lab
from netlab.proto.framing import encode
from netlab.views.packets import packet_info, packet_table
from netlab.views.pictures import HostLayers, LayersPicture
from netlab.views.table import Grid, Table

__all__ = ["sockets", "SocketsResult", "SystemCall", "StreamResult", "Transport", "Fact",
           "exchange", "MESSAGES"]

from netlab.experiments.sockets._calls import (
    CLOSED_PORT,
    MESSAGES,
    UDP_PORT,
    StreamResult,
    SystemCall,
    Transport,
    byte_stream,
    compare_transports,
    exchange,
    tcp_life,
    udp_calls,
)


@dataclass(frozen=True, kw_only=True)
class SocketsResult:
    """Everything the sockets chapter shows, from one run."""

    trace: Trace
    """The TCP segments and, in ``trace.frames``, every frame both captures saw."""
    life: tuple[SystemCall, ...]
    stream: StreamResult
    udp: tuple[SystemCall, ...]
    refused: OSError
    """What the connected UDP socket's next call raised after the port unreachable."""
    fd_link: str
    """What ``/proc/self/fd/N`` said the listening socket's descriptor is."""
    fd_is_socket: bool
    """``os.fstat()`` of that descriptor reported a socket (``S_ISSOCK``)."""
    transports: tuple[Transport, ...]
    pcap_host: str = "client"
    keylog: None = None  # no TLS in this experiment

    # -- views ------------------------------------------------------------------------

    def segments_of(self, call: SystemCall) -> list[Any]:
        """The TCP segments first seen while ``call`` ran (and the wire settled after it)."""
        return [s for s in self.trace.segments if call.start_ns <= s.time_ns <= call.end_ns]

    def udp_packets(self) -> tuple[Packet, ...]:
        """Every packet the client's capture saw during the UDP part."""
        start, end = self.udp[0].start_ns, self.udp[-1].end_ns
        return tuple(p for p in packets(self.trace.frames.get("client", ()))
                     if start <= p.time_ns <= end)

    def packets_of(self, call: SystemCall) -> tuple[Packet, ...]:
        return tuple(p for p in self.udp_packets() if call.start_ns <= p.time_ns <= call.end_ns)

    def _arrow(self, src: str) -> str:
        return "→" if src == "192.0.2.1" else "←"

    def segments_text(self, call: SystemCall) -> str:
        """The segments ``call`` caused: → from client to server, ← back."""
        parts = []
        for s in self.segments_of(call):
            size = f" ({s.length} B)" if s.length else ""
            parts.append(f"{self._arrow(s.src)} {s.flags_text}{size}")
        return " | ".join(parts)

    def _packets_text(self, call: SystemCall) -> str:
        parts = []
        for p in self.packets_of(call):
            what = packet_info(p) if p.protocol.startswith("ICMP") else f"UDP {p.payload!r}"
            parts.append(f"{self._arrow(p.src)} {what}")
        return " | ".join(parts)

    def life_table(self, *, fds: bool = True, segments: bool = True) -> Grid:
        """The TCP socket's life, one system call a row.

        Args:
            fds: show the file descriptors (they differ from process to process).
            segments: show the segments each call caused.
        """
        rows = [["#", tr("side"), tr("system call"), tr("client"), tr("listening"),
                 tr("connected"), tr("segments")][: 7 if segments else 6]]
        for i, c in enumerate(self.life, start=1):
            text = c.strace() if fds else c.text
            row = [str(i), tr(c.side), text, *c.states, self.segments_text(c)]
            rows.append(row[: 7 if segments else 6])
        return Grid(rows, right={"#"})

    def layers(self) -> LayersPicture:
        """Each host's layers, with the TCP part's system calls and the states they led to."""
        conn = self.trace.connections()[0]
        first = conn.segments[0]

        def path(i: int) -> str:
            seen = [c.states[i] for c in self.life if c.states and c.states[i] != "-"]
            return " → ".join(s for k, s in enumerate(seen) if not k or s != seen[k - 1])

        def fd(side: str, name: str) -> int:
            return next(c.fd for c in self.life if c.side == side and c.text.startswith(name))

        rows = {"client": [tr("socket {fd}: {states}").format(fd=fd("client", "socket"),
                                                             states=path(0))],
                "server": [tr("listening socket {fd}: {states}").format(
                               fd=fd("server", "socket"), states=path(1)),
                           tr("connected socket {fd}: {states}").format(
                               fd=fd("server", "accept"), states=path(2))]}
        addresses = {"client": first.src, "server": first.dst}
        hosts = [HostLayers(name=tr(side), calls=tuple(c.strace() for c in self.life
                                                       if c.side == side),
                            states=tuple(rows[side]), address=addresses[side],
                            interface="eth0")  # the lab's first and only link on each host
                 for side in ("client", "server")]
        return LayersPicture(hosts, frames=sum(c.frames for c in self.life))

    def udp_table(self, *, fds: bool = True) -> Grid:
        """The UDP exchange, one system call a row, with the packets each one caused."""
        rows = [["#", tr("side"), tr("system call"), tr("packets")]]
        for i, c in enumerate(self.udp, start=1):
            text = c.strace() if fds else c.text
            rows.append([str(i), tr(c.side), text, self._packets_text(c)])
        return Grid(rows, right={"#"})

    def udp_packet_table(self) -> Grid:
        """The UDP part's packets, as the client's capture saw them."""
        return packet_table(self.udp_packets(), dict(self.trace.names))

    def stream_trace(self) -> Trace:
        """The byte-stream connection's segments."""
        return self.trace.only(self.trace.connection(port=self.stream.client_port))

    def data_segments(self) -> list[Any]:
        """Every segment of the byte-stream connection that carried data."""
        return [s for s in self.stream_trace().segments if s.length]

    def transport_table(self) -> Grid:
        """One socket API, many transports: what the receiver got, and what was captured."""
        rows = [[tr("family"), tr("type"), tr("address"), tr("what each recv() returned"),
                 tr("packets captured")]]
        for t in self.transports:
            protos = ", ".join(sorted(t.protocols))
            rows.append([t.family, t.kind, t.address, " ".join(repr(m) for m in t.received),
                         f"{len(t.packets)}" + (f" ({protos})" if protos else "")])
        return Grid(rows)

    def transport(self, family: str, kind: str) -> Transport:
        return next(t for t in self.transports if (t.family, t.kind) == (family, kind))

    # -- facts ------------------------------------------------------------------------

    def facts(self) -> list[Fact]:
        """The chapter's claims, each checked on this run's data."""
        life = self.life

        def find(side: str, prefix: str, nth: int = 0) -> SystemCall:
            return [c for c in life if c.side == side and c.text.startswith(prefix)][nth]

        quiet = [c for c in life if not self.segments_of(c)]
        connect = find("client", "connect(")
        syn, synack, ack = (self.segments_of(connect) + [None] * 3)[:3]
        send = find("client", "send(")
        close_c, close_s = find("client", "close("), find("server", "close(")
        accept = find("server", "accept(")
        eof = find("server", "recv(", 1)
        listener_fd = life[0].fd
        stream = self.stream
        data = self.data_segments()
        udp = self.udp_packets()
        datagrams = [p for p in udp if p.protocol == "UDP"]
        icmp = [p for p in udp if p.port_unreachable]
        udp_recv = [c for c in self.udp if c.text.startswith("recvfrom")]
        unix = [t for t in self.transports if t.family == "AF_UNIX"]
        ip = [t for t in self.transports if t.family != "AF_UNIX"]
        streams = [t for t in self.transports if t.kind == "SOCK_STREAM"]
        dgrams = [t for t in self.transports if t.kind == "SOCK_DGRAM"]
        calls = [c.text.partition("(")[0] for c in life]
        frames = [c.frames for c in life]
        udp_quiet = [c for c in self.udp
                     if c.text.partition("(")[0] in ("socket", "bind", "connect", "close")]
        return [
            Fact(name="calls-and-frames",
                 text=tr("a connection's life: each system call, and the segments it put on "
                         "the wire (three for connect(), two for each send() and for each "
                         "close() of a connected socket, none for closing the listening one)"),
                 holds=calls == ["socket", "bind", "listen", "socket", "bind", "connect",
                                 "accept", "send", "recv", "send", "recv", "close", "recv",
                                 "close", "close"]
                 and frames == [0, 0, 0, 0, 0, 3, 0, 2, 0, 2, 0, 2, 0, 2, 0]
                 and frames == [len(self.segments_of(c)) for c in life],
                 evidence=", ".join(f"{c}: {n}" for c, n in zip(calls, frames, strict=True))),
            Fact(name="fd-is-socket",
                 text=tr("socket() returns a file descriptor, a small integer like open()'s"),
                 holds=self.fd_is_socket and self.fd_link.startswith("socket:[")
                 and 0 <= listener_fd < 1024,
                 evidence=f"fd {listener_fd} → {self.fd_link}"),
            Fact(name="accept-new-fd",
                 text=tr("accept() returns a new descriptor; the listening one stays in LISTEN"),
                 holds=accept.fd != listener_fd and accept.states[1] == "LISTEN"
                 and accept.fd != find("client", "socket(").fd
                 and accept.listener_fd == listener_fd
                 and accept.states[2] == "ESTABLISHED",
                 evidence=f"listening fd {listener_fd}, accept() = {accept.fd}"),
            Fact(name="quiet-calls",
                 text=tr("socket(), bind(), listen(), accept() and recv() put nothing on the wire"),
                 holds=all(c.frames == 0 for c in quiet)
                 and {c.text.partition("(")[0] for c in quiet}
                 >= {"socket", "bind", "listen", "accept", "recv"}
                 and all(not self.segments_of(c) for c in life
                         if c.text.partition("(")[0] in ("socket", "bind", "listen", "accept",
                                                         "recv")),
                 evidence=", ".join(f"{c.text.partition('(')[0]}: {c.frames}" for c in quiet)),
            Fact(name="connect-handshake",
                 text=tr("connect() causes the three-way handshake (RFC 9293 §3.5)"),
                 holds=syn is not None and syn.is_syn
                 and synack is not None and synack.has("SYN", "ACK")
                 and ack is not None and ack.flag_names == ("ACK",)
                 and len(self.segments_of(connect)) == connect.frames == 3,
                 evidence=self.segments_text(connect)),
            Fact(name="send-segment",
                 text=tr("send() causes a data segment, and the peer's kernel acknowledges it"),
                 holds=[s.flag_names for s in self.segments_of(send)]
                 == [("PSH", "ACK"), ("ACK",)] and self.segments_of(send)[0].payload == b"hello",
                 evidence=self.segments_text(send)),
            Fact(name="close-fin",
                 text=tr("close() sends FIN; the peer's recv() then returns b'' (end of stream)"),
                 holds=self.segments_of(close_c)[0].has("FIN")
                 and self.segments_of(close_s)[0].has("FIN")
                 and eof.text.endswith("= b''")
                 and close_c.states[0] == "FIN_WAIT_2" and close_c.states[2] == "CLOSE_WAIT"
                 and close_s.states[0] == "TIME_WAIT",
                 evidence=f"{self.segments_text(close_c)}; then "
                          f"{self.segments_text(close_s)}"),
            Fact(name="stream-no-boundaries",
                 text=tr("three send() calls, three data segments on their connection, one "
                         "recv() of all eleven bytes: no message boundaries"),
                 holds=[s.payload for s in data] == list(stream.sent)
                 and stream.received == (b"".join(stream.sent),),
                 evidence=f"segments {[s.payload for s in data]}; recv() returned "
                          f"{list(stream.received)}"),
            Fact(name="framing-recovers",
                 text=tr("on a connection of its own, a length prefix recovers the three "
                         "messages from 5-byte recv() chunks"),
                 holds=stream.framed_messages == stream.sent and len(stream.framed_chunks) > 3
                 and b"".join(stream.framed_chunks) == b"".join(map(encode, stream.sent))
                 and all(len(c) <= 5 for c in stream.framed_chunks),
                 evidence=f"{len(stream.framed_chunks)} chunks → "
                          f"{list(stream.framed_messages)}"),
            Fact(name="udp-no-handshake",
                 text=tr("UDP: no handshake, no teardown; only datagrams cross the wire"),
                 holds=all(p.protocol in ("UDP", "ICMP") for p in udp)
                 and not self.segments_of_udp() and bool(udp_quiet)
                 and all(c.frames == 0 and not self.packets_of(c) for c in udp_quiet)
                 and all(not self.packets_of(c) for c in self.udp
                         if c.text.partition("(")[0] in ("socket", "bind", "close", "connect",
                                                         "recvfrom", "recv")),
                 evidence=f"{len(datagrams)} UDP datagrams, {len(icmp)} ICMP, "
                          f"{len(self.segments_of_udp())} TCP segments"),
            Fact(name="udp-boundaries",
                 text=tr("UDP keeps message boundaries: three sendto(), three recvfrom()"),
                 holds=[c.text.split(" = ")[1] for c in udp_recv[:3]]
                 == [repr(m) for m in MESSAGES]
                 and [p.payload for p in datagrams[:3]] == list(MESSAGES),
                 evidence="; ".join(c.text for c in udp_recv[:3])),
            Fact(name="icmp-unreachable",
                 text=tr("a datagram to a closed port gets ICMP port unreachable (RFC 792, 1122)"),
                 holds=len(icmp) == 1 and icmp[0].src == "192.0.2.2"
                 and (icmp[0].icmp_type, icmp[0].icmp_code) == (3, 3)
                 and icmp[0].quoted == (("192.0.2.1", CLIENT_PORT + 1),
                                        ("192.0.2.2", CLOSED_PORT)),
                 evidence=packet_info(icmp[0]) if icmp else "no ICMP"),
            Fact(name="udp-refused",
                 text=tr("on a connected UDP socket, the next call raises ConnectionRefusedError"),
                 holds=isinstance(self.refused, ConnectionRefusedError)
                 and self.udp[-2].text == "recv(1024) = -1 Connection refused",
                 evidence=f"{type(self.refused).__name__}: {self.refused.strerror}"),
            Fact(name="one-api",
                 text=tr("one API: the same calls work over TCP and UDP, IPv4 and IPv6, and Unix "
                      "domain sockets"),
                 holds=len(self.transports) == 6
                 and all(t.received == (b"onetwothree",) for t in streams)
                 and all(t.received == MESSAGES for t in dgrams)
                 and self.transport("AF_INET6", "SOCK_DGRAM").protocols == {"UDP"},
                 evidence="; ".join(f"{t.family}/{t.kind}: {len(t.received)} recv()"
                                    for t in self.transports)),
            Fact(name="unix-no-wire",
                 text=tr("IP sockets cross an interface; Unix domain sockets never do"),
                 holds=all(t.packets for t in ip) and all(not t.packets for t in unix),
                 evidence="; ".join(f"{t.family}/{t.kind}: {len(t.packets)} packets"
                                    for t in self.transports)),
        ]

    def segments_of_udp(self) -> list[Any]:
        start, end = self.udp[0].start_ns, self.udp[-1].end_ns
        return [s for s in self.trace.segments if start <= s.time_ns <= end]

    def report(self) -> str:
        """Everything, as text for a terminal."""
        facts = checklist(self.facts())
        return (
            f"The life of a TCP socket (client 192.0.2.1:{CLIENT_PORT} → server "
            f"192.0.2.2:{SERVER_PORT})\n\n{self.life_table()}\n\n"
            f"A byte stream: three send() calls\n\n"
            f"{Table(self.stream_trace(), absolute=False, options=False)}\n"
            f"recv() returned {list(self.stream.received)}\n\n"
            f"UDP (client 192.0.2.1:{CLIENT_PORT} → server 192.0.2.2:{UDP_PORT})\n\n"
            f"{self.udp_table()}\n\n{self.udp_packet_table()}\n\n"
            f"One socket API, many transports\n\n{self.transport_table()}\n\n"
            f"Facts\n\n{facts}"
        )


# ---------------------------------------------------------------------------------------
# Running it



@replayable
def sockets() -> SocketsResult:
    """Run the experiment (about 1.5 s)."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        wire = lab.link(client, server, wire="pass").wire
        assert wire is not None
        opened: list[socket.socket] = []
        try:
            with lab.capture(client, server) as cap:
                life, fd_link, fd_is_socket, opened = tcp_life(client, server, wire)
                listener = server.run(socket.socket, socket.AF_INET, socket.SOCK_STREAM)
                opened.append(listener)
                listener.settimeout(STEP_TIMEOUT)
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind((server.address, SERVER_PORT))
                listener.listen(8)
                stream = byte_stream(client, server, wire, listener)
                udp, refused = udp_calls(client, server, wire)
        finally:
            for s in opened:
                s.close()
        assert cap.trace is not None
        transports = compare_transports()
        return SocketsResult(trace=cap.trace, life=tuple(life), stream=stream, udp=tuple(udp),
                             refused=refused, fd_link=fd_link, fd_is_socket=fd_is_socket,
                             transports=tuple(transports))
