"""The packet inspector: every segment of a view with its decoded headers and its bytes.

A ladder diagram or a packet table on a page carries, below it, one HTML ``<details>`` element
per segment: the header fields of each layer (Ethernet, IP, TCP) as scapy dissects the
captured frame, and the frame's bytes as a hex dump, like the packet details and bytes panes
of Wireshark. It works with no script at all (a ``<details>`` opens and closes by itself and
a keyboard reaches it like a button), and it is also the diagram's long text alternative:
everything the arrows show, in words and numbers.

On the site, a small local script (``docs/_static/netlab-inspector.js``) lets a click on an
arrow or on a row's number, or Enter on it, open that segment's entry. Each arrow and each
row number is a link to its entry (``#netlab-pkt-…``), so without the script a browser still
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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from scapy.fields import FlagsField
from scapy.layers.l2 import Ether
from scapy.packet import NoPayload, Packet, Padding, Raw

from netlab.analysis.dissect import Segment, option_text
from netlab.i18n import ntr, tr
from netlab.views.message import HexDump

if TYPE_CHECKING:
    from netlab.analysis.trace import Trace

__all__ = ["Inspector", "layers", "hexdump", "MAX_BYTES"]

MAX_BYTES = 256
"""Bytes of a frame shown in its hex dump: every header and the start of the payload.

The whole frame is in the page's pcap download; a page of bulk transfers would otherwise
carry every byte twice.
"""

_ids = itertools.count(1)
_PORTS = {"sport", "dport"}  # scapy shows well-known port names (8080 → http_alt): keep numbers

Field = tuple[str, str]


def layers(frame: bytes, segment: Segment | None = None) -> list[tuple[str, list[Field]]]:
    """The frame's layers as scapy dissects them: ``[(layer name, [(field, value), ...]), ...]``.

    Args:
        frame: a whole Ethernet frame.
        segment: netlab's record of the same segment, used only to name the TCP flags and
            options the way the rest of netlab (and Wireshark) prints them.
    """
    out: list[tuple[str, list[Field]]] = []
    layer: Packet = Ether(frame)
    while not isinstance(layer, NoPayload):
        if isinstance(layer, (Raw, Padding)):
            label = tr("payload") if isinstance(layer, Raw) else tr("padding")
            size = ntr("{n} byte", "{n} bytes", len(bytes(layer))).format(n=len(bytes(layer)))
            out.append((label, [(tr("length"), size)]))
        else:
            out.append((str(layer.name), _fields(layer, segment)))
        layer = layer.payload
    return out


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

    def target(self, seg: Segment) -> str:
        """The id of ``seg``'s entry (unique on the page): what its arrow or row links to."""
        return f"netlab-pkt-{self.uid}-{seg.number}"

    def summary(self, seg: Segment) -> str:
        """One line that names the segment: number, direction, flags, relative numbers."""
        conn = self.trace.connection_of(seg)
        rel_ack = conn.relative_ack(seg)
        text = (f"#{seg.number} {self.trace.name(seg.src)}:{seg.sport} → "
                f"{self.trace.name(seg.dst)}:{seg.dport} [{seg.flags_text}] "
                f"seq={conn.relative_seq(seg)}")
        if rel_ack is not None:
            text += f" ack={rel_ack}"
        text += f" len={seg.length}"
        note = self.notes.get(seg.number)
        return f"{text} — {note}" if note else text

    def _entry(self, seg: Segment) -> str:
        rows = []
        for name, fields in layers(seg.frame, seg):
            rows.append(f'<tr><th scope="rowgroup" colspan="2">{html.escape(name)}</th></tr>')
            rows += [f'<tr><th scope="row">{html.escape(k)}</th><td>{html.escape(v)}</td></tr>'
                     for k, v in fields]
        caption = tr("{n} bytes captured").format(n=len(seg.frame))
        decoded = tr("Decoded headers")
        return (
            f'<details class="netlab-packet" data-segment="{seg.number}">'
            f"<summary>{html.escape(self.summary(seg))}</summary>"
            f'<div class="netlab-packet-body" id="{self.target(seg)}">'
            f'<table class="netlab-fields"><caption>{html.escape(decoded)}'
            f'</caption><tbody>{"".join(rows)}</tbody></table>'
            f'<pre class="netlab-bytes" aria-label="{html.escape(caption)}">'
            f"{html.escape(hexdump(seg.frame))}</pre></div></details>"
        )

    def html(self) -> str:
        """Every segment's entry, inside one ``<details>`` that is closed until opened."""
        title = tr("Packet inspector: {n} segments, decoded headers and bytes").format(
            n=len(self.segments))
        return (
            f'<details class="netlab-inspector" data-segments="{len(self.segments)}">'
            f"<summary>{html.escape(title)}</summary>"
            f'{"".join(self._entry(s) for s in self.segments)}</details>'
        )
