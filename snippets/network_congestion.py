"""Congestion control: reno, cubic and bbr through the same bottleneck, read from TCP_INFO.

Two hosts, client (192.0.2.1) and server (192.0.2.2), joined by a 2 Mbit/s link with a 10 ms
one-way delay behind a 30-frame drop-tail queue. The client sends 400 kB three times, with
reno, cubic and bbr (TCP_CONGESTION), reading the socket's TCP_INFO every 2 ms. The script
prints each algorithm's window at its first loss and the threshold it set, its
retransmissions, round trips and throughput, a summary of the time-sequence graph, and the
facts the chapter states, each checked on this run (about 6 s).

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/network_congestion.py [--pcap congestion.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.network.congestion import congestion_control


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(congestion_control, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
