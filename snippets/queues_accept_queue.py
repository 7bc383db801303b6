"""A listener that never calls accept(): its SYN queue and accept queue, overflowing.

Two hosts, client (192.0.2.1) and server (192.0.2.2), are made as private network
namespaces joined by a userspace wire; the experiment accept_queue() runs there and prints
its tables and the facts the chapter states (the two queues of a listening socket), each
checked on this run.
Settings such as tcp_syncookies are changed only inside the lab's namespaces.

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/queues_accept_queue.py [--pcap accept-queue.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.queues.backlog import accept_queue


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the server's capture to this pcap file")
    return run_experiment(accept_queue, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
