"""The long-lived connections chapter's figures, over several runs: medians and ranges.

Prints, for ``--runs`` runs of each experiment (as root)::

    sudo .venv/bin/python benchmarks/longlived.py [--runs 5]

* how long each experiment takes (the chapter's budget: well under a minute per language);
* the silent death: transmissions, the back-off gaps, and when the client gave up;
* keepalive: probes seen, and the Linux defaults' detection time;
* heartbeats: how long the client took to declare a hung server dead, and a cut link; how
  long keepalive and the server took to notice the cut;
* push against polling: connections, bytes on the wire, median and worst latency;
* WebSocket: ping round trips, frame header sizes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from netlab.errors import PrivilegeError
from netlab.experiments import heartbeats, idle_connections, push_vs_poll, websocket


def _span(values: Sequence[float], unit: str = "s", scale: float = 1.0, digits: int = 3) -> str:
    v = [x * scale for x in values]
    return (f"median {statistics.median(v):.{digits}f} {unit} "
            f"(min {min(v):.{digits}f}, max {max(v):.{digits}f})")


def _timed(fn: Callable[[], Any], runs: int) -> tuple[list[Any], list[float]]:
    results, times = [], []
    for _ in range(runs):
        start = time.monotonic()
        results.append(fn())
        times.append(time.monotonic() - start)
    return results, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    try:
        idle, t_idle = _timed(idle_connections, args.runs)
        hb, t_hb = _timed(heartbeats, args.runs)
        pp, t_pp = _timed(push_vs_poll, args.runs)
        ws, t_ws = _timed(websocket, args.runs)
    except PrivilegeError as exc:
        print(exc, file=sys.stderr)
        return 77
    runs = args.runs
    print(f"{runs} runs of each experiment\n")
    print("wall time per run")
    for name, t in (("idle", t_idle), ("heartbeat", t_hb), ("push", t_pp), ("websocket", t_ws)):
        print(f"  {name:10} {_span(t, digits=2)}")
    total = sum(statistics.median(t) for t in (t_idle, t_hb, t_pp, t_ws))
    print(f"  all four   {total:.2f} s (sum of medians: the chapter's experiment time per "
          "language)\n")

    print("silent death (firewall idle timeout 2 s, TCP_USER_TIMEOUT 3 s)")
    print(f"  transmissions of the data: {sorted({len(r.retransmissions()) for r in idle})}")
    gaps = list(zip(*(r.backoff() for r in idle), strict=False))
    for i, g in enumerate(gaps):
        print(f"  gap {i + 1}: {_span(g)}")
    print(f"  gave up (ETIMEDOUT) after: {_span([r.gave_up_after for r in idle], digits=2)}")
    print(f"  drops counted = segments lost: "
          f"{all(r.drops[1] - r.drops[0] == len(r.lost()) for r in idle)}")
    print(f"  server still ESTABLISHED: "
          f"{all(r.server_states == ('ESTABLISHED', 'ESTABLISHED') for r in idle)}\n")

    d = idle[0].defaults
    print("keepalive (TCP_KEEPIDLE = TCP_KEEPINTVL = 1 s)")
    print(f"  probes per run: {[len(r.probes()) for r in idle]}, all answered, "
          f"kept connection alive: {all(r.echo == b'still there?' for r in idle)}")
    print(f"  Linux defaults: {d.keepalive_time} s + {d.keepalive_intvl} s × "
          f"{d.keepalive_probes} = {d.keepalive_detect} s; tcp_retries2 {d.tcp_retries2} → "
          f"{d.retransmit_give_up:.1f} s\n")

    print("heartbeats (ping every 0.25 s, deadline 1 s; server deadline 1.5 s; "
          "keepalive 1 s / 1 s / 2)")
    print(f"  hung server declared dead after:   {_span([r.hang_after for r in hb])}")
    print(f"  ... after its last pong:           "
          f"{_span([(r.hang.time_ns - r.last_pong().time_ns) / 1e9 for r in hb])}")
    print(f"  cut link noticed by the heartbeat: {_span([r.cut_after for r in hb])}")
    print(f"  ... by the server (silent client): {_span([r.server_after for r in hb])}")
    print(f"  ... by keepalive (ETIMEDOUT):      {_span([r.keepalive_after for r in hb])}")
    print(f"  keepalive probes answered during the hang: "
          f"{[sum(r.answered(p) for p in r.probes(r.frozen_ns, r.thawed_ns)) for r in hb]}\n")

    print("push against polling (8 updates, polls every 150 ms, RTT 50 ms)")
    for i, name in enumerate(("push", "poll", "poll, new connection each time")):
        ms = [r.methods[i] for r in pp]
        print(f"  {name}")
        print(f"    connections {sorted({m.connections for m in ms})}, requests "
              f"{sorted({m.requests for m in ms})}, empty answers "
              f"{sorted({m.empty for m in ms})}")
        print(f"    bytes on the wire: {_span([m.wire_bytes for m in ms], 'B', digits=0)}")
        print(f"    median latency:    {_span([m.median for m in ms], 'ms', 1e3, 1)}")
        print(f"    worst latency:     {_span([max(m.latencies) for m in ms], 'ms', 1e3, 1)}")
    print()

    print("WebSocket")
    rtts = [t for r in ws for t in r.ping_rtts]
    print(f"  ping → pong round trip: {_span(rtts, 'ms', 1e3, 3)}")
    sizes = sorted({(w, f.header_size) for r in ws for w, f in r.frames()})
    print(f"  frame header bytes (sender, size): {sizes}")
    facts = [f for r in (*idle, *hb, *pp, *ws) for f in r.facts()]
    print(f"\nfacts holding: {sum(f.holds for f in facts)} of {len(facts)}")
    return 0 if all(f.holds for f in facts) else 1


if __name__ == "__main__":
    sys.exit(main())
