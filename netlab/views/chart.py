"""A horizontal bar chart, drawn as SVG: measured against predicted, one group per row.

Small on purpose: a few groups of two or three bars, each bar labelled with its value, so the
chart reads without a legend lookup, and its text alternative says the same in words.

>>> from netlab.views.chart import BarChart
>>> chart = BarChart([("HTTP/1.0", [("measured", 1012.0), ("predicted", 1000.0)])], unit="ms")
>>> chart.describe()
'HTTP/1.0: measured 1012 ms, predicted 1000 ms.'
>>> chart.svg().count('<g class="bar">')
2
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from netlab.views.table import text_width

__all__ = ["BarChart"]

WIDTH = 700
LABEL_W = 150
BAR_H = 16
GAP = 4
GROUP_GAP = 18
TOP = 34
# One colour per series, readable on light and dark backgrounds (as the ladder's).
COLOURS = ("#1c7ed6", "#868e96", "#2f9e44", "#9c36b5")

Group = tuple[str, Sequence[tuple[str, float]]]


class BarChart:
    """Bars grouped by row: ``[(group label, [(series, value), ...]), ...]``.

    Args:
        groups: the rows; every group should list the same series in the same order.
        unit: printed after every value.
        title: a caption, and the accessible name of the image.
    """

    def __init__(self, groups: Sequence[Group], *, unit: str = "", title: str = "") -> None:
        self.groups = [(label, list(bars)) for label, bars in groups]
        self.unit = unit
        self.title = title

    def _value(self, v: float) -> str:
        return f"{v:.0f} {self.unit}".rstrip()

    def series(self) -> list[str]:
        """The series names, in the order of the first group."""
        return [name for name, _ in self.groups[0][1]] if self.groups else []

    def svg(self) -> str:
        top = max((v for _, bars in self.groups for _, v in bars), default=1.0) or 1.0
        scale = (WIDTH - LABEL_W - 90) / top
        colour = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(self.series())}
        rows, y = [], float(TOP)
        for label, bars in self.groups:
            height = len(bars) * (BAR_H + GAP)
            rows.append(f'<text x="{LABEL_W - 10}" y="{y + height / 2 + 4:.1f}" '
                        f'text-anchor="end" font-weight="bold">{html.escape(label)}</text>')
            for name, v in bars:
                w = max(1.0, v * scale)
                rows.append(f'<g class="bar"><title>{html.escape(f"{label}, {name}: ")}'
                            f"{html.escape(self._value(v))}</title>"
                            f'<rect x="{LABEL_W}" y="{y:.1f}" width="{w:.1f}" height="{BAR_H}" '
                            f'fill="{colour.get(name, COLOURS[0])}"/>'
                            f'<text x="{LABEL_W + w + 6:.1f}" y="{y + BAR_H - 4:.1f}" '
                            f'font-size="11">{html.escape(self._value(v))}</text></g>')
                y += BAR_H + GAP
            y += GROUP_GAP
        legend, x = [], float(LABEL_W)
        for name in self.series():
            legend.append(f'<rect x="{x:.1f}" y="8" width="12" height="12" '
                          f'fill="{colour[name]}"/><text x="{x + 17:.1f}" y="18" '
                          f'font-size="12">{html.escape(name)}</text>')
            x += 30 + text_width(name, 12)
        name = html.escape(self.title or self.describe())
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="netlab-chart" role="img" '
                f'aria-label="{name}" viewBox="0 0 {WIDTH} {y:.0f}" width="{WIDTH}" '
                f'height="{y:.0f}" font-family="sans-serif" font-size="13" fill="currentColor">'
                f"<desc>{html.escape(self.describe())}</desc>{''.join(legend)}{''.join(rows)}"
                "</svg>")

    def describe(self) -> str:
        """A text alternative: every bar's value in words."""
        return "; ".join(f"{label}: " + ", ".join(f"{n} {self._value(v)}" for n, v in bars)
                         for label, bars in self.groups) + "."

    def __str__(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:
        caption = f"<figcaption>{html.escape(self.title)}</figcaption>" if self.title else ""
        return f'<figure class="netlab-figure">{self.svg()}{caption}</figure>'
