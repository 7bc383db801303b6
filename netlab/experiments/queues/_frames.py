"""What the chapter's drop rules look at: a frame's TCP ports and flags, read from the bytes.

The wire calls a rule's predicate on every frame, in its own thread, so it reads the few
header fields it needs at their fixed offsets (IPv4 only, as in the lab) rather than
dissecting the whole frame.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from netlab.kernel.sysctl import netstat

__all__ = ["Tcp", "tcp_of", "matches", "counters", "COUNTERS"]

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
_ETH_IPV4 = b"\x08\x00"

#: The namespace counters the chapter reads (``nstat`` names them ``TcpExtListenDrops``...).
COUNTERS = ("TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPReqQFullDrop",
            "TcpExt.TCPReqQFullDoCookies", "TcpExt.SyncookiesSent", "TcpExt.SyncookiesRecv",
            "TcpExt.SyncookiesFailed")


@dataclass(frozen=True)
class Tcp:
    """The fields of a frame's TCP header that a drop rule needs."""

    sport: int
    dport: int
    flags: int
    payload: int
    """Payload length in bytes."""

    @property
    def kind(self) -> str:
        """``SYN``, ``SYN-ACK``, ``ACK`` (no payload), ``data``, ``RST``, ``FIN`` or ``other``."""
        f = self.flags & (SYN | ACK | RST | FIN)
        if f & RST:
            return "RST"
        if f & FIN:
            return "FIN"
        return {SYN: "SYN", SYN | ACK: "SYN-ACK"}.get(
            f, "data" if self.payload else "ACK" if f == ACK else "other")


def tcp_of(frame: bytes) -> Tcp | None:
    """The TCP header fields of an Ethernet frame carrying IPv4 and TCP, else None."""
    if len(frame) < 54 or frame[12:14] != _ETH_IPV4 or frame[23] != 6:
        return None
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, 16)[0]
    t = 14 + ihl
    sport, dport = struct.unpack_from("!HH", frame, t)
    offset = (frame[t + 12] >> 4) * 4
    return Tcp(sport, dport, frame[t + 13], total - ihl - offset)


def matches(kind: str, *, port: int) -> Callable[[bytes], bool]:
    """A predicate for the wire: a segment of this ``kind`` to or from ``port``."""

    def predicate(frame: bytes) -> bool:
        tcp = tcp_of(frame)
        return tcp is not None and port in (tcp.sport, tcp.dport) and tcp.kind == kind

    return predicate


def counters() -> dict[str, int]:
    """The chapter's counters in the calling thread's namespace (run it in a host)."""
    values = netstat()
    return {name: values.get(name, 0) for name in COUNTERS}
