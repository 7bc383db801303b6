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

from netlab.errors import NetlabError, PrivilegeError
from netlab.experiments.tcp_teardown import teardown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    args = parser.parse_args()
    try:
        result = teardown()
    except PrivilegeError as exc:
        print(exc, file=sys.stderr)
        return 77
    except NetlabError as exc:  # the network did not behave as the experiment needs
        print(exc, file=sys.stderr)
        return 1
    print(result.report())
    if args.pcap:
        print(f"\ncapture saved to {result.trace.write_pcap(args.pcap, host='client')}")
    return 0 if all(f.holds for f in result.facts()) else 1


if __name__ == "__main__":
    sys.exit(main())
