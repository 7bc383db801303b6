"""The lab's figures: delay fidelity, the wire's capacity, start-up and tear-down times.

Prints, for this machine:

* **delay fidelity**: for configured round-trip times of 10, 50 and 200 ms, the median
  ``connect()`` time and one-byte echo over a delayed link, and their ratio to the configured
  RTT (:func:`netlab.experiments.lab.tour.delay_fidelity`, with more samples);
* **the wire's capacity**: a bulk TCP transfer for a few seconds through a link with a 1 ms
  one-way delay and no rate limit: throughput (Mbit/s), frames per second the wire forwards
  (both directions: data and ACKs), and the CPU it costs, as a share of one core: the wire's
  own thread (``/proc/self/task/TID/stat``) and this whole process (``getrusage``). The sender
  and the receiver are child processes in the hosts (``Host.popen``), so the CPU measured here
  is the wire's, not theirs; a plain veth pair runs the same transfer for comparison;
* **start-up and tear-down** of a 3-host lab (client — firewall — server, a stateful firewall
  and one delayed link): the median, min and max of ``--runs`` runs.

Run it as root from the repository::

    sudo .venv/bin/python benchmarks/lab.py [--samples 20] [--seconds 3] [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from netlab.experiments.lab.tour import delay_fidelity
from netlab.lab import Lab, Wire

RTTS = (0.010, 0.050, 0.200)
PORT = 9000
TICK = os.sysconf("SC_CLK_TCK")

RECEIVER = """
import socket, sys, time
listener = socket.create_server((sys.argv[1], int(sys.argv[2])))
print("listening", flush=True)
conn, _ = listener.accept()
total, start = 0, time.perf_counter()
while data := conn.recv(1 << 20):
    total += len(data)
print(total, time.perf_counter() - start, flush=True)
"""

SENDER = """
import socket, sys, time
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
chunk, deadline = b"\\0" * (1 << 16), time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    sock.sendall(chunk)
sock.close()
"""


def thread_cpu(native_id: int) -> float:
    """CPU seconds (user + system) a thread of this process has used so far."""
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bulk_transfer(seconds: float, delay: str | None) -> dict[str, float]:
    """Send for ``seconds`` from client to server over one link; what it took."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        link = lab.link(client, server, delay=delay or 0)
        wire: Wire | None = link.wire
        receiver = server.popen([sys.executable, "-c", RECEIVER, server.address, str(PORT)],
                                stdout=subprocess.PIPE, text=True)
        assert receiver.stdout is not None
        receiver.stdout.readline()  # listening
        wire_tid = wire._thread.native_id if wire is not None else None
        assert wire is None or wire_tid is not None
        frames0 = wire.forwarded if wire is not None else 0
        wire0 = thread_cpu(wire_tid) if wire_tid is not None else 0.0
        proc0, wall0 = process_cpu(), time.perf_counter()
        sender = client.popen([sys.executable, "-c", SENDER, server.address, str(PORT),
                               str(seconds)])
        out, _ = receiver.communicate(timeout=seconds + 30)
        sender.wait(10)
        wall = time.perf_counter() - wall0
        total, receiving = out.split()
        result = {
            "mbit_s": int(total) * 8 / float(receiving) / 1e6,
            "process_cpu": (process_cpu() - proc0) / wall,
        }
        if wire is not None and wire_tid is not None:
            result["frames_s"] = (wire.forwarded - frames0) / wall
            result["wire_cpu"] = (thread_cpu(wire_tid) - wire0) / wall
            result["lost"] = wire.lost
        return result


def three_hosts() -> tuple[float, float]:
    """Seconds to build client — firewall — server (firewall, one delayed link); to close it."""
    start = time.perf_counter()
    lab = Lab()
    try:
        client, fw, server = lab.host("client"), lab.host("firewall"), lab.host("server")
        lab.link(client, fw, delay="25ms")
        lab.link(fw, server)
        fw.add_firewall(idle_timeout="60s")
        built = time.perf_counter()
    finally:
        lab.close()
    return built - start, time.perf_counter() - built


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20, help="connects per configured RTT")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the transfer")
    parser.add_argument("--runs", type=int, default=10, help="start-ups and tear-downs")
    args = parser.parse_args()

    print(f"== Delay fidelity ({args.samples} connects and echoes per RTT) ==")
    fidelity = delay_fidelity(RTTS, samples=args.samples)
    print(fidelity)
    for s in fidelity.samples:
        worst = max(s.connect + s.echo) / s.configured
        print(f"  {s.configured * 1e3:.0f} ms: slowest sample {worst:.3f} × RTT; "
              f"{s.mechanism}")

    print(f"\n== The wire's capacity ({args.seconds:g} s of bulk TCP, endpoints in child "
          "processes) ==")
    print(f"{'link':32s} {'Mbit/s':>8s} {'frames/s':>9s} {'wire CPU':>9s} {'process CPU':>12s}")
    for label, delay in (("wire, one-way delay 1 ms", "1ms"), ("plain veth pair (no wire)", None)):
        r = bulk_transfer(args.seconds, delay)
        frames = f"{r['frames_s']:9.0f}" if "frames_s" in r else f"{'-':>9s}"
        wire_cpu = f"{r['wire_cpu']:8.0%} " if "wire_cpu" in r else f"{'-':>9s}"
        print(f"{label:32s} {r['mbit_s']:8.0f} {frames} {wire_cpu} {r['process_cpu']:11.0%}")
    print("  (CPU as a share of one core; frames/s counts both directions: data and ACKs)")

    print(f"\n== Start-up and tear-down, client — firewall — server, {args.runs} runs ==")
    times = [three_hosts() for _ in range(args.runs)]
    for what, values in (("start-up", [t[0] for t in times]),
                         ("tear-down", [t[1] for t in times])):
        print(f"{what:10s} median {statistics.median(values) * 1e3:6.1f} ms   "
              f"min {min(values) * 1e3:6.1f} ms   max {max(values) * 1e3:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
