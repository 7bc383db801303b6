"""HTTP/1.1 persistence: kept-alive connections, Connection: close, the idle timeout.

Two requests on one connection, then silence until the server's one-second idle timeout
closes it (the server sends the FIN); then one request with Connection: close. Prints the
server's capture and the facts, each checked on this run.

Run it as root (it creates network namespaces and captures packets), after the set-up
command of the README::

    sudo .venv/bin/python snippets/http_keepalive.py [--pcap http-keepalive.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.errors import NetlabError, PrivilegeError
from netlab.experiments.http_basics import persistence


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the capture to this pcap file")
    args = parser.parse_args()
    try:
        result = persistence()
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
