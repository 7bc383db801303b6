"""An idle connection through a firewall that forgets: the silent death, and TCP keepalive.

Three hosts, client (192.0.2.1) — firewall — server (198.51.100.2); the firewall's connection
tracking forgets a connection idle for 2 s. Two connections idle for 3 s: the one that sends
nothing dies (its data is dropped, the client retransmits with a growing back-off and gives up
after its 3 s TCP_USER_TIMEOUT, the server never learns), the one with TCP keepalive every 1 s
survives. The script prints both connections' packets, the back-off, Linux's defaults and the
facts the chapter states, each checked on this run (about 7 s).

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/longlived_idle.py [--pcap idle.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.longlived.idle import idle_connections


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(idle_connections, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
