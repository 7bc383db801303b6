"""An old duplicate SYN reaches the server; its SYN-ACK is refused by the client with RST.

Two hosts, client (192.0.2.1) and server (192.0.2.2), are made as private network
namespaces joined by a userspace wire; the experiment old_duplicate_syn() runs there and prints
its tables and the facts the chapter states (why three segments, not two), each checked on this run.
Settings such as tcp_syncookies are changed only inside the lab's namespaces.

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/queues_why_three.py [--pcap why_three.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.queues.old_syn import old_duplicate_syn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the server's capture to this pcap file")
    return run_experiment(old_duplicate_syn, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
