"""The spread of the timings behind the chapters' tolerances, idle and on a busy machine.

A fact that compares a time with a bound (the ACK of a FIN waits at least 40 ms; a pushed
update leaves the server at once) needs a tolerance, and the tolerance must come from a
measured spread, not from a guess. This runs the experiments behind those facts ``--runs``
times, with ``--busy`` CPU-bound processes (``yes > /dev/null``) running beside them, and
prints, for each timing, the least, the median and the largest value seen, next to the bound
the fact uses:

* teardown: the delay of the ACK of a FIN after a request and a response, and on a
  connection that received no data (``fin-ack-delayed``);
* push: how long after making an update the server sent it, pushed (WebSocket, SSE, long
  polling; ``SLACK``) and polled (``POLL`` + ``POLL_SLACK``); and the delivery latencies,
  which include the wire's transit and are shown for comparison;
* bottleneck: the rate the server's capture measured over the configured one
  (``RATE_TOLERANCE``), the drops the captures and a replayed queue disagree on
  (``UNEXPLAINED``), the median delay behind a full queue and the quickest trip, less what
  the link predicts (``LATE``), and how late the wire's thread sent frames;
* lab: the fastest connect() and echo over the configured RTT from 50 ms on
  (``FIDELITY``), and the fastest round trip's excess over the RTT at each RTT (``EXTRA``);
* http-costs: each way's fastest time over the round trips predicted, and the time per
  request beyond them (``TOLERANCE``, ``OVERHEAD``), and the same ratio for head-of-line
  blocking;
* https-cost: the fastest time to the first byte over the round trips predicted
  (``TOLERANCE``);
* heartbeat: each verdict's time after its deadline (``SLACK``);
* handshake, handshake-losses: the SYN and SYN-ACK retransmission times over the kernel's
  1 s initial timeout (the bounds of their facts).

Run it as root from the repository (``--only`` picks some of them, comma-separated)::

    sudo .venv/bin/python benchmarks/timing_spread.py [--runs 10] [--busy 2] [--only bottleneck]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
from collections import defaultdict

from netlab.experiments.http.costs import OVERHEAD, connection_costs
from netlab.experiments.http.costs import TOLERANCE as HTTP_TOLERANCE
from netlab.experiments.http.head_of_line import head_of_line
from netlab.experiments.https.cost import TOLERANCE as HTTPS_TOLERANCE
from netlab.experiments.https.cost import https_round_trips
from netlab.experiments.lab.tour import FIDELITY, lab_tour
from netlab.experiments.longlived import heartbeat as hb
from netlab.experiments.longlived.push import ONE_WAY, POLL, POLL_SLACK, SLACK, push_vs_poll
from netlab.experiments.network import bottleneck as bn
from netlab.experiments.queues.losses import CASES, handshake_losses
from netlab.experiments.result import Result
from netlab.experiments.tcp._teardown_results import FIN_RTO
from netlab.experiments.tcp.handshake import RTO_BOUNDS, handshake
from netlab.experiments.tcp.teardown import teardown

ALL = ("teardown", "push", "bottleneck", "lab", "http-costs", "https-cost", "heartbeat",
       "handshake", "handshake-losses")


def _teardown(seen: dict[str, list[float]]) -> Result:
    t = teardown()
    seen["teardown: FIN ACK after data (ms)"].append(t.orderly.ack_delay * 1e3)
    seen["teardown: FIN ACK, no data before (ms)"].append(t.half_close.ack_delay * 1e3)
    seen["teardown: FIN again after the last ACK was lost (s)"].append(
        t.lost_ack.retransmission_delay)
    return t


def _push(seen: dict[str, list[float]]) -> Result:
    p = push_vs_poll()
    for m in p.methods:
        seen[f"push: {m.name}: median send delay (ms)"].append(m.median_send_delay * 1e3)
        seen[f"push: {m.name}: worst send delay (ms)"].append(max(m.send_delays) * 1e3)
        seen[f"push: {m.name}: median latency (ms)"].append(m.median * 1e3)
    return p


def _bottleneck(seen: dict[str, list[float]]) -> Result:
    r = bn.bottleneck()
    ft = r.frame_time()
    seen["bottleneck: measured / configured rate"].append(r.delivered_rate() / r.rate)
    seen["bottleneck: drops replay and captures disagree on"].append(r.unexplained())
    seen["bottleneck: full-queue median - (DELAY + limit × ft) (ms)"].append(
        (r.full_queue_delay() - bn.DELAY - r.limit * ft) * 1e3)
    seen["bottleneck: quickest trip - (DELAY + ft) (ms)"].append(
        (min(r.transit()) - bn.DELAY - ft) * 1e3)
    late = sorted(r.wire_late)
    seen["bottleneck: wire thread late, median (ms)"].append(late[len(late) // 2] * 1e3)
    seen["bottleneck: wire thread late, worst (ms)"].append(late[-1] * 1e3)
    return r


def _lab(seen: dict[str, list[float]]) -> Result:
    r = lab_tour()
    for s in r.fidelity.samples:
        if s.configured >= 0.050:
            seen["lab: connect / RTT and echo / RTT, 50 ms and more"] += [s.connect_ratio,
                                                                          s.echo_ratio]
            seen["lab: fastest connect or echo / RTT, 50 ms and more"] += [
                min(s.connect) / s.configured, min(s.echo) / s.configured]
    for s in r.fidelity.samples:
        seen[f"lab: fastest trip - RTT at {s.configured * 1e3:.0f} ms (ms)"].append(
            (min(s.connect + s.echo) - s.configured) * 1e3)
    return r


def _http_costs(seen: dict[str, list[float]]) -> Result:
    r = connection_costs()
    for m in r.runs:
        seen[f"http-costs: {m.mode}: fastest / predicted"].append(m.ratio)
        seen[f"http-costs: {m.mode}: ms per request over the round trips"].append(
            (m.elapsed - m.predicted) / m.requests * 1e3)
    h = head_of_line()
    for w in h.runs:
        wait = h.rtt + h.slow if w.way == "pipelined" else h.rtt
        seen[f"http-hol: {w.way}: /fast / predicted"].append(w.arrival("/fast") / wait)
    return r


def _https_cost(seen: dict[str, list[float]]) -> Result:
    r = https_round_trips()
    for w in r.ways:
        seen[f"https-cost: {w.name}: fastest / predicted"].append(w.ratio)
    return r


def _heartbeat(seen: dict[str, list[float]]) -> Result:
    r = hb.heartbeats()
    seen["heartbeat: hung server declared dead - DEADLINE (ms)"].append(
        (r.hang_after - hb.DEADLINE) * 1e3)
    seen["heartbeat: cut noticed - DEADLINE (ms)"].append((r.cut_after - hb.DEADLINE) * 1e3)
    seen["heartbeat: silent client dropped - SERVER_DEADLINE (ms)"].append(
        (r.server_after - hb.SERVER_DEADLINE) * 1e3)
    probes = r.unanswered_probes()
    seen["heartbeat: unanswered keepalive probes apart, in intervals"] += [
        (b.time_ns - a.time_ns) / 1e9 / hb.KEEPALIVE[1]
        for a, b in zip(probes, probes[1:], strict=False)]
    return r


def _handshake(seen: dict[str, list[float]]) -> Result:
    r = handshake()
    seen["handshake: unanswered SYN's retransmission (s)"].append(r.retransmission_delay())
    return r


def _losses(seen: dict[str, list[float]]) -> Result:
    r = handshake_losses()
    p_syn, p_synack, p_ack, _ = CASES
    gaps = r.intervals(p_syn, "SYN")
    for g, e in zip(gaps, r.expected_syn_intervals(len(gaps)), strict=True):
        seen["handshake-losses: SYN gap / expected"].append(g / e)
    seen["handshake-losses: connect() after a lost SYN-ACK (s)"].append(r.connect_s[p_synack])
    seen["handshake-losses: accept() after a lost ACK (s)"].append(r.accept_s[p_ack])
    return r


RUNS = {"teardown": _teardown, "push": _push, "bottleneck": _bottleneck, "lab": _lab,
        "http-costs": _http_costs,
        "https-cost": _https_cost, "heartbeat": _heartbeat, "handshake": _handshake,
        "handshake-losses": _losses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes beside it")
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated: " + ", ".join(ALL))
    args = parser.parse_args()
    chosen = [RUNS[n] for n in args.only.split(",")]
    busy = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(args.busy)]
    seen: dict[str, list[float]] = defaultdict(list)
    failed: list[str] = []
    try:
        for _ in range(args.runs):
            for run in chosen:
                try:
                    r = run(seen)
                    failed += [f"{f.name or f.text}: {f.evidence}" for f in r.facts()
                               if not f.holds]
                except Exception as exc:  # a run that breaks is a finding, not the end
                    failed.append(f"{run.__name__[1:]}: {type(exc).__name__}: {exc}")
    finally:
        for b in busy:
            b.kill()
            b.wait()
    bounds = {
        "teardown: FIN ACK after data (ms)": "≥ 36, < 500",
        "teardown: FIN ACK, no data before (ms)": "< 20",
        "teardown: FIN again after the last ACK was lost (s)": f"{FIN_RTO[0]}–{FIN_RTO[1]}",
        "handshake: unanswered SYN's retransmission (s)": f"{RTO_BOUNDS[0]}–{RTO_BOUNDS[1]}",
        "heartbeat: unanswered keepalive probes apart, in intervals":
            f"{hb.PROBE_SPACING[0]}–{hb.PROBE_SPACING[1]}",
        "push: poll: worst send delay (ms)": f"≤ {(POLL + POLL_SLACK) * 1e3:.0f}",
        "bottleneck: measured / configured rate": f"1 ± {bn.RATE_TOLERANCE}",
        "bottleneck: drops replay and captures disagree on": f"≤ {bn.UNEXPLAINED:.0%} of drops",
        "bottleneck: full-queue median - (DELAY + limit × ft) (ms)":
            f"≥ -{bn.FRAME * 8 / bn.RATE * 1e3:.2f}, ≤ {bn.LATE * 1e3:g}",
        "lab: connect / RTT and echo / RTT, 50 ms and more": f"{FIDELITY[0]}–{FIDELITY[1]}",
        "heartbeat: hung server declared dead - DEADLINE (ms)": f"≤ {hb.SLACK * 1e3:g}",
        "heartbeat: cut noticed - DEADLINE (ms)": f"≤ {hb.SLACK * 1e3:g}",
        "heartbeat: silent client dropped - SERVER_DEADLINE (ms)": f"≤ {hb.SLACK * 1e3:g}",
    }
    for name in seen:
        if name.startswith("https-cost"):
            bounds[name] = f"{HTTPS_TOLERANCE[0]}–{HTTPS_TOLERANCE[1]}"
        elif name.startswith("http-") and "predicted" in name:
            bounds[name] = f"{HTTP_TOLERANCE[0]}–{HTTP_TOLERANCE[1]}"
        elif name.startswith("http-costs") and "per request" in name:
            bounds[name] = f"0–{OVERHEAD * 1e3:g}"
    print(f"{args.runs} runs, {args.busy} CPU-bound processes beside them; one-way delay "
          f"{ONE_WAY * 1e3:.0f} ms, push SLACK {SLACK * 1e3:.0f} ms (median send delay)\n")
    print(f"{'timing':58} {'min':>8} {'median':>8} {'max':>8}  bound")
    for name, values in seen.items():
        pushed = name.split(": ")[1] in ("push", "Server-Sent Events", "long polling")
        bound = bounds.get(name, f"< {SLACK * 1e3:.0f}" if pushed and "median send" in name
                           else "")
        print(f"{name:58} {min(values):8.3f} {statistics.median(values):8.3f} "
              f"{max(values):8.3f}  {bound}")
    print("\nfacts that failed:" + ("".join(f"\n  {f}" for f in failed) or " none"))


if __name__ == "__main__":
    main()
