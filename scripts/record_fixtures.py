#!/usr/bin/env python3
"""Re-record the small pcap fixtures that the unit tests read, by running netlab itself.

The unit tests (``tests/test_dissect.py``, ``tests/test_trace.py``, the views) need no
privilege: they read pcaps committed under ``tests/fixtures/``. This script makes those
files from a real run of the handshake experiment:

* ``handshake-client.pcap`` and ``handshake-server.pcap``: what the capture on each host
  saw (nanosecond pcap, Ethernet);
* ``handshake.json``: what the pcaps cannot say, the host name of each address, so a test
  can rebuild the same :class:`netlab.analysis.trace.Trace` (and tell sent frames from received);

and from a short run of the HTTP chapter's pipelining experiment (three requests):

* ``http-pipelined-client.pcap``, with its names in ``http.json``.

A run whose facts do not all hold is not recorded. After re-recording, update the exact
values the unit tests expect (raw sequence numbers, times, the table text): they describe
the committed files, and ``pytest -m oracle`` checks them against tshark.

Usage (from the repository root; it makes network namespaces, so it needs root)::

    sudo .venv/bin/python scripts/record_fixtures.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def main() -> int:
    sys.path.insert(0, str(ROOT))  # run from a checkout, installed or not
    from netlab.errors import PrivilegeError
    from netlab.experiments.tcp.handshake import handshake

    try:
        result = handshake()
    except PrivilegeError as exc:
        print(exc, file=sys.stderr)
        return 77
    failed = [f.text for f in result.facts() if not f.holds]
    if failed:
        print("not recorded: these facts did not hold:\n  " + "\n  ".join(failed),
              file=sys.stderr)
        return 1
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for host in ("client", "server"):
        path = result.trace.write_pcap(FIXTURES / f"handshake-{host}.pcap", host=host)
        print(f"{path.relative_to(ROOT)}: {len(result.trace.frames[host])} frames")
    sidecar = {
        "experiment": "handshake",
        "names": dict(sorted(result.trace.names.items())),
    }
    meta = FIXTURES / "handshake.json"
    meta.write_text(json.dumps(sidecar, indent=2) + "\n")
    print(f"{meta.relative_to(ROOT)}: {sidecar['names']}")
    print(result.trace.table(absolute=False, options=False))
    return record_http()


def record_http() -> int:
    """Three pipelined requests over a 50 ms round trip, captured on the client."""
    from netlab.experiments.http.costs import connection_costs

    run = connection_costs(3, small=1).run("pipelined")
    if run.handshakes != 1 or run.sent_before_first_response() != 3:
        print("not recorded: the pipelined run did not pipeline", file=sys.stderr)
        return 1
    path = run.trace.write_pcap(FIXTURES / "http-pipelined-client.pcap", host="client")
    print(f"{path.relative_to(ROOT)}: {len(run.trace.frames['client'])} frames")
    meta = FIXTURES / "http.json"
    meta.write_text(json.dumps({"experiment": "http_costs pipelined, n=3",
                                "names": dict(sorted(run.trace.names.items()))}, indent=2) + "\n")
    print(run.trace.table(absolute=False, options=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
