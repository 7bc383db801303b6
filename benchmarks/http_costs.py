"""The HTTP chapter's figures: N requests over a real RTT as HTTP/1.0, HTTP/1.1 and pipelined.

For each of ``--runs`` single runs of :func:`netlab.experiments.http.costs.connection_costs`
(by default N = 10 requests over a 50 ms round trip; the page keeps the fastest of three,
this prints every one), prints the TCP handshakes, the time measured
from the client's capture (first SYN to the last response byte), the time the round-trip count
predicts, and their ratio; then, per way, the median, min and max of the ratio over the runs.
Also prints the head-of-line figures: when ``/fast`` arrived behind a 300 ms ``/slow``.

Run it as root from the repository (curl must be installed)::

    sudo .venv/bin/python benchmarks/http_costs.py [--runs 5] [--n 10] [--rtt-ms 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys

from netlab.experiments.http.costs import ROUND_TRIPS, TOLERANCE, connection_costs
from netlab.experiments.http.head_of_line import head_of_line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--n", type=int, default=10, help="requests per way")
    parser.add_argument("--rtt-ms", type=float, default=50.0)
    args = parser.parse_args()
    if args.runs < 1 or args.n < 1 or args.rtt_ms <= 0:
        parser.error("--runs and --n must be at least 1, --rtt-ms more than 0")
    ratios: dict[str, list[float]] = {m: [] for m in ROUND_TRIPS}
    print(f"N = {args.n} requests, RTT = {args.rtt_ms:g} ms, {args.runs} runs")
    print(f"{'run':>3}  {'way':<10} {'SYNs':>4} {'RTTs':>4} {'predicted':>10} {'measured':>10}"
          f" {'ratio':>6}")
    for i in range(1, args.runs + 1):
        result = connection_costs(args.n, args.rtt_ms / 1e3, small=1, repeats=1)
        for r in result.runs:
            ratios[r.mode].append(r.ratio)
            print(f"{i:>3}  {r.mode:<10} {r.handshakes:>4} {r.round_trips:>4} "
                  f"{r.predicted * 1e3:>8.0f} ms {r.elapsed * 1e3:>7.1f} ms {r.ratio:>6.3f}")
    print(f"\nmeasured / predicted over {args.runs} runs (the pages assert "
          f"{TOLERANCE[0]} to {TOLERANCE[1]}):")
    for mode, values in ratios.items():
        print(f"  {mode:<10} median {statistics.median(values):.3f}  "
              f"min {min(values):.3f}  max {max(values):.3f}")
    hol = head_of_line(repeats=1)
    print(f"\nhead-of-line blocking (RTT {hol.rtt * 1e3:.0f} ms, /slow takes "
          f"{hol.slow * 1e3:.0f} ms):")
    for run in hol.runs:
        print(f"  {run.way:<16} /fast after {run.arrival('/fast') * 1e3:6.1f} ms, "
              f"/slow after {run.arrival('/slow') * 1e3:6.1f} ms, first: {run.order[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
