"""The lab: hosts in network namespaces, joined by links, captured anywhere.

::

    from netlab.lab import Lab

    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server)
        with lab.capture(client) as cap:
            ...  # traffic, e.g. client.run(some_function)
        print(Table(cap.trace))

Addresses come from the documentation ranges of RFC 5737 and are fixed by the order of
the calls, so pages and doctests can show them: the first link is 192.0.2.0/24, its first
host 192.0.2.1 and its second host 192.0.2.2.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pyroute2 import IPRoute

from netlab.analysis.trace import Trace
from netlab.errors import LabError
from netlab.kernel.capture import Capture
from netlab.kernel.firewall import Firewall
from netlab.kernel.link import Interface, checksum_offload_off, configure, create_veth
from netlab.kernel.netns import CLONE_NEWNET, Namespace, Task
from netlab.kernel.tcp_info import SocketEntry, tcp_sockets
from netlab.kernel.units import duration
from netlab.kernel.units import rate as _rate
from netlab.kernel.wire import Wire, WireMode

__all__ = ["Lab", "Host", "Link", "LabCapture"]

T = TypeVar("T")

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)

#: RFC 5737 §3: TEST-NET-1, TEST-NET-2 and TEST-NET-3, "for use in documentation".
DOC_NETWORKS = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")


class Host:
    """A host of the lab: a network namespace with a name and interfaces."""

    def __init__(self, name: str, ns: Namespace, lab: Lab) -> None:
        self.name = name
        self.ns = ns
        self.lab = lab
        self.interfaces: list[Interface] = []
        self.addresses: list[str] = []
        self.gateway: str | None = None
        self._firewall: Firewall | None = None

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

    def popen(self, args: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start a program inside this host's namespace, as a child process.

        The child enters the namespace itself before it runs the program, and the kernel
        kills it if the thread that started it dies (``PR_SET_PDEATHSIG``), so it cannot
        outlive the lab. The lab also kills it when it closes. Because the signal follows
        the starting *thread*, call this from a thread that outlives the program (such as
        the one that made the lab), not from inside :meth:`run` or :meth:`start`.
        """
        fd = self.ns.fd

        def enter() -> None:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                os._exit(126)

        proc = subprocess.Popen(args, preexec_fn=enter, pass_fds=(fd,), **kwargs)
        self.lab._processes.append(proc)
        return proc

    def route_via(self, gateway: str) -> None:
        """Send everything that is not on a directly connected network to ``gateway``."""

        def body() -> None:
            with IPRoute() as ipr:
                ipr.route("add", dst="0.0.0.0/0", gateway=gateway)

        self.run(body)
        self.gateway = gateway

    def router(self) -> None:
        """Forward packets between this host's interfaces, and route its neighbours via it.

        Each host on the other end of one of this host's links, if it has a single link and
        no gateway yet, gets a default route through this host.
        """

        def forward() -> None:
            Path("/proc/sys/net/ipv4/ip_forward").write_text("1")

        self.run(forward)
        for link in self.lab.links:
            for mine, theirs in ((link.a, link.b), (link.b, link.a)):
                if mine.ns is self.ns:
                    peer = self.lab.host_of(theirs)
                    if peer.gateway is None and len(peer.interfaces) == 1:
                        peer.route_via(self.address_on(mine))

    @property
    def firewall(self) -> Firewall | None:
        """This host's firewall, once :meth:`add_firewall` made it one."""
        return self._firewall

    def add_firewall(self, *, idle_timeout: str | float = "300s", inside: Host | None = None
                     ) -> Firewall:
        """Make this host a stateful firewall between its links (see :mod:`netlab.kernel.firewall`).

        Args:
            idle_timeout: how long connection tracking remembers an idle connection.
            inside: the host on the trusted side, from which new connections may be opened
                (by default the host of this host's first link).
        """
        self.router()
        inside_iface = self.interfaces[0]
        if inside is not None:
            inside_iface = next(
                (mine for link in self.lab.links for mine, theirs in
                 ((link.a, link.b), (link.b, link.a))
                 if mine.ns is self.ns and theirs.ns is inside.ns), None)  # type: ignore[assignment]
            if inside_iface is None:
                raise LabError(f"{inside.name!r} is not linked to {self.name!r}")
        self._firewall = Firewall(self.ns, inside=inside_iface.name,
                                  idle_timeout=duration(idle_timeout))
        return self._firewall

    def address_on(self, iface: Interface) -> str:
        """This host's address on one of its interfaces."""
        return self.addresses[self.interfaces.index(iface)]

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
    network: str = ""
    """The documentation network (RFC 5737) the two ends are numbered from."""
    wire_namespace: str = ""
    """The name of the namespace the wire runs in (empty for a plain veth pair)."""

    def describe(self) -> str:
        """How the link is made: a plain veth pair, or which wire delays it."""
        return "veth pair" if self.wire is None else f"veth pairs + {self.wire.describe()}"


class LabCapture:
    """Captures on several hosts at once, merged into one :class:`Trace` on exit."""

    def __init__(self, lab: Lab, targets: tuple[Host | Interface, ...]) -> None:
        self._lab = lab
        self._captures: list[Capture] = []
        try:
            for t in targets:
                if isinstance(t, Host):
                    host, iface = t, t.interfaces[0]
                    label = t.name
                else:
                    host, iface = lab.host_of(t), t
                    label = host.name if iface is host.interfaces[0] else f"{host.name}:{t.name}"
                self._captures.append(Capture(host.ns, iface.name, host=label))
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
        self._processes: list[subprocess.Popen[Any]] = []

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
        host = Host(name, self._namespace(name), self)
        self.hosts[name] = host
        return host

    def host_of(self, iface: Interface) -> Host:
        """The host an interface belongs to."""
        for h in self.hosts.values():
            if iface in h.interfaces:
                return h
        raise LabError(f"interface {iface.name} belongs to no host of this lab")

    def link(self, a: Host, b: Host, *, wire: WireMode | None = None,
             delay: str | float = 0, loss: float = 0.0, rate: str | float | None = None,
             queue: int | None = None, mtu: int | None = None) -> Link:
        """Join ``a`` and ``b`` by an Ethernet link on the next documentation network.

        Args:
            wire: put a userspace :class:`~netlab.kernel.wire.Wire` in the middle, in this
                mode (``"pass"``, ``"step"`` or ``"drop"``); None for a plain veth pair,
                unless the link has a delay, loss or rate, which need the wire.
            delay: one-way delay, each direction (``"25ms"``): the round-trip time across
                this link is twice the delay.
            loss: the fraction of frames lost at random.
            rate: the link's bit rate (``"100Mbit"``).
            queue: with a rate, the most frames that wait for the link in each direction
                (a drop-tail queue); None for no limit. The wire has more (a limit in bytes,
                reordering, duplication, :meth:`~netlab.kernel.wire.Wire.drop_if`).
            mtu: the MTU of both ends, in bytes (a veth's default is 1500); only on a plain
                veth pair, since the wire forwards frames of any size.

        The kernel's netem queueing discipline, where it exists, could delay a link too;
        netlab does not rely on it (the kernels it was built on lack it) and always uses the
        wire, which :meth:`Link.describe` names.
        """
        one_way = duration(delay)
        bits = None if rate is None else _rate(rate)
        # Checked before anything is created: a link that fails half-way would leave its
        # interfaces in the hosts, and the next link() would collide with them.
        if not 0 <= loss <= 1:
            raise LabError(f"a link's loss is a fraction from 0 to 1, not {loss!r}")
        if bits is not None and bits <= 0:
            raise LabError(f"a link's rate must be more than 0, not {rate!r}")
        if queue is not None and (bits is None or queue < 1):
            raise LabError(f"a link's queue is a number of frames (1 or more) behind a rate, "
                           f"not {queue!r} at rate {rate!r}")
        if wire is None and (one_way or loss or bits):
            wire = "pass"
        if mtu is not None and (wire is not None or not 576 <= mtu <= 9000):
            raise LabError(f"a link's MTU is from 576 to 9000 bytes, on a link without a wire, "
                           f"not {mtu!r}")
        if len(self.links) >= len(DOC_NETWORKS):
            raise LabError(f"at most {len(DOC_NETWORKS)} links: one per RFC 5737 network")
        net = ipaddress.ip_network(DOC_NETWORKS[len(self.links)])
        a_if, b_if = f"eth{len(a.interfaces)}", f"eth{len(b.interfaces)}"
        the_wire = None
        wire_name = ""
        if wire is None:
            ia, ib = create_veth(a.ns, a_if, b.ns, b_if)
        else:
            wire_name = f"wire-{a.name}-{b.name}"
            mid = self._namespace(wire_name)
            ia, wa = create_veth(a.ns, a_if, mid, "wa")
            ib, wb = create_veth(b.ns, b_if, mid, "wb")
            for end in (ia, ib):
                checksum_offload_off(end)
            the_wire = Wire(wa, wb, mode=wire, delay=one_way, loss=loss, rate=bits, queue=queue)
            self._wires.append(the_wire)
        addr_a, addr_b = str(net[1]), str(net[2])
        configure(ia, addr_a, net.prefixlen, {addr_b: ib.mac}, mtu=mtu)
        configure(ib, addr_b, net.prefixlen, {addr_a: ia.mac}, mtu=mtu)
        a.interfaces.append(ia)
        b.interfaces.append(ib)
        a.addresses.append(addr_a)
        b.addresses.append(addr_b)
        link = Link(ia, ib, the_wire, network=str(net), wire_namespace=wire_name)
        self.links.append(link)
        return link

    def capture(self, *targets: Host | Interface) -> LabCapture:
        """Capture on each host's first interface (or on the interfaces given); merged.

        A host's other interfaces are named ``host:ethN`` in the trace.
        """
        return LabCapture(self, targets)

    def close(self) -> None:
        """Stop the wires and drop the namespaces (their interfaces go with them)."""
        try:
            for p in self._processes:
                if p.poll() is None:
                    p.kill()
                    p.wait(5)
            for w in self._wires:
                w.close()
        finally:
            for ns in self._namespaces:
                ns.close()
            self._wires.clear()
            self._namespaces.clear()
            self._processes.clear()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
