"""The packet inspector: every segment of a view with its decoded headers and its bytes.

A ladder diagram or a packet table on a page carries, below it, one HTML ``<details>`` element
per segment: the header fields of each layer (Ethernet, IP, TCP), one row per layer, as
scapy dissects the captured frame, and the frame's bytes as a hex dump, like the packet details
and bytes panes of Wireshark. It works with no script at all (a ``<details>`` opens and closes
by itself and a keyboard reaches it like a button), and it is also the diagram's long text
alternative: everything the arrows show, in words and numbers.

On a page of the site, each segment has one entry however many views show it: a packet table
and a ladder of the same capture link to the same entries, which come after the first view
that shows them (the later view adds only the segments not shown yet, or no inspector at all).
A page is one kernel, and the docs build tells it so (``NETLAB_DOCS_LANG``); anywhere else,
in a notebook whose cells may run again in any order, each view carries its own entries.

On the site, a small local script (``docs/_static/netlab-inspector.js``) lets a click on an
arrow or on a row's number, or Enter on it, open that segment's entry. An entry is written
compactly there, since a chapter shows about a hundred packets: a row's fields as plain text with
their bytes listed once, and the hex dump as the bytes alone, in hex; the script gives each field an
element of its own and each line of the dump its offset and its bytes as text when the page
loads, and without it the reader still has every field and every byte. Each arrow and each
row number is a link to its entry (``#pkt-…``), so without the script a browser still
jumps there.

The fields are scapy's own dissection of the frame, on purpose: they are read again from the
bytes, not from netlab's :class:`~netlab.analysis.dissect.Segment`, so the inspector shows what the
frame really holds (checksums, TTL, IP identification, data offset) and not only what netlab
kept.

>>> from netlab.views.inspector import hexdump
>>> print(hexdump(b"GET / HTTP/1.1\\r\\n"))
0000  47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a  GET / HTTP/1.1..
"""

from __future__ import annotations

import html
import itertools
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from scapy.fields import FlagsField
from scapy.layers.l2 import Ether
from scapy.packet import NoPayload, Packet, Padding, Raw

from netlab.analysis.dissect import Segment, option_text
from netlab.analysis.payload import carried
from netlab.i18n import labelled, ntr, tr
from netlab.views.message import HexDump

if TYPE_CHECKING:
    from netlab.analysis.trace import Connection, Trace

__all__ = ["Inspector", "layers", "hexdump", "byte_ranges", "field_ranges", "split_fields",
           "page_wide", "MAX_BYTES"]

MAX_BYTES = 256
"""Bytes of a frame shown in its hex dump: every header and the start of the payload, and
further to the end of the last field decoded above TCP (a ClientHello's key_share, an HTTP
header), so that each decoded field has bytes to light up; a body or ciphertext is not a
reason to go on.

The whole frame is in the page's pcap download; a page of bulk transfers would otherwise
carry every byte twice.
"""

_ids = itertools.count(1)
_on_page: dict[tuple[int, bytes, str], str] = {}  # a page's entries: segment -> its entry's id
_PORTS = {"sport", "dport"}  # scapy shows well-known port names (8080 → http_alt): keep numbers
# What a segment carries is shown as its length, whatever scapy could dissect in it: scapy
# decodes TLS on port 443 only once its TLS module has been imported, by whichever code ran
# before, and a page must show the same entries whether its experiments ran or were replayed.
_TRANSPORTS = {"TCP", "UDP"}

Field = tuple[str, str]


def layers(frame: bytes, segment: Segment | None = None) -> list[tuple[str, list[Field]]]:
    """The frame's layers as scapy dissects them: ``[(layer name, [(field, value), ...]), ...]``,
    down to the transport layer; what TCP or UDP carries is given as its length.

    Args:
        frame: a whole Ethernet frame.
        segment: netlab's record of the same segment, used only to name the TCP flags and
            options the way the rest of netlab (and Wireshark) prints them.
    """
    out: list[tuple[str, list[Field]]] = []
    layer: Packet = Ether(frame)
    while not isinstance(layer, NoPayload):
        above_transport = bool(out) and out[-1][0] in _TRANSPORTS
        if above_transport and not isinstance(layer, Padding):
            n = len(bytes(layer)) - len(_padding(layer))
            size = ntr("{n} byte", "{n} bytes", n).format(n=n)
            out.append((tr("payload"), [(tr("length"), size)]))
            layer = _padding(layer)
            continue
        if isinstance(layer, (Raw, Padding)):
            label = tr("padding") if isinstance(layer, Padding) else tr("payload")
            size = ntr("{n} byte", "{n} bytes", len(bytes(layer))).format(n=len(bytes(layer)))
            out.append((label, [(tr("length"), size)]))
        else:
            out.append((str(layer.name), _fields(layer, segment)))
        layer = layer.payload
    return out


def _labelled(name: str, value: str) -> str:
    """``name: value``. A field named as the protocol names it (``dport``, ``cipher_suite``)
    keeps the colon of its notation; a name netlab translated takes its language's
    (``长度：3 字节``)."""
    return f"{name}: {value}" if name.isascii() else labelled(name, value)


def _padding(layer: Packet) -> Packet:
    """The Ethernet padding after what a transport layer carries (or nothing)."""
    pad = layer.getlayer(Padding)
    return pad if pad is not None else NoPayload()


def _fields(layer: Packet, segment: Segment | None) -> list[Field]:
    fields: list[Field] = []
    for f in layer.fields_desc:
        value = layer.getfieldval(f.name)
        if value in ([], b"", None):
            continue  # no IP options, an empty padding: nothing to show
        if f.name in _PORTS:
            text = str(int(value))
        elif layer.name == "TCP" and f.name == "flags" and segment is not None:
            text = f"0x{int(value):03x} ({segment.flags_text})"
        elif layer.name == "TCP" and f.name == "options" and segment is not None:
            text = option_text(segment.options)
        elif isinstance(f, FlagsField):
            text = f"0x{int(value):x} ({f.i2repr(layer, value)})"
        else:
            text = str(f.i2repr(layer, value))
        fields.append((f.name, text))
    return fields


Span = tuple[int, int]


def byte_ranges(frame: bytes) -> list[tuple[Span, dict[str, Span]]] | None:
    """Where each layer and each of its fields sits in ``frame``: per layer, in the order of
    :func:`layers`, its ``(start, end)`` and ``{field: (start, end)}`` (ends excluded).

    Read from scapy's own build of the dissected frame, field by field. Fields narrower than
    a byte (IP's version and IHL, TCP's data offset and flags) share their bytes: each is
    given the first byte of its group. None if the rebuilt frame differs from the captured
    one (then no byte can be pointed at with confidence).

    >>> from scapy.layers.l2 import Ether
    >>> from scapy.layers.inet import IP, TCP
    >>> frame = bytes(Ether(dst="02:00:00:00:00:02", src="02:00:00:00:00:01")
    ...               / IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=40000, dport=80))
    >>> (eth, eth_fields), (ip, ip_fields), (tcp, tcp_fields) = byte_ranges(frame)
    >>> eth, eth_fields["type"], ip, ip_fields["version"], ip_fields["src"], tcp_fields["dport"]
    ((0, 14), (12, 14), (14, 34), (14, 15), (26, 30), (36, 38))
    """
    try:
        raw, built = Ether(frame).build_ps()
    except Exception:  # a frame scapy cannot rebuild: show it without links
        return None
    if raw != frame:
        return None
    out: list[tuple[Span, dict[str, Span]]] = []
    pos = 0
    for _layer, fields in reversed(built):
        start, spans, pending = pos, {}, []
        for field, _text, data in fields:
            name = getattr(field, "name", str(field))
            if not data:
                pending.append(name)
                continue
            spans[name] = (pos, pos + len(data))
            for p in pending:
                spans[p] = (pos, pos + 1)
            pending = []
            pos += len(data)
        out.append(((start, pos), spans))
    return out


def hexdump(data: bytes, limit: int = MAX_BYTES) -> str:
    """The first ``limit`` bytes of ``data`` as a :class:`~netlab.views.message.HexDump`
    prints them (offset, 16 bytes in hex, the same as text), and how many bytes were left out.
    """
    lines = [str(HexDump(data[:limit]))] if data else []
    if len(data) > limit:
        lines.append(tr("… {n} more bytes (in the pcap download)").format(n=len(data) - limit))
    return "\n".join(lines)


class Inspector:
    """The inspector of the segments of ``trace`` (all of them, or those numbered ``numbers``).

    ``notes`` are what segments carry at a higher layer, by segment number (``{4: "GET /"}``),
    as a :class:`~netlab.views.ladder.Ladder` writes them on its arrows; each is added to its
    segment's one-line summary.

    A view that shows segments (:class:`~netlab.views.ladder.Ladder`,
    :class:`~netlab.views.table.Table`) makes one, links each segment to :meth:`target`, and
    appends :meth:`html` after itself.
    """

    def __init__(self, trace: Trace, numbers: Sequence[int] | None = None, *,
                 notes: Mapping[int, str] | None = None) -> None:
        self.trace = trace
        self.notes = dict(notes or {})
        wanted = None if numbers is None else set(numbers)
        self.segments = tuple(s for s in trace.segments if wanted is None or s.number in wanted)
        self.uid = next(_ids)
        self._carried: dict[int, list[Row]] | None = None
        self._reach: dict[int, int] = {}  # by segment: where its last field not opaque ends

    def carried(self, seg: Segment) -> list[Row]:
        """The rows of what ``seg`` carries above TCP (TLS records and handshake messages,
        HTTP messages), read from its direction's whole stream (:mod:`netlab.analysis.payload`):
        each field whose first byte the segment holds, with its bytes in the frame (cut at
        the segment's end when the field goes on in the next one)."""
        if self._carried is None:
            self._carried = {}
            for conn in self.trace.connections():
                _decode(conn, self._carried, self._reach)
        return self._carried.get(seg.number, [])

    def _key(self, seg: Segment) -> tuple[int, bytes, str]:
        return seg.number, seg.frame, self._line(seg)

    def shown_before(self, seg: Segment) -> bool:
        """Whether an earlier view on this page already carries ``seg``'s entry."""
        return page_wide() and self._key(seg) in _on_page

    def target(self, seg: Segment) -> str:
        """The id of ``seg``'s entry (unique on the page): what its arrow or row links to."""
        if page_wide():
            return _on_page.get(self._key(seg), f"pkt-{self.uid}-{seg.number}")
        return f"pkt-{self.uid}-{seg.number}"

    def _line(self, seg: Segment) -> str:
        conn = self.trace.connection_of(seg)
        rel_ack = conn.relative_ack(seg)
        text = (f"#{seg.number} {self.trace.name(seg.src)}:{seg.sport} → "
                f"{self.trace.name(seg.dst)}:{seg.dport} [{seg.flags_text}] "
                f"seq={conn.relative_seq(seg)}")
        if rel_ack is not None:
            text += f" ack={rel_ack}"
        return text + f" len={seg.length}"

    def summary(self, seg: Segment) -> str:
        """One line that names the segment: number, direction, flags, relative numbers."""
        note = self.notes.get(seg.number)
        text = self._line(seg)
        return f"{text} — {note}" if note else text

    def _entry(self, seg: Segment) -> str:
        # One row per layer, its fields on one line as Wireshark's summary lines write them: a
        # row per field would make the inspector most of a chapter's weight. Each field (and
        # each layer's name) says which bytes it is: pointing at it, or focusing it, lights
        # them up in the hex dump (docs/_static/netlab-inspector.js). A row's fields are plain
        # text, their bytes listed once for the row (``data-f``, see :func:`field_ranges`):
        # the page's script makes each field an element of its own when the page loads, so a
        # packet does not carry some thirty elements that only a script uses.
        found = layers(seg.frame, seg)
        spans = byte_ranges(seg.frame)
        if spans is not None and len(spans) != len(found):
            spans = None

        above = self.carried(seg)
        reach = max(MAX_BYTES, self._reach.get(seg.number, 0))
        rows = []
        for i, (name, fields) in enumerate(found):
            whole, by_field = spans[i] if spans is not None else (None, {})
            if above and name == tr("payload"):
                continue  # the rows below decode it, byte for byte; the summary has its length
            at = f' data-bytes="{whole[0]}-{whole[1]}"' if whole else ""
            texts = [_labelled(k, v) for k, v in fields]
            ranges = [by_field.get(k, whole if len(fields) == 1 else None) for k, _ in fields]
            rows.append(f'<tr><th{at}>{html.escape(name)}</th>'
                        f"{_cells(texts, ranges, whole[0] if whole else 0)}</tr>")
        for name, cells in above:
            own = [r for _, r in cells if r is not None]
            if not own:
                continue
            first, last = min(r[0] for r in own), max(r[1] for r in own)
            rows.append(f'<tr><th data-bytes="{first}-{last}">{html.escape(name)}</th>'
                        f"{_cells([t for t, _ in cells], [r for _, r in cells], first)}</tr>")
        caption = tr("{n} bytes captured").format(n=len(seg.frame))
        decoded = tr("Decoded headers")
        return (
            f'<details class="netlab-packet" data-segment="{seg.number}">'
            f"<summary>{html.escape(self.summary(seg))}</summary>"
            f'<div class="netlab-packet-body" tabindex="0" id="{self.target(seg)}">'
            f'<table class="netlab-fields"><caption>{html.escape(decoded)}'
            f'</caption>{"".join(rows)}</table>'
            f'<pre class="netlab-bytes" aria-label="{html.escape(caption)}">'
            f"{html.escape(_dump(seg.frame, reach))}</pre></div></details>"
        )

    def html(self) -> str:
        """The entries of the segments no earlier view on the page carries, inside one
        ``<details>`` that is closed until opened; nothing when there are none."""
        if not page_wide():
            return self._html(self.segments)
        new = [s for s in self.segments if not self.shown_before(s)]
        for seg in new:
            _on_page[self._key(seg)] = self.target(seg)
        return self._html(new) if new else ""

    def _html(self, segments: Sequence[Segment]) -> str:
        title = tr("Packet inspector: {n} segments, decoded headers and bytes").format(
            n=len(segments))
        return (
            f'<details class="netlab-inspector" data-segments="{len(segments)}">'
            f"<summary>{html.escape(title)}</summary>"
            f'{"".join(self._entry(s) for s in segments)}</details>'
        )


Row = tuple[str, list[tuple[str, Span | None]]]
"""A row of the inspector: its name, and each field's text and bytes in the frame."""


def _decode(conn: Connection, out: dict[int, list[Row]], reach: dict[int, int]) -> None:
    """Add to ``out`` the rows of what each segment of ``conn`` carries, by segment number,
    and to ``reach`` where in its frame the last field it holds that is not opaque ends."""
    for client, found in carried(conn).items():
        for seg in conn.segments:
            if not seg.length or conn.is_from_client(seg) is not client:
                continue
            first = conn.relative_seq(seg) - 1  # where its bytes start in its side's stream
            last = first + seg.length
            at = _payload_start(seg)
            rows: list[Row] = []
            for part in found:
                cells: list[tuple[str, Span | None]] = []
                for f in part.fields:
                    start, end = f.span
                    anchor = start if end > start else start - 1  # an empty field: after
                    if first <= anchor < last:  # an empty field has no bytes to light up
                        span = ((at + start - first, at + min(end, last) - first)
                                if end > start else None)
                        cells.append((_labelled(f.name, f.text), span))
                        if span is not None and not f.opaque:
                            reach[seg.number] = max(reach.get(seg.number, 0), span[1])
                if cells:
                    rows.append((tr(part.name), cells))
            if rows:
                out[seg.number] = rows


def _payload_start(seg: Segment) -> int:
    """Where the TCP payload starts in the frame: the IP header says where the packet ends
    (Ethernet pads a short frame), and the payload is its last bytes."""
    frame = seg.frame
    kind = int.from_bytes(frame[12:14], "big")
    if kind == 0x86DD:  # IPv6: the payload length leaves out the 40-byte header
        end = 14 + 40 + int.from_bytes(frame[18:20], "big")
    else:  # IPv4: the total length
        end = 14 + int.from_bytes(frame[16:18], "big")
    return end - seg.length


SEPARATOR = ", "
"""Between two fields of a layer's row."""


def field_ranges(ranges: Sequence[Span | None], start: int = 0) -> str:
    """The bytes of a row's fields in few characters, as the page's script reads them
    (``data-f``): one token per field, ``-`` for a field with no bytes of its own, ``END``
    when the field starts where the previous one ended (the first: where its layer starts),
    else ``START-END``.

    >>> field_ranges([(14, 15), (14, 15), (15, 16), (16, 18), None], 14)
    '15 14-15 16 18 -'
    """
    out, at = [], start
    for span in ranges:
        if span is None:
            out.append("-")
            continue
        out.append(str(span[1]) if span[0] == at else f"{span[0]}-{span[1]}")
        at = span[1]
    return " ".join(out)


def split_fields(text: str) -> list[str]:
    """A row's text cut back into its fields, the way the page's script cuts it: at each
    separator followed by a field's name and a colon (a value may hold the separator itself:
    ``flags: 0x018 (PSH, ACK)``).

    >>> split_fields("flags: 0x018 (PSH, ACK), window: 64")
    ['flags: 0x018 (PSH, ACK)', 'window: 64']
    """
    out: list[str] = []
    for piece in text.split(SEPARATOR):
        if out and not _FIELD_START.match(piece):
            out[-1] += SEPARATOR + piece
        else:
            out.append(piece)
    return out


_FIELD_START = re.compile(r"[^\s,:]+: ")


def _cells(texts: Sequence[str], ranges: Sequence[Span | None], start: int) -> str:
    """A row's fields: plain text with their bytes in ``data-f`` when the script can cut the
    text back into the same fields; else each field in an element of its own, as the script
    would make it."""
    text = SEPARATOR.join(texts)
    if not any(ranges):
        return f"<td>{html.escape(text)}</td>"
    if split_fields(text) == list(texts):
        return f'<td data-f="{field_ranges(ranges, start)}">{html.escape(text)}</td>'
    cells = (f'<span data-bytes="{r[0]}-{r[1]}" tabindex="0">{html.escape(t)}</span>'
             if r else html.escape(t) for t, r in zip(texts, ranges, strict=True))
    return f"<td>{SEPARATOR.join(cells)}</td>"


def _dump(frame: bytes, limit: int = MAX_BYTES) -> str:
    """The frame's hex dump as the page carries it: on the site, the bytes alone in hex,
    sixteen to a line, as Wireshark copies them ("as a hex stream"): the page's script spaces
    them out and adds each line's offset and its bytes as text when the page loads, so the page
    does not carry each byte three times. Elsewhere (a notebook, with no script) the whole
    :func:`hexdump`."""
    if not page_wide():
        return hexdump(frame, limit)
    shown = frame[:limit]
    lines = [shown[i:i + 16].hex() for i in range(0, len(shown), 16)]
    if len(frame) > limit:
        lines.append(tr("… {n} more bytes (in the pcap download)").format(
            n=len(frame) - limit))
    return "\n".join(lines)


def page_wide() -> bool:
    """Whether this process renders one page of the site, whose views share their entries."""
    return bool(os.environ.get("NETLAB_DOCS_LANG"))
