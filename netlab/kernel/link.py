"""Ethernet links between namespaces: veth pairs, addresses, static neighbours.

Every interface here lives in a namespace netlab created (see :mod:`netlab.kernel.netns`);
nothing is ever added to the host's own namespace. A veth pair is created inside one
namespace with its peer placed directly into the other one (``IFLA_NET_NS_FD``).
"""

from __future__ import annotations

import ctypes
import fcntl
import socket
import struct
from dataclasses import dataclass

from pyroute2 import IPRoute

from netlab.kernel.netns import Namespace

__all__ = ["Interface", "create_veth", "configure", "checksum_offload_off"]

SIOCETHTOOL = 0x8946
ETHTOOL_STXCSUM = 0x17  # set TX checksum offload (struct ethtool_value)


@dataclass(frozen=True, kw_only=True)
class Interface:
    """One end of a link: an interface inside a namespace."""

    ns: Namespace
    name: str
    mac: str


def create_veth(a: Namespace, a_name: str, b: Namespace, b_name: str
                ) -> tuple[Interface, Interface]:
    """Create a veth pair with one end in ``a`` and the other in ``b``; bring both up."""

    def add() -> None:
        with IPRoute() as ipr:
            ipr.link("add", ifname=a_name, kind="veth", peer={"ifname": b_name, "net_ns_fd": b.fd})

    a.run(add)
    return a.run(_up_and_mac, a, a_name), b.run(_up_and_mac, b, b_name)


def _up_and_mac(ns: Namespace, name: str) -> Interface:
    with IPRoute() as ipr:
        index = ipr.link_lookup(ifname=name)[0]
        ipr.link("set", index=index, state="up")
        mac = ipr.get_links(index)[0].get_attr("IFLA_ADDRESS")
    return Interface(ns=ns, name=name, mac=mac)


def configure(iface: Interface, address: str, prefixlen: int, neighbours: dict[str, str],
              *, mtu: int | None = None) -> None:
    """Give ``iface`` an IPv4 address and permanent neighbour entries (ip → MAC).

    Permanent neighbours mean no ARP exchange precedes the first segment, so a capture holds
    only what the experiment sent. ``mtu``, if given, replaces the veth's 1500 bytes: the
    largest IP packet the interface sends (and, on a veth, accepts).
    """

    def body() -> None:
        with IPRoute() as ipr:
            index = ipr.link_lookup(ifname=iface.name)[0]
            if mtu is not None:
                ipr.link("set", index=index, mtu=mtu)
            ipr.addr("add", index=index, address=address, prefixlen=prefixlen)
            for ip, mac in neighbours.items():
                ipr.neigh("add", dst=ip, lladdr=mac, ifindex=index, state="permanent")

    iface.ns.run(body)


def checksum_offload_off(iface: Interface) -> None:
    """Make the kernel finish TCP/UDP checksums in software before a frame leaves ``iface``.

    With offload on, a veth hands frames on with the checksum left for "hardware" to fill
    in. A frame copied through a userspace wire (or saved to a pcap) would then carry an
    unfinished checksum. This is ``ethtool -K <iface> tx off``, done with the SIOCETHTOOL
    ioctl so no external program is needed.
    """

    def body() -> None:
        value = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_STXCSUM, 0))
        ifreq = struct.pack("16sP", iface.name.encode(), ctypes.addressof(value))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifreq)

    iface.ns.run(body)
