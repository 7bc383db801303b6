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
  which include the wire's transit and are shown for comparison.

Run it as root from the repository::

    sudo .venv/bin/python benchmarks/timing_spread.py [--runs 10] [--busy 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
from collections import defaultdict

from netlab.experiments.longlived.push import ONE_WAY, POLL, POLL_SLACK, SLACK, push_vs_poll
from netlab.experiments.tcp.teardown import teardown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes beside it")
    args = parser.parse_args()
    busy = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(args.busy)]
    seen: dict[str, list[float]] = defaultdict(list)
    failed: list[str] = []
    try:
        for _ in range(args.runs):
            t = teardown()
            seen["teardown: FIN ACK after data (ms)"].append(t.orderly.ack_delay * 1e3)
            seen["teardown: FIN ACK, no data before (ms)"].append(t.half_close.ack_delay * 1e3)
            p = push_vs_poll()
            for m in p.methods:
                seen[f"push: {m.name}: median send delay (ms)"].append(m.median_send_delay * 1e3)
                seen[f"push: {m.name}: worst send delay (ms)"].append(max(m.send_delays) * 1e3)
                seen[f"push: {m.name}: median latency (ms)"].append(m.median * 1e3)
            failed += [f.name or f.text for r in (t, p) for f in r.facts() if not f.holds]
    finally:
        for b in busy:
            b.kill()
            b.wait()
    bounds = {
        "teardown: FIN ACK after data (ms)": "≥ 36, < 500",
        "teardown: FIN ACK, no data before (ms)": "< 20",
        "push: poll: worst send delay (ms)": f"≤ {(POLL + POLL_SLACK) * 1e3:.0f}",
    }
    print(f"{args.runs} runs, {args.busy} CPU-bound processes beside them; one-way delay "
          f"{ONE_WAY * 1e3:.0f} ms, push SLACK {SLACK * 1e3:.0f} ms (median send delay)\n")
    print(f"{'timing':58} {'min':>8} {'median':>8} {'max':>8}  bound")
    for name, values in seen.items():
        pushed = name.split(": ")[1] in ("push", "Server-Sent Events", "long polling")
        bound = bounds.get(name, f"< {SLACK * 1e3:.0f}" if pushed and "median send" in name
                           else "")
        print(f"{name:58} {min(values):8.1f} {statistics.median(values):8.1f} "
              f"{max(values):8.1f}  {bound}")
    print(f"\nfacts that failed: {failed or 'none'}")


if __name__ == "__main__":
    main()
