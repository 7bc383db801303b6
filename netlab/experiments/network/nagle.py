"""Nagle's algorithm meets delayed ACKs: write, write, read stalls for about 40 ms.

Two hosts, ``client`` (192.0.2.1) and ``server`` (192.0.2.2), joined by a link with a
one-way delay of :data:`DELAY` s. A small request/response protocol: the client writes each
request in two ``send()`` calls, a :data:`HEADER`-byte header and then a :data:`BODY`-byte
body, and reads a short response; the server reads the whole request, then answers. The same
:data:`ROUNDS` requests run on three connections:

``nagle``
    the defaults. The header leaves at once; the body is small and the header is not yet
    acknowledged, so Nagle's algorithm (RFC 896; RFC 1122 §4.2.3.4) holds it back. The server
    has only half a request and nothing to send, so its kernel delays the ACK (RFC 1122
    §4.2.3.2; Linux waits at least 40 ms, ``TCP_DELACK_MIN``). Each waits for the other
    until the delayed-ACK timer fires.
``nodelay``
    the client sets ``TCP_NODELAY``: the body leaves right behind the header.
``quickack``
    Nagle stays on, but the server sets ``TCP_QUICKACK`` after every ``recv()``, so its
    kernel acknowledges at once (Linux clears the option again by itself, hence every time).
    The 40 ms are gone; the body still waits one round trip for the ACK of the header.

Linux acknowledges the first segments of a connection at once (its *quick-ack* mode) and
starts to delay ACKs only once the exchange looks interactive, so the first
:data:`WARMUP` rounds are left out of the medians.

>>> from netlab.experiments.network.nagle import nagle
>>> result = nagle()  # about 2 s
>>> [fact.name for fact in result.facts() if not fact.holds]
[]
"""

from __future__ import annotations

import socket
import statistics
import time
from dataclasses import dataclass, field

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Connection, Trace
from netlab.experiments.endpoints import LONG_TIMEOUT, SERVER_PORT, client_socket, listening_socket
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.lab import Lab
from netlab.views.table import Grid

__all__ = ["nagle", "NagleResult", "DELAY", "ROUNDS", "WARMUP", "HEADER", "BODY", "PORTS"]

DELAY = 0.005
"""One-way delay, seconds (a 10 ms round trip)."""
ROUNDS = 16
"""Requests on each connection."""
WARMUP = 6
"""How many first rounds the medians leave out (Linux's quick-ack mode at a connection's start)."""
HEADER = 8
"""Bytes of each request's first write."""
BODY = 92
"""Bytes of each request's second write."""
RESPONSE = b"OK"
SLACK = 0.015
"""Seconds a busy machine may add to a round of the protocol, well below the 40 ms stall."""
PORTS = {"nagle": 40000, "nodelay": 40001, "quickack": 40002}
"""The client port of each variant."""


@dataclass(frozen=True, kw_only=True)
class NagleResult:
    """The same requests on three connections: defaults, TCP_NODELAY, TCP_QUICKACK."""

    trace: Trace
    rounds: dict[str, list[float]]
    """Seconds each request took, from the first send() to the response, by variant."""
    pcap_host: str = field(default="client")
    keylog: None = None

    def median(self, variant: str) -> float:
        """The median request time, without the warm-up rounds."""
        return statistics.median(self.rounds[variant][WARMUP:])

    def connection(self, variant: str) -> Connection:
        return self.trace.connection(port=PORTS[variant])

    def headers(self, variant: str) -> list[Segment]:
        """The client's request headers (the first write of each round), as sent."""
        c = self.connection(variant)
        return [s for s in c.segments if c.is_from_client(s) and s.length
                and c.relative_seq(s) % (HEADER + BODY) == 1]

    def ack_delays(self, variant: str) -> list[float]:
        """For each request header after the warm-up, seconds from its arrival at the server
        to the server's next segment (the ACK of it, alone or with data)."""
        c = self.connection(variant)
        out = []
        for h in self.headers(variant)[WARMUP:]:
            if h.received_ns is None:
                continue
            answer = next((s for s in c.segments if not c.is_from_client(s)
                           and s.sent_ns is not None and s.sent_ns >= h.received_ns), None)
            if answer is not None and answer.sent_ns is not None:
                out.append((answer.sent_ns - h.received_ns) / 1e9)
        return out

    def body_waits(self, variant: str) -> list[float]:
        """For each round after the warm-up, seconds between the header and the body
        leaving the client."""
        c = self.connection(variant)
        sent = [s for s in c.segments if c.is_from_client(s) and s.length]
        out = []
        for h in self.headers(variant)[WARMUP:]:
            body = next((s for s in sent if s.number > h.number
                         and c.relative_seq(s) == c.relative_seq(h) + HEADER), None)
            if body is not None and body.sent_ns is not None and h.sent_ns is not None:
                out.append((body.sent_ns - h.sent_ns) / 1e9)
        return out

    def grid(self) -> Grid:
        """Each variant: median request time, the body's wait, the server's ACK delay."""
        names = {"nagle": tr("defaults (Nagle on)"), "nodelay": "TCP_NODELAY",
                 "quickack": tr("TCP_QUICKACK on the server")}
        rows = [[tr("client"), tr("request (ms)"), tr("body waits (ms)"),
                 tr("server's ACK after (ms)")]]
        for v, name in names.items():
            rows.append([name, f"{self.median(v) * 1e3:.1f}",
                         f"{statistics.median(self.body_waits(v)) * 1e3:.1f}",
                         f"{statistics.median(self.ack_delays(v)) * 1e3:.1f}"])
        return Grid(rows, right={tr("request (ms)"), tr("body waits (ms)"),
                                 tr("server's ACK after (ms)")})

    def facts(self) -> list[Fact]:
        """The chapter's claims about Nagle and delayed ACK, each checked on this run."""
        rtt = 2 * DELAY
        stall = self.median("nagle") - self.median("quickack")
        waits = self.body_waits("nagle")
        acks = self.ack_delays("nagle")
        quick_waits = self.body_waits("quickack")
        quick_acks = self.ack_delays("quickack")
        return [
            Fact(name="nagle-stall",
                 text=tr("with the defaults, write-write-read stalls each request by the delayed "
                         "ACK, about 40 ms"),
                 holds=0.030 <= stall <= 0.060,
                 evidence=f"median {self.median('nagle') * 1e3:.1f} ms against "
                          f"{self.median('quickack') * 1e3:.1f} ms with TCP_QUICKACK: "
                          f"{stall * 1e3:.1f} ms more"),
            Fact(name="nagle-holds-body",
                 text=tr("Nagle holds the body until the header is acknowledged, and the server "
                         "delays that ACK by at least 40 ms"),
                 holds=len(waits) == ROUNDS - WARMUP and min(waits) >= 0.030
                 and len(acks) == ROUNDS - WARMUP and min(acks) >= 0.030,
                 evidence="body after " + ", ".join(f"{w * 1e3:.0f}" for w in waits)
                          + " ms; ACK after " + ", ".join(f"{a * 1e3:.0f}" for a in acks)
                          + " ms"),
            Fact(name="nodelay",
                 text=tr("TCP_NODELAY removes the stall: the body follows the header at once and "
                         "a request takes about one round trip"),
                 holds=self.median("nodelay") < rtt + SLACK
                 and statistics.median(self.body_waits("nodelay")) < 0.005,
                 evidence=f"median {self.median('nodelay') * 1e3:.1f} ms; "
                          f"RTT {rtt * 1e3:g} ms"),
            Fact(name="quickack",
                 text=tr("TCP_QUICKACK on the server removes the 40 ms; Nagle still makes the body "
                         "wait one round trip for the ACK"),
                 holds=statistics.median(quick_acks) < SLACK
                 and rtt <= statistics.median(quick_waits) < rtt + SLACK
                 and self.median("quickack") < 2 * rtt + SLACK,
                 evidence=f"server's ACK after {statistics.median(quick_acks) * 1e3:.1f} ms; "
                          f"body after {statistics.median(quick_waits) * 1e3:.1f} ms; median "
                          f"{self.median('quickack') * 1e3:.1f} ms"),
        ]

    def report(self) -> str:
        return (f"Nagle and delayed ACK over a {2 * DELAY * 1e3:g} ms round trip, {ROUNDS} "
                f"requests each ({WARMUP} warm-up)\n\n{self.grid()}\n\n"
                f"Facts\n\n{checklist(self.facts())}")


def _read_exactly(conn: socket.socket, n: int, quickack: bool) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if quickack:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        if not chunk:
            break
        data += chunk
    return data


def _serve(listener: socket.socket, quickack: bool) -> int:
    conn, _ = listener.accept()
    served = 0
    with conn:
        conn.settimeout(LONG_TIMEOUT)
        while len(_read_exactly(conn, HEADER + BODY, quickack)) == HEADER + BODY:
            conn.sendall(RESPONSE)
            served += 1
    return served


def _client(server: str, port: int, nodelay: bool) -> list[float]:
    sock = client_socket("192.0.2.1", port)
    times = []
    with sock:
        sock.settimeout(LONG_TIMEOUT)
        if nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect((server, SERVER_PORT))
        for i in range(ROUNDS):
            start = time.perf_counter()
            sock.send(b"H" * HEADER)
            sock.send(bytes([65 + i % 26]) * BODY)
            got = sock.recv(len(RESPONSE))
            times.append(time.perf_counter() - start)
            if got != RESPONSE:
                break
    return times


@replayable
def nagle() -> NagleResult:
    """Run the experiment (about 2 s)."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server, delay=DELAY)
        rounds = {}
        with lab.capture(client, server) as cap:
            for variant, port in PORTS.items():
                listener = server.run(listening_socket, server.address, SERVER_PORT,
                                      reuse=True, timeout=LONG_TIMEOUT)
                with listener:
                    serving = server.start(_serve, listener, variant == "quickack")
                    rounds[variant] = client.run(_client, server.address, port,
                                                 variant == "nodelay", timeout=LONG_TIMEOUT)
                    serving.result(LONG_TIMEOUT)
        assert cap.trace is not None
        return NagleResult(trace=cap.trace, rounds=rounds)
