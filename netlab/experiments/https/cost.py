"""The cost of HTTPS: time to the first response byte, against the round trips it needs.

A client (192.0.2.1) and a server (192.0.2.2) are joined by a link with a 50 ms round trip
(25 ms each way). The client fetches ``/`` on a new connection, five ways, several times
each, and the fastest time of each way is compared. The time is read from the client's
capture: from its SYN leaving to the arrival of the segment that completes the first record
of the response (found by decrypting the capture with the key log; for plain HTTP, the
first data segment from the server).

Counting round trips predicts it (:data:`ROUND_TRIPS`): TCP's handshake is one; plain HTTP
then needs one for the request and response (2 in all). A full TLS 1.3 handshake adds one
(RFC 8446 §2: the client's Finished and its request leave together), TLS 1.2 adds two
(RFC 5246 §7.3). Resuming a TLS 1.3 session with a ticket (RFC 8446 §2.2) skips the
certificate, not a round trip: the client still waits for the ServerHello; only 0-RTT data
(§2.3), which Python's ssl does not offer, would save it. Resuming a TLS 1.2 session
(RFC 5077) is an abbreviated handshake: one round trip instead of two.

>>> from netlab.experiments.https.cost import ROUND_TRIPS
>>> ROUND_TRIPS
{'HTTP': 2, 'TLS 1.3': 3, 'TLS 1.2': 4, 'TLS 1.3 resumed': 3, 'TLS 1.2 resumed': 3}
"""

from __future__ import annotations

import ssl
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from netlab.analysis.tls_decrypt import WireRecord, decrypt
from netlab.analysis.trace import Trace
from netlab.errors import ExperimentError
from netlab.experiments.endpoints import TIMEOUT
from netlab.experiments.https._lab import (
    HTTP_PORT,
    HTTPS_PORT,
    PAGE,
    TlsFiles,
    client_time,
    client_wrap,
    close_tls,
    first_response,
    flights,
    handler,
    server_wrap,
    tls_files,
    tr,
)
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import N_
from netlab.kernel.scratch import directory as scratch_directory
from netlab.lab import Host, Lab
from netlab.proto.http import HttpClient, serving
from netlab.proto.tls import SERVER_NAME, Version
from netlab.views.chart import BarChart
from netlab.views.pictures import Flow, FlowArrow, FlowsPicture
from netlab.views.table import Grid

__all__ = ["ROUND_TRIPS", "TOLERANCE", "RTT", "CostRun", "Way", "HttpsCost", "https_round_trips"]

RTT = 0.050  # seconds
REPEATS = 5  # connections per way; the fastest is compared (a busy machine adds outliers)

#: Round trips before the first response byte, counting only propagation.
ROUND_TRIPS = {"HTTP": 2, "TLS 1.3": 3, "TLS 1.2": 4, N_("TLS 1.3 resumed"): 3,
               N_("TLS 1.2 resumed"): 3}

#: How far measured / predicted may stray. Not below 1 by more than the clocks' jitter
#: (nothing crosses the wire faster than its delay); above, the endpoints' own work (the
#: signatures and key exchange) and, on a busy machine, the threads' wait for a CPU. Measured
#: with ``benchmarks/timing_spread.py --runs 6 --only https-cost`` on the 2-core build
#: machine (other builds running too), the fastest of five connections per way: 1.013-1.068
#: idle, 1.013-1.412 with two CPU-bound processes beside it (``--busy 2``); 1.55 is the
#: largest excess and a quarter. The round trips themselves are counted on the capture.
TOLERANCE = (0.98, 1.55)


@dataclass(frozen=True, kw_only=True)
class CostRun:
    """One connection: the time to its first response byte, and how the handshake went."""

    way: str
    ttfb: float
    """Seconds from the SYN leaving the client to the response's first record arriving."""
    flights: int
    """The client's flights before the response (the round trips it waited for)."""
    resumed: bool
    certificate_sent: bool
    """The server sent its Certificate (a full handshake)."""
    handshake_bytes: int
    """TLS bytes on the wire (both ways) before the first application data."""
    trace: Trace
    records: tuple[WireRecord, ...] = ()
    """The connection's TLS records, decrypted (none for plain HTTP)."""


@dataclass(frozen=True, kw_only=True)
class Way:
    """All the runs of one way, and what counting round trips predicts for them."""

    name: str
    runs: tuple[CostRun, ...]
    rtt: float

    @property
    def ttfb(self) -> float:
        """The fastest time to the first response byte, in seconds.

        A busy machine only ever adds delay (a thread that waits for a core, a frame the
        wire forwards late), never removes any, so the fastest of several connections is the
        closest to what the protocol itself costs.
        """
        return min(r.ttfb for r in self.runs)

    @property
    def median(self) -> float:
        """The median time to the first response byte, in seconds (shown, not compared)."""
        return statistics.median(r.ttfb for r in self.runs)

    @property
    def round_trips(self) -> int:
        return ROUND_TRIPS[self.name]

    @property
    def predicted(self) -> float:
        return self.round_trips * self.rtt

    @property
    def ratio(self) -> float:
        return self.ttfb / self.predicted


@dataclass(frozen=True, kw_only=True)
class HttpsCost:
    """The five ways, measured."""

    ways: tuple[Way, ...]
    rtt: float

    def way(self, name: str) -> Way:
        return next(w for w in self.ways if w.name == name)

    def grid(self) -> Grid:
        rows = [[tr("way"), tr("round trips"), tr("predicted (ms)"), tr("fastest (ms)"),
                 tr("measured / predicted"), tr("median (ms)"), tr("certificate sent"),
                 tr("TLS handshake bytes")]]
        for w in self.ways:
            run = w.runs[0]
            sent = tr("yes") if run.certificate_sent else tr("no")
            rows.append([tr(w.name), str(w.round_trips), f"{w.predicted * 1e3:.0f}",
                         f"{w.ttfb * 1e3:.1f}", f"{w.ratio:.3f}", f"{w.median * 1e3:.1f}",
                         "-" if w.name == "HTTP" else sent,
                         str(run.handshake_bytes) if w.name != "HTTP" else "-"])
        return Grid(rows, right=set(rows[0][1:6]) | {rows[0][7]})

    def chart(self) -> BarChart:
        return BarChart([(tr(w.name), [(tr("fastest"), w.ttfb * 1e3),
                                       (tr("predicted"), w.predicted * 1e3)]) for w in self.ways],
                        unit="ms", title=tr("Time to the first response byte over a {rtt} ms "
                                            "round trip").format(rtt=f"{self.rtt * 1e3:.0f}"))

    def facts(self) -> list[Fact]:
        low, high = TOLERANCE
        flights_ok = all(r.flights == w.round_trips for w in self.ways for r in w.runs)
        resumed = [r for w in self.ways if "resumed" in w.name for r in w.runs]
        full = [r for w in self.ways if w.name.startswith("TLS") and "resumed" not in w.name
                for r in w.runs]
        names = [w.name for w in self.ways]
        sizes = {w.name: w.runs[0].handshake_bytes for w in self.ways}
        return [
            Fact(name="https-flights",
                 text=tr("each way waits for the round trips its protocol needs"),
                 holds=flights_ok and names == list(ROUND_TRIPS),
                 evidence="; ".join(f"{w.name}: {sorted({r.flights for r in w.runs})}"
                                    for w in self.ways)),
            Fact(name="https-ratio",
                 text=tr("measured / predicted within {low}–{high} for every way").format(
                     low=low, high=high),
                 holds=all(low <= w.ratio <= high for w in self.ways),
                 evidence=", ".join(f"{w.name} {w.ratio:.3f}" for w in self.ways)),
            Fact(name="resumed-no-certificate",
                 text=tr("resumed sessions skip the certificate"),
                 holds=all(r.resumed and not r.certificate_sent for r in resumed)
                 and all(r.certificate_sent and not r.resumed for r in full),
                 evidence=f"{len(resumed)} resumed, {len(full)} full handshakes"),
            Fact(name="resumed-smaller",
                 text=tr("a resumed handshake sends less than half the bytes of a full one"),
                 holds=all(sizes[f"{v} resumed"] < sizes[v] / 2 for v in ("TLS 1.3", "TLS 1.2")),
                 evidence=", ".join(f"{v}: {sizes[v]} bytes, resumed {sizes[v + ' resumed']}"
                                    for v in ("TLS 1.3", "TLS 1.2"))),
        ]

    def flows(self) -> FlowsPicture:
        """The first TLS 1.2 and TLS 1.3 connections, side by side, up to the response."""
        return FlowsPicture([_flow(w.name, w.runs[0], w.round_trips)
                             for w in (self.way("TLS 1.2"), self.way("TLS 1.3"))],
                            one_way_ns=int(self.rtt / 2 * 1e9))

    @property
    def trace(self) -> Trace:
        """The first full TLS 1.3 connection, as the client captured it."""
        return self.way("TLS 1.3").runs[0].trace

    pcap_host = "client"
    keylog = None  # the key log stays in the run: these connections are measured, not shown

    def report(self) -> str:
        """Everything, as text for a terminal."""
        facts = checklist(self.facts())
        return (f"Time to the first response byte, {self.rtt * 1e3:.0f} ms RTT\n\n"
                f"{self.grid()}\n\nFacts\n\n{facts}")

    def __str__(self) -> str:
        return str(self.grid())

    def _repr_html_(self) -> str:
        return self.grid()._repr_html_()


def _flow(name: str, run: CostRun, round_trips: int) -> Flow:
    """A connection's flights up to the response's first record: TCP's handshake, then its
    TLS records, consecutive ones that left the same side within 5 ms as one arrow."""
    conn = run.trace.connections()[0]
    arrows: list[FlowArrow] = []
    syn = [s for s in conn.segments if s.has("SYN")]
    for seg in syn[:2]:
        arrows.append(FlowArrow(from_client=conn.is_from_client(seg), at_ns=client_time(seg),
                                words=("SYN, ACK" if seg.has("ACK") else "SYN",), kind="tcp"))
    ack = next((s for s in conn.segments if conn.is_from_client(s) and not s.has("SYN")
                and not s.length), None)
    if ack is not None:
        arrows.append(FlowArrow(from_client=True, at_ns=client_time(ack), words=("ACK",),
                                kind="tcp"))
    client = conn.segments[0].src if conn.segments else ""
    groups: list[list[WireRecord]] = []
    for r in run.records:
        last = groups[-1][-1] if groups else None
        if last is not None and last.src == r.src and r.time_ns - last.time_ns < 5_000_000:
            groups[-1].append(r)
        else:
            groups.append([r])
        if r.src != client and r.inner_type == "application_data":
            break
    for group in groups:
        words = []
        for r in group:
            for m in r.messages:
                if r.inner_type == "application_data":
                    m = tr("HTTP request") if r.src == client else tr("HTTP response")
                words.append(f"[{m}]" if r.encrypted else m)
        kind = ("data" if group[-1].inner_type == "application_data"
                else "encrypted" if all(r.encrypted for r in group) else "clear")
        arrows.append(FlowArrow(from_client=group[0].src == client, at_ns=group[0].time_ns,
                                words=tuple(words), kind=kind))
    arrows.sort(key=lambda a: a.at_ns)
    return Flow(name=name, arrows=tuple(arrows), round_trips=round_trips)


def _connect(client: Host, address: str, way: str, files: TlsFiles,
             sessions: dict[str, ssl.SSLSession], contexts: dict[str, ssl.SSLContext]) -> bool:
    """One connection and one request; whether TLS resumed, and the session to resume."""
    if way == "HTTP":
        with HttpClient.connect(client, address, HTTP_PORT, timeout=TIMEOUT) as c:
            if c.request("GET", "/").body != PAGE:
                raise ExperimentError("HTTP: the wrong page came back")
        return False
    version: Version = "1.3" if way.startswith("TLS 1.3") else "1.2"
    # a session resumes only with the context that made it
    ctx = contexts.setdefault(version, files.client(version))
    session = sessions.get(version) if "resumed" in way else None
    c = HttpClient.connect(client, address, HTTPS_PORT, timeout=TIMEOUT,
                           wrap=client_wrap(ctx, session=session))
    try:
        c.authority = SERVER_NAME
        if c.request("GET", "/").body != PAGE:
            raise ExperimentError(f"{way}: the wrong page came back")
        sock = c.sock
        assert isinstance(sock, ssl.SSLSocket)
        if sock.session is not None and "resumed" not in way:
            sessions[version] = sock.session  # tickets came before the response
        return bool(sock.session_reused)
    finally:
        close_tls(c)


def _measure(lab: Lab, client: Host, server: Host, way: str, files: TlsFiles,
             sessions: dict[str, ssl.SSLSession], contexts: dict[str, ssl.SSLContext]
             ) -> CostRun:
    with lab.capture(client) as cap:
        resumed = _connect(client, server.address, way, files, sessions, contexts)
        time.sleep(RTT)  # the closing segments cross before the capture stops
    assert cap.trace is not None
    trace = cap.trace
    # the one this run opened: on a busy machine the last segments of the previous
    # connection can still cross after the capture has started
    conn = next((c for c in trace.connections() if any(s.is_syn for s in c.segments)), None)
    if conn is None:
        raise ExperimentError(f"{way}: the capture holds no handshake")
    start = client_time(conn.syn())
    records: Sequence[WireRecord] = ()
    if way == "HTTP":
        first = next(s for s in conn.segments if s.length and not conn.is_from_client(s))
        end, cert, hs_bytes = client_time(first), False, 0
    else:
        with scratch_directory("netlab-cost-") as tmp:
            records = decrypt(trace.write_pcap(Path(tmp) / "c.pcap"), files.keylog)
        end = first_response(records).time_ns
        cert = any("Certificate" in r.messages for r in records)
        first_data = next(i for i, r in enumerate(records) if r.inner_type == "application_data")
        hs_bytes = sum(r.length + 5 for r in records[:first_data])  # 5: the record header
    if "resumed" in way and not resumed:
        raise ExperimentError(f"{way}: the server did not resume the session")
    return CostRun(way=way, ttfb=(end - start) / 1e9,
                   flights=flights(conn, end + 1, records=records), resumed=resumed,
                   certificate_sent=cert, handshake_bytes=hs_bytes, trace=trace,
                   records=tuple(records))


@replayable
def https_round_trips(rtt: float = RTT, repeats: int = REPEATS) -> HttpsCost:
    """Measure every way ``repeats`` times over a link with round-trip time ``rtt`` (s)."""
    with tls_files() as files, Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server, delay=rtt / 2)
        sessions: dict[str, ssl.SSLSession] = {}
        contexts: dict[str, ssl.SSLContext] = {}
        ways = []
        with serving(server, handler, port=HTTP_PORT), \
                serving(server, handler, port=HTTPS_PORT, wrap=server_wrap(files.server)):
            for way in ROUND_TRIPS:
                runs = []
                for _ in range(repeats):
                    if "resumed" in way:  # a fresh full handshake gives a fresh ticket
                        _measure(lab, client, server, way.removesuffix(" resumed"), files,
                                 sessions, contexts)
                    runs.append(_measure(lab, client, server, way, files, sessions, contexts))
                ways.append(Way(name=way, runs=tuple(runs), rtt=rtt))
    return HttpsCost(ways=tuple(ways), rtt=rtt)
