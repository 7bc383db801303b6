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

from netlab.cli import run_experiment
from netlab.experiments.http.basics import one_request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the capture to this pcap file")
    return run_experiment(one_request, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
