"""IP packets of any protocol (UDP, ICMP, TCP in summary) as a table, in the page's language."""

from __future__ import annotations

from collections.abc import Iterable

from netlab.analysis.ip_packets import Packet
from netlab.i18n import ptr, tr
from netlab.views.table import Grid

__all__ = ["packet_info", "packet_table"]


def packet_table(pkts: Iterable[Packet], names: dict[str, str] | None = None) -> Grid:
    """Packets as a table: number, time from the first, direction, protocol, length, info.

    The length is a UDP or TCP packet's payload; an ICMP message has none of its own (what it
    quotes is in its info), so its length shows as a dash rather than a 0 that would say the
    message is empty."""
    pkts = tuple(pkts)
    names = names or {}
    t0 = pkts[0].time_ns if pkts else 0
    length = ptr("packet table", "len")
    rows = [["#", tr("time (ms)"), tr("direction"), tr("protocol"), length, tr("info")]]
    for p in pkts:
        src, dst = names.get(p.src, p.src), names.get(p.dst, p.dst)
        rows.append([str(p.number), f"{(p.time_ns - t0) / 1e6:.3f}", f"{src} → {dst}",
                     p.protocol, str(p.length) if p.protocol in ("UDP", "TCP") else "-",
                     packet_info(p)])
    return Grid(rows, right={"#", tr("time (ms)"), length})


def packet_info(p: Packet) -> str:
    """A one-line summary, like Wireshark's Info column."""
    if p.port_unreachable:
        if not p.quoted:
            return tr("port unreachable")
        source, destination = (_endpoint(*end) for end in p.quoted)
        return tr("port unreachable (UDP {source} → {destination})").format(
            source=source, destination=destination)
    if p.icmp_type is not None:
        return tr("type {type} code {code}").format(type=p.icmp_type, code=p.icmp_code)
    if p.protocol == "TCP":
        return f"[{p.tcp_flags}] {p.sport} → {p.dport} len={p.length}"
    if p.protocol == "UDP":
        return f"{p.sport} → {p.dport} {p.payload!r}"
    return ""


def _endpoint(address: str, port: int) -> str:
    """``address:port``, with an IPv6 address in brackets (RFC 3986 §3.2.2)."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
