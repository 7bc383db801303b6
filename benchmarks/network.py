"""The network chapter's figures: the wire's rate and queue fidelity, and each experiment's
figures over several runs.

Prints, as root::

    sudo .venv/bin/python benchmarks/network.py [--runs 3] [--rates 2,4,8]

* **rate and queue fidelity**: for each rate, a bulk transfer through a 20-frame drop-tail
  queue (:func:`netlab.experiments.network.bottleneck.bottleneck`): the rate the server's
  capture received at against the configured one (the chapter promises ±5%), the most frames
  the wire's queue held, and the frames ahead of each dropped segment as the captures on
  both hosts tell (exact: the limit itself); then the same with a limit in bytes
  (``queue_bytes``): the bytes ahead of each dropped segment plus its own frame exceed the
  limit, and no admitted one found more than the limit ahead of it;
* **recovery**: when each lost segment was resent (fast retransmit, tail loss probe, the
  timeouts' back-off);
* **Nagle**: the median request time with the defaults, TCP_NODELAY and TCP_QUICKACK;
* how long each experiment takes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from netlab.errors import PrivilegeError
from netlab.experiments.network.bottleneck import QUEUE, bottleneck
from netlab.experiments.network.impairments import impairments
from netlab.experiments.network.nagle import nagle
from netlab.experiments.network.recovery import recovery

QUEUE_BYTES = 20_000


def fidelity(rates: list[float], runs: int) -> None:
    print(f"Rate and queue fidelity ({QUEUE}-frame drop-tail queue, 10 ms one-way delay)\n")
    print(f"{'rate':>9}  {'delivered (Mbit/s)':<28}  {'error':<16}  {'wire max':>8}  "
          "frames ahead of each drop")
    for mbit in rates:
        rate = mbit * 1e6
        delivered, ahead, maxima = [], set(), set()
        for _ in range(runs):
            r = bottleneck(rate=rate, size=int(rate / 8 * 2))
            delivered.append(r.delivered_rate())
            ahead |= set(r.at_drops())
            maxima.add(r.max_queue)
        errors = [d / rate - 1 for d in delivered]
        print(f"{mbit:>4g} Mbit  {', '.join(f'{d / 1e6:.3f}' for d in delivered):<28}  "
              f"{', '.join(f'{e:+.1%}' for e in errors):<16}  "
              f"{', '.join(map(str, sorted(maxima))):>8}  {sorted(ahead)}")
    print(f"\nA limit of {QUEUE_BYTES} bytes at 4 Mbit/s:")
    for _ in range(runs):
        r = bottleneck(rate=4e6, queue=None, queue_bytes=QUEUE_BYTES, size=1_000_000)
        occ = r.occupancy_bytes()
        data = r.data()
        at_drop = [n + len(s.frame) for n, s in zip(occ, data, strict=True)
                   if s.received_ns is None]
        admitted = [n for n, s in zip(occ, data, strict=True) if s.received_ns is not None]
        print(f"  {len(at_drop)} drops, bytes ahead + own frame at each: "
              f"{min(at_drop, default=0)}..{max(at_drop, default=0)} (> {QUEUE_BYTES}: "
              f"{all(b > QUEUE_BYTES for b in at_drop)}); most bytes ahead of an admitted "
              f"frame: {max(admitted)}; rate {r.delivered_rate() / 1e6:.3f} Mbit/s")


def figures(runs: int) -> None:
    print("\nRecovery (ms): fast retransmit, tail loss probe, the other tail hole, RTO gaps")
    for _ in range(runs):
        start = time.monotonic()
        r = recovery()
        took = time.monotonic() - start
        fast, sacks, dups = r.fast_retransmit()
        tail = r.lost_seqs("tail")
        print(f"  fast {fast * 1e3:.0f} ({sacks} SACKs, {dups} dupacks); probe "
              f"{r.gaps('tail', tail[1])[0] * 1e3:.0f}; #4 {r.gaps('tail', tail[0])[0] * 1e3:.0f};"
              f" RTO gaps {', '.join(f'{g * 1e3:.0f}' for g in r.gaps('timeout', 1))}; "
              f"{took:.1f} s; facts {sum(f.holds for f in r.facts())}/{len(r.facts())}")
    print("\nNagle (median request, ms): defaults, TCP_NODELAY, TCP_QUICKACK; ACK delay")
    for _ in range(runs):
        start = time.monotonic()
        n = nagle()
        took = time.monotonic() - start
        print(f"  {n.median('nagle') * 1e3:.1f}, {n.median('nodelay') * 1e3:.1f}, "
              f"{n.median('quickack') * 1e3:.1f}; server's ACK after "
              f"{statistics.median(n.ack_delays('nagle')) * 1e3:.1f} ms; {took:.1f} s; facts "
              f"{sum(f.holds for f in n.facts())}/{len(n.facts())}")
    print("\nImpairments: wire counts (chosen, lost, held back, doubled) vs captures")
    for _ in range(runs):
        start = time.monotonic()
        i = impairments()
        took = time.monotonic() - start
        c = i.counts
        print(f"  wire {c.chosen}, {c.lost}, {c.reordered}, {c.duplicated}; captures lost "
              f"{len(i.lost())}, overtaken {len(i.overtaken())}, duplicates "
              f"{len(i.duplicates())}; {took:.1f} s; facts "
              f"{sum(f.holds for f in i.facts())}/{len(i.facts())}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rates", default="2,4,8", help="Mbit/s, comma-separated")
    args = parser.parse_args()
    try:
        fidelity([float(r) for r in args.rates.split(",")], args.runs)
        figures(args.runs)
    except PrivilegeError as exc:
        print(exc, file=sys.stderr)
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
