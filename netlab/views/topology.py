"""A diagram of a lab: its hosts, links, wires and firewall, drawn as SVG from the lab itself.

Each host is a box (one network namespace) with its name and the address of each of its
interfaces. A link is a line between two boxes, labelled with what it is made of: a plain veth
pair, or two veth pairs through a userspace wire, drawn as a small box in the middle of the
link, inside a dashed outline (the wire runs in a namespace of its own), with what it does to
the frames (one-way delay, loss, rate; or ``step``/``drop``). A firewall host says so in its
box, with its conntrack idle timeout, and marks its inside and outside sides on its links.

The view is drawn from plain data, so it can be made (and tested) without a lab and without
root; :meth:`Topology.from_lab` reads that data from a live :class:`~netlab.lab.lab.Lab`:

>>> from netlab.views.topology import HostInfo, LinkInfo, Topology, WireInfo
>>> topology = Topology(
...     hosts=[HostInfo(name="client", interfaces=(("eth0", "192.0.2.1"),)),
...            HostInfo(name="server", interfaces=(("eth0", "192.0.2.2"),))],
...     links=[LinkInfo(a="client", a_iface="eth0", b="server", b_iface="eth0",
...                     network="192.0.2.0/24", wire=WireInfo(namespace="wire-client-server",
...                                                           delay=0.025))])
>>> print(topology)  # doctest: +NORMALIZE_WHITESPACE
client: a network namespace; eth0 192.0.2.1.
server: a network namespace; eth0 192.0.2.2.
client and server are joined on 192.0.2.0/24 through a userspace wire
in a namespace of its own (wire-client-server): one-way delay 25 ms.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netlab.i18n import tr
from netlab.views.table import text_width

if TYPE_CHECKING:
    from netlab.lab.lab import Lab

__all__ = ["Topology", "HostInfo", "LinkInfo", "WireInfo", "FirewallInfo"]

# Sizes in pixels. Text is monospace: a column is 0.6 em, a Chinese character two columns.
FONT, NAME_FONT, SMALL = 12, 14, 11
LINE = 18  # baseline to baseline
PAD = 12  # inside a box
MARGIN = 6  # around the drawing
MIN_GAP = 110  # between two boxes
WIRE_H = 24  # the wire's box
NS_PAD = 7  # between the wire's box and its namespace's dashed outline
ARC_STEP = 34  # how far above the boxes a link between non-neighbours arcs

# Accents readable on light and dark backgrounds; everything else is currentColor.
FIREWALL = "#e8590c"
WIRE = "#1c7ed6"
# Words in those colours need 4.5:1 against the page, which no one colour has on both furo's
# light and dark backgrounds: these darker ones are for light pages; docs/_static/netlab.css
# gives the classes lighter ones under the dark theme.
FIREWALL_TEXT = 'fill="#c2410c" class="netlab-fw-text"'
WIRE_TEXT = 'fill="#1864ab" class="netlab-wire-text"'

_ids = itertools.count(1)


def _text_width(text: str, size: int = FONT) -> float:
    return text_width(text, size)


def _num(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True, kw_only=True)
class FirewallInfo:
    """A host's stateful firewall (see :mod:`netlab.kernel.firewall`)."""

    inside: str
    """The inside interface, the only one through which new connections may come in."""
    idle_timeout: float
    """Seconds an idle connection is remembered by connection tracking."""


@dataclass(frozen=True, kw_only=True)
class HostInfo:
    """A host to draw: its name, and ``(interface, address)`` for each of its interfaces."""

    name: str
    interfaces: tuple[tuple[str, str], ...] = ()
    firewall: FirewallInfo | None = None


@dataclass(frozen=True, kw_only=True)
class WireInfo:
    """A userspace wire in the middle of a link (see :class:`netlab.kernel.wire.Wire`)."""

    namespace: str
    """The name of the wire's own namespace."""
    mode: str = "pass"
    delay: float = 0.0
    """One-way delay in seconds."""
    loss: float = 0.0
    """The fraction of frames lost at random."""
    rate: float | None = None
    """Bit rate in bit/s, or None."""

    def effects(self) -> list[str]:
        """What the wire does to frames, one short phrase each (in the page's language)."""
        if self.mode == "step":
            return [tr("holds each frame until released (step)")]
        if self.mode == "drop":
            return [tr("drops every frame (drop)")]
        out = []
        if self.delay:
            out.append(tr("one-way delay {ms} ms").format(ms=_num(self.delay * 1e3)))
        if self.loss:
            out.append(tr("loss {percent}%").format(percent=_num(self.loss * 100)))
        if self.rate:
            out.append(tr("rate {mbit} Mbit/s").format(mbit=_num(self.rate / 1e6)))
        return out or [tr("forwards every frame at once")]


@dataclass(frozen=True, kw_only=True)
class LinkInfo:
    """A link to draw between hosts ``a`` and ``b`` (by name), on an IPv4 network."""

    a: str
    a_iface: str
    b: str
    b_iface: str
    network: str
    wire: WireInfo | None = None


@dataclass(frozen=True)
class _HostBox:
    host: HostInfo
    x: float
    width: float


class Topology:
    """The diagram of a lab; shows itself inline in Jupyter and on pages.

    Args:
        hosts: the hosts, each drawn as a box. Boxes are placed from left to right along
            the links, starting from the first end of a link (in the order of ``links``)
            that has no other link: the client of a client — firewall — server lab.
        links: the links; a link between two boxes that are not neighbours arcs above them.
        title: a caption, also the accessible name of the image.
    """

    def __init__(self, hosts: Sequence[HostInfo], links: Sequence[LinkInfo], *,
                 title: str = "") -> None:
        self.hosts = tuple(hosts)
        self.links = tuple(links)
        self.title = title
        names = {h.name for h in self.hosts}
        for link in self.links:
            for end in (link.a, link.b):
                if end not in names:
                    raise ValueError(f"link to {end!r}, which is not one of the hosts")

    @classmethod
    def from_lab(cls, lab: Lab, *, title: str = "") -> Topology:
        """Read the hosts, links, wires and firewall of a live lab (what it is right now)."""
        hosts = []
        for h in lab.hosts.values():
            fw = h.firewall
            hosts.append(HostInfo(
                name=h.name,
                interfaces=tuple((i.name, a) for i, a in zip(h.interfaces, h.addresses,
                                                              strict=True)),
                firewall=None if fw is None else FirewallInfo(inside=fw.inside,
                                                              idle_timeout=fw.idle_timeout)))
        links = []
        for link in lab.links:
            a, b, w = lab.host_of(link.a), lab.host_of(link.b), link.wire
            wire = None if w is None else WireInfo(
                namespace=link.wire_namespace,
                mode=w.mode, delay=w.delay, loss=w.loss, rate=w.rate)
            links.append(LinkInfo(a=a.name, a_iface=link.a.name, b=b.name, b_iface=link.b.name,
                                  network=link.network, wire=wire))
        return cls(hosts, links, title=title)

    # -- layout ----------------------------------------------------------------------------

    def order(self) -> tuple[HostInfo, ...]:
        """The hosts from left to right: a walk along the links, then unlinked hosts."""
        by_name = {h.name: h for h in self.hosts}
        neighbours: dict[str, list[str]] = {h.name: [] for h in self.hosts}
        for link in self.links:
            neighbours[link.a].append(link.b)
            neighbours[link.b].append(link.a)
        ends = [n for lk in self.links for n in (lk.a, lk.b)] + [h.name for h in self.hosts]
        start = next((n for n in ends if len(neighbours[n]) <= 1), ends[0] if ends else None)
        seen: list[str] = []
        stack = [start] if start is not None else []
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.append(name)
            stack.extend(reversed([n for n in neighbours[name] if n not in seen]))
        seen += [h.name for h in self.hosts if h.name not in seen]
        return tuple(by_name[n] for n in seen)

    def _box_lines(self, host: HostInfo) -> list[tuple[str, int, str]]:
        """(text, font size, role) of each line in a host's box, top to bottom."""
        lines = [(host.name, NAME_FONT, "name"), (tr("namespace"), SMALL, "kind")]
        lines += [(f"{iface}  {addr}", FONT, "address") for iface, addr in host.interfaces]
        if host.firewall is not None:
            lines.append((tr("firewall (nftables)"), FONT, "firewall"))
            lines.append((tr("idle timeout {s} s").format(s=_num(host.firewall.idle_timeout)),
                          FONT, "firewall"))
        return lines

    def _side(self, host: str, iface: str) -> str | None:
        """``inside`` or ``outside`` if ``host`` is a firewall (for the end of a link)."""
        fw = next((h.firewall for h in self.hosts if h.name == host), None)
        if fw is None:
            return None
        return tr("inside") if iface == fw.inside else tr("outside")

    def _below(self, link: LinkInfo) -> list[str]:
        """The lines of text under a link's line (under its wire, if it has one)."""
        if link.wire is None:
            return [tr("veth pair"), link.network]
        return [link.network, *link.wire.effects()]

    def _wire_width(self) -> float:
        """The width of a wire's box."""
        return _text_width(tr("userspace wire")) + 2 * PAD

    def _gap(self, link: LinkInfo | None) -> float:
        """Room between two neighbouring boxes for the link between them and its labels.

        Under the line: the link's labels, centred. Above it, at each end that touches a
        firewall: ``inside`` or ``outside``. A wire sits on the line, with a ``veth`` label on
        each side of it.
        """
        if link is None:
            return MIN_GAP / 2
        below = max(_text_width(t, SMALL) for t in self._below(link)) + 16
        ends = self._end_room(link, link.a, link.a_iface), self._end_room(link, link.b,
                                                                          link.b_iface)
        if link.wire is None:
            return max(MIN_GAP, below, sum(ends) + 16)
        outline = self._wire_width() + 2 * NS_PAD
        name = max(_text_width(t, SMALL) for t in (tr("namespace"), link.wire.namespace)) + 16
        return max(MIN_GAP, below, name, outline + sum(ends) + 8)

    def _end_room(self, link: LinkInfo, host: str, iface: str) -> float:
        """How much of the line next to one end its labels need (``inside``, ``veth``)."""
        side = self._side(host, iface)
        room = _text_width(side, SMALL) + 12 if side else 0.0
        if link.wire is not None:
            room = max(room, _text_width("veth", SMALL) + 12)
        return room

    def _layout(self) -> tuple[list[_HostBox], float]:
        order = self.order()
        boxes: list[_HostBox] = []
        x = float(MARGIN)
        for i, host in enumerate(order):
            width = max(_text_width(t, size) for t, size, _ in self._box_lines(host)) + 2 * PAD
            boxes.append(_HostBox(host, x, width))
            if i + 1 < len(order):
                x += width + self._gap(self._between(host.name, order[i + 1].name))
            else:
                x += width
        return boxes, x + MARGIN

    def _between(self, a: str, b: str) -> LinkInfo | None:
        return next((lk for lk in self.links if {lk.a, lk.b} == {a, b}), None)

    # -- drawing ---------------------------------------------------------------------------

    def svg(self) -> str:
        """The diagram as a standalone ``<svg>`` element."""
        uid = next(_ids)
        boxes, width = self._layout()
        index = {b.host.name: i for i, b in enumerate(boxes)}
        arcs = [lk for lk in self.links if abs(index[lk.a] - index[lk.b]) > 1]
        top = MARGIN + (len(arcs) * ARC_STEP + 10 if arcs else 0)
        box_h = max((len(self._box_lines(b.host)) for b in boxes), default=1) * LINE + 2 * PAD
        mid = top + box_h / 2
        below = max((len(self._below(lk)) for lk in self.links), default=0)
        height = max(top + box_h, mid + NS_PAD + WIRE_H / 2 + 8 + below * (SMALL + 4)) + MARGIN
        title = self.title or tr("Lab topology")
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="netlab-topology" role="img" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
            f'aria-labelledby="topology{uid}-title topology{uid}-desc" '
            f'font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" '
            f'font-size="{FONT}" fill="currentColor">',
            f'<title id="topology{uid}-title">{html.escape(title)}</title>',
            f'<desc id="topology{uid}-desc">{html.escape(self.describe())}</desc>',
        ]
        for link in self.links:
            a, b = sorted((boxes[index[link.a]], boxes[index[link.b]]), key=lambda bx: bx.x)
            if abs(index[link.a] - index[link.b]) > 1:
                out.append(self._arc(link, a, b, top - 10 - arcs.index(link) * ARC_STEP, top))
            else:
                out.append(self._link(link, a, b, mid))
        for box in boxes:
            out.append(self._box(box, top, box_h))
        out.append("</svg>")
        return "".join(out)

    def _box(self, box: _HostBox, top: float, box_h: float) -> str:
        host = box.host
        fw = host.firewall is not None
        stroke = FIREWALL if fw else "currentColor"
        parts = [
            f'<g class="host" data-host="{html.escape(host.name)}">',
            f'<rect x="{box.x:.1f}" y="{top}" width="{box.width:.1f}" height="{box_h}" rx="8" '
            f'fill="currentColor" fill-opacity="0.04" stroke="{stroke}" '
            f'stroke-width="{2.5 if fw else 1.5}"/>',
        ]
        y = top + PAD
        for text, size, role in self._box_lines(host):
            y += LINE
            attrs = {"name": ' font-weight="bold"', "kind": ' opacity="0.6"',
                     "firewall": f' {FIREWALL_TEXT} font-weight="bold"'}.get(role, "")
            parts.append(f'<text x="{box.x + PAD:.1f}" y="{y - 5}" font-size="{size}"{attrs}>'
                         f"{html.escape(text)}</text>")
        parts.append("</g>")
        return "".join(parts)

    def _ends(self, link: LinkInfo, left: _HostBox) -> tuple[str | None, str | None]:
        """The firewall side labels at the left and right ends of a link's line."""
        sa, sb = self._side(link.a, link.a_iface), self._side(link.b, link.b_iface)
        return (sa, sb) if left.host.name == link.a else (sb, sa)

    def _link(self, link: LinkInfo, left: _HostBox, right: _HostBox, y: float) -> str:
        x1, x2 = left.x + left.width, right.x
        cx = (x1 + x2) / 2
        small = f'font-size="{SMALL}" text-anchor="middle"'
        parts = [f'<g class="link" data-network="{html.escape(link.network)}">']
        # The line stops at the wire's box, if there is one: the wire is where it goes through.
        w = self._wire_width()
        if link.wire is not None:  # in the middle of what its two sides' labels leave free
            ends = [(link.a, link.a_iface), (link.b, link.b_iface)]
            if left.host.name != link.a:
                ends.reverse()
            room_l, room_r = (self._end_room(link, h, i) for h, i in ends)
            cx = (x1 + room_l + x2 - room_r) / 2
        spans = [(x1, x2)] if link.wire is None else [(x1, cx - w / 2), (cx + w / 2, x2)]
        for xa, xb in spans:
            parts.append(f'<line x1="{xa:.1f}" y1="{y}" x2="{xb:.1f}" y2="{y}" '
                         f'stroke="currentColor" stroke-width="2"/>')
        first = y + 16
        if link.wire is not None:
            nx, nw = cx - w / 2 - NS_PAD, w + 2 * NS_PAD
            ny, nh = y - WIRE_H / 2 - NS_PAD, WIRE_H + 2 * NS_PAD
            namespace, wire = tr("namespace"), tr("userspace wire")
            parts += [
                f'<g class="wire" data-namespace="{html.escape(link.wire.namespace)}">',
                f'<rect x="{nx:.1f}" y="{ny}" width="{nw:.1f}" height="{nh}" rx="6" fill="none" '
                f'stroke="currentColor" stroke-opacity="0.6" stroke-dasharray="4 3"/>',
                f'<text x="{cx:.1f}" y="{ny - 19}" {small} opacity="0.6">'
                f'{html.escape(namespace)}</text>',
                f'<text x="{cx:.1f}" y="{ny - 5}" {small} opacity="0.8">'
                f"{html.escape(link.wire.namespace)}</text>",
                f'<rect x="{cx - w / 2:.1f}" y="{y - WIRE_H / 2}" width="{w:.1f}" '
                f'height="{WIRE_H}" rx="4" fill="{WIRE}" fill-opacity="0.15" stroke="{WIRE}" '
                f'stroke-width="1.5"/>',
                f'<text x="{cx:.1f}" y="{y + 4}" text-anchor="middle" font-weight="bold">'
                f'{html.escape(wire)}</text></g>',
            ]
            for hx in ((x1 + nx) / 2, (nx + nw + x2) / 2):  # each half is a veth pair
                parts.append(f'<text x="{hx:.1f}" y="{y + 15}" {small} opacity="0.7">veth</text>')
            first = ny + nh + 14
        for i, text in enumerate(self._below(link)):
            colour = (f" {WIRE_TEXT}" if link.wire is not None and i > 0 else
                      ' opacity="0.75"' if link.wire is not None or i > 0 else "")
            half = _text_width(text, SMALL) / 2 + 4
            tx = min(max(cx, x1 + half), x2 - half)  # under the wire, but between the boxes
            parts.append(f'<text x="{tx:.1f}" y="{first + i * (SMALL + 4)}" {small}{colour}>'
                         f"{html.escape(text)}</text>")
        left_side, right_side = self._ends(link, left)
        if left_side:
            parts.append(f'<text x="{x1 + 6:.1f}" y="{y - 7}" font-size="{SMALL}" '
                         f"{FIREWALL_TEXT}>{html.escape(left_side)}</text>")
        if right_side:
            parts.append(f'<text x="{x2 - 6:.1f}" y="{y - 7}" font-size="{SMALL}" '
                         f'text-anchor="end" {FIREWALL_TEXT}>{html.escape(right_side)}</text>')
        parts.append("</g>")
        return "".join(parts)

    def _arc(self, link: LinkInfo, left: _HostBox, right: _HostBox, height: float,
             top: float) -> str:
        """A link between hosts that are not neighbours: up, across, down, above the boxes."""
        x1, x2 = left.x + left.width / 2, right.x + right.width / 2
        below = self._below(link)
        text = " · ".join(below if link.wire is None else [*below, link.wire.namespace])
        dash = ' stroke-dasharray="6 3"' if link.wire is not None else ""
        return (f'<g class="link" data-network="{html.escape(link.network)}">'
                f'<path d="M{x1:.1f},{top} V{height} H{x2:.1f} V{top}" fill="none" '
                f'stroke="currentColor" stroke-width="2"{dash}/>'
                f'<text x="{(x1 + x2) / 2:.1f}" y="{height - 5}" font-size="{SMALL}" '
                f'text-anchor="middle">{html.escape(text)}</text></g>')

    # -- words -----------------------------------------------------------------------------

    def sentences(self) -> list[str]:
        """The diagram in words, one sentence per host and per link (its text alternative)."""
        out = []
        for h in self.order():
            addrs = tr(", ").join(f"{i} {a}" for i, a in h.interfaces) or tr("no address")
            out.append(tr("{host}: a network namespace; {addresses}.").format(
                host=h.name, addresses=addrs))
        for link in self.links:
            if link.wire is None:
                out.append(tr("{a} and {b} are joined by a veth pair on {network}.").format(
                    a=link.a, b=link.b, network=link.network))
            else:
                out.append(tr("{a} and {b} are joined on {network} through a userspace wire "
                              "in a namespace of its own ({namespace}): {effects}.").format(
                    a=link.a, b=link.b, network=link.network, namespace=link.wire.namespace,
                    effects=tr(", ").join(link.wire.effects())))
        for h in self.hosts:
            if h.firewall is not None:
                inside = next((lk.b if lk.a == h.name else lk.a for lk in self.links
                               if (lk.a, lk.a_iface) == (h.name, h.firewall.inside)
                               or (lk.b, lk.b_iface) == (h.name, h.firewall.inside)), "?")
                out.append(tr("{host} is a stateful firewall: new connections only from its "
                              "inside interface {iface} (towards {inside}); connection tracking "
                              "forgets a connection idle for {s} s.").format(
                    host=h.name, iface=h.firewall.inside, inside=inside,
                    s=_num(h.firewall.idle_timeout)))
        return out

    def describe(self) -> str:
        """The text alternative as one paragraph."""
        return " ".join(self.sentences())

    def __str__(self) -> str:
        return "\n".join(self.sentences())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        caption = f"<figcaption>{html.escape(self.title)}</figcaption>" if self.title else ""
        return f'<figure class="netlab-figure">{self.svg()}{caption}</figure>'
