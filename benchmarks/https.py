"""The HTTPS chapter's figures: time to the first response byte against round trips, and the
cost of the handshake in bytes.

Prints, for this machine, over a link with a 50 ms round trip (``--rtt``):

* for HTTP, HTTPS with TLS 1.3, with TLS 1.2, and each TLS version resuming a session: the
  round trips counting predicts, the predicted time, the measured time to the first response
  byte (fastest, median and slowest of ``--repeats`` new connections, read from the
  client's capture), fastest / predicted, and whether that is within
  :data:`netlab.experiments.https.cost.TOLERANCE`;
* the TLS bytes on the wire before the first application data, full vs resumed handshakes;
* how long the decryption of one capture with the key log takes (scapy).

Run it as root from the repository::

    sudo .venv/bin/python benchmarks/https.py [--repeats 10] [--rtt 0.05]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from netlab.analysis.tls_decrypt import decrypt
from netlab.experiments.https.cost import TOLERANCE, https_round_trips
from netlab.experiments.https.request import https_one_request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="connections per way")
    parser.add_argument("--rtt", type=float, default=0.050, help="round-trip time, seconds")
    args = parser.parse_args()
    start = time.monotonic()
    cost = https_round_trips(rtt=args.rtt, repeats=args.repeats)
    took = time.monotonic() - start
    low, high = TOLERANCE
    print(f"Time to the first response byte, RTT {args.rtt * 1e3:.0f} ms, "
          f"{args.repeats} connections per way ({took:.1f} s in all)\n")
    print(f"{'way':<16} {'RTTs':>4} {'predicted':>10} {'fastest':>9} {'median':>8} {'max':>8} "
          f"{'ratio':>6}  {'within':>6}  {'TLS bytes':>9}")
    ok = True
    for w in cost.ways:
        times = [r.ttfb * 1e3 for r in w.runs]
        inside = low <= w.ratio <= high
        ok &= inside
        print(f"{w.name:<16} {w.round_trips:>4} {w.predicted * 1e3:>8.1f}ms "
              f"{w.ttfb * 1e3:>7.1f}ms {w.median * 1e3:>6.1f}ms {max(times):>6.1f}ms "
              f"{w.ratio:>6.3f}  {'yes' if inside else 'NO':>6}  "
              f"{w.runs[0].handshake_bytes:>9}")
    print(f"\ntolerance: {low} ≤ fastest / predicted ≤ {high}")
    full, resumed = cost.way("TLS 1.3"), cost.way("TLS 1.3 resumed")
    print(f"TLS 1.3 extra over HTTP: {(full.ttfb - cost.way('HTTP').ttfb) * 1e3:.1f} ms; "
          f"TLS 1.2 over TLS 1.3: {(cost.way('TLS 1.2').ttfb - full.ttfb) * 1e3:.1f} ms; "
          f"TLS 1.3 resumed vs full: {(resumed.ttfb - full.ttfb) * 1e3:+.1f} ms")

    request = https_one_request()
    with tempfile.TemporaryDirectory() as tmp:
        pcap, keys = Path(tmp) / "c.pcap", Path(tmp) / "k.log"
        pcap.write_bytes(request.pcap)
        keys.write_bytes(request.keylog)
        t0 = time.monotonic()
        records = decrypt(pcap, keys)
        t1 = time.monotonic()
    print(f"\ndecrypting one request's capture ({len(request.trace)} segments, "
          f"{len(records)} TLS records) with scapy: {(t1 - t0) * 1e3:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
