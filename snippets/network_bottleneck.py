"""A bottleneck: a 2 Mbit/s link with a drop-tail queue of 10 frames, filled by one transfer.

Two hosts, client (192.0.2.1) and server (192.0.2.2), joined by a userspace wire with a 10 ms
one-way delay. The client sends 600 kB; the queue fills, overflows and drops segments, which the
client retransmits. The script prints the rate the server received at, the queue limit seen in
the captures, the one-way delay with the queue empty and full, and the facts the chapter
states, each checked on this run (about 3 s).

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/network_bottleneck.py [--pcap bottleneck.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.network.bottleneck import bottleneck


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the server's capture to this pcap file")
    return run_experiment(bottleneck, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
