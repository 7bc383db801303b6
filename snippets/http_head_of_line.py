"""Head-of-line blocking: a slow response holds back a fast one in an HTTP/1.1 pipeline.

The client asks for /slow (300 ms) then /fast, pipelined on one HTTP/1.1 connection, on
two connections, and as two streams of one HTTP/2 connection (h2), over a 50 ms round trip.
Prints when each response arrived (from the capture) and the facts, checked on this run.

Run it as root (it creates network namespaces and captures packets), after the set-up
command of the README::

    sudo .venv/bin/python snippets/http_head_of_line.py [--pcap http-pipelined.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.errors import NetlabError, PrivilegeError
from netlab.experiments.http_hol import head_of_line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the capture to this pcap file")
    args = parser.parse_args()
    try:
        result = head_of_line()
    except PrivilegeError as exc:
        print(exc, file=sys.stderr)
        return 77
    except NetlabError as exc:  # a missing tool or a misbehaving network
        print(exc, file=sys.stderr)
        return 1
    print(result.report())
    if args.pcap:
        path = result.trace.write_pcap(args.pcap, host=result.pcap_host)
        print(f"\ncapture saved to {path}")
    return 0 if all(f.holds for f in result.facts()) else 1


if __name__ == "__main__":
    sys.exit(main())
