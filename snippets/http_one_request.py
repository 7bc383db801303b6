"""One HTTP request over TCP, captured live on both hosts and decoded from the capture.

A client (192.0.2.1) sends ``GET /hello`` to a server (192.0.2.2, port 80) across a link
with a 50 ms round trip, reads the response and closes. The script prints the segments,
the request and response bytes as captured (CR LF shown as ␍␊), the client's h11 events,
and the facts the chapter states about them, each checked on this run.

Run it as root (it creates network namespaces and captures packets), after the set-up
command of the README::

    sudo .venv/bin/python snippets/http_one_request.py [--pcap http-one-request.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.errors import NetlabError, PrivilegeError
from netlab.experiments.http_basics import one_request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the capture to this pcap file")
    args = parser.parse_args()
    try:
        result = one_request()
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
