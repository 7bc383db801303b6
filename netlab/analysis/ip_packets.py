"""From frames to packets of any IP protocol: UDP datagrams, ICMP errors, TCP in summary.

:mod:`netlab.analysis.dissect` reads TCP segments in detail; this module reads what a TCP trace
leaves out. scapy does the dissection, and this module only maps its layers onto
:class:`Packet`, in one place, as :mod:`netlab.analysis.dissect` does for TCP.

An ICMP error quotes the start of the datagram that caused it (RFC 792: "Internet Header
+ 64 bits of Original Data Datagram"; RFC 1122 §3.2.2 lets a host quote more), so
:attr:`Packet.quoted` can say which UDP datagram a "port unreachable" answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
from scapy.layers.inet6 import ICMPv6DestUnreach, IPerror6, IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet as ScapyPacket
from scapy.packet import Padding

from netlab.kernel.capture import Frame

__all__ = ["Packet", "decode", "packets", "PORT_UNREACHABLE"]

#: The (type, code) of "port unreachable", a kind of "destination unreachable", in ICMP
#: (RFC 792) and in ICMPv6 (RFC 4443 §3.1).
PORT_UNREACHABLE = {"ICMP": (3, 3), "ICMPv6": (1, 4)}

#: Endpoint (address, port) of the datagram an ICMP error quotes, source then destination.
Quoted = tuple[tuple[str, int], tuple[str, int]]


@dataclass(frozen=True, kw_only=True)
class Packet:
    """One IP packet, as one capture saw it."""

    number: int
    """Position in the capture, from 1."""
    time_ns: int
    outgoing: bool
    host: str
    protocol: str
    """``"UDP"``, ``"TCP"``, ``"ICMP"`` or ``"ICMPv6"`` (or the IP protocol number)."""
    src: str
    dst: str
    sport: int | None = None
    dport: int | None = None
    payload: bytes = b""
    """The UDP or TCP payload."""
    tcp_flags: str = ""
    """The TCP flags as scapy spells them (``"S"``, ``"SA"``, ``"PA"``, ``"FA"``), for TCP only."""
    icmp_type: int | None = None
    icmp_code: int | None = None
    quoted: Quoted | None = None
    """The source and destination of the UDP datagram an ICMP error is about."""
    frame: bytes = b""

    @property
    def port_unreachable(self) -> bool:
        """True for an ICMP or ICMPv6 "port unreachable"."""
        return PORT_UNREACHABLE.get(self.protocol) == (self.icmp_type, self.icmp_code)

    @property
    def length(self) -> int:
        return len(self.payload)


def _payload(layer: ScapyPacket) -> bytes:
    data = bytes(layer.payload)
    padding = layer.getlayer(Padding)  # Ethernet's minimum frame size, beyond the IP length
    if padding is not None:
        data = data[: len(data) - len(bytes(padding))]
    return data


def decode(frame: Frame, number: int = 0) -> Packet | None:
    """Dissect one captured frame; None if it carries no IP packet."""
    pkt = Ether(frame.data)
    ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
    if ip is None:
        return None
    common = dict(number=number, time_ns=frame.timestamp_ns, outgoing=frame.outgoing,
                  host=frame.host, src=str(ip.src), dst=str(ip.dst), frame=frame.data)
    icmp = pkt.getlayer(ICMP) or pkt.getlayer(ICMPv6DestUnreach)
    if icmp is not None:
        quoted = None
        inner_ip = icmp.getlayer(IPerror) or icmp.getlayer(IPerror6)
        inner_udp = icmp.getlayer(UDPerror)
        if inner_ip is not None and inner_udp is not None:
            quoted = ((str(inner_ip.src), int(inner_udp.sport)),
                      (str(inner_ip.dst), int(inner_udp.dport)))
        return Packet(protocol="ICMP" if isinstance(icmp, ICMP) else "ICMPv6",
                      icmp_type=int(icmp.type), icmp_code=int(icmp.code), quoted=quoted,
                      **common)  # type: ignore[arg-type]
    # The quoted headers inside an ICMP error are IPerror/UDPerror, so this is the packet's own.
    udp = pkt.getlayer(UDP)
    if udp is not None:
        return Packet(protocol="UDP", sport=int(udp.sport), dport=int(udp.dport),
                      payload=_payload(udp), **common)  # type: ignore[arg-type]
    tcp = pkt.getlayer(TCP)
    if tcp is not None:
        return Packet(protocol="TCP", sport=int(tcp.sport), dport=int(tcp.dport),
                      payload=_payload(tcp), tcp_flags=str(tcp.flags),
                      **common)  # type: ignore[arg-type]
    proto = ip.proto if isinstance(ip, IP) else ip.nh
    return Packet(protocol=str(proto), **common)  # type: ignore[arg-type]


def packets(frames: Iterable[Frame]) -> tuple[Packet, ...]:
    """Every IP packet in ``frames`` (one capture), numbered from 1, oldest first."""
    out: list[Packet] = []
    for f in sorted(frames, key=lambda f: f.timestamp_ns):
        p = decode(f, len(out) + 1)
        if p is not None:
            out.append(p)
    return tuple(out)
