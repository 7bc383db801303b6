"""Loss and recovery: fast retransmit with SACK, the tail loss probe, timeouts that double.

Two hosts, client (192.0.2.1) and server (192.0.2.2), over a 20 ms round trip; the wire loses
chosen segments of three connections: the 3rd of a flight of 10 (resent after duplicate ACKs
with SACK blocks), the last two of 5 (a tail loss probe, then the SACK it brings back), and a
lone segment four times in a row (a probe, then timeouts that double). The script prints when
each was resent and by what, and the facts the chapter states, each checked on this run
(about 3 s).

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/network_recovery.py [--pcap recovery.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.network.recovery import recovery


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(recovery, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
