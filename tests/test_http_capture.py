"""netlab.analysis.http_capture on a committed pcap: HTTP decoded from captured bytes, with tshark
as the oracle, and the reassembly rules (retransmissions, gaps) on altered copies."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from support import FIXTURES

from netlab.analysis.http_capture import exchanges, labels, stream
from netlab.analysis.trace import Connection, Trace

PCAP = FIXTURES / "http-pipelined-client.pcap"


def fixture() -> Trace:
    names = json.loads((FIXTURES / "http.json").read_text())["names"]
    return Trace.from_pcaps({"client": PCAP}, names)


def test_three_pipelined_exchanges() -> None:
    (conn,) = fixture().connections()
    got = exchanges(conn)
    assert [(e.request.method, e.request.target) for e in got] == [
        ("GET", "/item/1"), ("GET", "/item/2"), ("GET", "/item/3")]
    assert [e.response.body for e in got if e.response] == [b"item 1\n", b"item 2\n", b"item 3\n"]
    # Each request was its own segment, sent before any response came back.
    req_segments = [e.request_message.segments for e in got]
    resp_segments = [e.response_message.segments for e in got if e.response_message]
    assert all(len(s) == 1 for s in req_segments + resp_segments)
    assert max(s[0] for s in req_segments) < min(s[0] for s in resp_segments)
    # The raw bytes of the messages are the captured bytes, back to back.
    up, _ = stream(conn, from_client=True)
    assert up == b"".join(e.request_message.raw for e in got)


def test_labels_name_each_message() -> None:
    (conn,) = fixture().connections()
    names = labels(conn)
    assert sorted(names.values()) == ["200 OK"] * 3 + ["GET /item/1", "GET /item/2",
                                                        "GET /item/3"]


def _with(conn: Connection, segments: list) -> Connection:  # type: ignore[type-arg]
    return Connection(tuple(segments), conn.client, conn.server)


def test_a_retransmitted_segment_counts_once() -> None:
    (conn,) = fixture().connections()
    request = next(s for s in conn.segments if s.length and conn.is_from_client(s))
    again = replace(request, number=999)
    doubled = _with(conn, [*conn.segments, again])
    assert stream(doubled, from_client=True)[0] == stream(conn, from_client=True)[0]
    assert len(exchanges(doubled)) == 3


def test_a_gap_stops_the_stream() -> None:
    """Bytes after a segment the capture missed cannot be placed: the stream ends there."""
    (conn,) = fixture().connections()
    data = [s for s in conn.segments if s.length and conn.is_from_client(s)]
    missing = _with(conn, [s for s in conn.segments if s is not data[1]])
    up, _ = stream(missing, from_client=True)
    assert up == data[0].payload
    got = exchanges(missing)
    assert [e.request.target for e in got] == ["/item/1"]


@pytest.mark.oracle
def test_tshark_decodes_the_same_messages(tshark: str) -> None:
    """tshark's HTTP dissector reads the same requests and responses from the same pcap."""
    done = subprocess.run(
        [tshark, "-n", "-r", str(PCAP), "-Y", "http", "-T", "fields", "-E", "separator=\t",
         "-e", "frame.number", "-e", "http.request.method", "-e", "http.request.uri",
         "-e", "http.response.code", "-e", "http.content_length"],
        capture_output=True, text=True, timeout=60, check=True)
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    (conn,) = fixture().connections()
    ours = []
    for e in exchanges(conn):
        ours.append([str(e.request_message.segments[0]), e.request.method, e.request.target,
                     "", ""])
    for e in exchanges(conn):
        assert e.response and e.response_message
        ours.append([str(e.response_message.segments[0]), "", "", str(e.response.status),
                     e.response.header("content-length") or ""])
    assert sorted(rows, key=lambda r: int(r[0])) == sorted(ours, key=lambda r: int(r[0]))


def test_fixture_is_what_the_recorder_wrote() -> None:
    """A guard for the tests above: the committed pcap is the three-request pipelined run."""
    assert Path(PCAP).stat().st_size > 0
    trace = fixture()
    assert sum(s.is_syn for s in trace.segments) == 1
