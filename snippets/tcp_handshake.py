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

from netlab.errors import PrivilegeError
from netlab.experiments.tcp_handshake import handshake


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    args = parser.parse_args()
    try:
        result = handshake()
    except PrivilegeError as exc:
        print(exc, file=sys.stderr)
        return 77
    print(result.report())
    if args.pcap:
        print(f"\ncapture saved to {result.trace.write_pcap(args.pcap, host='client')}")
    return 0 if all(f.holds for f in result.facts()) else 1


if __name__ == "__main__":
    sys.exit(main())
