"""What the chapter's drop rules look at: a frame's TCP ports and flags, read from the bytes.

The wire calls its :meth:`~netlab.kernel.wire.Wire.drop_if` predicate on every frame, in
its own thread, so a :class:`Dropper` reads the few header fields it needs at their fixed
offsets (IPv4 only, as in the lab) rather than dissecting the whole frame, and keeps the
frames it drops so an experiment can put one back on the wire later.
"""

from __future__ import annotations

import struct
import threading
import time
from dataclasses import dataclass

from netlab.errors import ExperimentError
from netlab.kernel.sysctl import netstat
from netlab.kernel.wire import Wire

__all__ = ["Tcp", "tcp_of", "Dropper", "counters", "COUNTERS"]

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
_ETH_IPV4 = b"\x08\x00"

#: The namespace counters the chapter reads (``nstat`` names them ``TcpExtListenDrops``...).
COUNTERS = ("TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPReqQFullDrop",
            "TcpExt.TCPReqQFullDoCookies", "TcpExt.SyncookiesSent", "TcpExt.SyncookiesRecv",
            "TcpExt.SyncookiesFailed", "TcpExt.TCPFastOpenPassive",
            "TcpExt.TCPFastOpenCookieReqd", "TcpExt.TCPFastOpenActive")


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


class Dropper:
    """Make ``wire`` lose the next ``count`` segments of ``kind`` to or from ``port``.

    ``frames`` keeps what was lost, in order. The wire holds one predicate at a time: a new
    Dropper replaces the last.
    """

    def __init__(self, wire: Wire, kind: str, *, port: int, count: int = 1) -> None:
        self.kind, self.port, self.count = kind, port, count
        self.frames: list[bytes] = []
        self._lock = threading.Lock()
        wire.drop_if(self)

    def __call__(self, frame: bytes) -> bool:
        tcp = tcp_of(frame)
        if tcp is None or self.port not in (tcp.sport, tcp.dport) or tcp.kind != self.kind:
            return False
        with self._lock:
            if len(self.frames) >= self.count:
                return False
            self.frames.append(frame)
            return True

    @property
    def dropped(self) -> int:
        with self._lock:
            return len(self.frames)

    def wait(self, timeout: float = 2.0) -> None:
        """Block until all ``count`` segments were lost, at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.dropped < self.count:
            if time.monotonic() > deadline:
                raise ExperimentError(f"expected the wire to lose {self.count} {self.kind} "
                                      f"segment(s) within {timeout} s, it lost {self.dropped}")
            time.sleep(0.002)


def counters() -> dict[str, int]:
    """The chapter's counters in the calling thread's namespace (run it in a host)."""
    values = netstat()
    return {name: values.get(name, 0) for name in COUNTERS}
