"""From frames to TCP segments: the one place where scapy's layers meet our records.

scapy does the dissection; this module only maps its fields onto :class:`Segment`, an
immutable value that the rest of netlab (traces, tables, diagrams, tests) reads.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from scapy.layers.inet import ICMP, IP, TCP, IPerror, TCPerror
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Padding

__all__ = ["Segment", "Observation", "dissect", "source_address", "FLAG_BITS", "option_text",
           "IcmpError", "icmp_error"]

# TCP header flag bits, RFC 9293 §3.1 (and RFC 3168 for ECE/CWR), lowest bit first: the
# order in which Wireshark lists them ("SYN, ACK", "FIN, ACK").
FLAG_BITS: tuple[tuple[str, int], ...] = (
    ("FIN", 0x01),
    ("SYN", 0x02),
    ("RST", 0x04),
    ("PSH", 0x08),
    ("ACK", 0x10),
    ("URG", 0x20),
    ("ECE", 0x40),
    ("CWR", 0x80),
)

# scapy's option names → the short names Wireshark prints.
_OPTION_NAMES = {
    "MSS": "MSS",
    "SAckOK": "SACK_PERM",
    "Timestamp": "TS",
    "WScale": "WS",
    "NOP": "NOP",
    "EOL": "EOL",
    "SAck": "SACK",
}

Option = tuple[str, Any]


@dataclass(frozen=True, kw_only=True)
class Observation:
    """One capture's sight of one TCP segment (before captures are merged)."""

    src: str
    sport: int
    dst: str
    dport: int
    flags: int
    seq: int
    ack: int
    window: int
    options: tuple[Option, ...]
    payload: bytes
    ip_id: int
    timestamp_ns: int
    outgoing: bool
    host: str
    frame: bytes

    def key(self) -> tuple[object, ...]:
        """What identifies the same segment seen at two places on its path."""
        return (self.src, self.sport, self.dst, self.dport, self.flags, self.seq, self.ack,
                self.window, self.options, self.ip_id, self.payload)


@dataclass(frozen=True, kw_only=True)
class Segment:
    """A TCP segment, as seen by one or more captures on its path.

    Sequence and acknowledgment numbers are the absolute 32-bit values from the header;
    :class:`netlab.analysis.trace.Connection` turns them into relative numbers.
    """

    number: int
    """Position in the trace, from 1, in the order the segments were first seen."""
    src: str
    sport: int
    dst: str
    dport: int
    flags: int
    seq: int
    ack: int
    window: int
    """The raw 16-bit window field (not multiplied by the window scale)."""
    options: tuple[Option, ...]
    payload: bytes
    sent_ns: int | None
    """When the sender's interface saw it leave (None if the sender was not captured)."""
    received_ns: int | None
    """When the receiver's interface saw it arrive (None if not captured or lost)."""
    frame: bytes
    """The whole Ethernet frame, as first captured."""
    sent_by: str | None = None
    """The capture that saw it leave (a host name, or ``host:ethN``), if any."""
    received_by: str | None = None
    """The capture that saw it arrive, if any."""

    @property
    def time_ns(self) -> int:
        """When the segment was first seen."""
        t = self.sent_ns if self.sent_ns is not None else self.received_ns
        assert t is not None
        return t

    @property
    def flag_names(self) -> tuple[str, ...]:
        """Names of the flags that are set, e.g. ``("SYN", "ACK")``."""
        return tuple(name for name, bit in FLAG_BITS if self.flags & bit)

    @property
    def flags_text(self) -> str:
        return ", ".join(self.flag_names)

    @property
    def is_syn(self) -> bool:
        """True for a connection request, with SYN set and ACK not (a SYN-ACK answers one)."""
        return self.has("SYN") and not self.has("ACK")

    def has(self, *names: str) -> bool:
        """True if every flag in ``names`` is set."""
        return all(name in self.flag_names for name in names)

    @property
    def length(self) -> int:
        """Payload length in bytes (Wireshark's ``tcp.len``)."""
        return len(self.payload)

    def option(self, name: str) -> Any:
        """The value of option ``name`` (``"MSS"``, ``"WS"``, ``"TS"`` …), or None."""
        for kind, value in self.options:
            if kind == name:
                return value if value is not None else True
        return None


def option_text(options: tuple[Option, ...]) -> str:
    """Options as Wireshark summarises them, padding (NOP, EOL) left out.

    >>> from netlab.analysis.dissect import option_text
    >>> option_text((("MSS", 1460), ("SACK_PERM", None), ("TS", (7, 0)), ("NOP", None),
    ...              ("WS", 7)))
    'MSS=1460 SACK_PERM TS=7/0 WS=7'
    >>> option_text((("SACK", (1, 5, 9)),))  # a damaged block: one edge over
    'SACK=1-5,9-?'
    """
    parts = []
    for kind, value in options:
        if kind in ("NOP", "EOL"):
            continue
        if value is None:
            parts.append(kind)
        elif kind == "TS":
            parts.append(f"TS={value[0]}/{value[1]}")
        elif kind == "SACK":
            # (left, right) pairs (RFC 2018 §3); a damaged option may leave one edge over,
            # shown alone as Wireshark shows what it cannot pair
            blocks = [f"{a}-{b}" for a, b in zip(value[::2], value[1::2], strict=False)]
            if len(value) % 2:
                blocks.append(f"{value[-1]}-?")
            parts.append("SACK=" + ",".join(blocks))
        else:
            parts.append(f"{kind}={value}")
    return " ".join(parts)


def _ether(frame: bytes) -> Any:
    """scapy's dissection of ``frame``, None if it is shorter than an Ethernet header.

    scapy turns a layer it cannot dissect into raw bytes, except the first: ``Ether(b"x")``
    raises ``struct.error``.
    """
    try:
        return Ether(frame)
    except struct.error:
        return None


def source_address(frame: bytes) -> str | None:
    """The IPv4 or IPv6 source address of an Ethernet frame, or None if it carries no IP
    (or is no whole Ethernet frame)."""
    pkt = _ether(frame)
    ip = None if pkt is None else pkt.getlayer(IP) or pkt.getlayer(IPv6)
    return None if ip is None else str(ip.src)


def dissect(frame: bytes, *, timestamp_ns: int, outgoing: bool, host: str) -> Observation | None:
    """Dissect one Ethernet frame; return None if it carries no TCP segment.

    Any bytes may come in (a capture holds what the wire carried): a frame too short for
    its headers, or with a damaged one, is no TCP segment, and never an error.
    """
    pkt = _ether(frame)
    if pkt is None:
        return None
    ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
    tcp = pkt.getlayer(TCP)
    if ip is None or tcp is None:
        return None
    options = []
    for name, value in tcp.options:
        kind = _OPTION_NAMES.get(name, str(name))
        if kind in ("SACK_PERM", "NOP", "EOL"):
            value = None
        elif kind == "TS":
            value = (int(value[0]), int(value[1]))
        elif kind == "SACK":
            value = tuple(int(v) for v in value)
        options.append((kind, value))
    payload = bytes(tcp.payload)
    padding = tcp.getlayer(Padding)  # Ethernet's minimum frame size, beyond the IP length
    if padding is not None:
        payload = payload[: len(payload) - len(bytes(padding))]
    return Observation(
        src=str(ip.src),
        sport=int(tcp.sport),
        dst=str(ip.dst),
        dport=int(tcp.dport),
        flags=int(tcp.flags),
        seq=int(tcp.seq),
        ack=int(tcp.ack),
        window=int(tcp.window),
        options=tuple(options),
        payload=payload,
        ip_id=int(ip.id) if isinstance(ip, IP) else int(getattr(ip, "fl", 0)),
        timestamp_ns=timestamp_ns,
        outgoing=outgoing,
        host=host,
        frame=frame,
    )


@dataclass(frozen=True, kw_only=True)
class IcmpError:
    """An ICMP error message (RFC 792) and the head of the TCP segment it quotes."""

    src: str
    """Who sent the error (a router on the path, or the destination)."""
    dst: str
    type: int
    code: int
    mtu: int | None
    """The next-hop MTU of a "fragmentation needed" message (type 3, code 4; RFC 1191 §4)."""
    quoted_src: str
    quoted_dst: str
    quoted_sport: int | None
    quoted_dport: int | None
    quoted_seq: int | None
    quoted_length: int
    """The total length of the quoted IP packet, as its own header says."""


def icmp_error(frame: bytes) -> IcmpError | None:
    """The ICMP error an Ethernet frame carries (it quotes an IPv4 packet), or None."""
    pkt = Ether(frame)
    icmp, quoted = pkt.getlayer(ICMP), pkt.getlayer(IPerror)
    if icmp is None or quoted is None:
        return None
    ip, tcp = pkt[IP], pkt.getlayer(TCPerror)
    fragmentation_needed = int(icmp.type) == 3 and int(icmp.code) == 4
    return IcmpError(
        src=str(ip.src), dst=str(ip.dst), type=int(icmp.type), code=int(icmp.code),
        mtu=int(icmp.nexthopmtu) if fragmentation_needed else None,
        quoted_src=str(quoted.src), quoted_dst=str(quoted.dst),
        quoted_sport=None if tcp is None else int(tcp.sport),
        quoted_dport=None if tcp is None else int(tcp.dport),
        quoted_seq=None if tcp is None else int(tcp.seq),
        quoted_length=int(quoted.len),
    )
