"""The lab: hosts in network namespaces, joined by links, captured anywhere.

>>> from netlab.lab import Lab                                  # doctest: +SKIP
>>> with Lab() as lab:                                          # doctest: +SKIP
...     client, server = lab.host("client"), lab.host("server")
...     lab.link(client, server)
...     with lab.capture(client) as cap:
...         ...

Addresses come from the documentation ranges of RFC 5737 and are fixed by the order of
the calls, so pages and doctests can show them: the first link is 192.0.2.0/24, its first
host 192.0.2.1 and its second host 192.0.2.2.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from netlab.capture import Capture
from netlab.errors import LabError
from netlab.lab.link import Interface, checksum_offload_off, configure, create_veth
from netlab.lab.netns import Namespace, Task
from netlab.lab.wire import Wire, WireMode
from netlab.states import SocketEntry, tcp_sockets
from netlab.trace import Trace

__all__ = ["Lab", "Host", "Link", "LabCapture"]

T = TypeVar("T")

#: RFC 5737 §3: TEST-NET-1, TEST-NET-2 and TEST-NET-3, "for use in documentation".
DOC_NETWORKS = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")


class Host:
    """A host of the lab: a network namespace with a name and interfaces."""

    def __init__(self, name: str, ns: Namespace) -> None:
        self.name = name
        self.ns = ns
        self.interfaces: list[Interface] = []
        self.addresses: list[str] = []

    @property
    def address(self) -> str:
        """The host's first IPv4 address."""
        if not self.addresses:
            raise LabError(f"host {self.name!r} has no address yet: link it first")
        return self.addresses[0]

    def run(self, fn: Callable[..., T], *args: Any, timeout: float = 10.0, **kwargs: Any) -> T:
        """Run ``fn`` inside this host's namespace and return its result."""
        return self.ns.run(fn, *args, timeout=timeout, **kwargs)

    def start(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        """Start ``fn`` in the background inside this host's namespace."""
        return self.ns.start(fn, *args, **kwargs)

    def tcp_sockets(self) -> list[SocketEntry]:
        """Every TCP socket of this host, as its kernel lists them in /proc/net/tcp."""
        return self.ns.run(tcp_sockets)

    def __repr__(self) -> str:
        return f"<Host {self.name} {' '.join(self.addresses)}>"


@dataclass(frozen=True)
class Link:
    """A link between two hosts; ``wire`` is set when a userspace wire sits in between."""

    a: Interface
    b: Interface
    wire: Wire | None


class LabCapture:
    """Captures on several hosts at once, merged into one :class:`Trace` on exit."""

    def __init__(self, lab: Lab, hosts: tuple[Host, ...]) -> None:
        self._lab = lab
        self._captures: list[Capture] = []
        try:
            for h in hosts:
                self._captures.append(Capture(h.ns, h.interfaces[0].name, host=h.name))
        except BaseException:
            self.stop()
            raise
        self.trace: Trace | None = None

    def stop(self) -> Trace:
        """Stop every capture (all of them, even if one fails) and merge their frames."""
        errors = []
        for c in self._captures:
            try:
                c.stop()
            except Exception as exc:  # stop the others first, then report
                errors.append(exc)
        if errors:
            raise errors[0]
        self.trace = Trace.from_frames([c.frames for c in self._captures], self._lab.names)
        return self.trace

    def __enter__(self) -> LabCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Lab:
    """Namespaces, links and wires that exist only while the ``with`` block runs."""

    def __init__(self) -> None:
        self.hosts: dict[str, Host] = {}
        self.links: list[Link] = []
        self._namespaces: list[Namespace] = []
        self._wires: list[Wire] = []

    def _namespace(self, name: str) -> Namespace:
        ns = Namespace(name)
        self._namespaces.append(ns)
        return ns

    @property
    def names(self) -> dict[str, str]:
        """Host name of every address in the lab."""
        return {addr: h.name for h in self.hosts.values() for addr in h.addresses}

    def host(self, name: str) -> Host:
        """Add a host (a fresh network namespace) called ``name``."""
        if name in self.hosts:
            raise LabError(f"there is already a host called {name!r}")
        host = Host(name, self._namespace(name))
        self.hosts[name] = host
        return host

    def link(self, a: Host, b: Host, *, wire: WireMode | None = None) -> Link:
        """Join ``a`` and ``b`` by an Ethernet link on the next documentation network.

        Args:
            wire: put a userspace :class:`~netlab.lab.wire.Wire` in the middle, in this
                mode (``"pass"``, ``"step"`` or ``"drop"``); None for a plain veth pair.
        """
        if len(self.links) >= len(DOC_NETWORKS):
            raise LabError(f"at most {len(DOC_NETWORKS)} links: one per RFC 5737 network")
        net = ipaddress.ip_network(DOC_NETWORKS[len(self.links)])
        a_if, b_if = f"eth{len(a.interfaces)}", f"eth{len(b.interfaces)}"
        the_wire = None
        if wire is None:
            ia, ib = create_veth(a.ns, a_if, b.ns, b_if)
        else:
            mid = self._namespace(f"wire-{a.name}-{b.name}")
            ia, wa = create_veth(a.ns, a_if, mid, "wa")
            ib, wb = create_veth(b.ns, b_if, mid, "wb")
            for end in (ia, ib):
                checksum_offload_off(end)
            the_wire = Wire(wa, wb, mode=wire)
            self._wires.append(the_wire)
        addr_a, addr_b = str(net[1]), str(net[2])
        configure(ia, addr_a, net.prefixlen, {addr_b: ib.mac})
        configure(ib, addr_b, net.prefixlen, {addr_a: ia.mac})
        a.interfaces.append(ia)
        b.interfaces.append(ib)
        a.addresses.append(addr_a)
        b.addresses.append(addr_b)
        link = Link(ia, ib, the_wire)
        self.links.append(link)
        return link

    def capture(self, *hosts: Host) -> LabCapture:
        """Capture on the first interface of each host; the trace merges them."""
        return LabCapture(self, hosts)

    def close(self) -> None:
        """Stop the wires and drop the namespaces (their interfaces go with them)."""
        try:
            for w in self._wires:
                w.close()
        finally:
            for ns in self._namespaces:
                ns.close()
            self._wires.clear()
            self._namespaces.clear()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
