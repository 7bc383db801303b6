"""TCP keepalive as the kernel sets it up, and as a capture shows it (the idle chapter's
helpers; the heartbeat experiment uses them too)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Connection
from netlab.i18n import tr
from netlab.views.table import Grid

__all__ = ["KernelDefaults", "keepalive_probes", "tracked_ports"]


@dataclass(frozen=True, kw_only=True)
class KernelDefaults:
    """Linux's keepalive and retransmission settings, read from ``/proc/sys/net/ipv4``."""

    keepalive_time: int
    """Idle seconds before the first probe (``tcp_keepalive_time``)."""
    keepalive_intvl: int
    """Seconds between unanswered probes (``tcp_keepalive_intvl``)."""
    keepalive_probes: int
    """Unanswered probes before the connection is dropped (``tcp_keepalive_probes``)."""
    tcp_retries2: int
    """Retransmissions of data before the connection is dropped (``tcp_retries2``)."""

    @property
    def keepalive_detect(self) -> int:
        """Seconds from the last segment to a dead peer's detection by keepalive."""
        return self.keepalive_time + self.keepalive_intvl * self.keepalive_probes

    @property
    def retransmit_give_up(self) -> float:
        """Seconds Linux retransmits unacknowledged data before it gives up, by default.

        The kernel's own model (``tcp_model_timeout()`` in ``net/ipv4/tcp_timer.c``): the
        timeout doubles from TCP_RTO_MIN (200 ms) up to TCP_RTO_MAX (120 s), then stays there.
        """
        rto_min, rto_max = 0.2, 120.0
        linear = 9  # ilog2(rto_max / rto_min): doublings before the cap
        if self.tcp_retries2 <= linear:
            return rto_min * ((2 << self.tcp_retries2) - 1)
        return rto_min * ((2 << linear) - 1) + (self.tcp_retries2 - linear) * rto_max


    def grid(self, *names: str) -> Grid:
        """The settings as a table: each sysctl, its value and what it means; the keepalive
        ones and their sum by default, or the ones named (``"tcp_retries2"``)."""
        h, rest = divmod(self.keepalive_detect, 3600)
        give_up = self.retransmit_give_up
        rows = {
            "tcp_keepalive_time": (f"{self.keepalive_time} s",
                                   tr("idle time before the first probe")),
            "tcp_keepalive_intvl": (f"{self.keepalive_intvl} s",
                                    tr("time between unanswered probes")),
            "tcp_keepalive_probes": (str(self.keepalive_probes),
                                     tr("unanswered probes before the connection is dropped")),
            "keepalive": (f"{self.keepalive_detect} s = {h} h {rest // 60} min {rest % 60} s",
                          tr("time + intvl × probes: a dead peer is noticed after")),
            "tcp_retries2": (str(self.tcp_retries2),
                             tr("retransmissions before the connection is dropped")),
            "retransmission": (f"{give_up:.1f} s = {give_up / 60:.1f} min",
                               tr("unacknowledged data is given up after")),
        }
        chosen = names or ("tcp_keepalive_time", "tcp_keepalive_intvl", "tcp_keepalive_probes",
                           "keepalive")
        out = [[tr("setting"), tr("value"), tr("meaning")]]
        out += [["" if n in ("keepalive", "retransmission") else n, *rows[n]] for n in chosen]
        return Grid(out, right={tr("value")})


def read_defaults() -> KernelDefaults:
    base = Path("/proc/sys/net/ipv4")

    def value(name: str) -> int:
        return int((base / name).read_text())

    return KernelDefaults(keepalive_time=value("tcp_keepalive_time"),
                          keepalive_intvl=value("tcp_keepalive_intvl"),
                          keepalive_probes=value("tcp_keepalive_probes"),
                          tcp_retries2=value("tcp_retries2"))


def tracked_ports() -> tuple[int, ...]:
    """The client ports of the TCP connections connection tracking remembers in this thread's
    namespace, as ``conntrack -L`` lists them (a netlink dump).

    A dump leaves out entries whose timeout has run out even before the kernel's garbage
    collector has removed them, so it shows what the firewall still knows;
    ``nf_conntrack_count`` counts such entries until they are collected.
    """
    from pyroute2 import NFCTSocket

    ports = []
    with NFCTSocket() as ct:
        for entry in ct.dump():
            if entry.get_nested("CTA_TUPLE_ORIG", "CTA_TUPLE_PROTO", "CTA_PROTO_NUM") == 6:
                ports.append(int(entry.get_nested("CTA_TUPLE_ORIG", "CTA_TUPLE_PROTO",
                                                  "CTA_PROTO_SRC_PORT")))
    return tuple(sorted(ports))


def keepalive_probes(conn: Connection, *, sender: tuple[str, int] | None = None
                     ) -> list[Segment]:
    """The keepalive probes ``sender`` (the client by default) sent on ``conn``.

    RFC 1122 §4.2.3.6: "Such a segment generally contains SEG.SEQ = SND.NXT-1 and may or may
    not contain one garbage octet of data." A probe is recognised as Wireshark recognises
    one: a segment of 0 or 1 bytes, without SYN, FIN or RST, whose sequence number is one
    less than the next byte the sender has yet to send.
    """
    sender = sender or conn.client
    next_seq: int | None = None
    probes = []
    for seg in conn.segments:
        if (seg.src, seg.sport) != sender:
            continue
        end = (seg.seq + seg.length + seg.has("SYN") + seg.has("FIN")) % 2**32
        if (next_seq is not None and seg.length <= 1 and seg.seq == (next_seq - 1) % 2**32
                and not (seg.has("SYN") or seg.has("FIN") or seg.has("RST"))):
            probes.append(seg)
            continue
        if next_seq is None or (end - next_seq) % 2**32 < 2**31:
            next_seq = end
    return probes
