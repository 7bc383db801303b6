"""The ``netlab`` command: list the experiments, run one, save its capture.

Exit status: 0 when every fact the experiment checks holds, 1 when one does not (or the
network misbehaved), 2 for a usage error, 77 when privileges are missing (``EX_NOPERM``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from netlab.errors import NetlabError, PrivilegeError

if TYPE_CHECKING:
    from netlab.experiments.result import Result

__all__ = ["main", "run_experiment"]

EX_NOPERM = 77


def _parser() -> argparse.ArgumentParser:
    from netlab.experiments import EXPERIMENTS

    parser = argparse.ArgumentParser(
        prog="netlab",
        description="Run real TCP/IP experiments in private network namespaces.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list the experiments")
    run = sub.add_parser("run", help="run an experiment and print what it observed")
    run.add_argument("experiment", choices=sorted(EXPERIMENTS), metavar="EXPERIMENT",
                     help="one of: " + ", ".join(sorted(EXPERIMENTS)))
    run.add_argument("--pcap", metavar="FILE",
                     help="also save a capture as a pcap file for Wireshark: the client's, the "
                          "server's or a router's, whichever the experiment saves (it says so)")
    run.add_argument("--keylog", metavar="FILE",
                     help="TLS experiments: also save the NSS key log, so Wireshark can decrypt "
                          "the pcap")
    return parser


def _writable(path: str | None, prefix: str) -> bool:
    if not path:
        return True
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(folder) and os.access(folder, os.W_OK):
        return True
    print(f"{prefix}cannot write {path}: {folder} is not a writable directory", file=sys.stderr)
    return False


def run_experiment(run: Callable[[], Result], *, pcap: str | None = None,
                   keylog: str | None = None, prefix: str = "netlab: ") -> int:
    """Run an experiment, print its report, save its capture; the exit status to return.

    The CLI and every snippet in ``snippets/`` end here, so they print and fail alike:
    0 when every fact holds, 1 when one does not or the network misbehaved, 2 when the pcap
    cannot be written (checked before anything runs), 77 without the privileges.

    Args:
        run: the experiment function (its result is a
            :class:`~netlab.experiments.result.Result`).
        pcap: where to save the capture of ``result.pcap_host``, if anywhere.
        keylog: where to save ``result.keylog``, the TLS key log of the capture, if anywhere
            (an error for an experiment without TLS).
        prefix: put before every error message.
    """
    if not (_writable(pcap, prefix) and _writable(keylog, prefix)):
        return 2
    from netlab.experiments.result import save_pcap

    try:
        result = run()
    except PrivilegeError as exc:
        print(f"{prefix}{exc}", file=sys.stderr)
        return EX_NOPERM
    except NetlabError as exc:
        print(f"{prefix}{exc}", file=sys.stderr)
        return 1
    print(result.report())
    if pcap:
        try:
            path = save_pcap(result, pcap)
        except OSError as exc:
            print(f"{prefix}cannot write {pcap}: {exc.strerror}", file=sys.stderr)
            return 1
        print(f"\nthe {result.pcap_host}'s capture saved to {path} (open it with Wireshark or "
              "tshark -r)")
    if keylog:
        keys = result.keylog
        if keys is None:
            print(f"{prefix}this experiment has no TLS key log to save", file=sys.stderr)
            return 2
        try:
            with open(keylog, "wb") as f:
                f.write(keys)
        except OSError as exc:
            print(f"{prefix}cannot write {keylog}: {exc.strerror}", file=sys.stderr)
            return 1
        print(f"key log saved to {keylog} (Wireshark: Preferences → Protocols → TLS → "
              "(Pre)-Master-Secret log filename)")
    return 0 if all(f.holds for f in result.facts()) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``netlab`` console script."""
    from netlab.experiments import EXPERIMENTS

    args = _parser().parse_args(argv)
    if args.command == "list":
        width = max(map(len, EXPERIMENTS))
        for e in EXPERIMENTS.values():
            print(f"{e.name.ljust(width)}  {e.summary}")
        return 0
    return run_experiment(EXPERIMENTS[args.experiment].run, pcap=args.pcap, keylog=args.keylog)


if __name__ == "__main__":
    sys.exit(main())
