"""The cost of HTTPS: time to the first response byte over a 50 ms round trip.

New connections from the client (192.0.2.1) to the server (192.0.2.2) five ways: HTTP,
HTTPS with TLS 1.3, with TLS 1.2, and each TLS version resuming an earlier session. The
script prints the round trips each way needs, the predicted and the measured time (median
of --repeats connections) and their ratio.

Run it as root (it creates network namespaces and captures packets)::

    sudo .venv/bin/python snippets/https_cost.py [--repeats 5]

Nothing is changed outside the namespaces, and they vanish when the script ends.
"""

from __future__ import annotations

import argparse
import sys

from netlab.cli import run_experiment
from netlab.experiments.https.cost import https_round_trips


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="connections per way")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return run_experiment(lambda: https_round_trips(repeats=args.repeats), prefix="")


if __name__ == "__main__":
    sys.exit(main())
