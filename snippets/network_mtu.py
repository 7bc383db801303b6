"""MSS and MTU: path MTU discovery, a PMTU black hole, and MSS clamping that avoids it.

Four hosts in a line, client (192.0.2.1) — router — isp — server (203.0.113.2), where the link
between the two routers has an MTU of 1280 bytes and every other link 1500. On three
connections the client asks for a small response and then a 20 000-byte one: with the path as
it is (the server learns the path MTU from an ICMP "fragmentation needed"), with that ICMP
dropped by isp's firewall (the large response hangs; the client gives up after 1.5 s), and
with the ICMP still dropped but the MSS clamped by the router's nftables. The script prints
what each connection got, the discovery as the server's capture saw it, and the facts the
chapter states, each checked on this run (about 5 s).

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/network_mtu.py [--pcap mtu.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.network.mtu import mtu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the server's capture to this pcap file")
    return run_experiment(mtu, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
