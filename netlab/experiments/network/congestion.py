"""Congestion control: reno, cubic and bbr, one after the other, through the same bottleneck.

Two hosts, ``client`` (192.0.2.1) and ``server`` (192.0.2.2), joined by a userspace wire that
sends at :data:`RATE` bit/s after a one-way delay of :data:`DELAY` s, behind a drop-tail queue
of :data:`QUEUE` frames: many times the path's bandwidth-delay product, a bloated buffer. For
each algorithm the client opens a connection, chooses the algorithm with ``TCP_CONGESTION``
and sends :data:`SIZE` bytes; while it sends, the experiment reads the socket's ``TCP_INFO``
every 2 ms: the congestion window, the slow-start threshold, the smoothed round
trip, the retransmissions. The client's capture gives the time–sequence graph.

What Linux does here, as the facts check it:

* every connection starts with a congestion window of 10 segments (RFC 6928) and no
  slow-start threshold;
* reno grows the window by one segment per acknowledged segment (slow start, doubling each
  round trip) until the queue overflows, then halves it: ssthresh = cwnd / 2 (RFC 5681 §3.1);
* cubic leaves slow start before any loss, when HyStart sees the round trip grow (ssthresh
  set to the window of that moment), and at a loss keeps 70% of its window
  (β = 717/1024, RFC 9438 §4.6);
* reno and cubic keep the queue full: their round trip climbs to the empty path's plus the
  whole queue's sending time (bufferbloat); bbr paces to the bottleneck's rate it measured
  and keeps most of the queue empty.

>>> from netlab.experiments.network.congestion import congestion_control
>>> result = congestion_control()  # about 6 s
>>> [run.algorithm for run in result.runs]
['reno', 'cubic', 'bbr']
>>> [fact.name for fact in result.facts() if not fact.holds]
[]
"""

from __future__ import annotations

import socket
import statistics
import time
from dataclasses import dataclass, field

from netlab.analysis.trace import Connection, Trace
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import (
    CLIENT_PORT,
    LONG_TIMEOUT,
    SERVER_PORT,
    client_socket,
    listening_socket,
)
from netlab.experiments.network._frames import bulk, receive_all, send_bulk
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.kernel.tcp_info import Congestion, congestion
from netlab.lab import Host, Lab
from netlab.views.series import Line, LineChart, TimeSequence
from netlab.views.table import Grid

__all__ = ["congestion_control", "CongestionResult", "AlgorithmRun", "ALGORITHMS", "RATE",
           "DELAY", "QUEUE", "SIZE"]

ALGORITHMS = ("reno", "cubic", "bbr")
"""The kernel's ``tcp_available_congestion_control`` here, in the order they came."""
RATE = 2_000_000
"""The bottleneck's rate, bit/s."""
DELAY = 0.010
"""The one-way delay in seconds; the empty path's round trip is twice this, 20 ms."""
QUEUE = 30
"""The most frames the queue holds. Full, it makes a frame wait 30 × 6.06 ms = 182 ms, nine
times the round trip (the path's bandwidth-delay product is 5 KB, 3.4 full frames)."""
SIZE = 400_000
"""How many bytes each connection sends (1.6 s at the link's rate)."""
EVERY = 0.002
"""Seconds between two readings of ``TCP_INFO``."""
FRAME = 1514
"""A full Ethernet frame on this link."""
HALF = (0.45, 0.55)
"""reno's ssthresh over its window at the first loss. Measured 0.49 to 0.50 in 8 runs of 8 on
a busy machine (load 5 to 10; ``benchmarks/congestion.py --runs 8``): the window is read every
2 ms, so the reading before the loss may miss a segment or two of growth."""
BETA = (0.65, 0.75)
"""cubic's ssthresh over its window at its first loss; β = 717/1024 = 0.70. Measured 0.69 in
8 runs of 8 (as above)."""


@dataclass(frozen=True, kw_only=True)
class AlgorithmRun:
    """One connection's transfer under one algorithm."""

    algorithm: str
    port: int
    """The client's port, which tells this connection apart in the trace."""
    samples: tuple[tuple[float, Congestion], ...]
    """(seconds since the first byte was written, ``TCP_INFO``), every 2 ms."""
    duration: float
    """Seconds from the first byte written to the server's last byte read."""
    received_ok: bool

    def first(self, pred: str) -> int | None:
        """Index of the first sample where ``pred`` begins: ``"threshold"`` (an ssthresh is
        set) or ``"loss"`` (a retransmission, or the Recovery or Loss state)."""
        for i, (_, c) in enumerate(self.samples):
            if pred == "threshold" and c.ssthresh is not None:
                return i
            if pred == "loss" and (c.total_retrans or c.ca_state in ("Recovery", "Loss")):
                return i
        return None

    def at_first_loss(self) -> tuple[int, int] | None:
        """(cwnd just before the first loss, ssthresh just after), in segments."""
        i = self.first("loss")
        if not i:
            return None
        after = next((c.ssthresh for _, c in self.samples[i:i + 5] if c.ca_state != "Open"),
                     self.samples[i][1].ssthresh)
        return self.samples[i - 1][1].cwnd, after or 0

    def rtts_ms(self) -> list[float]:
        return [c.rtt_us / 1000 for _, c in self.samples if c.rtt_us]

    def retransmitted(self) -> int:
        return self.samples[-1][1].total_retrans

    def throughput(self) -> float:
        """Bit/s of payload, first byte written to last byte read."""
        return SIZE * 8 / self.duration


@dataclass(frozen=True, kw_only=True)
class CongestionResult:
    """The three transfers, and the client's capture of all of them."""

    trace: Trace
    runs: tuple[AlgorithmRun, ...]
    wire: str
    pcap_host: str = field(default="client")
    keylog: None = None

    def run(self, algorithm: str) -> AlgorithmRun:
        return next(r for r in self.runs if r.algorithm == algorithm)

    def connection(self, algorithm: str) -> Connection:
        return self.trace.connection(port=self.run(algorithm).port)

    def full_queue_rtt(self) -> float:
        """ms: the empty path's round trip plus the full queue's sending time."""
        return (2 * DELAY + QUEUE * FRAME * 8 / RATE) * 1e3

    def grid(self) -> Grid:
        rows = [[tr("algorithm"), tr("cwnd at the first loss"), tr("ssthresh after it"),
                 tr("segments retransmitted"), tr("median RTT (ms)"), tr("highest RTT (ms)"),
                 tr("throughput (Mbit/s)")]]
        for r in self.runs:
            loss = r.at_first_loss()
            rtts = r.rtts_ms()
            rows.append([r.algorithm, str(loss[0]) if loss else "–",
                         str(loss[1]) if loss else "–", str(r.retransmitted()),
                         f"{statistics.median(rtts):.0f}", f"{max(rtts):.0f}",
                         f"{r.throughput() / 1e6:.2f}"])
        return Grid(rows, right=set(rows[0][1:]))

    def window_chart(self) -> LineChart:
        """cwnd, and ssthresh dashed, of each algorithm over time."""
        lines = []
        for r in self.runs:
            lines.append(Line(f"{r.algorithm} cwnd", [(t, c.cwnd) for t, c in r.samples]))
            if r.algorithm != "bbr":
                lines.append(Line(f"{r.algorithm} ssthresh",
                                  [(t, c.ssthresh) for t, c in r.samples
                                   if c.ssthresh is not None], dashed=True, step=True))
        return LineChart(lines, x_label=tr("time (s)"), y_label=tr("segments"),
                         title=tr("Congestion window (and slow-start threshold, dashed) of "
                                  "each algorithm, read from TCP_INFO every 2 ms"))

    def rtt_chart(self) -> LineChart:
        """Each algorithm's smoothed round trip over time: the queue it keeps."""
        return LineChart([Line(r.algorithm, [(t, c.rtt_us / 1000) for t, c in r.samples
                                              if c.rtt_us]) for r in self.runs],
                         x_label=tr("time (s)"), y_label=tr("smoothed RTT (ms)"), unit="ms",
                         title=tr("Round-trip time of each algorithm: the empty path's is "
                                  "20 ms, a full queue adds 182 ms"))

    def time_sequence(self, algorithm: str = "reno") -> TimeSequence:
        return TimeSequence(self.connection(algorithm),
                            title=tr("Time–sequence graph of the {name} transfer, from the "
                                     "client's capture").format(name=algorithm))

    def facts(self) -> list[Fact]:
        reno, cubic, bbr = (self.run(a) for a in ALGORITHMS)
        starts = [r.samples[0][1] for r in self.runs]
        r_loss, c_loss = reno.at_first_loss(), cubic.at_first_loss()
        c_thr = cubic.first("threshold")
        c_first_loss = cubic.first("loss")
        r_before = reno.samples[(reno.first("loss") or 1) - 1][1]
        full = self.full_queue_rtt()
        med = {r.algorithm: statistics.median(r.rtts_ms()) for r in self.runs}
        return [
            Fact(name="initial-window",
                 text=tr("every connection starts with a window of 10 segments and no "
                         "slow-start threshold"),
                 holds=all(c.cwnd == 10 and c.ssthresh is None for c in starts),
                 evidence=", ".join(f"{r.algorithm}: cwnd {c.cwnd}, ssthresh "
                                    f"{c.ssthresh or '∞'}" for r, c in
                                    zip(self.runs, starts, strict=True))),
            Fact(name="slow-start-until-loss",
                 text=tr("reno stays in slow start until the queue overflows: no threshold "
                         "before its first loss, by then a window several times the first"),
                 holds=r_loss is not None and reno.first("threshold") == reno.first("loss")
                 and r_before.ssthresh is None and r_before.cwnd >= 3 * 10,
                 evidence=f"first loss at {reno.samples[reno.first('loss') or 0][0]:.3f} s "
                          f"with cwnd {r_before.cwnd}"),
            Fact(name="reno-halves",
                 text=tr("at the loss reno halves: ssthresh = cwnd / 2"),
                 holds=r_loss is not None and HALF[0] <= r_loss[1] / r_loss[0] <= HALF[1],
                 evidence=f"cwnd {r_loss[0]} → ssthresh {r_loss[1]}" if r_loss else "no loss"),
            Fact(name="cubic-hystart",
                 text=tr("cubic leaves slow start before any loss (HyStart): its threshold "
                         "is set while nothing has been retransmitted"),
                 holds=c_thr is not None and (c_first_loss is None or c_thr < c_first_loss)
                 and cubic.samples[c_thr][1].total_retrans == 0,
                 evidence=(f"ssthresh {cubic.samples[c_thr][1].ssthresh} at "
                           f"{cubic.samples[c_thr][0]:.3f} s, no retransmission yet")
                 if c_thr is not None else "no threshold"),
            Fact(name="cubic-beta",
                 text=tr("at a loss cubic keeps 70% of its window: ssthresh = 0.7 × cwnd"),
                 holds=c_loss is not None and BETA[0] <= c_loss[1] / c_loss[0] <= BETA[1],
                 evidence=f"cwnd {c_loss[0]} → ssthresh {c_loss[1]} "
                          f"({c_loss[1] / c_loss[0]:.2f})" if c_loss else "no loss"),
            Fact(name="bufferbloat",
                 text=tr("reno and cubic fill the queue: their round trip climbs to the empty "
                         "path's plus the whole queue's sending time"),
                 holds=all(max(r.rtts_ms()) >= 0.9 * full for r in (reno, cubic)),
                 evidence=f"highest RTT reno {max(reno.rtts_ms()):.0f} ms, cubic "
                          f"{max(cubic.rtts_ms()):.0f} ms; 20 ms + {QUEUE} × "
                          f"{FRAME * 8 / RATE * 1e3:.2f} ms = {full:.0f} ms"),
            Fact(name="bbr-short-queue",
                 text=tr("bbr keeps the queue shorter: a lower median round trip than reno's "
                         "and cubic's, and fewer retransmissions than reno"),
                 # median RTT over 8 busy runs (as for HALF): reno 127 to 189 ms, cubic
                 # 172 to 176, bbr 61 to 96: bbr's highest below the others' lowest
                 holds=med["bbr"] < min(med["reno"], med["cubic"])
                 and bbr.retransmitted() < reno.retransmitted(),
                 evidence=", ".join(f"{a} median {med[a]:.0f} ms, "
                                    f"{self.run(a).retransmitted()} retransmitted"
                                    for a in ALGORITHMS)),
            Fact(name="all-delivered",
                 text=tr("each algorithm delivers every byte"),
                 holds=all(r.received_ok for r in self.runs),
                 evidence=", ".join(f"{r.algorithm} {r.duration:.2f} s" for r in self.runs)),
        ]

    def report(self) -> str:
        return (f"Congestion control: {self.wire}\n\n{self.grid()}\n\n"
                f"{self.time_sequence()}\n\nFacts\n\n{checklist(self.facts())}")


def _transfer(client: Host, server: Host, listener: socket.socket, algorithm: str,
              port: int) -> AlgorithmRun:
    sock = client.run(client_socket, client.address, port)
    with sock:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, algorithm.encode())
        except OSError as e:
            raise ExperimentError(f"this kernel cannot use {algorithm}: {e.strerror} "
                                  "(see /proc/sys/net/ipv4/tcp_available_congestion_control)"
                                  ) from e
        sock.settimeout(LONG_TIMEOUT)
        sock.connect((server.address, SERVER_PORT))
        receiving = server.start(receive_all, listener, LONG_TIMEOUT)
        start = time.monotonic()
        samples = [(0.0, congestion(sock))]
        sending = client.start(send_bulk, sock, SIZE)
        deadline = start + 4 * LONG_TIMEOUT
        while not sending.done() or samples[-1][1].unacked:
            if time.monotonic() > deadline:
                raise ExperimentError(f"{algorithm}: the transfer did not end in "
                                      f"{4 * LONG_TIMEOUT:g} s")
            time.sleep(EVERY)
            samples.append((time.monotonic() - start, congestion(sock)))
        sending.result(LONG_TIMEOUT)
        data = receiving.result(LONG_TIMEOUT)
        duration = time.monotonic() - start
    expected = bulk(SIZE)
    return AlgorithmRun(algorithm=algorithm, port=port, samples=tuple(samples),
                        duration=duration, received_ok=data == expected)


@replayable
def congestion_control() -> CongestionResult:
    """Run the experiment (about 6 s): reno, cubic and bbr through the same bottleneck."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        link = lab.link(client, server, delay=DELAY, rate=RATE, queue=QUEUE)
        listener = server.run(listening_socket, server.address, SERVER_PORT,
                              timeout=LONG_TIMEOUT)
        with listener, lab.capture(client) as cap:
            runs = tuple(_transfer(client, server, listener, algorithm, CLIENT_PORT + i)
                         for i, algorithm in enumerate(ALGORITHMS))
            time.sleep(2 * DELAY)  # the last ACKs reach the client before the capture stops
        assert cap.trace is not None
        return CongestionResult(trace=cap.trace, runs=runs, wire=link.describe())
