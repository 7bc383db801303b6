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

from netlab.cli import run_experiment
from netlab.experiments.http.basics import persistence


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the capture to this pcap file")
    return run_experiment(persistence, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
