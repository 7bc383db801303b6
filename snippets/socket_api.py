"""What a socket is: system calls, file descriptors, TCP byte streams, UDP datagrams.

Two hosts, client (192.0.2.1) and server (192.0.2.2), are made as private network
namespaces joined by a wire that counts every frame. The script makes one system call at
a time and prints, for each, the file descriptor, the kernel's TCP states and the segments
it put on the wire; then three send() calls read by one recv(), a length-prefixed framing,
UDP with an ICMP port unreachable, and the same code over TCP, UDP, IPv4, IPv6 and Unix
domain sockets. Last, the facts the chapter states, each checked on this run.

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/socket_api.py [--pcap sockets.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.sockets.socket_api import sockets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(sockets, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
