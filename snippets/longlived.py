"""Long-lived connections, live: idle firewalls, TCP keepalive, heartbeats, push vs polling.

Runs the four experiments of the long-lived connections chapter, each in private network
namespaces of its own (client — firewall — server, or client — server):

* ``idle``: two connections idle longer than the firewall's 2 s idle timeout; the silent one
  dies without the server ever knowing, the one with TCP keepalive survives;
* ``heartbeat``: ping/pong heartbeats against keepalive, when the server's application
  hangs and when its link is cut;
* ``push``: updates pushed over one WebSocket against HTTP polling;
* ``websocket``: the Upgrade handshake and the frames, read back from the capture.

Run it as root (it creates network namespaces and captures packets), all four or some::

    sudo .venv/bin/python snippets/longlived.py [idle heartbeat push websocket] [--pcap DIR]

It prints each experiment's tables and the facts the chapter states, checked on this run;
with ``--pcap DIR`` it also saves each experiment's client capture as ``DIR/<name>.pcap``.
Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netlab.errors import NetlabError, PrivilegeError
from netlab.experiments import heartbeats, idle_connections, push_vs_poll, websocket

EXPERIMENTS = {"idle": idle_connections, "heartbeat": heartbeats, "push": push_vs_poll,
               "websocket": websocket}
"""The chapter's experiments in page order (about 7, 8, 2.5 and 0.2 s)."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="which experiments to run: " + ", ".join(EXPERIMENTS) + " (all)")
    parser.add_argument("--pcap", metavar="DIR", help="save each client capture in DIR")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment {unknown[0]!r}: choose from {', '.join(EXPERIMENTS)}")
    if args.pcap and not Path(args.pcap).is_dir():
        parser.error(f"--pcap {args.pcap}: not a directory")
    names = args.names or list(EXPERIMENTS)
    holds = True
    for name in names:
        try:
            result = EXPERIMENTS[name]()
        except PrivilegeError as exc:
            print(exc, file=sys.stderr)
            return 77
        except NetlabError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            return 1
        print(f"== {name}\n\n{result.report()}\n")
        holds = holds and all(f.holds for f in result.facts())
        if args.pcap:
            path = result.trace.write_pcap(Path(args.pcap) / f"{name}.pcap", host="client")
            print(f"capture saved to {path}\n")
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())
