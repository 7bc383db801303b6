"""MSS and MTU: path MTU discovery, a PMTU black hole, and MSS clamping that avoids it.

Four hosts in a line, as a home network meets its provider over a tunnel::

    client ──1500── router ──1280── isp ──1500── server
    192.0.2.1                               203.0.113.2

The ``router`` is the one whose second link is narrower: :data:`NARROW` bytes, as a
tunnel or a PPPoE line has, against Ethernet's :data:`WIDE` everywhere else. Both ends
sit on 1500-byte links, so each announces an MSS of 1460 in its SYN and knows nothing of
the narrow link in the middle. Linux sets DF (Don't Fragment) on every TCP packet and does
path MTU discovery (RFC 1191): a router that cannot forward a packet whole drops it and
answers with an ICMP "fragmentation needed" (type 3, code 4) that carries the next hop's
MTU; the sender remembers that MTU for the destination and sends smaller segments.

On one connection each (the client's port says which, :data:`PORTS`), the client sends a
small request and gets a small response, then a small request for a large response of
:data:`LARGE` bytes from the server:

``discovery``
    the path as it is: the server's first full-size segments die at ``isp``, the ICMP
    comes back, the server resends in smaller segments and the response completes.
``black hole``
    ``isp``'s firewall drops that ICMP on its way out. The small exchange works; the large
    response never arrives, and the client gives up after :data:`HANG` s.
``clamped``
    the ICMP is still dropped, but ``router`` rewrites the MSS option of every SYN it
    forwards to fit its narrower link (nftables: ``tcp option maxseg size set rt mtu``),
    so neither end ever sends a segment too big for it.

The run order is black hole, clamped, discovery, so no case starts with a path MTU that
an earlier one taught the server's kernel; the kernel's own view (``ip route get``) is read
after each.

>>> from netlab.experiments.network.mtu import mtu
>>> result = mtu()  # about 5 s
>>> [fact.name for fact in result.facts() if not fact.holds]
[]
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from netlab.analysis.dissect import IcmpError, Segment, icmp_error
from netlab.analysis.trace import Connection, Trace
from netlab.experiments.endpoints import SERVER_PORT, TIMEOUT, listening_socket
from netlab.experiments.network._narrow import ask, narrow_path, route, serve
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.kernel.firewall import load_rules, read_counter
from netlab.lab import Lab
from netlab.views.table import Grid

__all__ = ["mtu", "MtuResult", "Icmp", "WIDE", "NARROW", "HEADERS", "LARGE", "SMALL", "HANG",
           "PORTS", "DELAY", "CLAMP_RULES", "DROP_RULES"]

WIDE = 1500
"""The MTU of the client's and the server's links (Ethernet's)."""
NARROW = 1280
"""The MTU of the link between ``router`` and ``isp`` (a tunnel's; IPv6's minimum)."""
HEADERS = 20 + 20 + 12
"""The bytes of IPv4 and TCP headers and of the timestamp option (12 with its padding) in
every data segment, which carries MTU − 52 bytes of payload."""
DELAY = 0.005
"""One-way delay of the client's link, seconds."""
SMALL = 200
"""Bytes of the small response."""
LARGE = 20_000
"""The size of the large response in bytes, more than ten full segments."""
HANG = 1.5
"""Seconds the client waits for the large response before it gives up."""
PORTS = {"discovery": 40000, "black hole": 40001, "clamped": 40002}
"""The client port of each connection."""
ORDER = ("black hole", "clamped", "discovery")
"""The order the cases run in (the page shows them in the order of :data:`PORTS`)."""

DROP_RULES = """\
table inet pmtu {
    counter icmp_dropped {
    }
    chain output {
        type filter hook output priority filter; policy accept;
        icmp type destination-unreachable icmp code frag-needed counter name "icmp_dropped" drop
    }
}
"""
"""The firewall of ``isp`` in the black hole and clamped cases, which keeps its own ICMP
"fragmentation needed" from leaving it."""

CLAMP_RULES = """\
table inet clamp {
    chain forward {
        type filter hook forward priority mangle; policy accept;
        tcp flags syn tcp option maxseg size set rt mtu
    }
}
"""
"""MSS clamping on ``router``, which lowers the MSS of each SYN it forwards to at most its
route's MTU − 40."""


@dataclass(frozen=True, kw_only=True)
class Icmp:
    """An ICMP error one capture saw."""

    host: str
    time_ns: int
    outgoing: bool
    message: IcmpError


@dataclass(frozen=True, kw_only=True)
class MtuResult:
    """Three connections over a path with a narrow link, captured at the client and server."""

    trace: Trace
    received: dict[str, tuple[int, int]]
    """Bytes of the small and of the large response the client's application read."""
    seconds: dict[str, float]
    """Seconds from the large request to the last byte of its response (or to giving up)."""
    routes: dict[str, str]
    """``ip route get 192.0.2.1`` in the server's namespace after each case."""
    icmp_dropped: dict[str, int]
    """``isp``'s firewall counter of dropped ICMP after each case."""
    pcap_host: str = field(default="server")
    keylog: None = None

    def connection(self, case: str) -> Connection:
        return self.trace.connection(port=PORTS[case])

    def data(self, case: str) -> list[Segment]:
        """The server's data segments (sent or received) on one connection."""
        c = self.connection(case)
        return [s for s in c.segments if not c.is_from_client(s) and s.length]

    def sent(self, case: str) -> list[Segment]:
        """The server's segments of the large response, as its own capture saw them leave."""
        c = self.connection(case)
        return [s for s in self.data(case) if s.sent_ns is not None and c.relative_seq(s) > SMALL]

    def arrived(self, case: str) -> list[Segment]:
        """The server's segments of the large response that the client's capture saw arrive."""
        c = self.connection(case)
        return [s for s in self.data(case) if s.received_ns is not None
                and c.relative_seq(s) > SMALL]

    def icmp(self, case: str) -> list[Icmp]:
        """The ICMP "fragmentation needed" messages that reached the server about ``case``."""
        port = PORTS[case]
        return [Icmp(host=f.host, time_ns=f.timestamp_ns, outgoing=f.outgoing, message=m)
                for f in self.trace.frames.get("server", ())
                if (m := icmp_error(f.data)) is not None and m.type == 3 and m.code == 4
                and m.quoted_dport == port]

    def syn_mss(self, case: str) -> dict[str, int | None]:
        """The MSS option of the SYN and the SYN-ACK, as sent and as received."""
        c = self.connection(case)
        out: dict[str, int | None] = {}
        for what, segs in (("syn", [s for s in c.segments if s.is_syn]),
                           ("syn-ack", [s for s in c.segments if s.has("SYN", "ACK")])):
            out[f"{what} sent"] = next((s.option("MSS") for s in segs if s.sent_ns), None)
            out[f"{what} received"] = next((s.option("MSS") for s in segs if s.received_ns),
                                           None)
        return out

    def route_mtu(self, case: str) -> int | None:
        """The path MTU the server's kernel learned for the client, as ``ip route get`` says."""
        found = re.search(r"\bmtu (\d+)", self.routes[case])
        return int(found.group(1)) if found else None

    def largest(self, segs: list[Segment]) -> int:
        return max((s.length for s in segs), default=0)

    def resend_after(self) -> float | None:
        """Seconds from the first ICMP reaching the server to its first smaller segment."""
        icmp = self.icmp("discovery")
        if not icmp:
            return None
        after = [s for s in self.sent("discovery") if s.sent_ns and s.sent_ns > icmp[0].time_ns
                 and s.length <= NARROW - HEADERS]
        return (after[0].time_ns - icmp[0].time_ns) / 1e9 if after else None

    def grid(self) -> Grid:
        """Each case: the ICMP the server got, the largest segment sent and arrived, and
        how much of the large response the client read, in how long."""
        names = {"discovery": tr("path MTU discovery"), "black hole": tr("ICMP dropped"),
                 "clamped": tr("ICMP dropped, MSS clamped")}
        head = [tr("connection"), tr("MSS the client got"), tr("ICMP to the server"),
                tr("largest segment sent"), tr("largest segment arrived"),
                tr("large response read"), tr("time (ms)")]
        rows = [head]
        for case, name in names.items():
            mss = self.syn_mss(case)
            rows.append([name, str(mss["syn-ack received"]), str(len(self.icmp(case))),
                         str(self.largest(self.sent(case))),
                         str(self.largest(self.arrived(case))),
                         f"{self.received[case][1]} / {LARGE}",
                         f"{self.seconds[case] * 1e3:.0f}"])
        return Grid(rows, right=set(head[1:]))

    def mss_grid(self) -> Grid:
        """The MSS option of each SYN and SYN-ACK, as sent and as received."""
        head = [tr("connection"), tr("SYN sent"), tr("SYN received"), tr("SYN-ACK sent"),
                tr("SYN-ACK received")]
        rows = [head]
        for case, name in (("discovery", tr("without clamping")),
                           ("clamped", tr("MSS clamped by the router"))):
            mss = self.syn_mss(case)
            rows.append([name, *(str(mss[k]) for k in ("syn sent", "syn received",
                                                        "syn-ack sent", "syn-ack received"))])
        return Grid(rows, right=set(head[1:]))

    def discovery_grid(self) -> Grid:
        """The large response of the discovery connection as the server's capture saw it,
        alike packets in a row folded into one line: full segments and the ICMP that answer
        them, until the first segments that fit; then the rest in one line."""
        sent, icmp = self.sent("discovery"), self.icmp("discovery")
        last_icmp = icmp[-1].time_ns if icmp else 0
        events: list[tuple[int, str]] = []
        for s in sent:
            if s.time_ns <= last_icmp or s.length > NARROW - HEADERS:
                events.append((s.time_ns, tr("server sends {n} bytes").format(n=s.length)))
        for i in icmp:
            events.append((i.time_ns, tr("ICMP from {src}: fragmentation needed, MTU {mtu}")
                           .format(src=i.message.src, mtu=i.message.mtu)))
        events.sort()
        rest = [s for s in sent if s.time_ns > last_icmp and s.length <= NARROW - HEADERS]
        rows = [[tr("time (ms)"), tr("what the server's capture saw"), tr("packets")]]
        start = self.connection("discovery").segments[0].time_ns
        for t, what in events:
            if len(rows) > 1 and rows[-1][1] == what:
                rows[-1][2] = str(int(rows[-1][2]) + 1)
            else:
                rows.append([f"{(t - start) / 1e6:.2f}", what, "1"])
        if rest:
            rows.append([f"{(rest[0].time_ns - start) / 1e6:.2f}",
                         tr("server sends segments of at most {n} bytes, until {ms} ms")
                         .format(n=self.largest(rest),
                                 ms=f"{(rest[-1].time_ns - start) / 1e6:.2f}"),
                         str(len(rest))])
        return Grid(rows, right={tr("time (ms)"), tr("packets")})

    def facts(self) -> list[Fact]:
        """The chapter's claims about MSS and MTU, each checked on this run's data."""
        full = WIDE - HEADERS
        fits = NARROW - HEADERS
        sent, icmp = self.sent("discovery"), self.icmp("discovery")
        last_icmp = icmp[-1].time_ns if icmp else None
        big = [s for s in sent if s.length > fits]
        after = [s for s in sent if last_icmp is not None and s.time_ns > last_icmp]
        mtus = sorted({i.message.mtu or 0 for i in icmp})
        resend = self.resend_after()
        hole_sent = self.sent("black hole")
        hole_big = [s for s in hole_sent if s.length > fits]
        hole_starts = {self.connection("black hole").relative_seq(s) for s in hole_big}
        mss = self.syn_mss("clamped")
        plain = self.syn_mss("discovery")
        return [
            Fact(name="mtu-first-full",
                 text=tr("with a 1500-byte MTU at both ends, the server's first segments are "
                         "full-size, and none of them crosses the narrow link"),
                 holds=bool(sent) and sent[0].length == full
                 and not any(s.received_ns for s in big),
                 evidence=f"the first segment of the response {sent[0].length if sent else 0} "
                          f"bytes; {len(big)} segments of more than {fits} bytes sent, "
                          f"{sum(1 for s in big if s.received_ns)} arrived"),
            Fact(name="mtu-icmp",
                 text=tr("the router before the narrow link answers with ICMP type 3 code 4, "
                         "fragmentation needed, naming the next hop's MTU"),
                 holds=bool(icmp) and mtus == [NARROW]
                 and all(i.message.quoted_length == WIDE for i in icmp),
                 evidence=f"{len(icmp)} ICMP from "
                          f"{', '.join(sorted({i.message.src for i in icmp}))}, next-hop MTU "
                          f"{mtus}, quoting packets of "
                          f"{sorted({i.message.quoted_length for i in icmp})} bytes"),
            Fact(name="mtu-smaller",
                 text=tr("the server then resends in segments that fit the narrow link, and "
                         "the response arrives whole"),
                 holds=bool(after) and self.largest(after) == fits and resend is not None
                 and resend < 0.1 and self.received["discovery"] == (SMALL, LARGE),
                 evidence=f"{len(after)} segments after the last ICMP, largest "
                          f"{self.largest(after)} bytes, the first "
                          f"{(resend or 0) * 1e3:.2f} ms after it; read "
                          f"{self.received['discovery'][1]} of {LARGE} bytes"),
            Fact(name="mtu-kernel",
                 text=tr("the server's kernel remembers the path MTU for the client's address "
                         "(ip route get), and learned it only from the ICMP"),
                 holds=self.route_mtu("discovery") == NARROW
                 and self.route_mtu("black hole") is None
                 and self.route_mtu("clamped") is None,
                 evidence=" | ".join(f"{k}: {' '.join(v.split())}"
                                     for k, v in self.routes.items())),
            Fact(name="mtu-black-hole",
                 text=tr("when a firewall drops that ICMP, the small exchange works but the "
                         "large response never arrives: the server resends the same full-size "
                         "segments"),
                 holds=self.received["black hole"][0] == SMALL
                 and self.received["black hole"][1] < LARGE and not self.icmp("black hole")
                 and self.icmp_dropped["black hole"] >= 1
                 and len(hole_big) > len(hole_starts) and not any(s.received_ns
                                                                   for s in hole_big),
                 evidence=f"read {self.received['black hole'][1]} of {LARGE} bytes in "
                          f"{self.seconds['black hole']:.1f} s; {len(hole_big)} segments of "
                          f"{self.largest(hole_big)} bytes sent, none arrived; "
                          f"{self.icmp_dropped['black hole']} ICMP dropped by isp"),
            Fact(name="mtu-clamp-syn",
                 text=tr("MSS clamping on the router lowers the MSS of both SYNs to the narrow "
                         "link's MTU − 40"),
                 holds=mss["syn sent"] == WIDE - 40 and mss["syn received"] == NARROW - 40
                 and mss["syn-ack sent"] == WIDE - 40
                 and mss["syn-ack received"] == NARROW - 40
                 and plain["syn received"] == WIDE - 40,
                 evidence="SYN MSS {syn sent} sent, {syn received} received; SYN-ACK MSS "
                          "{syn-ack sent} sent, {syn-ack received} received".format_map(mss)),
            Fact(name="mtu-clamp-works",
                 text=tr("with the MSS clamped, the large response arrives although the ICMP "
                         "is still dropped: no segment is too big"),
                 holds=self.received["clamped"] == (SMALL, LARGE) and not self.icmp("clamped")
                 and self.largest(self.sent("clamped")) == fits
                 and self.icmp_dropped["clamped"] == self.icmp_dropped["black hole"],
                 evidence=f"read {self.received['clamped'][1]} of {LARGE} bytes in "
                          f"{self.seconds['clamped'] * 1e3:.0f} ms, largest segment "
                          f"{self.largest(self.sent('clamped'))} bytes, "
                          f"{len(self.icmp('clamped'))} ICMP"),
        ]

    def report(self) -> str:
        return (f"MSS and MTU: client —{WIDE}— router —{NARROW}— isp —{WIDE}— server\n\n"
                f"{self.grid()}\n\nThe discovery, at the server\n\n{self.discovery_grid()}\n\n"
                f"Facts\n\n{checklist(self.facts())}")


@replayable
def mtu() -> MtuResult:
    """Run the experiment (about 5 s)."""
    with Lab() as lab:
        client, router, isp, server = narrow_path(lab, narrow=NARROW, delay=DELAY)
        received, seconds, routes, dropped = {}, {}, {}, {}
        with lab.capture(client, server) as cap:
            for case in ORDER:
                if case == "black hole":
                    load_rules(isp.ns, DROP_RULES)
                if case == "clamped":
                    load_rules(router.ns, CLAMP_RULES)
                if case == "discovery":
                    load_rules(isp.ns, "delete table inet pmtu\n")
                    load_rules(router.ns, "delete table inet clamp\n")
                listener = server.run(listening_socket, server.address, SERVER_PORT,
                                      reuse=True, timeout=TIMEOUT)
                with listener:
                    serving = server.start(serve, listener, SMALL, LARGE)
                    wait = HANG if case == "black hole" else TIMEOUT
                    small, large, took = client.run(ask, server.address, PORTS[case], SMALL,
                                                    LARGE, wait, timeout=3 * TIMEOUT)
                    serving.result(TIMEOUT)
                received[case], seconds[case] = (small, large), took
                routes[case] = server.run(route, client.address)
                if case != "discovery":
                    dropped[case] = read_counter(isp.ns, "pmtu", "icmp_dropped")
            time.sleep(0.05)  # the last FINs cross
        dropped["discovery"] = 0
        assert cap.trace is not None
        return MtuResult(trace=cap.trace, received={k: received[k] for k in PORTS},
                         seconds={k: seconds[k] for k in PORTS},
                         routes={k: routes[k] for k in PORTS},
                         icmp_dropped={k: dropped[k] for k in PORTS})
