"""The cost of connections: 10 requests over a 50 ms RTT as HTTP/1.0, HTTP/1.1, pipelined.

HTTP/1.0 (curl --http1.0: one connection per request), HTTP/1.1 on one persistent
connection (one request at a time) and HTTP/1.1 pipelining, each timed from the client's
capture and compared with the round-trip count (2N, N + 1 and 2 round trips). Prints the
handshakes, the times, the ratios and the facts, each checked on this run. Needs curl.

Run it as root (it creates network namespaces and captures packets), after the set-up
command of the README::

    sudo .venv/bin/python snippets/http_costs.py [--pcap http-1.0.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.http.costs import connection_costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the capture to this pcap file")
    return run_experiment(connection_costs, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
