"""Quantities over time, drawn as SVG: lines (a congestion window, a round-trip time) and
Stevens's time–sequence graph of one TCP connection.

Both share one frame: time in seconds along the bottom, the quantity up the side, round tick
values, a legend that names each series in the colour it is drawn in, and a text alternative
that says in words what the picture shows.

>>> from netlab.views.series import Line, LineChart
>>> chart = LineChart([Line("cwnd", [(0.0, 10), (0.1, 20), (0.2, 40)])],
...                   x_label="time (s)", y_label="segments", title="cwnd")
>>> chart.describe()
'cwnd: 10 at 0 s, at most 40 at 0.2 s, 40 at the end (0.2 s).'
>>> chart.svg().count("<polyline")
1
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from netlab.analysis.trace import Connection
from netlab.i18n import tr
from netlab.views.chart import COLOURS
from netlab.views.table import text_width

__all__ = ["Line", "LineChart", "TimeSequence"]

WIDTH = 700
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 40, 44
RETRANSMIT = "#e03131"
"""Retransmitted segments: red, 4.6:1 on white and readable on the dark theme too."""


@dataclass(frozen=True)
class Line:
    """One series: ``(x, y)`` points in x order."""

    name: str
    points: Sequence[tuple[float, float]]
    dashed: bool = False
    step: bool = False
    """Hold each value until the next point (a quantity that jumps, like ssthresh)."""


def _nice(top: float) -> tuple[float, float]:
    """A round upper bound for an axis reaching ``top``, and its tick step."""
    if top <= 0:
        return 1.0, 0.25
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return step * math.ceil(top / step - 1e-9), step


def _number(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


class _Frame:
    """Axes from (0, 0) to (x_max, y_max), mapped onto the SVG's plotting area."""

    def __init__(self, x_max: float, y_max: float, height: int) -> None:
        self.x_max, self.x_step = _nice(x_max)
        self.y_max, self.y_step = _nice(y_max)
        self.height = height
        self.w = WIDTH - LEFT - RIGHT
        self.h = height - TOP - BOTTOM

    def x(self, v: float) -> float:
        return LEFT + v / self.x_max * self.w

    def y(self, v: float) -> float:
        return TOP + self.h - v / self.y_max * self.h

    def axes(self, x_label: str, y_label: str) -> str:
        parts = [f'<g class="axes" stroke="currentColor" stroke-opacity="0.6">'
                 f'<line x1="{LEFT}" y1="{TOP + self.h}" x2="{LEFT + self.w}" '
                 f'y2="{TOP + self.h}"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" '
                 f'y2="{TOP + self.h}"/></g>']
        ticks = []
        for i in range(int(round(self.x_max / self.x_step)) + 1):
            v = i * self.x_step
            ticks.append(f'<text x="{self.x(v):.1f}" y="{TOP + self.h + 16}" '
                         f'text-anchor="middle">{_number(v)}</text>')
        for i in range(int(round(self.y_max / self.y_step)) + 1):
            v = i * self.y_step
            ticks.append(f'<text x="{LEFT - 6}" y="{self.y(v) + 4:.1f}" '
                         f'text-anchor="end">{_number(v)}</text>')
            if i:
                ticks.append(f'<line x1="{LEFT}" y1="{self.y(v):.1f}" x2="{LEFT + self.w}" '
                             f'y2="{self.y(v):.1f}" stroke="currentColor" '
                             'stroke-opacity="0.12"/>')
        labels = (f'<text x="{LEFT + self.w / 2:.0f}" y="{self.height - 8}" '
                  f'text-anchor="middle">{html.escape(x_label)}</text>'
                  f'<text x="{LEFT}" y="{TOP - 10}" text-anchor="start">'
                  f"{html.escape(y_label)}</text>")
        return "".join(parts) + f'<g font-size="11">{"".join(ticks)}</g>' + labels


def _legend(entries: Sequence[tuple[str, str, bool]]) -> str:
    """Colour keys at the top right: (name, colour, dashed)."""
    widths = [30 + text_width(name, 12) for name, _, _ in entries]
    x = WIDTH - RIGHT - sum(widths)
    out = []
    for (name, colour, dashed), w in zip(entries, widths, strict=True):
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(f'<line x1="{x:.1f}" y1="14" x2="{x + 16:.1f}" y2="14" stroke="{colour}" '
                   f'stroke-width="2.5"{dash}/><text x="{x + 21:.1f}" y="18" '
                   f'font-size="12">{html.escape(name)}</text>')
        x += w
    return "".join(out)


def _svg(name: str, desc: str, height: int, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="netlab-chart" role="img" '
            f'aria-label="{html.escape(name)}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" font-family="sans-serif" font-size="13" fill="currentColor">'
            f"<desc>{html.escape(desc)}</desc>{body}</svg>")


def _figure(svg: str, title: str) -> str:
    caption = f"<figcaption>{html.escape(title)}</figcaption>" if title else ""
    return f'<figure class="netlab-figure">{svg}{caption}</figure>'


def _thin(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points that shape the line: a point between two of the same value adds nothing."""
    return [p for i, p in enumerate(points)
            if i in (0, len(points) - 1) or not points[i - 1][1] == p[1] == points[i + 1][1]]


class LineChart:
    """Lines over time: ``[Line(name, [(seconds, value), ...]), ...]``.

    Args:
        lines: the series, each drawn in its own colour (a dashed line keeps the colour of
            the solid line before it, so a quantity and its threshold read as a pair).
        x_label, y_label: the axes' names, with their units.
        title: the caption, and the accessible name of the image.
        unit: printed after values in the text alternative.
    """

    def __init__(self, lines: Sequence[Line], *, x_label: str, y_label: str, title: str = "",
                 unit: str = "", height: int = 280) -> None:
        self.lines = list(lines)
        self.x_label, self.y_label, self.title, self.unit = x_label, y_label, title, unit
        self.height = height

    def _colours(self) -> list[str]:
        colours: list[str] = []
        i = -1
        for line in self.lines:
            if not (line.dashed and colours):
                i += 1
            colours.append(COLOURS[i % len(COLOURS)])
        return colours

    def svg(self) -> str:
        points = [p for line in self.lines for p in line.points]
        frame = _Frame(max((x for x, _ in points), default=1.0),
                       max((y for _, y in points), default=1.0), self.height)
        body = []
        for line, colour in zip(self.lines, self._colours(), strict=True):
            xy: list[tuple[float, float]] = []
            for x, y in _thin(line.points):
                if line.step and xy:
                    xy.append((frame.x(x), xy[-1][1]))
                xy.append((frame.x(x), frame.y(y)))
            dash = ' stroke-dasharray="5 3"' if line.dashed else ""
            body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} '
                        'points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '">'
                        f"<title>{html.escape(line.name)}</title></polyline>")
        legend = _legend([(line.name, c, line.dashed)
                          for line, c in zip(self.lines, self._colours(), strict=True)])
        return _svg(self.title or self.describe(), self.describe(), self.height,
                    frame.axes(self.x_label, self.y_label) + "".join(body) + legend)

    def describe(self) -> str:
        """A text alternative: where each line starts, peaks and ends."""
        out = []
        for line in self.lines:
            if not line.points:
                continue
            (x0, y0), (x1, y1) = line.points[0], line.points[-1]
            xm, ym = max(line.points, key=lambda p: p[1])
            u = f" {self.unit}" if self.unit else ""
            out.append(tr("{name}: {first}{unit} at {t0} s, at most {top}{unit} at {tm} s, "
                          "{last}{unit} at the end ({t1} s)").format(
                name=line.name, first=_number(round(y0, 1)), unit=u, t0=_number(round(x0, 2)),
                top=_number(round(ym, 1)), tm=_number(round(xm, 2)),
                last=_number(round(y1, 1)), t1=_number(round(x1, 2))))
        return tr("; ").join(out) + "."

    def __str__(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:
        return _figure(self.svg(), self.title)


class TimeSequence:
    """Stevens's time–sequence graph of the data one side of a connection sent.

    Each data segment is a short vertical bar from its first to its last byte (relative
    sequence numbers), at the time the sender's capture saw it leave; a segment whose bytes
    were sent before is drawn in red, a retransmission. The line is the other side's
    cumulative acknowledgment, as the sender received it. Slow start is a curve bending up,
    a loss a gap in the bars and a red bar after it, congestion avoidance a straight slope.
    """

    def __init__(self, conn: Connection, *, sender: str = "client", title: str = "",
                 height: int = 300) -> None:
        self.conn, self.sender, self.title, self.height = conn, sender, title, height
        first = conn.segments[0]
        self.t0 = first.sent_ns if first.sent_ns is not None else first.time_ns
        syn = next(s for s in conn.segments if s.has("SYN") and conn.is_from_client(s)
                   == (sender == "client"))
        self.isn = syn.seq

    def _time(self, ns: int | None, fallback: int) -> float:
        return ((ns if ns is not None else fallback) - self.t0) / 1e9

    def bars(self) -> list[tuple[float, int, int, bool]]:
        """(seconds, first byte, byte after the last, retransmitted) per data segment."""
        out, sent_up_to = [], 0
        for s in self.conn.segments:
            if not s.length or self.conn.is_from_client(s) != (self.sender == "client"):
                continue
            start = (s.seq - self.isn - 1) % 2**32
            end = start + s.length
            out.append((self._time(s.sent_ns, s.time_ns), start, end, end <= sent_up_to))
            sent_up_to = max(sent_up_to, end)
        return out

    def acks(self) -> list[tuple[float, int]]:
        """(seconds, bytes acknowledged) for each ACK the sender received."""
        out = []
        for s in self.conn.segments:
            if self.conn.is_from_client(s) == (self.sender == "client") or not s.has("ACK"):
                continue
            out.append((self._time(s.received_ns, s.time_ns),
                        max(0, (s.ack - self.isn - 1) % 2**32)))
        return out

    def svg(self) -> str:
        bars, acks = self.bars(), self.acks()
        frame = _Frame(max((t for t, *_ in bars), default=1.0),
                       max((e for _, _, e, _ in bars), default=1) / 1000, self.height)
        sent = "".join(f"M{frame.x(t):.1f} {frame.y(a / 1000):.1f}V{frame.y(b / 1000):.1f}"
                       for t, a, b, again in bars if not again)
        again = "".join(f"M{frame.x(t):.1f} {frame.y(a / 1000):.1f}V{frame.y(b / 1000):.1f}"
                        for t, a, b, re in bars if re)
        ack_xy: list[str] = []
        for t, n in acks:
            if ack_xy:
                ack_xy.append(f"{frame.x(t):.1f},{ack_xy[-1].split(',')[1]}")
            ack_xy.append(f"{frame.x(t):.1f},{frame.y(n / 1000):.1f}")
        data_name, re_name, ack_name = (tr("data sent"), tr("retransmitted"),
                                        tr("acknowledged"))
        body = (f'<path fill="none" stroke="{COLOURS[0]}" stroke-width="2" d="{sent}">'
                f"<title>{html.escape(data_name)}</title></path>"
                f'<path fill="none" stroke="{RETRANSMIT}" stroke-width="3" d="{again}">'
                f"<title>{html.escape(re_name)}</title></path>"
                f'<polyline fill="none" stroke="{COLOURS[1]}" stroke-width="1.5" '
                f'points="{" ".join(ack_xy)}"><title>{html.escape(ack_name)}</title>'
                "</polyline>")
        legend = _legend([(data_name, COLOURS[0], False), (re_name, RETRANSMIT, False),
                          (ack_name, COLOURS[1], False)])
        return _svg(self.title or self.describe(), self.describe(), self.height,
                    frame.axes(tr("time since the SYN (s)"), tr("sequence number (KB)"))
                    + body + legend)

    def describe(self) -> str:
        """A text alternative: how much was sent, over what time, with how many resent."""
        bars = self.bars()
        if not bars:
            return tr("No data segments.")
        return tr("{n} data segments carrying {kb} KB in {s} s; {r} of them retransmitted.").format(
            n=len(bars), kb=_number(round(max(e for _, _, e, _ in bars) / 1000, 1)),
            s=_number(round(bars[-1][0], 2)), r=sum(1 for *_, again in bars if again))

    def __str__(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:
        return _figure(self.svg(), self.title)
