"""Application heartbeats against TCP keepalive: a hung server, a cut link.

The same three hosts, with a wire on the server's link that can be cut. A heartbeat client
pings every 0.25 s and gives up when no pong came for 1 s; a second connection uses TCP
keepalive only. The server's application hangs (its kernel still answers), then its link is
cut. The script prints what each mechanism told the client and the facts the chapter states,
each checked on this run (about 8 s).

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/longlived_heartbeat.py [--pcap heartbeat.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.longlived.heartbeat import heartbeats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(heartbeats, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
