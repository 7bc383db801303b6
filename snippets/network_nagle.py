"""Nagle against delayed ACK: write-write-read stalls about 40 ms; TCP_NODELAY, TCP_QUICKACK.

Two hosts, client (192.0.2.1) and server (192.0.2.2), over a 10 ms round trip. The client sends
16 small requests, each in two writes, and reads each response, on three connections: with the
defaults, with TCP_NODELAY, and with TCP_QUICKACK on the server. The script prints the median
request time of each, how long the second write waited, how long the server delayed its ACK,
and the facts the chapter states, each checked on this run (about 2 s).

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/network_nagle.py [--pcap nagle.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.network.nagle import nagle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(nagle, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
