"""TCP Fast Open: a cookie on the first connection, data in the SYN on the second.

Two hosts, client (192.0.2.1) and server (192.0.2.2), are made as private network
namespaces joined by a userspace wire; the experiment fast_open() runs there and prints
its tables and the facts the chapter states (TCP Fast Open), each checked on this run.
Settings such as tcp_fastopen are changed only inside the lab's namespaces.

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/queues_fast_open.py [--pcap fast-open.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.queues.fastopen import fast_open


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(fast_open, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
