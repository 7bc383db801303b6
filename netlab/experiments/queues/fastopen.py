"""TCP Fast Open: the cookie on the first connection, data in the SYN on the second.

RFC 7413: a client that holds a Fast Open cookie from an earlier connection to a server
may send data in its SYN, and the server may hand that data to the application before the
handshake completes, so a request is answered one round trip earlier. The first
connection only asks for a cookie (an empty TFO option in the SYN) and gets it in the
SYN-ACK; the kernel keeps it, per server address, for the next ``sendto(MSG_FASTOPEN)``.

Two hosts over a link with a :data:`DELAY` one-way delay. ``net.ipv4.tcp_fastopen`` is 1
(client) in the client's namespace and 2 (server) in the server's, and the listener sets
``TCP_FASTOPEN``. Twice, from two client ports, the client sends a short request with
``sendto(..., MSG_FASTOPEN, address)`` in place of ``connect()`` and ``send()``, and
waits for the answer.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass, field

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Trace, seen_at
from netlab.experiments.endpoints import CLIENT_PORT, SERVER_PORT, TIMEOUT, client_socket
from netlab.experiments.queues._frames import counters
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import ntr, ptr, tr
from netlab.kernel.sysctl import set_sysctl
from netlab.lab import Lab
from netlab.views.table import Grid

__all__ = ["fast_open", "FastOpenResult", "DELAY"]

#: One-way delay in seconds; a round trip is twice this.
DELAY = 0.025
REQUEST = b"GET / HTTP/1.0\r\n\r\n"
RESPONSE = b"HTTP/1.0 204 No Content\r\n\r\n"


@dataclass(frozen=True, kw_only=True)
class FastOpenResult:
    """Two requests, the first asking for a cookie, the second using it."""

    trace: Trace
    answer_s: tuple[float, float]
    """Seconds from sendto() to the first byte of the answer, each connection."""
    counters: dict[str, int]
    """How much the server namespace's Fast Open counters grew."""
    pcap_host: str = field(default="client")
    keylog: None = None

    def syn(self, n: int) -> Segment:
        return self.trace.connection(port=CLIENT_PORT + n).syn()

    def synack(self, n: int) -> Segment:
        return next(s for s in self.trace.connection(port=CLIENT_PORT + n).segments
                    if s.has("SYN", "ACK"))

    def round_trips(self, n: int) -> int:
        """Round trips connection ``n`` waited for before the answer, from the client's
        capture (:meth:`~netlab.analysis.trace.Connection.flights`), up to the answer's first
        byte."""
        conn = self.trace.connection(port=CLIENT_PORT + n)
        answer = next(s for s in conn.segments if not conn.is_from_client(s) and s.length)
        return conn.flights(until_ns=seen_at(answer, "client"))

    def grid(self) -> Grid:
        rtt = 2 * DELAY * 1000
        rows = [[tr("connection"), tr("SYN carries"), tr("SYN-ACK carries"),
                 tr("answer after (ms)"), tr("round trips")]]
        for n in (0, 1):
            syn, synack = self.syn(n), self.synack(n)
            rows.append([str(n + 1), _carries(syn), _carries(synack),
                         f"{self.answer_s[n] * 1000:.1f}",
                         f"{self.answer_s[n] * 1000 / rtt:.2f}"])
        return Grid(rows, right={tr("answer after (ms)"), tr("round trips")})

    def facts(self) -> list[Fact]:
        first, second = self.syn(0), self.syn(1)
        rtt = 2 * DELAY
        a, b = self.answer_s
        return [
            Fact(name="tfo-cookie",
                 text=tr("the first SYN asks for a cookie and the SYN-ACK brings one"),
                 holds=first.option("TFO") is not None and first.length == 0
                 and self.synack(0).option("TFO") is not None
                 and self.counters["TcpExt.TCPFastOpenCookieReqd"] >= 1,
                 evidence=f"SYN: {_carries(first)}; SYN-ACK: {_carries(self.synack(0))}"),
            Fact(name="tfo-data-in-syn",
                 text=tr("the second SYN carries the cookie and the request"),
                 holds=second.option("TFO") is not None and second.payload == REQUEST
                 and self.counters["TcpExt.TCPFastOpenPassive"] >= 1,
                 evidence=f"SYN: {_carries(second)}; TCPFastOpenPassive "
                          f"+{self.counters['TcpExt.TCPFastOpenPassive']}"),
            Fact(name="tfo-earlier",
                 text=tr("with the cookie, the answer comes one round trip earlier"),
                 holds=self.round_trips(0) == 2 and self.round_trips(1) == 1
                 and b < a and b >= rtt,
                 evidence=f"{self.round_trips(0)} round trips, then {self.round_trips(1)}: "
                          f"{a * 1000:.1f} ms, then {b * 1000:.1f} ms "
                          f"(round trip {rtt * 1000:g} ms)"),
        ]

    def report(self) -> str:
        return (f"TCP Fast Open (client 192.0.2.1 → server 192.0.2.2:{SERVER_PORT}, "
                f"{DELAY * 1000:g} ms each way)\n\n{self.grid()}\n\nFacts\n\n"
                f"{checklist(self.facts())}")


def _carries(seg: Segment) -> str:
    parts = []
    if seg.option("TFO") is not None:
        parts.append(tr("a cookie") if seg.option("TFO") not in (True, b"", ()) else
                     tr("a cookie request"))
    if seg.length:
        parts.append(ntr("{n} byte of data", "{n} bytes of data", seg.length).format(n=seg.length))
    return ptr("list", ", ").join(parts) or "-"


def _listener(address: str) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 8)
    s.bind((address, SERVER_PORT))
    s.listen(8)
    s.settimeout(TIMEOUT)
    return s


def _serve(listener: socket.socket, count: int) -> None:
    for _ in range(count):
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(TIMEOUT)
            conn.recv(1000)
            conn.sendall(RESPONSE)
            conn.recv(1)  # the client's FIN


def _ask(sock: socket.socket, server: tuple[str, int]) -> float:
    # A blocking sendto(), bounded by the kernel's send timeout (a Python timeout would make
    # the socket non-blocking, and sendto(MSG_FASTOPEN) would return EINPROGRESS).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                    struct.pack("ll", int(TIMEOUT), 0))
    t0 = time.monotonic()
    sock.sendto(REQUEST, socket.MSG_FASTOPEN, server)
    sock.settimeout(TIMEOUT)
    sock.recv(1000)
    took = time.monotonic() - t0
    sock.close()
    return took


@replayable
def fast_open() -> FastOpenResult:
    """Run the experiment (well under a second)."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server, delay=DELAY)
        client.run(set_sysctl, "net.ipv4.tcp_fastopen", 1)
        server.run(set_sysctl, "net.ipv4.tcp_fastopen", 2)
        listener = server.run(_listener, server.address)
        try:
            task = server.start(_serve, listener, 2)
            before = server.run(counters)
            with lab.capture(client, server) as cap:
                answers = []
                for n in (0, 1):
                    sock = client.run(client_socket, client.address, CLIENT_PORT + n)
                    answers.append(_ask(sock, (server.address, SERVER_PORT)))
                task.result(TIMEOUT)
                time.sleep(2 * DELAY)
            after = server.run(counters)
        finally:
            listener.close()
        assert cap.trace is not None
        return FastOpenResult(trace=cap.trace, answer_s=(answers[0], answers[1]),
                              counters={k: after[k] - before[k] for k in after})
