"""Updates pushed over one WebSocket against the same updates fetched by HTTP polling.

Two hosts with a 50 ms round trip. The server makes 8 updates and offers them three ways at
once: pushed over a WebSocket, polled every 150 ms over one persistent HTTP/1.1 connection, and
polled with a new connection each time. The script prints connections, bytes on the wire and
delivery latency, all measured from the capture, and the facts (about 2.5 s).

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/longlived_push.py [--pcap push.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.longlived.push import push_vs_poll


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(push_vs_poll, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
