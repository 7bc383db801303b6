"""netlab.analysis.payload and the inspector rows built on it: what segments carry above TCP,
each field at its bytes, with tshark's dissectors (PDML: each field's position and size in
the frame) as the oracle on committed captures."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import FIXTURES, handshake_in_memory

from netlab.analysis.payload import carried, tls_parts
from netlab.analysis.trace import Trace
from netlab.proto.tls import Authority, certificate_info, client_context, server_context
from netlab.views.inspector import Inspector

TLS_PCAP = FIXTURES / "https" / "request.pcap"
HTTP_PCAP = FIXTURES / "http-pipelined-client.pcap"

Spot = tuple[int, int]  # (position in the frame, size)


def pdml(tshark: str, pcap: Path) -> list[dict[str, list[tuple[Spot, str]]]]:
    """Per frame, every field tshark decoded: name → [((pos, size), shown value)]."""
    xml = subprocess.run([tshark, "-n", "-r", str(pcap), "-o", "tls.keylog_file:", "-T", "pdml"],
                         capture_output=True, timeout=60, check=True).stdout
    out = []
    for packet in ET.fromstring(xml).iter("packet"):
        fields: dict[str, list[tuple[Spot, str]]] = {}
        for f in packet.iter("field"):
            if f.get("pos") is not None and f.get("size") is not None:
                fields.setdefault(f.get("name", ""), []).append(
                    ((int(f.get("pos", 0)), int(f.get("size", 0))), f.get("show", "")))
        out.append(fields)
    return out


def ours(trace: Trace) -> list[dict[str, list[tuple[Spot, str]]]]:
    """Per segment (in capture order), our fields: ``row/field`` → [((start, size), text)]."""
    inspector = Inspector(trace)
    out = []
    for seg in trace.segments:
        fields: dict[str, list[tuple[Spot, str]]] = {}
        for row, cells in inspector.carried(seg):
            for text, span in cells:
                name, _, value = text.partition(": ")
                if span is not None:
                    fields.setdefault(f"{row}/{name}", []).append(
                        ((span[0], span[1] - span[0]), value))
        out.append(fields)
    return out


def _dumped(inspector: Inspector) -> bytes:
    """The bytes the hex dump of an inspector's (first) entry shows."""
    dump = inspector.html().split('class="netlab-bytes"')[1].split("</pre>")[0]
    lines = [line for line in dump.split(">", 1)[1].splitlines() if line and "…" not in line]
    return b"".join(bytes.fromhex(line) for line in lines)


def starts(found: dict[str, list[tuple[Spot, str]]], name: str) -> list[int]:
    return [pos for (pos, _), _ in found.get(name, [])]


def test_tls_fields_sit_where_tshark_finds_them(tshark: str) -> None:
    trace = Trace.from_pcaps({"client": TLS_PCAP}, {})
    theirs, mine = pdml(tshark, TLS_PCAP), ours(trace)
    assert len(theirs) == len(mine)  # every frame of the fixture is a TCP segment
    hellos = 0
    for t, m in zip(theirs, mine, strict=True):
        # every record header tshark saw starts in this frame, we put there too
        # (a TLS 1.3 record's type on the wire is tshark's opaque_type, RFC 8446 §5.2)
        assert sorted(starts(t, "tls.record.content_type") + starts(t, "tls.record.opaque_type")
                      ) == starts(m, "TLS record/type")
        for kind in ("ClientHello", "ServerHello"):
            row = f"TLS {kind}"
            if f"{row}/random" not in m:
                continue
            hellos += 1
            assert t["tls.handshake.random"][0][0] == m[f"{row}/random"][0][0]
            assert t["tls.handshake.random"][0][1].replace(":", "") == m[f"{row}/random"][0][1]
            (sid_pos, sid_size), _ = t["tls.handshake.session_id"][0]
            session = "legacy_session_id" + ("_echo" if kind == "ServerHello" else "")
            assert m[f"{row}/{session}"][0][0] == (sid_pos - 1, sid_size + 1)  # with its length
            # each extension, in order, starts where tshark reads its type
            ext_rows = [n for n in m if n.startswith(f"{row}/") and n.split("/")[1] not in {
                "msg_type", "length", "legacy_version", "random", session, "cipher_suites",
                "cipher_suite", "legacy_compression_methods", "legacy_compression_method"}]
            assert sorted(p for n in ext_rows for p in starts(m, n)) == starts(
                t, "tls.handshake.extension.type")
            suites = [s for _, s in t.get("tls.handshake.ciphersuite", [])]
            if kind == "ClientHello":
                assert len(m[f"{row}/cipher_suites"][0][1].split(", ")) == len(suites)
                assert m[f"{row}/server_name"][0][1] == t[
                    "tls.handshake.extensions_server_name"][0][1]
            else:
                assert m[f"{row}/cipher_suite"][0][0][0] == t[
                    "tls.handshake.ciphersuite"][0][0][0]
            groups = [s for _, s in t.get("tls.handshake.extensions_key_share_group", [])]
            assert len(groups) == len(m[f"{row}/key_share"][0][1].split(", "))
    assert hellos == 2


def test_http_fields_sit_where_tshark_finds_them(tshark: str) -> None:
    names = json.loads((FIXTURES / "http.json").read_text())["names"]
    trace = Trace.from_pcaps({"client": HTTP_PCAP}, names)
    theirs, mine = pdml(tshark, HTTP_PCAP), ours(trace)
    methods = codes = 0
    for t, m in zip(theirs, mine, strict=True):
        assert starts(t, "http.request.method") == starts(m, "HTTP request/method")
        assert starts(t, "http.request.uri") == starts(m, "HTTP request/request-target")
        assert [v for _, v in t.get("http.request.uri", [])] == [
            v for _, v in m.get("HTTP request/request-target", [])]
        assert starts(t, "http.response.code") == starts(m, "HTTP response/status-code")
        # a header line: tshark's field includes the CRLF, ours does not
        for name, field in (("http.host", "HTTP request/host"),
                            ("http.content_length_header", "HTTP response/content-length")):
            assert [(p, s - 2) for (p, s), _ in t.get(name, [])] == [
                spot for spot, _ in m.get(field, [])]
        methods += len(starts(m, "HTTP request/method"))
        codes += len(starts(m, "HTTP response/status-code"))
    assert (methods, codes) == (3, 3)


def test_a_tls12_certificate_message_names_its_chain() -> None:
    """TLS 1.2 sends the server's chain in clear (RFC 5246 §7.4.2): the Certificate message is
    decoded, leaf first, and read the same as cryptography reads the certificates."""
    authority = Authority()
    leaf = authority.issue("server.netlab.test")
    client = client_context(authority, version="1.2")
    server = server_context(leaf, versions=("1.2",))
    wire = bytearray()
    handshake_in_memory(client, server, sent=wire)
    sent = bytes(wire)
    found = {p.name: p for p in tls_parts(sent)}
    certs = [f for f in found["TLS Certificate"].fields if f.name == "certificate"]
    chain = [certificate_info(leaf.cert_chain_pems[0].bytes())]
    assert len(certs) == len(leaf.cert_chain_pems) >= 1
    assert certs[0].text == f"{chain[0].subject}, issued by {chain[0].issuer}"
    start, end = certs[0].span
    assert certificate_info(sent[start + 3:end]).der == chain[0].der  # its bytes: the DER
    assert "TLS ServerKeyExchange" in found and "TLS ServerHelloDone" in found


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(0, 5))
def test_any_bytes_decode_without_an_error(data: bytes, cut: int) -> None:
    """A capture holds what a peer sent: a stream that starts like TLS and then is anything
    decodes as far as it parses, and every span stays inside the stream."""
    for stream in (b"\x16\x03\x01" + data, b"\x16\x03\x03\x02\x00\x01\x00\x01\xfc\x03\x03" + data,
                   data[cut:]):
        for part in tls_parts(stream):
            for f in part.fields:
                assert 0 <= f.span[0] <= f.span[1] <= len(stream)


@pytest.mark.parametrize("pcap", [TLS_PCAP, HTTP_PCAP])
def test_every_segment_with_data_is_decoded(pcap: Path) -> None:
    trace = Trace.from_pcaps({"client": pcap}, {})
    inspector = Inspector(trace)
    for conn in trace.connections():
        decoded = carried(conn)
        assert decoded[True] and decoded[False]
    assert all(inspector.carried(s) for s in trace.segments if s.length)


def test_the_dump_reaches_every_decoded_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the site a dump stops after 256 bytes, but not before the last field decoded above
    TCP: the ClientHello's key_share (from byte 290) has its bytes on the page."""
    monkeypatch.setenv("NETLAB_DOCS_LANG", "en")
    trace = Trace.from_pcaps({"client": TLS_PCAP}, {})
    hello = next(s for s in trace.segments if s.payload[:1] == b"\x16" and s.payload[5] == 1)
    inspector = Inspector(trace, [hello.number])
    (cells,) = [c for row, c in inspector.carried(hello) if row == "TLS ClientHello"]
    key_share = next(r for t, r in cells if t.startswith("key_share: "))
    assert key_share is not None and key_share[1] > 256
    assert len(_dumped(inspector)) >= key_share[1]


@pytest.mark.parametrize(("pcap", "opaque"), [
    (TLS_PCAP, {"encrypted_record", "message-body"}),  # a plain HTTP request, then HTTPS
    (HTTP_PCAP, {"message-body"})])
def test_only_bodies_and_ciphertext_are_opaque(pcap: Path, opaque: set[str]) -> None:
    """A field decoded as a size says so; every other field is decoded byte by byte."""
    trace = Trace.from_pcaps({"client": pcap}, {})
    fields = [f for conn in trace.connections() for parts in carried(conn).values()
              for part in parts for f in part.fields]
    assert {f.name for f in fields if f.opaque} == opaque
    assert not any(f.name in opaque for f in fields if not f.opaque)


def test_ciphertext_does_not_lengthen_the_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    """A frame whose bytes past the 256th are ciphertext only stops its dump at 256."""
    from netlab.views.inspector import MAX_BYTES

    monkeypatch.setenv("NETLAB_DOCS_LANG", "en")
    trace = Trace.from_pcaps({"client": TLS_PCAP}, {})
    inspector = Inspector(trace)
    big = [s for s in trace.segments if len(s.frame) > MAX_BYTES + 64
           and all(t.startswith(("type: ", "legacy_record_version: ", "length: ",
                                 "encrypted_record: "))
                   for _, cells in inspector.carried(s) for t, _ in cells)]
    assert big
    for seg in big:
        assert len(_dumped(Inspector(trace, [seg.number]))) == MAX_BYTES
