"""Certificates: a throwaway CA's chain, and verification failing for each reason.

The server (192.0.2.2) presents a certificate for server.netlab.test from the lab's
intermediate CA on port 443, and an expired one on port 4443. Python's ssl, curl and
openssl s_client each try four cases: trusted, unknown CA, wrong host name, expired; the
script prints the chain and the exact error each client gave, then sends bad input (plain
HTTP, a ClientHello cut short) to the TLS port and checks the server goes on serving.

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/https_certs.py [--pcap certs.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.https.certs import certificates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the client's capture to this pcap file")
    return run_experiment(certificates, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
