"""Flow control: a receiver that stops reading, the zero window, probes, the window update.

Two hosts, ``client`` (192.0.2.1) and ``server`` (192.0.2.2), joined by a link with a
one-way delay of :data:`DELAY` s. The server's socket has a small receive buffer
(:data:`RCVBUF` bytes, ``SO_RCVBUF`` set before ``listen()``), and its application accepts
the connection and then reads nothing for :data:`PAUSE` s. The client sends :data:`SIZE`
bytes at once.

The server's kernel keeps the bytes that arrive in the socket's buffer and advertises in
each ACK how much room is left: the window shrinks as the buffer fills, down to zero.
The client must stop. Its kernel then sends *zero-window probes* (RFC 9293 §3.8.6.1), at
growing intervals, so that a lost window update cannot leave both sides waiting forever;
each is answered with the same zero window. When the application reads again, the
server's kernel sends a *window update*, and the transfer resumes.

The window field is 16 bits; both SYNs carry the window scale option (RFC 7323 §2), and
every later window is the field shifted left by the scale the other side announced.

>>> from netlab.experiments.network.flow import flow_control
>>> result = flow_control()  # about 3 s
>>> [fact.name for fact in result.facts() if not fact.holds]
[]
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Connection, Trace
from netlab.experiments.endpoints import (
    CLIENT_PORT,
    LONG_TIMEOUT,
    SERVER_PORT,
    client_socket,
)
from netlab.experiments.network._frames import bulk, send_bulk
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.lab import Lab
from netlab.views.table import Grid

__all__ = ["flow_control", "FlowResult", "DELAY", "RCVBUF", "PAUSE", "SIZE"]

DELAY = 0.005
"""The one-way delay in seconds."""
RCVBUF = 16384
"""The server's ``SO_RCVBUF`` in bytes (Linux doubles it for its own bookkeeping)."""
PAUSE = 2.0
"""How long, in seconds, the server's application reads nothing."""
SIZE = 200_000
"""How many bytes the client sends."""


@dataclass(frozen=True, kw_only=True)
class FlowResult:
    """One transfer to a receiver that paused, captured on both hosts."""

    trace: Trace
    received_ok: bool
    """The server read exactly the bytes the client sent."""
    paused_ns: tuple[int, int]
    """When the server's application stopped reading (accept) and started again."""
    pcap_host: str = field(default="client")
    keylog: None = None

    @property
    def connection(self) -> Connection:
        return self.trace.connection(port=SERVER_PORT)

    def windows(self) -> list[tuple[Segment, int]]:
        """Each server segment with the window it advertised, in bytes (scaled)."""
        c = self.connection
        return [(s, c.window(s)) for s in c.segments if not c.is_from_client(s)
                and not s.has("SYN")]

    def zero_windows(self) -> list[Segment]:
        """The server's segments that advertised a window of zero."""
        return [s for s, w in self.windows() if w == 0]

    def probes(self) -> list[Segment]:
        """The client's zero-window probes: no data, sequence number SND.UNA − 1, sent
        while the server's last word was a zero window."""
        c = self.connection
        out = []
        window: int | None = None
        acked = 0
        for s in c.segments:
            if not c.is_from_client(s):
                if not s.has("SYN"):
                    window, acked = c.window(s), c.relative_ack(s) or 0
                continue
            if window == 0 and s.length == 0 and c.relative_seq(s) == acked - 1:
                out.append(s)
        return out

    def probe_gaps(self) -> list[float]:
        """Seconds from the first zero window to the first probe, then between probes."""
        times = [self.zero_windows()[0].time_ns] + [p.time_ns for p in self.probes()]
        return [(b - a) / 1e9 for a, b in zip(times, times[1:], strict=False)]

    def update(self) -> Segment | None:
        """The window update: the server's first segment after a zero window that opens it."""
        seen_zero = False
        for s, w in self.windows():
            if w == 0:
                seen_zero = True
            elif seen_zero:
                return s
        return None

    def scale(self) -> tuple[int, int]:
        """The window scale each SYN announced: (client, server)."""
        syn, syn_ack, _ = self.connection.handshake()
        return syn.option("WS") or 0, syn_ack.option("WS") or 0

    def grid(self) -> Grid:
        """The last windows before the zero window, the zero window, the probes and their
        answers, the window update: time, what, the raw field and the window in bytes."""
        c = self.connection
        start = self.trace.start_ns
        zero, update = self.zero_windows(), self.update()
        if not zero or update is None:
            return Grid([[tr("segment")], [tr("no zero window")]])
        server = [s for s, _ in self.windows()]
        before = [s for s in server if s.number < zero[0].number][-3:]
        probes = self.probes()
        shown = sorted({s.number: s for s in [*before, *zero, *probes, update]}.values(),
                       key=lambda s: s.number)
        rows = [[tr("time (ms)"), tr("segment"), "win", tr("window (bytes)")]]
        for s in shown:
            if c.is_from_client(s):
                rows.append([f"{(s.time_ns - start) / 1e6:.1f}",
                             tr("zero-window probe (client)"), "", ""])
                continue
            what = (tr("window update") if s is update else tr("zero window")
                    if c.window(s) == 0 else "ACK")
            rows.append([f"{(s.time_ns - start) / 1e6:.1f}", what, str(s.window),
                         str(c.window(s))])
        return Grid(rows, right={tr("time (ms)"), "win", tr("window (bytes)")})

    def facts(self) -> list[Fact]:
        """The chapter's claims about flow control, each checked on this run's data."""
        c = self.connection
        wins = [w for _, w in self.windows()]
        zero = self.zero_windows()
        probes = self.probes()
        gaps = self.probe_gaps() if zero else []
        update = self.update()
        replies = [s for s in c.segments if not c.is_from_client(s) and probes
                   and probes[0].number < s.number and s.time_ns < self.paused_ns[1]]
        client_ws, server_ws = self.scale()
        client_wins = [s.window for s in c.segments if c.is_from_client(s)
                       and not s.has("SYN")]
        return [
            Fact(name="zero-window",
                 text=tr("while the application does not read, the advertised window shrinks to "
                         "zero"),
                 holds=bool(zero) and max(wins) > 0 and zero[0].time_ns < self.paused_ns[1],
                 evidence=f"window from {max(wins)} bytes down to 0 after "
                          f"{(zero[0].time_ns - self.paused_ns[0]) / 1e6:.0f} ms" if zero
                 else "no zero window"),
            Fact(name="zero-window-probes",
                 text=tr("the sender probes the zero window at growing intervals"),
                 holds=len(probes) >= 2 and all(p.length == 0 for p in probes)
                 and all(1.6 < b / a < 2.4 for a, b in zip(gaps[1:], gaps[2:], strict=False)),
                 evidence=f"{len(probes)} probes; gaps "
                          + ", ".join(f"{g * 1e3:.0f}" for g in gaps) + " ms"),
            Fact(name="zero-window-answers",
                 text=tr("the receiver answers the probes with the zero window again, until it "
                         "reads"),
                 holds=bool(replies) and all(c.window(r) == 0 for r in replies),
                 evidence=f"{len(replies)} answers to {len(probes)} probes, windows "
                          + ", ".join(str(c.window(r)) for r in replies)
                          + " (Linux answers at most once per 500 ms, tcp_invalid_ratelimit)"),
            Fact(name="window-update",
                 text=tr("when the application reads again, a window update reopens the window "
                         "and every byte arrives"),
                 holds=update is not None and update.time_ns >= self.paused_ns[1]
                 and update.length == 0 and self.received_ok,
                 evidence=(f"window update to {c.window(update)} bytes "
                           f"{(update.time_ns - self.paused_ns[1]) / 1e6:.1f} ms after the "
                           f"read; {SIZE} bytes received") if update is not None
                 else "no window update"),
            Fact(name="window-scale",
                 text=tr("each SYN announces a window scale: the client's default buffer needs "
                         "one, the server's small buffer does not"),
                 holds=server_ws == 0 < client_ws and all(
                     c.window(s) == w << client_ws for s, w in zip(
                         [s for s in c.segments if c.is_from_client(s) and not s.has("SYN")],
                         client_wins, strict=True)),
                 evidence=f"window scale: client {client_ws} (its window field counts units of "
                          f"{1 << client_ws} bytes), server {server_ws}"),
        ]

    def report(self) -> str:
        return (f"Flow control: a receiver that reads nothing for {PAUSE:g} s\n\n{self.grid()}"
                f"\n\nFacts\n\n{checklist(self.facts())}")


def _serve(listener: socket.socket) -> tuple[bytes, int, int]:
    conn, _ = listener.accept()
    paused = time.time_ns()
    with conn:
        conn.settimeout(LONG_TIMEOUT)
        time.sleep(PAUSE)
        resumed = time.time_ns()
        chunks = []
        while chunk := conn.recv(1 << 16):
            chunks.append(chunk)
    return b"".join(chunks), paused, resumed


def _client(server: str) -> None:
    sock = client_socket("192.0.2.1", CLIENT_PORT)
    with sock:
        sock.settimeout(LONG_TIMEOUT)
        sock.connect((server, SERVER_PORT))
        send_bulk(sock, SIZE)
        sock.recv(1)


def _listener(address: str) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    s.bind((address, SERVER_PORT))
    s.listen(1)
    s.settimeout(LONG_TIMEOUT)
    return s


@replayable
def flow_control() -> FlowResult:
    """Run the experiment (about 3 s)."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server, delay=DELAY)
        listener = server.run(_listener, server.address)
        with listener, lab.capture(client, server) as cap:
            serving = server.start(_serve, listener)
            client.run(_client, server.address, timeout=LONG_TIMEOUT)
            data, paused, resumed = serving.result(LONG_TIMEOUT)
        expected = bulk(SIZE)
        assert cap.trace is not None
        return FlowResult(trace=cap.trace, received_ok=data == expected,
                          paused_ns=(paused, resumed))
