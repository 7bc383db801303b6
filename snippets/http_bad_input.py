"""Bad input to the chapter's HTTP server: 400, 431, 501, 413 and 408, and it goes on.

Sends a malformed request line, oversized headers, an unknown method, a body over the
limit and a stalled partial request, each on its own connection, then a good request after
each. Prints the answers and the facts, each checked on this run.

Run it as root (it creates network namespaces and captures packets), after the set-up
command of the README::

    sudo .venv/bin/python snippets/http_bad_input.py [--pcap http-bad-input.pcap]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.http.robustness import bad_input


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcap", help="save the capture to this pcap file")
    return run_experiment(bad_input, pcap=parser.parse_args().pcap, prefix="")


if __name__ == "__main__":
    sys.exit(main())
