"""The kill matrix: every experiment of ``netlab run`` stopped by SIGINT, SIGTERM and SIGKILL.

For each experiment, each signal and each moment (seconds after the run has begun, that is
after its lab's first thread; ``--moments``), starts ``python -m netlab run NAME`` with a
fresh ``$TMPDIR``, sends the signal, and checks the exit status, standard error, the files
left before and after the next start of ``netlab``, the run's processes, and the root
namespace's named namespaces, links and nft tables. The checks are those of
tests/test_kill.py, in one place: ``tests/kill_check.py`` says what each one is.

The three signals of one experiment and moment run side by side (``--sequential`` runs one
case at a time). Prints one row per case and the totals. Run it as root from the repository::

    sudo .venv/bin/python benchmarks/kill_matrix.py [--moments 0.3 1.0] [NAME ...]
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from kill_check import kill_batch  # noqa: E402

from netlab.experiments import EXPERIMENTS  # noqa: E402

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=sorted(EXPERIMENTS))
    parser.add_argument("--moments", nargs="+", type=float, default=[0.0, 0.5])
    parser.add_argument("--startup", action="store_true",
                        help="count the moments from the process's start instead (the signal "
                             "may then arrive while Python still imports netlab)")
    parser.add_argument("--sequential", action="store_true",
                        help="one case at a time, instead of the three signals side by side")
    args = parser.parse_args()
    held = tried = 0
    for name in args.names:
        for moment in args.moments:
            cases = [(name, sig, moment) for sig in SIGNALS]
            batches = [[c] for c in cases] if args.sequential else [cases]
            for batch in batches:
                for outcome in kill_batch(batch, startup=args.startup):
                    tried += 1
                    held += outcome.ok
                    print(outcome.row(), flush=True)
    print(f"\n{tried} cases, {held} held, {tried - held} failed")


if __name__ == "__main__":
    main()
