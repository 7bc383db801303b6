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

from netlab.cli import run_experiment
from netlab.experiments.http.head_of_line import head_of_line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the capture to this pcap file")
    return run_experiment(head_of_line, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
