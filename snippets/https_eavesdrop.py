"""The eavesdropper on the path: a login over HTTP and over HTTPS, captured on a router.

The client (192.0.2.1) posts a login form (a fixed, fake password) to the server
(198.51.100.2) through a router, first over HTTP, then over HTTPS; the router's interfaces are
captured. The script prints the password's bytes in the HTTP capture, the ciphertext that
carries it over HTTPS, and the form decrypted with the key log.

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/https_eavesdrop.py [--pcap router.pcap --keylog keys.log]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.https.eavesdrop import https_eavesdropper


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the router's capture of the HTTPS login")
    parser.add_argument("--keylog", help="save the NSS key log (for Wireshark) to this file")
    args = parser.parse_args()
    return run_experiment(https_eavesdropper, pcap=args.pcap, keylog=args.keylog, prefix="")


if __name__ == "__main__":
    sys.exit(main())
