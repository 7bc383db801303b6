"""The congestion-control experiment's spread: the figures its facts and tolerances rest on.

Runs :func:`netlab.experiments.network.congestion.congestion_control` several times and prints,
per run, for each algorithm: the window at the first loss and the threshold set there (their
ratio: reno 0.5, cubic 0.7), when cubic's HyStart set its threshold, the retransmissions, the
median and highest smoothed RTT and the throughput; then whether every fact held, and the
ratios' range over all runs. Run it idle and beside two CPU-bound processes
(``python3 -c 'while 1: pass' &`` twice) to see how a busy machine moves the figures::

    sudo .venv/bin/python benchmarks/congestion.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from netlab.errors import PrivilegeError
from netlab.experiments.network.congestion import ALGORITHMS, congestion_control


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    ratios: dict[str, list[float]] = {"reno": [], "cubic": []}
    medians: dict[str, list[float]] = {a: [] for a in ALGORITHMS}
    held = 0
    for i in range(args.runs):
        start = time.monotonic()
        try:
            result = congestion_control()
        except PrivilegeError as e:
            print(e, file=sys.stderr)
            return 77
        took = time.monotonic() - start
        print(f"run {i + 1} ({took:.1f} s, load {os.getloadavg()[0]:.1f})")
        for run in result.runs:
            loss = run.at_first_loss()
            rtts = run.rtts_ms()
            medians[run.algorithm].append(statistics.median(rtts))
            line = f"  {run.algorithm:6}"
            if loss:
                ratio = loss[1] / loss[0]
                if run.algorithm in ratios:
                    ratios[run.algorithm].append(ratio)
                line += f" cwnd {loss[0]:3} -> ssthresh {loss[1]:3} ({ratio:.2f})"
            else:
                line += " no loss" + " " * 26
            thr = run.first("threshold")
            if run.algorithm == "cubic" and thr is not None:
                line += f", HyStart at {run.samples[thr][0]:.3f} s"
            line += (f", {run.retransmitted():3} retransmitted, RTT median "
                     f"{statistics.median(rtts):5.1f} max {max(rtts):5.1f} ms, "
                     f"{run.throughput() / 1e6:.2f} Mbit/s")
            print(line)
        failed = [f.name for f in result.facts() if not f.holds]
        held += not failed
        print("  facts: all hold" if not failed else f"  facts FAILED: {failed}")
    print(f"\nall facts held in {held} of {args.runs} runs")
    for name, values in ratios.items():
        if values:
            print(f"{name} ssthresh / cwnd at the first loss: {min(values):.2f} .. "
                  f"{max(values):.2f}")
    for name, values in medians.items():
        print(f"{name} median RTT: {min(values):.0f} .. {max(values):.0f} ms")
    return 0 if held == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
