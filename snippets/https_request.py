"""One HTTPS request beside the same request over plain HTTP, decrypted with the key log.

A client (192.0.2.1) fetches /account of server.netlab.test (192.0.2.2) on port 80 (HTTP)
and on port 443 (HTTP inside TLS 1.3, with a certificate from a CA made for this run). The
script prints every TLS record of the capture with and without the client's key log, the
handshake as the client's TLS library logged it beside the decrypted capture, the key fields
of the hellos (SNI, ALPN, cipher suite, key share), what an observer reads on each port, the
certificate chain, and the facts, each checked.

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/https_request.py [--pcap https.pcap --keylog keys.log]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.https.request import https_one_request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    parser.add_argument("--keylog", help="save the NSS key log (for Wireshark) to this file")
    args = parser.parse_args()
    return run_experiment(https_one_request, pcap=args.pcap, keylog=args.keylog, prefix="")


if __name__ == "__main__":
    sys.exit(main())
