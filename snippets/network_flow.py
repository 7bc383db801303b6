"""Flow control: a receiver that stops reading, the zero window, zero-window probes, the update.

Two hosts, client (192.0.2.1) and server (192.0.2.2), over a 10 ms round trip. The server's
socket has a 16 kB receive buffer and its application reads nothing for 2 s while the client
sends 200 kB. The script prints the server's advertised windows shrinking to zero, the
client's zero-window probes at growing intervals, the window update when the server reads
again, and the facts the chapter states, each checked on this run (about 3 s).

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/network_flow.py [--pcap flow.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.network.flow import flow_control


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(flow_control, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
