"""What a router on the path sees of a login over plain HTTP: the password.

client (192.0.2.1) — router — server (198.51.100.2): the client fetches a login form and
posts a user name and password, while the router captures. Prints the router's capture,
the frame that carries the password (marked in a hex dump) and the facts.

Run it as root (it creates network namespaces and captures packets), after the set-up
command of the README::

    sudo .venv/bin/python snippets/http_eavesdropper.py [--pcap http-login-on-the-router.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.errors import NetlabError, PrivilegeError
from netlab.experiments.http_eavesdrop import eavesdrop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the capture to this pcap file")
    args = parser.parse_args()
    try:
        result = eavesdrop()
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
