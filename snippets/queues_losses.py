"""The SYN, the SYN-ACK or the third ACK lost on the wire, and how each side retransmits.

Two hosts, client (192.0.2.1) and server (192.0.2.2), are made as private network
namespaces joined by a userspace wire; the experiment handshake_losses() runs there and prints
its tables and the facts the chapter states (losses during the handshake), each checked on this run.
Settings such as tcp_syncookies are changed only inside the lab's namespaces.

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/queues_losses.py [--pcap losses.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.queues.losses import handshake_losses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(handshake_losses, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
