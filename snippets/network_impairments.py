"""A misbehaving link: one chosen segment lost, 1% random loss, 3% reordering, 3% duplication.

Two hosts, client (192.0.2.1) and server (192.0.2.2), joined by a userspace wire with a 5 ms
one-way delay that misbehaves on purpose. The client sends 300 kB. The script prints what the
wire did, what the captures on both hosts show of it, and the facts the chapter states (the
application still reads every byte in order), each checked on this run (about 2 s).

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/network_impairments.py [--pcap impairments.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.network.impairments import impairments


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the server's capture to this pcap file")
    return run_experiment(impairments, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
