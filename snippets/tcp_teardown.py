"""Closing TCP connections, captured live, with both kernels' states after every step.

Two hosts, client (192.0.2.1) and server (192.0.2.2), are made as private network
namespaces joined by a wire that can hold each frame until both kernels' TCP states have
been read. Eight connections are then closed in eight ways: the four-way teardown, a
half-close with data after the FIN, a server that closes on EOF (three segments), a
simultaneous close (CLOSING), a lost last ACK (TIME_WAIT at work), a server that never
closes (CLOSE_WAIT), and two resets (SO_LINGER 0, unread data). The script prints each
connection's packets and states, one connection's state changes checked against RFC 9293,
and the facts the chapter states, each checked on this run.

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/tcp_teardown.py [--pcap teardown.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.tcp.teardown import teardown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(teardown, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
