"""HTTP over TCP, captured live: one request on the wire, and what connections cost.

Runs every experiment of the HTTP chapter in private network namespaces: one GET decoded
from its capture; ten requests over a 50 ms round trip as HTTP/1.0 (curl, one connection
each), HTTP/1.1 on one persistent connection, and HTTP/1.1 pipelined, each timed from the
capture and compared with the round-trip count; head-of-line blocking in a pipeline against
two connections and HTTP/2; the server's idle timeout; and a login read by a router on the
path. It prints the tables and the facts the chapter states, each checked on this run.

Run it as root (it creates network namespaces and captures packets), after the set-up
command of the README (curl must be installed)::

    sudo .venv/bin/python snippets/http_connections.py [--pcap http.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.http.chapter import http


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the one-request capture (client side) to this file")
    return run_experiment(http, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
