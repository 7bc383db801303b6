"""A ladder (sequence) diagram of a trace, drawn as SVG from the captured segments.

One vertical lane per host, one arrow per segment from the sender's lane to the receiver's.
The vertical axis is the order of events, not a time scale: a departure, an arrival or a
kernel state sample each take one step down, in the order of their timestamps. So an arrow
is slanted when something happened while the segment was in flight, and the kernel states
(labels on the lanes) sit exactly where they were read between segments.

A segment captured leaving its sender but never arriving at a receiver that was also
captured is drawn stopping short, with a cross: it was lost on the way.

On a page (:meth:`Ladder._repr_html_`) the diagram comes with a packet inspector
(:mod:`netlab.views.inspector`): each arrow is a link to its segment's decoded headers and
bytes, which a click, or Enter on the focused arrow, opens. The ``<svg>`` says how many
arrows it draws in ``data-segments``, so a test in a browser can count them against it.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netlab.analysis.dissect import Segment, option_text
from netlab.i18n import tr
from netlab.model.moments import StatesAt
from netlab.model.tcp_states import TcpState
from netlab.views.inspector import Inspector
from netlab.views.moments import moment_text

if TYPE_CHECKING:
    from netlab.analysis.trace import Trace

__all__ = ["Ladder"]

WIDTH = 700
LANE_X = (190, 590)
TOP = 70
ROW = 34
_ids = itertools.count(1)

# Arrow colour by the most telling flag (readable on light and dark backgrounds).
_COLOURS = (("RST", "#d9480f"), ("SYN", "#1c7ed6"), ("FIN", "#9c36b5"))
_DATA = "#2f9e44"
_PLAIN = "#868e96"


def _same(a: Segment, b: Segment) -> bool:
    """The same segment seen at two places (a router changes the TTL, not these)."""
    return (a.src, a.sport, a.dst, a.dport, a.flags, a.seq, a.ack, a.payload) == (
        b.src, b.sport, b.dst, b.dport, b.flags, b.seq, b.ack, b.payload)


def _host(label: str) -> str:
    """The host of a capture label (``firewall:eth1`` → ``firewall``)."""
    return label.split(":", 1)[0]


def _colour(seg: Segment) -> str:
    for flag, colour in _COLOURS:
        if seg.has(flag):
            return colour
    return _DATA if seg.length else _PLAIN


@dataclass(frozen=True)
class _Arrow:
    seg: Segment
    start: float  # rank of departure
    end: float  # rank of arrival
    lost: bool
    to: str  # the lane it arrives at


@dataclass(frozen=True)
class _Sample:
    """One side's state at one moment, as a lane label."""

    host: str
    state: TcpState
    timestamp_ns: int
    note: str


class Ladder:
    """The ladder diagram of ``trace``; shows itself inline in Jupyter and on pages.

    Args:
        trace: the segments (use :meth:`netlab.analysis.trace.Trace.only` to draw one connection).
        states: both kernels' states at moments of the run, drawn on the lanes (a label
            where a side's state changes; the moment in its tooltip).
        title: a caption, also used as the accessible name of the image.
        notes: what a segment carries at a higher layer, by segment number (``{4: "GET /"}``):
            written on its arrow above the TCP fields, and in the text alternative.
    """

    def __init__(self, trace: Trace, *, states: Sequence[StatesAt] = (),
                 title: str = "", notes: Mapping[int, str] | None = None) -> None:
        self.trace = trace
        self.states = tuple(states)
        self._samples = tuple(
            _Sample(host=host, state=s.of(host), timestamp_ns=s.timestamp_ns,
                    note=moment_text(s.moment))
            for s in self.states for host in ("client", "server"))
        self.title = title
        self.notes = dict(notes or {})
        self.lanes = self._lanes()

    def _lanes(self) -> tuple[str, ...]:
        """Hosts from left to right: the first connection's client, then the hosts in
        between (captured on the path), then its server."""
        conns = self.trace.connections()
        ends = ([self.trace.name(conns[0].client[0]), self.trace.name(conns[0].server[0])]
                if conns else [])
        seen = [_host(h) for seg in self.trace.segments for h in self.trace.hop(seg)]
        seen += [s.host for s in self._samples]
        middle = [h for h in dict.fromkeys(seen) if h not in ends]
        lanes = ends[:1] + middle + ends[1:]
        return tuple(lanes) if len(lanes) >= 2 else tuple(lanes + ["", ""])[:2]

    def _changes(self) -> list[_Sample]:
        """The samples that show a new state for their host (the others draw nothing)."""
        last: dict[str, object] = {}
        out = []
        for s in sorted(self._samples, key=lambda s: s.timestamp_ns):
            if last.get(s.host) != s.state:
                last[s.host] = s.state
                out.append(s)
        return out

    def _layout(self) -> tuple[list[_Arrow], list[tuple[float, _Sample]], float]:
        captured = set(self.trace.frames)
        events: list[tuple[int, int, str, object]] = []
        for i, seg in enumerate(self.trace.segments):
            if seg.sent_ns is not None:
                events.append((seg.sent_ns, 0, "dep", i))
            if seg.received_ns is not None:
                events.append((seg.received_ns, 0, "arr", i))
        for s in self._changes():
            events.append((s.timestamp_ns, 1, "state", s))
        events.sort(key=lambda e: (e[0], e[1]))
        dep: dict[int, float] = {}
        arr: dict[int, float] = {}
        samples: list[tuple[float, _Sample]] = []
        rank = 0.0
        previous: tuple[int, str] | None = None
        for t, _, kind, item in events:
            if not (kind == "state" and previous == (t, "state")):
                rank += 1  # samples read at the same moment share a row
            previous = (t, kind)
            if kind == "dep":
                dep[item] = rank  # type: ignore[index]
            elif kind == "arr":
                arr[item] = rank  # type: ignore[index]
            else:
                samples.append((rank, item))  # type: ignore[arg-type]
        arrows = []
        segs = self.trace.segments
        captured_hosts = {_host(c) for c in captured}
        for i, seg in enumerate(segs):
            start = dep.get(i, arr.get(i, 0.0) - 0.8)
            end, to, lost = arr.get(i, start + 0.8), self.trace.hop(seg)[1], False
            if i not in arr:
                # Seen leaving, never arriving: forwarded by a host captured further on
                # (it arrives where that host sends it again), or lost, or not watched.
                again = next((j for j in range(i + 1, len(segs)) if j in dep
                              and _same(segs[j], seg) and segs[j].sent_by != seg.sent_by), None)
                if again is not None:
                    to, end = str(segs[again].sent_by), dep[again] - 0.3
                else:
                    lost = self.trace.name(seg.dst) in captured_hosts
            arrows.append(_Arrow(seg, start, end, lost, to))
        return arrows, samples, rank

    def _x(self, host: str) -> float:
        """The x of a host's lane; lanes are spread evenly between the outer two."""
        left, right = LANE_X
        i = self.lanes.index(_host(host))
        return left + (right - left) * i / (len(self.lanes) - 1)

    def svg(self, inspector: Inspector | None = None) -> str:
        """The diagram as a standalone ``<svg>`` element.

        Args:
            inspector: link each arrow to its entry in this inspector (shown beside the
                diagram). Without one the diagram is a plain image.
        """
        uid = next(_ids)
        arrows, samples, rows = self._layout()
        height = int(TOP + (rows + 1) * ROW + 10)
        # An image's children are hidden from assistive technology, so a diagram whose arrows
        # are links is a group, named by its title and described by its text alternative.
        role = (f'role="group" aria-labelledby="ladder{uid}-title" '
                f'aria-describedby="ladder{uid}-desc"' if inspector else
                f'role="img" aria-labelledby="ladder{uid}-title ladder{uid}-desc"')
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="netlab-ladder" {role} '
            f'data-segments="{len(arrows)}" '
            f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
            f'font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" '
            f'font-size="12" fill="currentColor">',
            f'<title id="ladder{uid}-title">{html.escape(self.title or "Ladder diagram")}</title>',
            f'<desc id="ladder{uid}-desc">{html.escape(self.describe())}</desc>',
        ]
        names = self.trace.names
        for host in self.lanes:
            x = self._x(host)
            addrs = [a for a, n in names.items() if n == host]
            addr = addrs[0] if len(addrs) == 1 else ""
            out.append(f'<text x="{x}" y="22" text-anchor="middle" font-weight="bold" '
                       f'font-size="14">{html.escape(host)}</text>')
            out.append(f'<text x="{x}" y="40" text-anchor="middle" opacity="0.7">'
                       f'{html.escape(addr)}</text>')
            out.append(f'<line x1="{x}" y1="50" x2="{x}" y2="{height - 8}" stroke="currentColor" '
                       f'stroke-opacity="0.35" stroke-width="2"/>')
        t0 = self.trace.start_ns
        for a in arrows:
            arrow = self._arrow(a, t0)
            if inspector is not None:
                arrow = (f'<a class="netlab-inspect" href="#{inspector.target(a.seg)}" '
                         f'aria-label="{html.escape(inspector.summary(a.seg))}">{arrow}'
                         f"{self._hit_line(a)}</a>")
            out.append(arrow)
        for rank, s in samples:
            x, y = self._x(s.host), TOP + rank * ROW
            label = s.state.name
            w = 8 * len(label) + 14
            out.append(
                f'<g class="state"><title>{html.escape(tr(s.host))}: {label}'
                f'{" — " + html.escape(s.note) if s.note else ""}</title>'
                f'<rect x="{x - w / 2}" y="{y - 11}" width="{w}" height="20" rx="6" '
                f'fill="#fff3bf" stroke="#e67700"/>'
                f'<text x="{x}" y="{y + 4}" text-anchor="middle" fill="#5c3c00">{label}</text></g>'
            )
        out.append("</svg>")
        return "".join(out)

    def _ends(self, a: _Arrow) -> tuple[float, float, float, float]:
        """Where the arrow starts and ends: ``x1, y1, x2, y2``."""
        x1, x2 = self._x(self.trace.hop(a.seg)[0]), self._x(a.to)
        y1, y2 = TOP + a.start * ROW, TOP + a.end * ROW
        if a.lost:  # it did not reach the next lane on its way: stop short of it
            step = (self._x(self.lanes[1]) - self._x(self.lanes[0])) * (1 if x2 > x1 else -1)
            x2, y2 = x1 + step * 0.7, y1 + (y2 - y1) * 0.7
        return x1, y1, x2, y2

    def _hit_line(self, a: _Arrow) -> str:
        """An invisible wide stroke along the arrow, so a click need not hit the 2 px line."""
        x1, y1, x2, y2 = self._ends(a)
        return (f'<line class="netlab-hit" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
                f'stroke="transparent" stroke-width="16" pointer-events="stroke"/>')

    def _arrow(self, a: _Arrow, t0: int) -> str:
        seg = a.seg
        x1, y1, x2, y2 = self._ends(a)
        colour = _colour(seg)
        conn = self.trace.connection_of(seg)
        rel_ack = conn.relative_ack(seg)
        label = f"{seg.flags_text}  seq={conn.relative_seq(seg)}"
        if rel_ack is not None:
            label += f" ack={rel_ack}"
        if seg.length:
            label += f" len={seg.length}"
        detail = f"raw seq={seg.seq}" + (f" ack={seg.ack}" if seg.has("ACK") else "")
        note = self.notes.get(seg.number)
        if note:  # the higher layer's words on top, the TCP fields below them
            label, detail = note, label
        tip = (f"#{seg.number} {self.trace.name(seg.src)}:{seg.sport} → "
               f"{self.trace.name(seg.dst)}:{seg.dport} [{seg.flags_text}] {detail} "
               f"win={seg.window} len={seg.length} {option_text(seg.options)}")
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        d = 1 if x2 > x1 else -1
        head = f"{x2},{y2} {x2 - 10 * d},{y2 - 5} {x2 - 10 * d},{y2 + 5}"
        parts = [
            f'<g class="segment" data-segment="{seg.number}">'
            f"<title>{html.escape(tip)}</title>",
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="2"/>',
        ]
        if a.lost:
            parts.append(f'<path d="M{x2 - 6},{y2 - 6}l12,12m0,-12l-12,12" stroke="{colour}" '
                         f'stroke-width="2.5"/>')
        else:
            parts.append(f'<polygon points="{head}" fill="{colour}"/>')
        angle = math.degrees(math.atan2(y2 - y1, x2 - x1))
        if d < 0:
            angle -= 180  # keep text upright on right-to-left arrows
        rotate = f' transform="rotate({angle:.2f} {mx:.1f} {my:.1f})"'
        parts.append(f'<text x="{mx}" y="{my - 6}" text-anchor="middle"{rotate}>'
                     f'{html.escape(label)}</text>')
        parts.append(f'<text x="{mx}" y="{my + 13}" text-anchor="middle" font-size="10" '
                     f'opacity="0.65"{rotate}>{html.escape(detail)}</text>')
        time_ms = (seg.time_ns - t0) / 1e6
        parts.append(f'<text x="8" y="{y1 + 4}" font-size="10" opacity="0.6">'
                     f'{time_ms:.3f} ms</text>')
        parts.append("</g>")
        return "".join(parts)

    def describe(self) -> str:
        """A text alternative: the segments and state changes in words."""
        parts = []
        for seg in self.trace.segments:
            conn = self.trace.connection_of(seg)
            note = self.notes.get(seg.number)
            parts.append(tr("{src} to {dst}: ").format(src=self.trace.name(seg.src),
                                                       dst=self.trace.name(seg.dst))
                         + (f"{note}, " if note else "")
                         + f"{seg.flags_text} seq={conn.relative_seq(seg)}"
                         + (f" ack={conn.relative_ack(seg)}" if seg.has("ACK") else ""))
        return tr("; ").join(parts) + tr(".")

    def _repr_html_(self) -> str:
        inspector = Inspector(self.trace, notes=self.notes)
        caption = f"<figcaption>{html.escape(self.title)}</figcaption>" if self.title else ""
        return (f'<div class="netlab-view"><figure class="netlab-figure">{self.svg(inspector)}'
                f"{caption}</figure>{inspector.html()}</div>")

