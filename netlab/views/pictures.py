"""Pictures drawn from a run: the listener's two queues, a certificate chain, TLS 1.2 beside
TLS 1.3, and the layers around a socket on each host.

Each view is drawn, as SVG, from plain data that an experiment's result hands over (the
experiments build them: ``accept_queue().picture()``,
``https_one_request().chain_picture()``, ``https_round_trips().flows()``,
``sockets().layers()``), so they can be made and tested
without a lab. Every word goes through gettext; the SVG has a ``<title>`` and a ``<desc>``
that says in words what the picture shows, and the page wraps it in a focusable, labelled
box with a caption, as the other figures.

Colours: a box has a light fill of its own, a darker border (3:1 or more against furo's light
and dark pages) and dark words (4.5:1 or more on its fill); words outside the boxes are
``currentColor``, so they follow the page's theme.

>>> from netlab.views.pictures import ListenerQueues, QueuesPicture
>>> p = QueuesPicture([ListenerQueues(label="tcp_abort_on_overflow = 0", backlog=4,
...                                   syn_queue=2, accept_queue=5)])
>>> p.svg().count('class="netlab-slot netlab-full"')
7
"""

from __future__ import annotations

import datetime
import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from netlab.i18n import tr
from netlab.proto.tls import CertificateInfo
from netlab.views.table import text_width

__all__ = ["ListenerQueues", "QueuesPicture", "ChainPicture", "FlowArrow", "Flow",
           "FlowsPicture", "HostLayers", "LayersPicture", "PALETTES"]

#: name → (fill, border, words): the words keep 4.5:1 on the fill, the border 3:1 on a
#: light and a dark page.
PALETTES = {
    "amber": ("#fff3bf", "#b35900", "#5c3c00"),
    "blue": ("#d0ebff", "#1c7ed6", "#0b3d6b"),
    "green": ("#d3f9d8", "#2f9e44", "#1b4d26"),
    "grey": ("#f1f3f5", "#868e96", "#343a40"),
    "red": ("#ffe3e3", "#e03131", "#7d1a1a"),
}
FONT = 12
SMALL = 11
LINE = 16
_ids = itertools.count(1)


def _e(text: object) -> str:
    return html.escape(str(text))


class _Canvas:
    """An SVG picture being drawn: its parts, its size, its words' boxes."""

    def __init__(self, kind: str, title: str, desc: str) -> None:
        self.kind, self.title, self.desc = kind, title, desc
        self.uid = next(_ids)
        self.parts: list[str] = []
        self.width = 0.0
        self.height = 0.0

    def grow(self, x: float, y: float) -> None:
        self.width, self.height = max(self.width, x), max(self.height, y)

    def text(self, x: float, y: float, words: str, *, size: int = FONT, anchor: str = "start",
             bold: bool = False, fill: str = "", cls: str = "") -> str:
        w = text_width(words, size)
        left = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
        self.grow(left + w + 6, y + 6)
        attrs = f' text-anchor="{anchor}"' if anchor != "start" else ""
        attrs += ' font-weight="bold"' if bold else ""
        attrs += f' fill="{fill}"' if fill else ""
        attrs += f' class="{cls}"' if cls else ""
        return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}"{attrs}>{_e(words)}</text>'

    def box(self, x: float, y: float, w: float, h: float, palette: str,
            lines: Sequence[tuple[str, bool]], *, size: int = FONT, cls: str = "netlab-box",
            data: str = "", dashed: bool = False) -> str:
        """A filled box with ``lines`` of words (each: words, bold) from its top left."""
        fill, border, ink = PALETTES[palette]
        self.grow(x + w + 6, y + h + 6)
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out = [f'<g class="{cls}"{data}><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
               f'height="{h:.1f}" rx="6" fill="{fill}" stroke="{border}" stroke-width="1.5"'
               f"{dash}/>"]
        for i, (words, bold) in enumerate(lines):
            out.append(self.text(x + 8, y + 4 + (i + 1) * LINE - 3, words, size=size,
                                 bold=bold, fill=ink))
        out.append("</g>")
        return "".join(out)

    def arrow(self, x1: float, y1: float, x2: float, y2: float, *, colour: str = "currentColor",
              dashed: bool = False, cls: str = "netlab-arrow", title: str = "") -> str:
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        tip = f"<title>{_e(title)}</title>" if title else ""
        return (f'<line class="{cls}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                f'stroke="{colour}" stroke-width="1.6"{dash} '
                f'marker-end="url(#{self.kind}{self.uid}-head)">{tip}</line>')

    def svg(self, extra: str = "") -> str:
        w, h = int(self.width + 0.999), int(self.height + 0.999)
        u = f"{self.kind}{self.uid}"
        return "".join([
            f'<svg xmlns="http://www.w3.org/2000/svg" class="netlab-picture netlab-{self.kind}" '
            f'role="img" aria-labelledby="{u}-title {u}-desc"{extra} viewBox="0 0 {w} {h}" '
            f'width="{w}" height="{h}" font-size="{FONT}" fill="currentColor" '
            f'font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace">',
            f'<title id="{u}-title">{_e(self.title)}</title>',
            f'<desc id="{u}-desc">{_e(self.desc)}</desc>',
            f'<defs><marker id="{u}-head" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0L10,5L0,10z" fill="context-stroke"/></marker></defs>',
            *self.parts, "</svg>"])


def _figure(svg: str, title: str, caption: str) -> str:
    """The page's wrapper: a focusable, labelled box that scrolls, and a caption."""
    label = _e(tr("Picture: {title}").format(title=title))
    words = _e(tr("{title}. {caption}").format(title=title, caption=caption))
    return (f'<div class="netlab-view"><figure class="netlab-figure">'
            f'<div class="netlab-scroll" tabindex="0" role="group" aria-label="{label}">'
            f"{svg}</div><figcaption>{words}</figcaption></figure></div>")


def _legend(c: _Canvas, y: float, entries: Sequence[tuple[str, str, bool]]) -> None:
    """Swatches (palette, words, dashed), left to right, on as many rows as needed."""
    x = 6.0
    c.parts.append(c.text(x, y, tr("Legend"), bold=True))
    x += text_width(tr("Legend"), FONT) + 16
    for palette, words, dashed in entries:
        width = 30 + text_width(words, SMALL) + 20
        if x + width > max(c.width, 640) and x > 100:
            x, y = 6.0, y + 20
        fill, border, _ = PALETTES[palette]
        dash = ' stroke-dasharray="4 2"' if dashed else ""
        c.parts.append(f'<rect x="{x:.1f}" y="{y - 11:.1f}" width="22" height="13" rx="3" '
                       f'fill="{"none" if dashed else fill}" stroke="{border}"{dash}/>'
                       + c.text(x + 28, y, words, size=SMALL))
        x += width


# -- the SYN queue and the accept queue -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ListenerQueues:
    """One listener's queues as the run read them."""

    label: str
    """What this run is (``tcp_abort_on_overflow = 0``)."""
    backlog: int
    """listen()'s backlog (the listener's Send-Q); the SYN queue takes as many."""
    syn_queue: int
    """Connections in SYN_RECV."""
    accept_queue: int
    """Connections waiting for accept() (the listener's Recv-Q); it holds backlog + 1."""
    overflow: tuple[str, ...] = ()
    """What happened to the handshakes that did not fit, in words, a line each."""


class QueuesPicture:
    """Each run's SYN queue and accept queue as rows of places, full or free."""

    SLOT_W, SLOT_H, GAP = 34, 26, 5

    def __init__(self, runs: Sequence[ListenerQueues], *, title: str = "") -> None:
        self.runs = tuple(runs)
        self.title = title or tr("The listener's SYN queue and accept queue in this run")

    def describe(self) -> str:
        parts = [tr("{label}: SYN queue {syn} of {syn_max} places, accept queue {acc} of "
                    "{acc_max} places, accept() never called.").format(
                     label=r.label, syn=r.syn_queue, syn_max=r.backlog, acc=r.accept_queue,
                     acc_max=r.backlog + 1) + "".join(" " + words + tr(".") for words in r.overflow)
                 for r in self.runs]
        return " ".join(parts)

    def _slots(self, c: _Canvas, x: float, y: float, full: int, places: int, palette: str,
               name: str) -> float:
        for i in range(max(places, full)):
            fill, border, _ = PALETTES[palette]
            sx = x + i * (self.SLOT_W + self.GAP)
            if i < full:
                c.parts.append(f'<rect class="netlab-slot netlab-full" data-queue="{name}" '
                               f'x="{sx}" y="{y}" width="{self.SLOT_W}" height="{self.SLOT_H}" '
                               f'rx="4" fill="{fill}" stroke="{border}" stroke-width="1.5"/>')
            else:
                c.parts.append(f'<rect class="netlab-slot netlab-free" data-queue="{name}" '
                               f'x="{sx}" y="{y}" width="{self.SLOT_W}" height="{self.SLOT_H}" '
                               f'rx="4" fill="none" stroke="{PALETTES["grey"][1]}" '
                               f'stroke-width="1.5" stroke-dasharray="4 2"/>')
            c.grow(sx + self.SLOT_W + 6, y + self.SLOT_H)
        return x + max(places, full) * (self.SLOT_W + self.GAP) - self.GAP

    def svg(self) -> str:
        c = _Canvas("queues", self.title, self.describe())
        y = 22.0
        for r in self.runs:
            c.parts.append(f'<g class="netlab-run" data-syn="{r.syn_queue}" '
                           f'data-accept="{r.accept_queue}" data-backlog="{r.backlog}">')
            c.parts.append(c.text(6, y, r.label, bold=True))
            syn_words = tr("SYN queue (SYN_RECV): {n} of {m}").format(n=r.syn_queue,
                                                                     m=r.backlog)
            acc_words = tr("accept queue (Recv-Q): {n} of {m}").format(n=r.accept_queue,
                                                                      m=r.backlog + 1)
            x0 = 6 + text_width("SYN", FONT) + 34
            c.parts.append(c.text(6, y + 44, "SYN"))
            c.parts.append(c.arrow(6 + text_width("SYN", FONT) + 4, y + 40, x0 - 4, y + 40))
            c.parts.append(c.text(x0, y + 22, syn_words, size=SMALL))
            syn_end = self._slots(c, x0, y + 27, r.syn_queue, r.backlog, "blue", "syn")
            x1 = max(syn_end, x0 + text_width(syn_words, SMALL)) + 60
            c.parts.append(c.arrow(syn_end + 6, y + 40, x1 - 6, y + 40,
                                   title=tr("the client's ACK completes the handshake")))
            c.parts.append(c.text((syn_end + x1) / 2, y + 58, "ACK", size=SMALL,
                                  anchor="middle"))
            c.parts.append(c.text(x1, y + 22, acc_words, size=SMALL))
            acc_end = self._slots(c, x1, y + 27, r.accept_queue, r.backlog + 1, "green",
                                  "accept")
            x2 = max(acc_end, x1 + text_width(acc_words, SMALL)) + 50
            c.parts.append(c.arrow(acc_end + 6, y + 40, x2 - 6, y + 40, dashed=True))
            call = tr("never called")
            bw = max(text_width("accept()", FONT), text_width(call, SMALL)) + 18
            c.parts.append(c.box(x2, y + 17, bw, 2 * LINE + 10, "grey",
                                 [("accept()", True), (call, False)], dashed=True))
            for i, words in enumerate(r.overflow):
                c.parts.append(c.text(x0, y + 80 + i * LINE, words, size=SMALL,
                                      cls="netlab-overflow"))
            c.parts.append("</g>")
            y += 96 + len(r.overflow) * LINE
        _legend(c, y, [("blue", tr("a connection in SYN_RECV"), False),
                       ("green", tr("an ESTABLISHED connection nobody accepted"), False),
                       ("grey", tr("a free place"), True)])
        return c.svg()

    def __str__(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:
        return _figure(self.svg(), self.title,
                       tr("Each place is one connection, counted by the kernel during the "
                          "run: the SYN queue from /proc/net/tcp, the accept queue from the "
                          "listener's Recv-Q."))


# -- a certificate chain ----------------------------------------------------------------------


def _day(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%d")


class ChainPicture:
    """A certificate chain, the server's own certificate on top, each issued by the next."""

    def __init__(self, chain: Sequence[CertificateInfo], *, sent: int,
                 title: str = "") -> None:
        self.chain = tuple(chain)
        self.sent = sent
        self.title = title or tr("The certificate chain of this run")

    def _role(self, i: int) -> str:
        cert = self.chain[i]
        if not cert.is_ca:
            role = tr("the server's certificate")
        elif cert.issuer == cert.subject:
            role = tr("root CA")
        else:
            role = tr("intermediate CA")
        where = (tr("sent by the server") if i < self.sent
                 else tr("in the client's trust store, not sent"))
        return tr("{role}, {where}").format(role=role, where=where)

    def _lines(self, i: int) -> list[tuple[str, bool]]:
        c = self.chain[i]
        lines = [(self._role(i), True), (tr("subject: {name}").format(name=c.subject), False),
                 (tr("issuer: {name}").format(name=c.issuer), False),
                 (tr("valid from {start} to {end}").format(start=_day(c.not_before),
                                                            end=_day(c.not_after)), False),
                 (tr("key: {key}; may sign certificates: {ca}").format(
                     key=c.key, ca=tr("yes") if c.is_ca else tr("no")), False)]
        if c.names:
            lines.append((tr("names: {names}").format(names=", ".join(c.names)), False))
        return lines

    def describe(self) -> str:
        parts = [tr("{i}. {role}: subject {subject}, issuer {issuer}, valid from {start} to "
                    "{end}.").format(i=i + 1, role=self._role(i), subject=c.subject,
                                     issuer=c.issuer, start=_day(c.not_before),
                                     end=_day(c.not_after))
                 for i, c in enumerate(self.chain)]
        return " ".join(parts)

    def svg(self) -> str:
        c = _Canvas("chain", self.title, self.describe())
        y = 8.0
        width = max(text_width(words, FONT) for i in range(len(self.chain))
                    for words, _ in self._lines(i)) + 20
        for i, cert in enumerate(self.chain):
            lines = self._lines(i)
            h = len(lines) * LINE + 10
            palette = "amber" if not cert.is_ca else ("green" if i >= self.sent else "blue")
            c.parts.append(c.box(8, y, width, h, palette, lines,
                                 data=f' data-subject="{_e(cert.subject)}"'))
            y += h
            if i + 1 < len(self.chain):
                link = tr("issued by: its issuer is the next one's subject, whose key signed it")
                c.parts.append(c.arrow(40, y + 2, 40, y + 34,
                                       title=tr("signed by {name}").format(name=cert.issuer)))
                c.parts.append(c.text(52, y + 22, link, size=SMALL))
                y += 36
            elif cert.issuer == cert.subject:
                c.parts.append(c.text(8, y + 20, tr("issuer = subject: the root signed "
                                                    "itself; the client trusts it as it is"),
                                      size=SMALL))
                y += 26
        _legend(c, y + 26, [("amber", tr("the server's certificate"), False),
                            ("blue", tr("a CA the server sends"), False),
                            ("green", tr("a CA the client already has"), False)])
        return c.svg()

    def __str__(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:
        return _figure(self.svg(), self.title,
                       tr("Read from the certificates the run's server and client used."))


# -- TLS 1.2 beside TLS 1.3 -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FlowArrow:
    """One flight: segments or records that left one side together."""

    from_client: bool
    at_ns: int
    """When the client's capture saw it, sent or received."""
    words: tuple[str, ...]
    """What it carried, one item a line."""
    kind: str
    """``tcp``, ``clear`` (TLS in the clear), ``encrypted``, or ``data`` (HTTP)."""


@dataclass(frozen=True, kw_only=True)
class Flow:
    """One connection, up to the first byte of the response."""

    name: str
    arrows: tuple[FlowArrow, ...]
    round_trips: int


#: Each kind's colour, as a line (3:1 or more on light and dark pages).
KINDS = {"tcp": "#868e96", "clear": "#b35900", "encrypted": "#1c7ed6", "data": "#2f9e44"}


class FlowsPicture:
    """Two connections side by side, to the same time scale, each from its capture."""

    PANEL = 390
    LEFT, RIGHT = 62, 340  # the client's and the server's lifelines in a panel
    TOP = 52

    def __init__(self, flows: Sequence[Flow], *, one_way_ns: int, title: str = "") -> None:
        self.flows = tuple(flows)
        self.one_way_ns = one_way_ns
        self.title = title or tr("TLS 1.2 and TLS 1.3 side by side, as captured in this run")
        last = max((a.at_ns - f.arrows[0].at_ns for f in self.flows for a in f.arrows),
                   default=0)
        self.scale = 420 / max(last + one_way_ns, 1)  # px per ns: the longest fits in 420 px

    def describe(self) -> str:
        parts = []
        for f in self.flows:
            steps = "; ".join(
                tr("{ms} ms, {side}: {words}").format(
                    ms=f"{(a.at_ns - f.arrows[0].at_ns) / 1e6:.0f}",
                    side=tr("client") if a.from_client else tr("server"),
                    words=", ".join(a.words)) for a in f.arrows)
            parts.append(tr("{name}, {n} round trips before the response: {steps}.").format(
                name=f.name, n=f.round_trips, steps=steps))
        return " ".join(parts)

    def _y(self, flow: Flow, ns: int) -> float:
        return self.TOP + (ns - flow.arrows[0].at_ns) * self.scale

    def svg(self) -> str:
        c = _Canvas("flows", self.title, self.describe())
        bottom = self.TOP + 440.0
        boxes: list[tuple[float, float, float, float]] = []
        for p, flow in enumerate(self.flows):
            x0 = p * self.PANEL
            cx, sx = x0 + self.LEFT, x0 + self.RIGHT
            c.parts.append(f'<g class="netlab-flow" data-name="{_e(flow.name)}" '
                           f'data-arrows="{len(flow.arrows)}">')
            c.parts.append(c.text(x0 + 6, 16, tr("{name}: {n} round trips").format(
                name=flow.name, n=flow.round_trips), bold=True))
            c.parts.append(c.text(cx, 38, tr("client"), anchor="middle", size=SMALL))
            c.parts.append(c.text(sx, 38, tr("server"), anchor="middle", size=SMALL))
            for x in (cx, sx):
                c.parts.append(f'<line class="netlab-life" x1="{x}" y1="{self.TOP - 8}" '
                               f'x2="{x}" y2="{bottom}" stroke="currentColor" '
                               f'stroke-width="1.2"/>')
            step = 2 * self.one_way_ns  # a tick each round trip
            t = 0
            while self.TOP + t * self.scale <= bottom:
                y = self.TOP + t * self.scale
                c.parts.append(f'<line x1="{cx - 5}" y1="{y:.1f}" x2="{cx}" y2="{y:.1f}" '
                               f'stroke="currentColor" stroke-width="1.2"/>')
                c.parts.append(c.text(cx - 8, y + 4, f"{t / 1e6:.0f} ms", size=10,
                                      anchor="end"))
                t += step
            for a in flow.arrows:
                seen, d = self._y(flow, a.at_ns), self.one_way_ns * self.scale
                if a.from_client:  # sent when the client's capture saw it
                    x1, y1, x2, y2 = cx, seen, sx, seen + d
                else:  # received then
                    x1, y1, x2, y2 = sx, seen - d, cx, seen
                c.parts.append(c.arrow(x1, y1, x2, y2, colour=KINDS[a.kind],
                                       cls=f"netlab-arrow netlab-{a.kind}",
                                       title=", ".join(a.words)))
                h = len(a.words) * 13 + 4
                w = max(text_width(words, 10) for words in a.words) + 8

                def clear(mx: float, top: float, w: float = w, h: float = h) -> bool:
                    return not any(mx - w / 2 < b[2] and b[0] < mx + w / 2 and top < b[3]
                                   and b[1] < top + h for b in boxes)
                # on the arrow, the middle first, then nearer either end; else lower down
                spots = [(x1 + (x2 - x1) * f, y1 + (y2 - y1) * f - h / 2)
                         for f in (0.5, 0.35, 0.65, 0.25, 0.75)]
                mx, top = next((spot for spot in spots if clear(*spot)), spots[0])
                while not clear(mx, top):
                    top += 4
                boxes.append((mx - w / 2, top, mx + w / 2, top + h))
                bottom = max(bottom, top + h + 4)
                # the page's own background (docs/_static/netlab.css), words in its colour
                c.parts.append(f'<g class="netlab-label"><rect class="netlab-bg" '
                               f'x="{mx - w / 2:.1f}" y="{top:.1f}" width="{w:.1f}" '
                               f'height="{h}" fill="#ffffff" fill-opacity="0.92"/>')
                for i, words in enumerate(a.words):
                    c.parts.append(c.text(mx, top + 12 + 13 * i, words, size=10,
                                          anchor="middle"))
                c.parts.append("</g>")
            c.parts.append("</g>")
        c.grow(len(self.flows) * self.PANEL, bottom)
        _legend(c, bottom + 26, [("grey", tr("TCP"), False),
                                 ("amber", tr("TLS in the clear"), False),
                                 ("blue", tr("TLS, encrypted"), False),
                                 ("green", tr("HTTP in TLS records"), False)])
        return c.svg(f' data-flows="{len(self.flows)}"')

    def __str__(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:
        return _figure(self.svg(), self.title, tr(
            "Time runs down, to the same scale in both, from the client's capture: each arrow "
            "leaves one side and reaches the other one one-way delay later. Square brackets: "
            "encrypted."))


# -- the layers around a socket ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class HostLayers:
    """What one host's layers did in the run."""

    name: str
    calls: tuple[str, ...]
    """The system calls, as strace prints them, in order."""
    states: tuple[str, ...]
    """The TCP states its sockets went through, one line for each socket."""
    address: str
    interface: str


#: layer → palette
_LAYER_COLOURS = {"app": "grey", "api": "amber", "tcp": "blue", "ip": "green", "link": "grey"}


class LayersPicture:
    """Two hosts, each a stack of layers, and the calls and states of the run in them."""

    COLUMN = 370
    GAP = 40

    def __init__(self, hosts: Sequence[HostLayers], *, frames: int, title: str = "") -> None:
        self.hosts = tuple(hosts)
        self.frames = frames
        self.title = title or tr("The layers around a socket on each host, with this run's "
                                 "system calls")

    def _bands(self, h: HostLayers) -> list[tuple[str, list[tuple[str, bool]]]]:
        return [
            ("app", [(tr("application: the experiment's Python code"), True)]),
            ("api", [(tr("socket API: {n} system calls").format(n=len(h.calls)), True)]
             + [(call, False) for call in h.calls]),
            ("tcp", [(tr("TCP: the kernel's state of each socket"), True)]
             + [(s, False) for s in h.states]),
            ("ip", [(tr("IP: address {address}").format(address=h.address), True)]),
            ("link", [(tr("link: {iface}").format(iface=h.interface), True)]),
        ]

    def describe(self) -> str:
        parts = [tr("{name}: system calls {calls}; TCP states {states}; IP address {address}.")
                 .format(name=h.name, calls=", ".join(h.calls), states="; ".join(h.states),
                         address=h.address) for h in self.hosts]
        parts.append(tr("The wire between them forwarded {n} frames.").format(n=self.frames))
        return " ".join(parts)

    def svg(self) -> str:
        c = _Canvas("layers", self.title, self.describe())
        bands = [self._bands(h) for h in self.hosts]
        # the same band is as tall on both hosts, so the layers line up
        heights = [max(len(b[i][1]) for b in bands) * LINE + 10 for i in range(5)]
        width = max([self.COLUMN - 20] + [text_width(words, SMALL if not bold else FONT) + 20
                                          for b in bands for _, lines in b
                                          for words, bold in lines])
        link_y = 0.0
        for k, (h, host_bands) in enumerate(zip(self.hosts, bands, strict=True)):
            x = 6 + k * (width + self.GAP + 30)
            c.parts.append(f'<g class="netlab-host" data-host="{_e(h.name)}">')
            c.parts.append(c.text(x + width / 2, 18, h.name, bold=True, anchor="middle",
                                  size=14))
            y = 30.0
            for (layer, lines), height in zip(host_bands, heights, strict=True):
                c.parts.append(c.box(x, y, width, height, _LAYER_COLOURS[layer], lines,
                                     size=SMALL, data=f' data-layer="{layer}"'))
                link_y = y + height / 2
                y += height + 8
            c.parts.append("</g>")
        if len(self.hosts) == 2:
            a = 6 + width
            b = 6 + width + self.GAP + 30
            c.parts.append(f'<line class="netlab-wire" x1="{a}" y1="{link_y:.1f}" x2="{b}" '
                           f'y2="{link_y:.1f}" stroke="currentColor" stroke-width="2"/>')
            words = tr("{n} frames").format(n=self.frames)
            c.parts.append(c.text(6, c.height + 18, tr("the wire between the two links "
                                                       "forwarded {words}").format(words=words),
                                  size=SMALL))
        return c.svg()

    def __str__(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:
        return _figure(self.svg(), self.title, tr(
            "Top to bottom: what the program calls, what the kernel does with it, and the "
            "interface the frames leave by. Each call and state is the run's own."))
