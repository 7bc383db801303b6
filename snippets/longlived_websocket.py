"""WebSocket: the HTTP Upgrade handshake, then frames, read back from the capture.

Two hosts; a WebSocket server on port 80. The script prints the Upgrade request and the 101
response as captured (Sec-WebSocket-Key and Sec-WebSocket-Accept), every frame unmasked (a
text message and its answer, three pings and their pongs, the closing handshake) and the facts
the chapter states, each checked on this run (well under a second).

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/longlived_websocket.py [--pcap websocket.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.longlived.websocket import websocket


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(websocket, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
