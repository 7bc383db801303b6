"""The TCP three-way handshake, captured live, with both kernels' states between segments.

Two hosts, client (192.0.2.1) and server (192.0.2.2), are made as private network
namespaces joined by a wire that holds each frame until both kernels' TCP states have
been read. The script prints the packet table (relative and absolute sequence numbers,
window, options), the states between segments, what the SYN and SYN-ACK negotiate, and
the facts the chapter states, each checked on this run.

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/tcp_handshake.py [--pcap handshake.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.tcp.handshake import handshake


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(handshake, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
