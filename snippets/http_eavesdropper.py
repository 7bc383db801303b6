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

from netlab.cli import run_experiment
from netlab.experiments.http.eavesdrop import eavesdrop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the capture to this pcap file")
    return run_experiment(eavesdrop, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
