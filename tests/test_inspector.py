"""netlab.views.inspector: each segment's decoded headers and bytes, linked from the views.

The decoded fields are checked against the raw bytes of the frame, read here with struct at
the offsets RFC 791 and RFC 9293 give, not with scapy: an independent reading of the same
bytes.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest
from support import fixture_trace

from netlab.i18n import tr
from netlab.views.inspector import MAX_BYTES, Inspector, _labelled, hexdump, layers
from netlab.views.ladder import Ladder
from netlab.views.table import Table

SVG = "{http://www.w3.org/2000/svg}"


def _entries(root: ET.Element) -> dict[str, ET.Element]:
    """The inspector entries in a rendered view, by the id their links point at."""
    out = {}
    for d in root.iter("details"):
        if d.get("class") == "netlab-packet":
            body = d.find("div")
            assert body is not None and body.get("id")
            out[str(body.get("id"))] = d
    return out


def test_fields_match_the_raw_bytes() -> None:
    for seg in fixture_trace().segments:
        frame = seg.frame
        ihl = (frame[14] & 0x0F) * 4
        tcp = 14 + ihl
        ttl, ip_id = frame[22], struct.unpack("!H", frame[18:20])[0]
        sport, dport, seq, ack = struct.unpack("!HHII", frame[tcp:tcp + 12])
        checksum = struct.unpack("!H", frame[tcp + 16:tcp + 18])[0]
        decoded = dict(layers(frame, seg))
        ip, tcp_fields = dict(decoded["IP"]), dict(decoded["TCP"])
        assert ip["ttl"] == str(ttl) and ip["id"] == str(ip_id)
        assert (tcp_fields["sport"], tcp_fields["dport"]) == (str(sport), str(dport))
        assert (tcp_fields["seq"], tcp_fields["ack"]) == (str(seq), str(ack))
        assert tcp_fields["chksum"] == f"0x{checksum:x}"
        assert tcp_fields["flags"].endswith(f"({seg.flags_text})")
        if seg.length:
            assert dict(decoded["payload"])["length"] == f"{seg.length} bytes"


def test_hexdump_shows_every_byte_up_to_the_limit() -> None:
    data = bytes(range(256)) * 2
    lines = hexdump(data).splitlines()
    assert len(lines) == MAX_BYTES // 16 + 1 and "256" in lines[-1]
    shown = bytes.fromhex("".join(line[6:53].replace(" ", "") for line in lines[:-1]))
    assert shown == data[:MAX_BYTES]
    assert hexdump(b"ab") == "0000  61 62" + " " * 42 + "  ab"


def test_every_arrow_links_to_its_segment_entry() -> None:
    trace = fixture_trace()
    root = ET.fromstring(Ladder(trace, title="t")._repr_html_())
    svg = root.find(f"figure/div/{SVG}svg")
    assert svg is not None and svg.get("data-segments") == str(len(trace.segments))
    assert svg.get("role") == "group"  # its arrows are links: not a flat image
    links = [a for a in svg.iter(f"{SVG}a") if a.get("class") == "netlab-inspect"]
    entries = _entries(root)
    assert len(links) == len(entries) == len(trace.segments)
    for link, seg in zip(links, trace.segments, strict=True):
        g = link.find(f"{SVG}g")
        assert g is not None and g.get("data-segment") == str(seg.number)
        target = str(link.get("href")).removeprefix("#")
        assert entries[target].get("data-segment") == str(seg.number)
        assert str(link.get("aria-label")).startswith(f"#{seg.number} ")
        # the arrow's words are outside the link (its name holds no visible text to match),
        # in a label that points at the same entry
        assert not list(link.iter(f"{SVG}text"))
        label = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "netlab-label"
                     and g.get("data-segment") == str(seg.number))
        assert label.get("data-for") == target
    inspector = root.find("details")
    assert inspector is not None and inspector.get("data-segments") == str(len(trace.segments))
    assert inspector.get("open") is None  # closed until the reader opens it


def test_every_row_number_links_to_its_segment_entry() -> None:
    trace = fixture_trace()
    root = ET.fromstring(Table(trace)._repr_html_())
    table = root.find("table")
    assert table is not None and table.get("data-segments") == str(len(trace.segments))
    entries = _entries(root)
    for row, seg in zip(table.iterfind("tbody/tr"), trace.segments, strict=True):
        link = row[0].find("a")
        assert link is not None and link.text == str(seg.number)
        target = str(link.get("href")).removeprefix("#")
        assert entries[target].get("data-segment") == str(seg.number)


def test_ids_are_unique_across_views_of_one_page() -> None:
    trace = fixture_trace()
    ids = []
    for html in (Table(trace)._repr_html_(), Ladder(trace)._repr_html_(),
                 Table(trace)._repr_html_()):
        ids += list(_entries(ET.fromstring(html)))
    assert len(ids) == len(set(ids)) == 3 * len(trace.segments)


def test_a_subset_of_segments() -> None:
    trace = fixture_trace()
    inspector = Inspector(trace, [1, 3])
    assert [s.number for s in inspector.segments] == [1, 3]
    assert ET.fromstring(inspector.html()).get("data-segments") == "2"


def test_a_ladders_notes_name_its_segments_in_the_inspector() -> None:
    trace = fixture_trace()
    first = trace.segments[0]
    root = ET.fromstring(Ladder(trace, notes={first.number: "GET /"})._repr_html_())
    summaries = [d.findtext("summary") or "" for d in root.iter("details")
                 if d.get("class") == "netlab-packet"]
    assert summaries[0].endswith(" — GET /") and not summaries[1].endswith("GET /")


def test_one_entry_per_segment_on_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a page of the site, a table and a ladder of the same capture (and a table of part of
    it) share one entry per segment: the first view carries them, later ones link to them."""
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    monkeypatch.setattr("netlab.views.inspector._on_page", {})
    trace = fixture_trace()
    table = ET.fromstring(Table(trace)._repr_html_())
    ladder = ET.fromstring(f"<div>{Ladder(trace)._repr_html_()}</div>")
    part = trace.only(trace.connections()[0])
    again = ET.fromstring(f"<div>{Table(part)._repr_html_()}</div>")
    entries = _entries(table)
    assert len(entries) == len(trace.segments)
    assert not _entries(ladder) and ladder.find(".//details") is None  # no inspector at all
    assert not _entries(again)
    links = [a.get("href") for view in (table, ladder, again) for a in view.iter()
             if a.get("class") == "netlab-inspect"]
    assert len(links) == 2 * len(trace.segments) + len(part.segments)
    assert {str(h).removeprefix("#") for h in links} == set(entries)  # every link finds its entry


def test_views_elsewhere_keep_their_own_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside the site (a notebook may run its cells again, in any order), no view relies on
    another's entries."""
    monkeypatch.setattr("netlab.views.inspector._on_page", {})
    trace = fixture_trace()
    for view in (Table(trace), Ladder(trace), Table(trace)):
        root = ET.fromstring(f"<div>{view._repr_html_()}</div>")
        assert len(_entries(root)) == len(trace.segments)


def test_what_tcp_carries_is_shown_the_same_whatever_ran_before() -> None:
    """A TLS record on port 443 is a payload of its length, before and after scapy's TLS module
    is imported (an experiment that decrypts TLS imports it; a replayed page runs none)."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    records = bytes.fromhex("140303000101") + bytes.fromhex("1703030005") + b"hello"  # CCS, data
    frame = bytes(Ether() / IP(src="192.0.2.1", dst="192.0.2.2")
                  / TCP(sport=40443, dport=443, flags="PA") / records)
    before = layers(frame)
    import scapy.layers.tls.record  # noqa: F401  binds TLS to TCP port 443 from now on

    assert layers(frame) == before
    assert [name for name, _ in before] == ["Ethernet", "IP", "TCP", "payload"]
    assert before[-1][1] == [("length", "16 bytes")]


def test_translated_field_names_take_the_chinese_colon(monkeypatch: pytest.MonkeyPatch) -> None:
    """A field netlab names in Chinese reads 长度：3 字节; the protocol's own field names keep
    their notation (sport: 40000)."""
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    assert _labelled(tr("length"), "3 字节") == "长度：3 字节"
    assert _labelled("sport", "40000") == "sport: 40000"
    monkeypatch.setenv("NETLAB_DOCS_LANG", "en")
    assert _labelled(tr("length"), "3 bytes") == "length: 3 bytes"
