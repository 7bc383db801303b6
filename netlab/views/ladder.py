"""A ladder (sequence) diagram of a trace, drawn as SVG from the captured segments.

One vertical lane per host, one arrow per segment from the sender's lane to the receiver's.
The vertical axis comes in two modes, and the figure's caption says which one it uses:

``scale="order"`` (the default)
    The order of events, not a time scale: a departure, an arrival or a kernel state sample
    each take one step down, in the order of their timestamps. So an arrow is slanted when
    something happened while the segment was in flight, and the kernel states (labels on the
    lanes) sit exactly where they were read between segments.
``scale="time"``
    Position proportional to time, where timing is the point (a delayed ACK, the round trips
    before a first byte, a retransmission back-off). One round trip is a fixed height; an idle
    gap longer than a few round trips is shortened to a band marked with its real length, so
    a one-second wait does not push the rest of the figure off the page.

Around the arrows the figure brackets what the trace shows without being told: its phases
(TCP handshake, TLS handshake, HTTP exchange, data, teardown) on the right, found from the
flags, the payloads and the higher-layer notes, and each round trip the client waited for on
the left (it sent a SYN or data, and the next SYN or data from the server arrived). A legend
names the colours. Labels are placed so that no two overlap: each is tried at a few points
along its arrow, and pushed down, with a leader line, only when none is free.

A segment captured leaving its sender but never arriving at a receiver that was also
captured is drawn stopping short, with a cross: it was lost on the way. Where the caller knows
what drops segments between the two lanes (``dropped_by="firewall"``, or the wire), that hop
is drawn between the lanes, a dashed line with its name, and a lost segment ends on it. A
segment that reached a captured host in the middle (a firewall or router with a lane of its
own) and never left it again ends at that host's lane, with the cross.

On a page (:meth:`Ladder._repr_html_`) the diagram comes with a packet inspector
(:mod:`netlab.views.inspector`): each arrow is a link to its segment's decoded headers and
bytes, which a click, or Enter on the focused arrow, opens. The ``<svg>`` says how many
arrows it draws in ``data-segments``, so a test in a browser can count them against it.
"""

from __future__ import annotations

import bisect
import html
import itertools
import math
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from netlab.analysis.dissect import Segment, option_text
from netlab.i18n import N_, labelled, ptr, tr
from netlab.model.moments import StatesAt
from netlab.model.tcp_states import TcpState
from netlab.views.inspector import Inspector, page_wide
from netlab.views.moments import moment_text

if TYPE_CHECKING:
    from netlab.analysis.trace import Connection, Trace

__all__ = ["Ladder", "Phase", "RoundTrip", "compact_numbers", "text_width"]

WIDTH = 780
LANE_X = (210, 590)
TOP = 84
ROW = 34
RTT_PX = 150  # the height of one round trip in the time-scaled mode
_ids = itertools.count(1)

Scale = Literal["order", "time"]

# Arrow colours by the most telling flag. Each keeps a contrast of at least 3:1 as a line on
# furo's light (#ffffff) and dark (#131416) backgrounds; text is drawn in the theme's colour.
_COLOURS = (("RST", "#d9480f"), ("SYN", "#1c7ed6"), ("FIN", "#9c36b5"))
_DATA = "#2f9e44"
_PLAIN = "#868e96"
_STATE_FILL, _STATE_STROKE, _STATE_TEXT = "#fff3bf", "#b35900", "#5c3c00"

#: Phase kinds, in the words the figure shows (translated on the page).
PHASES = {
    "tcp": N_("TCP handshake"),
    "tls": N_("TLS handshake"),
    "http": N_("HTTP exchange"),
    "data": N_("data transfer"),
    "close": N_("teardown"),
}
_PHASE_COLOURS = {"tcp": "#1c7ed6", "tls": "#e8590c", "http": "#2f9e44", "data": "#868e96",
                  "close": "#9c36b5"}
_HTTP_NOTE = re.compile(r"^(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) |HTTP/\d|^[1-5]\d\d |"
                        r"\+ [1-5]\d\d |\[?(GET|POST|HEAD) ")
_HTTP_PAYLOAD = re.compile(rb"^(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) \S+ HTTP/|^HTTP/1\.\d ")
_TLS_NOTE = re.compile(r"Hello|Finished|Certificate|ChangeCipherSpec|CCS|EncryptedExtensions")


def text_width(text: str, size: float) -> float:
    """The width of ``text`` in the figure's monospace font at ``size`` px: ASCII glyphs are
    0.6 em wide, CJK ones 1 em (a little more is allowed for either)."""
    return sum(size * (1.05 if ord(c) >= 0x2E80 else 0.62) for c in text)


_NUMERIC = re.compile(r'\b(x|y|x1|x2|y1|y2|cx|cy|r|width|height|points|d)="([^"]*)"')
_POINT_ZERO = re.compile(r"(?<=\d)\.0(?!\d)")
_LONG = re.compile(r"\d+\.\d{4,}")


def compact_numbers(svg: str) -> str:
    """``svg`` with each coordinate written as short as it reads: ``210`` for ``210.0``.

    >>> compact_numbers('<line x1="210.0" y1="84.0" x2="590.5" y2="1.05"/><text>1.0</text>')
    '<line x1="210" y1="84" x2="590.5" y2="1.05"/><text>1.0</text>'
    >>> compact_numbers('<path d="M607,78.0h5V294.0h-5"/><rect x="66.63999999999999"/>')
    '<path d="M607,78h5V294h-5"/><rect x="66.6"/>'
    """
    def short(value: str) -> str:
        value = _LONG.sub(lambda n: f"{float(n[0]):.1f}", value)  # float sums: 84.6400000001
        return _POINT_ZERO.sub("", value)

    return _NUMERIC.sub(lambda m: f'{m[1]}="{short(m[2])}"', svg)


def _same(a: Segment, b: Segment) -> bool:
    """The same segment seen at two places (a router changes the TTL, not these)."""
    return (a.src, a.sport, a.dst, a.dport, a.flags, a.seq, a.ack, a.payload) == (
        b.src, b.sport, b.dst, b.dport, b.flags, b.seq, b.ack, b.payload)


def _host(label: str | None) -> str:
    """The host of a capture label (``firewall:eth1`` → ``firewall``)."""
    return (label or "").split(":", 1)[0]


def _colour(seg: Segment) -> str:
    for flag, colour in _COLOURS:
        if seg.has(flag):
            return colour
    return _DATA if seg.length else _PLAIN


def _ms(ns: float) -> str:
    """A duration for a label: ``42.1 ms``, ``1.20 s``."""
    ms = ns / 1e6
    if ms >= 1000:
        return tr("{s} s").format(s=f"{ms / 1000:.2f}")
    return tr("{ms} ms").format(ms=f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}")


@dataclass(frozen=True)
class Phase:
    """A stretch of one connection: what was going on, and its segments (by number)."""

    kind: str
    """One of :data:`PHASES`: ``tcp``, ``tls``, ``http``, ``data`` or ``close``."""
    segments: tuple[int, ...]
    start_ns: int
    end_ns: int

    @property
    def name(self) -> str:
        """The phase in words, in the page's language."""
        return tr(PHASES[self.kind])


@dataclass(frozen=True)
class RoundTrip:
    """A round trip the client waited for: it sent ``out``, and ``back`` was the answer."""

    out: Segment
    back: Segment
    host: str
    """The lane it is measured on (the client's)."""

    @property
    def ns(self) -> int:
        assert self.back.received_ns is not None and self.out.sent_ns is not None
        return self.back.received_ns - self.out.sent_ns


@dataclass(frozen=True)
class _Arrow:
    seg: Segment
    start: float  # rank of departure (order) or time in ns (time)
    end: float  # rank or time of arrival
    lost: bool
    to: str  # the lane it arrives at
    at_lane: bool = False  # lost at the lane it reached: a host in the middle dropped it


@dataclass(frozen=True)
class _Sample:
    """One side's state at one moment, as a lane label."""

    host: str
    state: TcpState
    timestamp_ns: int
    note: str


@dataclass
class _LabelBox:
    x0: float
    y0: float
    x1: float
    y1: float

    def hits(self, other: _LabelBox, pad: float = 2) -> bool:
        return (self.x0 < other.x1 + pad and other.x0 < self.x1 + pad
                and self.y0 < other.y1 + pad and other.y0 < self.y1 + pad)


class _Placer:
    """Boxes already on the figure; finds a free place for the next one."""

    def __init__(self) -> None:
        self.boxes: list[_LabelBox] = []

    def free(self, box: _LabelBox) -> bool:
        return not any(box.hits(b) for b in self.boxes)

    def place(self, w: float, h: float, points: Sequence[tuple[float, float]],
              *, step: float = 6, limit: int = 400) -> tuple[float, float, bool]:
        """Centre ``(x, y)`` of a ``w``×``h`` box at the first free point, else moved down
        from the first point until free; the flag says it was moved."""
        for x, y in points:
            box = _LabelBox(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if self.free(box):
                self.boxes.append(box)
                return x, y, False
        x, y = points[0]
        for i in range(1, limit):
            box = _LabelBox(x - w / 2, y + i * step - h / 2, x + w / 2, y + i * step + h / 2)
            if self.free(box):
                self.boxes.append(box)
                return x, y + i * step, True
        return x, y, True


def _data_kind(seg: Segment, note: str | None) -> str | None:
    """What a data segment is part of, or None when it only continues what came before."""
    if not seg.length:
        return None
    web = 443 in (seg.sport, seg.dport)
    if note:
        if _HTTP_NOTE.search(note):
            return "http"
        if _TLS_NOTE.search(note):
            return "tls"
        if "application data" in note:
            return "http" if web else "data"
        if "NewSessionTicket" in note or "alert" in note:
            return None
        return "data"
    p = seg.payload
    if _HTTP_PAYLOAD.match(p):
        return "http"
    if len(p) >= 3 and p[1] == 3 and p[0] in (0x14, 0x16):
        return "tls"
    if len(p) >= 3 and p[1] == 3 and p[0] == 0x17:
        return "http" if web else "data"
    return None


class Ladder:
    """The ladder diagram of ``trace``; shows itself inline in Jupyter and on pages.

    Args:
        trace: the segments (use :meth:`netlab.analysis.trace.Trace.only` to draw one connection).
        states: both kernels' states at moments of the run, drawn on the lanes (a label
            where a side's state changes; the moment in its tooltip).
        title: a caption, also used as the accessible name of the image; without one the
            figure is named after the hosts and the phases it shows.
        notes: what a segment carries at a higher layer, by segment number (``{4: "GET /"}``):
            written on its arrow above the TCP fields, and in the text alternative.
        scale: ``"order"`` (one step per event) or ``"time"`` (to scale, long gaps shortened).
    """

    def __init__(self, trace: Trace, *, states: Sequence[StatesAt] = (),
                 title: str = "", notes: Mapping[int, str] | None = None,
                 scale: Literal["order", "time"] = "order", dropped_by: str = "") -> None:
        if scale not in ("order", "time"):
            raise ValueError(f"scale must be 'order' or 'time', not {scale!r}")
        self.trace = trace
        self.states = tuple(states)
        self._samples = tuple(
            _Sample(host=host, state=s.of(host), timestamp_ns=s.timestamp_ns,
                    note=moment_text(s.moment))
            for s in self.states for host in ("client", "server"))
        self.notes = dict(notes or {})
        self.scale: Scale = scale
        self.dropped_by = dropped_by
        """What drops segments between the lanes (a hop without a capture), as the reader
        reads it: lost segments end there."""
        self.lanes = self._lanes()
        self.title = title or self.default_title()

    def timed(self) -> Ladder:
        """The same diagram drawn to time scale."""
        return Ladder(self.trace, states=self.states, title=self.title, notes=self.notes,
                      scale="time", dropped_by=self.dropped_by)

    # -- what the figure shows -------------------------------------------------------------

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

    def default_title(self) -> str:
        """A title from the trace: its two end hosts and the phases between them."""
        kinds = list(dict.fromkeys(p.kind for p in self.phases()))
        ends = tr("{a} and {b}").format(a=tr(self.lanes[0]), b=tr(self.lanes[-1]))
        if not kinds:
            return tr("Segments between {ends}").format(ends=ends)
        return tr("{phases} between {ends}").format(
            phases=ptr("list", ", ").join(tr(PHASES[k]) for k in kinds), ends=ends)

    def phases(self) -> list[Phase]:
        """The phases of each connection, in time order.

        Handshake segments (SYN and the ACK that completes it) make the TCP handshake; from
        the first FIN or RST on, the teardown; in between, each data segment says what it
        carries (a TLS handshake record, an HTTP message, other data) by its note or its first
        bytes. A segment that says nothing new (an ACK, an HTTP body, a session ticket) joins
        the phase it falls in.
        """
        out: list[Phase] = []
        for conn in self.trace.connections():
            out += self._phases_of(conn)
        return sorted(out, key=lambda p: p.start_ns)

    def _phases_of(self, conn: Connection) -> list[Phase]:
        try:
            handshake = {s.number for s in conn.handshake()}
        except LookupError:
            handshake = set()
        closing = next((i for i, s in enumerate(conn.segments) if s.has("FIN") or s.has("RST")),
                       None)
        runs: list[tuple[str, list[Segment]]] = []
        for i, seg in enumerate(conn.segments):
            kind: str | None
            if seg.has("SYN") or (seg.number in handshake and not seg.length):
                kind = "tcp"
            elif closing is not None and i >= closing:
                kind = "close"
            else:
                kind = _data_kind(seg, self.notes.get(seg.number))
                if kind is None and seg.length and (not runs or runs[-1][0] == "tcp"):
                    kind = "data"  # bytes of no known protocol, right after the handshake
            if kind is None:
                if runs:
                    runs[-1][1].append(seg)
            elif runs and runs[-1][0] == kind:
                runs[-1][1].append(seg)
            else:
                runs.append((kind, [seg]))
        return [Phase(kind, tuple(s.number for s in segs),
                      min(s.sent_ns or s.time_ns for s in segs),
                      max(s.received_ns or s.time_ns for s in segs)) for kind, segs in runs]

    def round_trips(self) -> list[RoundTrip]:
        """The round trips each client waited for, measured where it was captured.

        One opens when the client sends a SYN or data while none is open, and closes when a
        SYN, RST or data from the server arrives at the client.
        """
        out: list[RoundTrip] = []
        for conn in self.trace.connections():
            client = self.trace.name(conn.client[0])
            events: list[tuple[int, bool, Segment]] = []
            for s in conn.segments:
                if conn.is_from_client(s) and s.sent_ns is not None and _host(s.sent_by) == client:
                    events.append((s.sent_ns, True, s))
                elif (not conn.is_from_client(s) and s.received_ns is not None
                      and _host(s.received_by) == client):
                    events.append((s.received_ns, False, s))
            opened: Segment | None = None
            for _, outgoing, s in sorted(events, key=lambda e: e[0]):
                telling = s.has("SYN") or s.length > 0
                if outgoing and opened is None and telling:
                    opened = s
                elif not outgoing and opened is not None and (telling or s.has("RST")):
                    out.append(RoundTrip(opened, s, client))
                    opened = None
        return sorted(out, key=lambda r: r.out.sent_ns or 0)

    def _changes(self) -> list[_Sample]:
        """The samples that show a new state for their host (the others draw nothing)."""
        last: dict[str, object] = {}
        out = []
        for s in sorted(self._samples, key=lambda s: s.timestamp_ns):
            if last.get(s.host) != s.state:
                last[s.host] = s.state
                out.append(s)
        return out

    # -- layout ----------------------------------------------------------------------------

    def _arrows_by_order(self) -> tuple[list[_Arrow], list[tuple[float, _Sample]]]:
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
        return self._arrows(dep, arr, 0.8, 0.3), samples

    def _one_way_ns(self) -> float:
        trips = [s.received_ns - s.sent_ns for s in self.trace.segments
                 if s.received_ns is not None and s.sent_ns is not None]
        return statistics.median(trips) if trips else 0.0

    def rtt_ns(self) -> float:
        """The round trip that sets the time scale: the first one the client waited for,
        else twice the median one-way time, else a tenth of the trace (at least 1 µs)."""
        trips = self.round_trips()
        if trips:
            return max(trips[0].ns, 1000)
        if self._one_way_ns():
            return max(2 * self._one_way_ns(), 1000)
        times = [s.time_ns for s in self.trace.segments]
        return max((max(times) - min(times)) / 10, 1000) if times else 1e6

    def _arrows_by_time(self) -> tuple[list[_Arrow], list[tuple[float, _Sample]]]:
        one_way = self._one_way_ns() or self.rtt_ns() / 2
        dep = {i: float(s.sent_ns) for i, s in enumerate(self.trace.segments)
               if s.sent_ns is not None}
        arr = {i: float(s.received_ns) for i, s in enumerate(self.trace.segments)
               if s.received_ns is not None}
        samples = [(float(s.timestamp_ns), s) for s in self._changes()]
        return self._arrows(dep, arr, one_way, 0.0), samples

    def _arrows(self, dep: dict[int, float], arr: dict[int, float], step: float,
                before: float) -> list[_Arrow]:
        """Arrows from departure and arrival positions; ``step`` stands in for a missing one,
        ``before`` is how far before a forwarding host's departure a hop ends."""
        captured_hosts = {_host(c) for c in self.trace.frames}
        segs = self.trace.segments
        arrows = []
        for i, seg in enumerate(segs):
            start = dep.get(i, arr.get(i, 0.0) - step)
            end, to, lost = arr.get(i, start + step), self.trace.hop(seg)[1], False
            at_lane = False
            if i in arr and _host(to) != self.trace.name(seg.dst):
                # It reached a host in the middle: lost there unless that host sent it on.
                at_lane = lost = not any(_same(segs[j], seg) and _host(segs[j].sent_by) == _host(to)
                                         for j in range(i + 1, len(segs)))
            elif i not in arr:
                # Seen leaving, never arriving: forwarded by a host captured further on
                # (it arrives where that host sends it again), or lost, or not watched.
                again = next((j for j in range(i + 1, len(segs)) if j in dep
                              and _same(segs[j], seg) and segs[j].sent_by != seg.sent_by), None)
                if again is not None:
                    to, end = str(segs[again].sent_by), dep[again] - before
                else:
                    lost = self.trace.name(seg.dst) in captured_hosts
            arrows.append(_Arrow(seg, start, end, lost, to, at_lane))
        return arrows

    def _time_axis(self, times: Sequence[float]) -> tuple[list[float], list[float],
                                                           list[tuple[float, float, float]]]:
        """Each distinct time's y, and the shortened gaps as (y from, y to, length in ns)."""
        ts = sorted(set(times))
        rtt = self.rtt_ns()
        gap = 2.5 * rtt
        linear = sum(min(b - a, gap) for a, b in itertools.pairwise(ts))
        px = RTT_PX / rtt
        if linear * px > 1500:  # a long exchange: fewer pixels per round trip, not under 60
            px = max(1500 / linear, 60 / rtt)
        # Shortened gaps keep a scale of their own, so a back-off that doubles still looks
        # like one: the longest is 220 px high, each other one in proportion (at least 40).
        longest = max([b - a for a, b in itertools.pairwise(ts)] + [gap])
        ys = [float(TOP)]
        breaks: list[tuple[float, float, float]] = []
        for a, b in itertools.pairwise(ts):
            dt = b - a
            if dt > gap:
                h = 40 + 180 * dt / longest
                breaks.append((ys[-1], ys[-1] + h, dt))
                ys.append(ys[-1] + h)
            else:
                ys.append(ys[-1] + (max(dt * px, 3.0) if dt > 0 else 0.0))
        return ts, ys, breaks

    def _x(self, host: str) -> float:
        """The x of a host's lane; lanes are spread evenly between the outer two."""
        left, right = LANE_X
        i = self.lanes.index(_host(host))
        return left + (right - left) * i / (len(self.lanes) - 1)

    # -- drawing ---------------------------------------------------------------------------

    def svg(self, inspector: Inspector | None = None) -> str:
        """The diagram as a standalone ``<svg>`` element.

        Args:
            inspector: link each arrow to its entry in this inspector (shown beside the
                diagram). Without one the diagram is a plain image.
        """
        uid = next(_ids)
        if self.scale == "time":
            arrows, samples = self._arrows_by_time()
            ts, ys, breaks = self._time_axis([a.start for a in arrows] + [a.end for a in arrows]
                                             + [t for t, _ in samples])

            def y_of(v: float) -> float:
                i = bisect.bisect_left(ts, v)
                if i < len(ts) and ts[i] == v:
                    return ys[i]
                if i == 0:
                    return ys[0]
                if i == len(ts):
                    return ys[-1]
                return ys[i - 1] + (ys[i] - ys[i - 1]) * (v - ts[i - 1]) / (ts[i] - ts[i - 1])
        else:
            arrows, samples = self._arrows_by_order()
            breaks = []

            def y_of(v: float) -> float:
                return TOP + (v - 1) * ROW

        ends = {a.seg.number: self._ends(a, y_of) for a in arrows}
        bottom = max([y for e in ends.values() for y in (e[1], e[3])]
                     + [y_of(t) for t, _ in samples] + [float(TOP)])
        placer = _Placer()
        for a in arrows:  # a lost segment's cross stays in sight: no label covers it
            if a.lost:
                x2, y2 = ends[a.seg.number][2:]
                placer.boxes.append(_LabelBox(x2 - 8, y2 - 8, x2 + 8, y2 + 8))
        body: list[str] = []
        over: list[str] = []  # drawn last, above the arrows

        # Kernel states, on their lanes (moved down only if two would touch).
        for t, s in samples:
            label = s.state.name
            w = text_width(label, 12) + 14
            x, y, _ = placer.place(w, 20, [(self._x(s.host), y_of(t))], step=4)
            over.append(
                f'<g class="state"><title>'
                f'{html.escape(labelled(tr(s.host), label))}'
                f'{" — " + html.escape(s.note) if s.note else ""}</title>'
                f'<rect x="{x - w / 2:.1f}" y="{y - 10:.1f}" width="{w:.1f}" height="20" rx="6" '
                f'fill="{_STATE_FILL}" stroke="{_STATE_STROKE}"/>'
                f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" '
                f'fill="{_STATE_TEXT}">{label}</text></g>')
            bottom = max(bottom, y + 10)

        # Shortened gaps: the lanes break, and the gap says how long it really was.
        for y0, y1, dt in breaks:
            text = tr("idle {t}").format(t=_ms(dt))
            w = text_width(text, 11) + 10
            mid = (y0 + y1) / 2
            x = (LANE_X[0] + LANE_X[1]) / 2
            placer.place(w, 16, [(x, mid)])
            body.append(f'<rect class="netlab-bg" x="{LANE_X[0] - 40}" y="{y0 + 8:.1f}" '
                        f'width="{LANE_X[1] - LANE_X[0] + 80}" height="{y1 - y0 - 16:.1f}" '
                        f'fill="#ffffff"/>')
            for host in self.lanes:
                lx = self._x(host)
                for yy in (y0 + 8, y1 - 8):
                    body.append(f'<path d="M{lx - 8},{yy + 3:.1f}l16,-6" stroke="currentColor" '
                                f'stroke-opacity="0.7" stroke-width="1.5" fill="none"/>')
            over.append(f'<text class="netlab-gap" x="{x}" y="{mid + 4:.1f}" '
                        f'text-anchor="middle" font-size="11">{html.escape(text)}</text>')

        # Arrows, each with its label block placed where it overlaps nothing. On the site the
        # label's background takes the theme's colour from the site's stylesheet (netlab.css).
        label_bg = "" if page_wide() else ' fill="#ffffff" fill-opacity="0.85"'
        arrow_parts: list[str] = []
        label_parts: list[str] = []
        t0 = self.trace.start_ns
        times: list[tuple[float, str]] = []
        for a in arrows:
            x1, y1, x2, y2 = ends[a.seg.number]
            arrow = self._arrow(a, (x1, y1, x2, y2), linked=inspector is not None)
            if inspector is not None:
                arrow = (f'<a class="netlab-inspect" href="#{inspector.target(a.seg)}" '
                         f'aria-label="{html.escape(inspector.summary(a.seg))}">{arrow}'
                         f'<line class="netlab-hit" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" '
                         f'y2="{y2:.1f}"/></a>')
            arrow_parts.append(arrow)
            label, detail = self._label(a.seg)
            w = max(text_width(label, 12), text_width(detail, 10)) + 8
            h = 30
            along = [(x1 + (x2 - x1) * f, y1 + (y2 - y1) * f + dy) for dy in (0, -17, 17)
                     for f in (0.5, 0.38, 0.62, 0.26, 0.74)]
            cx, cy, moved = placer.place(w, h, along)
            target = f' data-for="{inspector.target(a.seg)}"' if inspector is not None else ""
            part = [f'<g class="netlab-label" data-segment="{a.seg.number}"{target}>']
            if moved:
                ax, ay = along[0]
                ex = min(max(ax, cx - w / 2), cx + w / 2)  # the box's nearest point
                part.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{ex:.1f}" '
                            f'y2="{cy - h / 2:.1f}" stroke="currentColor" stroke-opacity="0.7" '
                            f'stroke-dasharray="2 2"/>')
            part.append(f'<rect x="{cx - w / 2:.1f}" y="{cy - h / 2 + 1:.1f}" '
                        f'width="{w:.1f}" height="{h - 2}" rx="3"{label_bg}/>')
            part.append(f'<text x="{cx:.1f}" y="{cy - 3:.1f}">{html.escape(label)}</text>')
            part.append(f'<text x="{cx:.1f}" y="{cy + 11:.1f}" font-size="10" opacity="0.8">'
                        f'{html.escape(detail)}</text></g>')
            label_parts.append("".join(part))
            bottom = max(bottom, cy + h / 2)
            times.append((y1, f"{(a.seg.time_ns - t0) / 1e6:.3f} ms"))

        # Times on the left, one per arrow where it fits beside its departure.
        time_parts = []
        for y, text in times:
            w = text_width(text, 10)
            _, _, moved = placer.place(w, 12, [(6 + w / 2, y)], limit=1)
            if not moved:
                time_parts.append(f'<text x="6" y="{y + 4:.1f}">{text}</text>')

        # Round trips the client waited for: a bracket left of its lane.
        rtt_parts = []
        for trip in self.round_trips()[:12]:
            ya, yb = ends[trip.out.number][1], ends[trip.back.number][3]
            x = self._x(trip.host) - 14
            text = tr("RTT {t}").format(t=_ms(trip.ns))
            w = text_width(text, 10)
            _, ty, _ = placer.place(w, 12, [(x - 6 - w / 2, (ya + yb) / 2)], step=4)
            rtt_parts.append(
                f'<g class="netlab-rtt"><path d="M{x + 5},{ya:.1f}h-5V{yb:.1f}h5" fill="none" '
                f'stroke="currentColor" stroke-opacity="0.8" stroke-width="1.2"/>'
                f'<text x="{x - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="10">'
                f"{html.escape(text)}</text></g>")

        # Phases: a bracket on the right and a faint band across the lanes.
        phase_parts = []
        columns: list[float] = []  # the lowest y used in each bracket column
        for p in self.phases():
            ys_ = [y for n in p.segments for y in (ends[n][1], ends[n][3])]
            ya, yb = min(ys_) - 6, max(ys_) + 6
            col = next((i for i, low in enumerate(columns) if low < ya), len(columns))
            if col == len(columns):
                columns.append(yb)
            columns[col] = yb
            x = LANE_X[1] + 22 + 12 * col
            colour = _PHASE_COLOURS[p.kind]
            name = p.name
            w = text_width(name, 11)
            tx, ty, _ = placer.place(w, 14, [(x + 8 + w / 2, ya + 8)], step=4)
            phase_parts.append(
                f'<g class="netlab-phase" data-phase="{p.kind}">'
                f'<rect x="{LANE_X[0] - 30}" y="{ya:.1f}" width="{LANE_X[1] - LANE_X[0] + 60}" '
                f'height="{yb - ya:.1f}" fill="{colour}" fill-opacity="0.05"/>'
                f'<path d="M{x - 5},{ya:.1f}h5V{yb:.1f}h-5" fill="none" stroke="{colour}" '
                f'stroke-width="2.5"/>'
                f'<text x="{x + 8}" y="{ty + 4:.1f}" font-size="11">{html.escape(name)}</text></g>')

        legend, legend_h = self._legend(bottom + 34, arrows, samples, bool(breaks),
                                        bool(rtt_parts))
        height = int(bottom + 34 + legend_h)
        # An image's children are hidden from assistive technology, so a diagram whose arrows
        # are links is a group, named by its title and described by its text alternative.
        role = (f'role="group" aria-labelledby="ladder{uid}-title" '
                f'aria-describedby="ladder{uid}-desc"' if inspector else
                f'role="img" aria-labelledby="ladder{uid}-title ladder{uid}-desc"')
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="netlab-ladder" {role} '
            f'data-segments="{len(arrows)}" data-scale="{self.scale}" '
            f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
            f'font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" '
            f'font-size="12" fill="currentColor">',
            f'<title id="ladder{uid}-title">{html.escape(self.title)}</title>',
            f'<desc id="ladder{uid}-desc">{html.escape(self.describe())}</desc>',
            *phase_parts,
        ]
        names = self.trace.names
        for host in self.lanes:
            x = self._x(host)
            addrs = [a for a, n in names.items() if n == host]
            addr = addrs[0] if len(addrs) == 1 else ""
            out.append(f'<text x="{x}" y="22" text-anchor="middle" font-weight="bold" '
                       f'font-size="14">{html.escape(host)}</text>')
            out.append(f'<text x="{x}" y="40" text-anchor="middle" opacity="0.8">'
                       f'{html.escape(addr)}</text>')
            out.append(f'<line class="netlab-lifeline" x1="{x}" y1="50" x2="{x}" '
                       f'y2="{bottom + 16:.1f}" stroke="currentColor" stroke-opacity="0.6" '
                       f'stroke-width="1.5"/>')
        hops = sorted({(ends[a.seg.number][2]) for a in arrows if a.lost and not a.at_lane}
                      if self.dropped_by else set())
        for x in hops:  # the hop that dropped segments, between the lanes
            out.append(f'<g class="netlab-hop"><text x="{x:.1f}" y="40" text-anchor="middle" '
                       f'font-size="12">{html.escape(self.dropped_by)}</text>'
                       f'<line x1="{x:.1f}" y1="50" x2="{x:.1f}" y2="{bottom + 16:.1f}" '
                       f'stroke="currentColor" stroke-opacity="0.7" stroke-width="1.2" '
                       f'stroke-dasharray="6 4"/></g>')
        if inspector is not None:
            # What makes an arrow easy to hit, said once for all of them: each link's wide
            # transparent line (netlab-hit) takes these from the group, and the arrow drawn
            # inside it keeps its own colour and width.
            arrow_parts = ['<g stroke="transparent" stroke-width="16" pointer-events="stroke">',
                           *arrow_parts, "</g>"]
        if time_parts:  # the times' look, said once for all of them
            time_parts = ['<g font-size="10" opacity="0.8">', *time_parts, "</g>"]
        # Every label's words are centred on it: said once, for all of them.
        label_parts = ['<g text-anchor="middle">', *label_parts, "</g>"]
        out += body + arrow_parts + rtt_parts + time_parts + label_parts + over + legend
        out.append("</svg>")
        return compact_numbers("".join(out))

    def _legend(self, y: float, arrows: Sequence[_Arrow], samples: Sequence[object],
                gaps: bool, rtts: bool) -> tuple[list[str], float]:
        """What the colours and marks mean, for the ones this figure uses."""
        used = {_colour(a.seg) for a in arrows}
        entries: list[tuple[str, str]] = [
            (c, w) for c, w in ((_COLOURS[1][1], "SYN"), (_COLOURS[2][1], "FIN"),
                                (_COLOURS[0][1], "RST"), (_DATA, tr("data")),
                                (_PLAIN, tr("ACK only"))) if c in used]
        if any(a.lost for a in arrows):
            entries.append(("lost", tr("dropped by {hop}").format(hop=self.dropped_by)
                            if self.dropped_by else tr("lost on the way")))
        if samples:
            entries.append(("state", tr("kernel state")))
        if rtts:
            entries.append(("rtt", tr("round trip the client waited for")))
        if gaps:
            entries.append(("gap", tr("idle time, shortened")))
        parts = [f'<g class="netlab-legend"><text x="6" y="{y:.1f}" font-weight="bold">'
                 f'{html.escape(tr("Legend"))}</text>']
        x, row = round(6 + text_width(tr("Legend"), 12) + 16, 1), round(y, 1)
        for key, words in entries:
            w = 30 + text_width(words, 11) + 18
            if x + w > WIDTH:
                x, row = 6, row + 22
            if key == "lost":
                mark = (f'<line x1="{x}" y1="{row - 4}" x2="{x + 18}" y2="{row - 4}" '
                        f'stroke="{_PLAIN}" stroke-width="2"/><path d="M{x + 16},{row - 10}l10,10'
                        f'm0,-10l-10,10" stroke="{_PLAIN}" stroke-width="2.5"/>')
            elif key == "state":
                mark = (f'<rect x="{x}" y="{row - 12}" width="24" height="14" rx="4" '
                        f'fill="{_STATE_FILL}" stroke="{_STATE_STROKE}"/>')
            elif key == "rtt":
                mark = (f'<path d="M{x + 12},{row - 12}h-5v14h5" fill="none" '
                        f'stroke="currentColor" stroke-opacity="0.8" stroke-width="1.2"/>')
            elif key == "gap":
                mark = (f'<path d="M{x + 4},{row - 2}l16,-6M{x + 4},{row + 2}l16,-6" '
                        f'stroke="currentColor" stroke-opacity="0.7" stroke-width="1.5"/>')
            else:
                mark = (f'<line x1="{x}" y1="{row - 4}" x2="{x + 18}" y2="{row - 4}" '
                        f'stroke="{key}" stroke-width="2"/><polygon points="{x + 26},{row - 4} '
                        f'{x + 16},{row - 9} {x + 16},{row + 1}" fill="{key}"/>')
            parts.append(f'{mark}<text x="{x + 30}" y="{row:.1f}" font-size="11">'
                         f"{html.escape(words)}</text>")
            x = round(x + w, 1)
        parts.append("</g>")
        return parts, row - y + 16

    def _ends(self, a: _Arrow, y_of: Callable[[float], float]) -> tuple[float, float, float, float]:
        """Where the arrow starts and ends: ``x1, y1, x2, y2``."""
        x1, x2 = self._x(self.trace.hop(a.seg)[0]), self._x(a.to)
        y1, y2 = y_of(a.start), y_of(a.end)
        if a.lost and not a.at_lane:  # it did not reach the next lane: stop short of it,
            # on the hop that dropped it when the figure knows one
            step = (self._x(self.lanes[1]) - self._x(self.lanes[0])) * (1 if x2 > x1 else -1)
            f = 0.5 if self.dropped_by else 0.7
            x2, y2 = x1 + step * f, y1 + (y2 - y1) * f
        return x1, y1, x2, y2

    def _label(self, seg: Segment) -> tuple[str, str]:
        """The two lines written by an arrow: the flags and relative numbers (or the note,
        then those), and the raw numbers."""
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
        return label, detail

    def _arrow(self, a: _Arrow, ends: tuple[float, float, float, float],
               linked: bool = False) -> str:
        """One arrow, its tooltip naming the segment. A ``linked`` arrow is inside a link named
        by the segment's one-line summary (its inspector entry's), and its label shows the
        flags and relative numbers: its tooltip adds only what neither says."""
        seg = a.seg
        x1, y1, x2, y2 = ends
        colour = _colour(seg)
        conn = self.trace.connection_of(seg)
        detail = f"raw seq={seg.seq}" + (f" ack={seg.ack}" if seg.has("ACK") else "")
        rel_ack = conn.relative_ack(seg)
        rel = f"seq={conn.relative_seq(seg)}" + (f" ack={rel_ack}" if rel_ack is not None else "")
        tip = (f"#{seg.number} {self.trace.name(seg.src)}:{seg.sport} → "
               f"{self.trace.name(seg.dst)}:{seg.dport} [{seg.flags_text}] {rel} {detail} "
               f"win={seg.window} len={seg.length} {option_text(seg.options)}")
        if linked:
            tip = f"#{seg.number} {detail} win={seg.window} {option_text(seg.options)}"
        angle = math.atan2(y2 - y1, x2 - x1)
        ca, sa = math.cos(angle), math.sin(angle)
        head = (f"{x2:.1f},{y2:.1f} {x2 - 10 * ca + 5 * sa:.1f},{y2 - 10 * sa - 5 * ca:.1f} "
                f"{x2 - 10 * ca - 5 * sa:.1f},{y2 - 10 * sa + 5 * ca:.1f}")
        parts = [
            f'<g class="segment" data-segment="{seg.number}">'
            f"<title>{html.escape(tip)}</title>",
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-width="2"/>',
        ]
        if a.lost:
            parts.append(f'<path d="M{x2 - 6:.1f},{y2 - 6:.1f}l12,12m0,-12l-12,12" '
                         f'stroke="{colour}" stroke-width="2.5"/>')
        else:
            parts.append(f'<polygon points="{head}" fill="{colour}"/>')
        parts.append("</g>")
        return "".join(parts)

    # -- words -----------------------------------------------------------------------------

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

    def mode(self) -> str:
        """The sentence that tells the reader how the vertical axis is drawn."""
        if self.scale == "time":
            return tr("Drawn to time scale: one round trip ({rtt}) is {px} px high; an idle "
                      "gap longer than {gap} is shortened, on a scale of its own, and marked "
                      "with its length.").format(
                rtt=_ms(self.rtt_ns()), px=RTT_PX, gap=_ms(2.5 * self.rtt_ns()))
        return tr("Drawn in order of events, not to time scale: each departure, arrival and "
                  "state reading takes one step down.")

    def _repr_html_(self) -> str:
        inspector = Inspector(self.trace, notes=self.notes)
        caption = (f'<figcaption>{html.escape(self.title)} '
                   f'<span class="netlab-scale">{html.escape(self.mode())}</span></figcaption>')
        label = html.escape(tr("Ladder diagram: {title}").format(title=self.title))
        return (f'<div class="netlab-view"><figure class="netlab-figure">'
                f'<div class="netlab-scroll" tabindex="0" role="group" aria-label="{label}">'
                f"{self.svg(inspector)}</div>{caption}</figure>{inspector.html()}</div>")
