"""Capture fidelity: what netlab captured vs what tcpdump captured of the same traffic.

Runs the handshake experiment ``--runs`` times. During each run, tcpdump captures the same
interfaces from inside the client's and the server's namespaces (the tests' witness, from
``tests/support.py``). Prints, per host, the frames each saw and whether the bytes and the
nanosecond timestamps are identical; they must be.

    sudo .venv/bin/python benchmarks/capture_fidelity.py [--runs 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support import Tcpdump

import netlab.lab.lab
from netlab.analysis.trace import Trace
from netlab.experiments.tcp.handshake import handshake
from netlab.lab.lab import Host, Lab, LabCapture


def witnessed_run(directory: Path) -> tuple[Trace, dict[str, Tcpdump]]:
    witnesses: dict[str, Tcpdump] = {}

    class Witnessed(LabCapture):
        def __init__(self, lab: Lab, hosts: tuple[Host, ...]) -> None:
            for h in hosts:
                witnesses[h.name] = Tcpdump(h.ns, h.interfaces[0].name,
                                            directory / f"tcpdump-{h.name}.pcap")
            super().__init__(lab, hosts)

        def stop(self) -> Trace:
            try:
                return super().stop()
            finally:
                for w in witnesses.values():
                    w.stop()

    original = netlab.lab.lab.LabCapture
    netlab.lab.lab.LabCapture = Witnessed  # type: ignore[misc]
    try:
        result = handshake()
    finally:
        netlab.lab.lab.LabCapture = original  # type: ignore[misc]
    return result.trace, witnesses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    equal = True
    totals: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            trace, witnesses = witnessed_run(Path(tmp))
            for host, w in witnesses.items():
                ours = trace.frames.get(host, ())
                same = ([(f.data, f.timestamp_ns) for f in ours]
                        == [(f.data, f.timestamp_ns) for f in w.frames])
                equal &= same and w.kernel_drops == 0
                t = totals.setdefault(host, [0, 0, 0])
                t[0] += len(ours)
                t[1] += len(w.frames)
                t[2] += int(same)
    print(f"{args.runs} runs of the handshake experiment")
    print(f"{'host':8s} {'netlab':>7s} {'tcpdump':>8s}  identical runs")
    for host, (ours, theirs, same) in totals.items():
        print(f"{host:8s} {ours:7d} {theirs:8d}  {same}/{args.runs}")
    print("capture fidelity:", "EQUAL" if equal else "DIFFERENT")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
