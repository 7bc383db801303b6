"""A trace as a table: stable text for terminals and doctests, HTML for pages.

On a page a packet table comes with a packet inspector (:mod:`netlab.views.inspector`): each
row's number is a link to that segment's decoded headers and bytes, and the ``<table>`` says
how many segments it lists in ``data-segments``.
"""

from __future__ import annotations

import html
import unicodedata
from typing import TYPE_CHECKING

from netlab.analysis.dissect import option_text
from netlab.i18n import N_, tr
from netlab.views.inspector import Inspector

if TYPE_CHECKING:
    from netlab.analysis.trace import Trace

__all__ = ["Table", "Grid"]

_RIGHT = {"#", "time (ms)", "seq", "ack", "len", "win", "raw seq", "raw ack", "raw win"}


def _width(text: str) -> int:
    """Terminal columns ``text`` takes: Chinese characters are two columns wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_width(text: str, size: float) -> float:
    """About how wide ``text`` is drawn in a sans-serif font of ``size`` px (CJK counts twice)."""
    return _width(text) * 0.6 * size


class Grid:
    """Rows of text cells with a header row, shown as aligned text or as an HTML table.

    >>> from netlab.views.table import Grid
    >>> print(Grid([["option", "value"], ["MSS", "1460"], ["WS", "7"]], right={"value"}))
    option  value
    MSS      1460
    WS          7
    """

    verbatim: set[str] | frozenset[str] = frozenset()

    def __init__(self, rows: list[list[str]], *, right: set[str] | frozenset[str] = frozenset(),
                 verbatim: set[str] | frozenset[str] = frozenset()) -> None:
        self.columns, *self._body = rows
        self.right = set(right)
        # columns of another program's own words (curl's errors), kept as it printed them and
        # marked as English, which they are on a page in any language
        self.verbatim = set(verbatim)

    @property
    def rows(self) -> list[list[str]]:
        return self._body

    def _row_attrs(self, index: int) -> str:
        return ""

    def _cell_html(self, index: int, column: str, text: str) -> str:
        """The HTML content of one cell (escaped text; a view may add a link)."""
        return html.escape(text)

    def _table_attrs(self) -> str:
        return ""

    def _label(self) -> str:
        """The name of the table's scrolling box, which the keyboard can reach to scroll."""
        return tr("Table: {columns}").format(
            columns=tr(", ").join(c for c in self.columns[:4] if c))

    def _after_html(self) -> str:
        """HTML shown after the table, inside its wrapper."""
        return ""

    def __str__(self) -> str:
        rows = [self.columns, *self.rows]
        widths = [max(_width(r[i]) for r in rows) for i in range(len(self.columns))]
        lines = []
        for r in rows:
            cells = [
                " " * (w - _width(c)) + c if name in self.right else c + " " * (w - _width(c))
                for c, w, name in zip(r, widths, self.columns, strict=True)
            ]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        # An empty heading (a corner cell) is no header at all (axe-core: empty-table-header).
        head = "".join(f'<th scope="col">{html.escape(c)}</th>' if c else "<td></td>"
                       for c in self.columns)
        body = []
        english = ' lang="en"'
        for i, row in enumerate(self.rows):
            cells = "".join(
                f'<td class="{"num" if name in self.right else "txt"}"'
                f'{english if name in self.verbatim else ""}>'
                f"{self._cell_html(i, name, c)}</td>"
                for c, name in zip(row, self.columns, strict=True)
            )
            body.append(f"<tr{self._row_attrs(i)}>{cells}</tr>")
        return (
            f'<div class="netlab-table-wrap" tabindex="0" role="group" '
            f'aria-label="{html.escape(self._label())}">'
            f'<table class="netlab-table"{self._table_attrs()}>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"{self._after_html()}</div>"
        )


class Table(Grid):
    """One row per segment: time, direction, flags, relative seq/ack, length, window, options.

    The window is the one the segment offers, in bytes, after window scaling (what
    Wireshark calls the calculated window size).

    Args:
        trace: the segments to show.
        absolute: add the raw header fields: the sequence and acknowledgment numbers, which
            are random from run to run (RFC 9293 §3.4.1) and so left out of doctests, and
            the 16-bit window field before scaling.
        options: add the TCP options column.
    """

    def __init__(self, trace: Trace, *, absolute: bool = True, options: bool = True) -> None:
        self.trace = trace
        self.absolute = absolute
        self.options = options
        columns = ["#", N_("time (ms)"), N_("direction"), N_("flags"), "seq", "ack", "len", "win"]
        if absolute:
            columns += [N_("raw seq"), N_("raw ack"), N_("raw win")]
        if options:
            columns.append(N_("options"))
        self.columns = [tr(c) for c in columns]
        self.right = {tr(c) for c in _RIGHT}

    @property
    def rows(self) -> list[list[str]]:
        """The cells of the table, as text."""
        many = len(self.trace.connections()) > 1
        rows = []
        for seg in self.trace.segments:
            conn = self.trace.connection_of(seg)
            src, dst = self.trace.hop(seg)
            if many:  # ports tell the connections apart (a capture label has none)
                if src == self.trace.name(seg.src):
                    src = f"{src}:{seg.sport}"
                if dst == self.trace.name(seg.dst):
                    dst = f"{dst}:{seg.dport}"
            rel_ack = conn.relative_ack(seg)
            row = [
                str(seg.number),
                f"{(seg.time_ns - self.trace.start_ns) / 1e6:.3f}",
                f"{src} → {dst}",
                seg.flags_text,
                str(conn.relative_seq(seg)),
                "-" if rel_ack is None else str(rel_ack),
                str(seg.length),
                str(conn.window(seg)),
            ]
            if self.absolute:
                row += [str(seg.seq), str(seg.ack) if seg.has("ACK") else "-", str(seg.window)]
            if self.options:
                row.append(option_text(seg.options))
            rows.append(row)
        return rows

    def _row_attrs(self, index: int) -> str:
        return f' data-segment="{self.trace.segments[index].number}"'

    def _repr_html_(self) -> str:
        self._inspector = Inspector(self.trace)  # a fresh one (fresh ids) for each rendering
        return super()._repr_html_()

    def _cell_html(self, index: int, column: str, text: str) -> str:
        if column != self.columns[0]:
            return html.escape(text)
        seg = self.trace.segments[index]
        return (f'<a class="netlab-inspect" href="#{self._inspector.target(seg)}" '
                f'aria-label="{html.escape(self._inspector.summary(seg))}">'
                f"{html.escape(text)}</a>")

    def _table_attrs(self) -> str:
        return f' data-segments="{len(self.trace.segments)}"'

    def _after_html(self) -> str:
        return self._inspector.html()
