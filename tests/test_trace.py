"""netlab.analysis.trace: merging captures, connections, relative numbering (checked against
tshark)."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from support import (
    LiveRun,
    crafted_frames,
    epoch_ns,
    fixture_frames,
    fixture_names,
    fixture_pcap,
    fixture_trace,
    tshark_rows,
)

from netlab.analysis.trace import Trace
from netlab.kernel.capture import read_pcap
from netlab.views.download import pcap_download
from netlab.views.table import Table


def test_merge_sees_each_segment_once() -> None:
    client, server = fixture_frames("client"), fixture_frames("server")
    trace = fixture_trace()
    # The wire forwards frames unchanged, so distinct frame bytes = distinct segments.
    assert len(trace) == len({f.data for f in client} | {f.data for f in server}) == 7
    assert [s.number for s in trace.segments] == list(range(1, 8))
    assert len({s.frame for s in trace.segments}) == 7


def test_merge_pairs_departure_and_arrival() -> None:
    times = {h: {f.data: f.timestamp_ns for f in fixture_frames(h)} for h in ("client", "server")}
    names = fixture_names()
    trace = fixture_trace()
    for seg in trace.segments:
        sender, receiver = names[seg.src], names[seg.dst]
        assert seg.sent_ns == times[sender][seg.frame]
        assert seg.received_ns == times[receiver].get(seg.frame)
        if seg.received_ns is not None:
            assert seg.sent_ns < seg.received_ns
    # The wire cut the third connection: its two SYNs left the client and never arrived.
    assert [s.received_ns is None for s in trace.segments] == [False] * 5 + [True] * 2


def test_merge_orders_by_first_sight() -> None:
    trace = fixture_trace()
    times = [s.time_ns for s in trace.segments]
    assert times == sorted(times)
    assert trace.start_ns == times[0] == fixture_frames("client")[0].timestamp_ns


def test_one_capture_alone() -> None:
    trace = fixture_trace("server")
    assert len(trace) == 5
    assert all(s.received_ns is None for s in trace.segments if s.src == "192.0.2.2")
    assert all(s.sent_ns is None for s in trace.segments if s.src == "192.0.2.1")
    assert list(trace.frames) == ["server"]


def test_retransmission_is_not_merged_with_its_original() -> None:
    """Two identical departures, one arrival: the arrival pairs with the later departure."""
    syn = fixture_frames("client")[5]
    t = syn.timestamp_ns
    client = [syn, replace(syn, timestamp_ns=t + 1_000_000_000)]
    server = [replace(syn, host="server", outgoing=False, timestamp_ns=t + 1_000_050_000)]
    trace = Trace.from_frames([client, server], fixture_names())
    assert [(s.sent_ns, s.received_ns) for s in trace.segments] == [
        (t, None), (t + 1_000_000_000, t + 1_000_050_000)]


def test_frames_are_kept_per_host() -> None:
    trace = fixture_trace()
    assert {h: len(fs) for h, fs in trace.frames.items()} == {"client": 7, "server": 5}
    assert Trace.from_frames([[], fixture_frames("server")]).frames.keys() == {"server"}


def test_names() -> None:
    trace = fixture_trace()
    assert trace.name("192.0.2.1") == "client"
    assert trace.name("198.51.100.7") == "198.51.100.7"


def test_connections() -> None:
    trace = fixture_trace()
    conns = trace.connections()
    assert [(c.client, c.server) for c in conns] == [
        (("192.0.2.1", 40000), ("192.0.2.2", 8080)),
        (("192.0.2.1", 40001), ("192.0.2.2", 8081)),
        (("192.0.2.1", 40002), ("192.0.2.2", 8080)),
    ]
    assert [len(c.segments) for c in conns] == [3, 2, 2]
    assert trace.connection(port=40001) is not None
    assert trace.connection(port=40001).segments == conns[1].segments
    with pytest.raises(LookupError, match="2 connections match port=8080"):
        trace.connection(port=8080)
    with pytest.raises(LookupError, match="3 connections"):
        trace.connection()
    with pytest.raises(LookupError, match="0 connections"):
        trace.connection(port=9)


def test_handshake_and_relative_numbers() -> None:
    conn = fixture_trace().connection(port=40000)
    syn, synack, ack = conn.handshake()
    assert (syn.flags_text, synack.flags_text, ack.flags_text) == ("SYN", "SYN, ACK", "ACK")
    assert [s.number for s in (syn, synack, ack)] == [1, 2, 3]
    assert conn.syn() is syn
    assert conn.isn == {("192.0.2.1", 40000): syn.seq, ("192.0.2.2", 8080): synack.seq}
    assert (conn.relative_seq(syn), conn.relative_ack(syn)) == (0, None)
    assert (conn.relative_seq(synack), conn.relative_ack(synack)) == (0, 1)
    assert (conn.relative_seq(ack), conn.relative_ack(ack)) == (1, 1)
    assert conn.is_from_client(syn) and not conn.is_from_client(synack)
    # and in absolute numbers: the SYN and the SYN-ACK each consume one sequence number
    assert synack.ack == syn.seq + 1 and ack.seq == syn.seq + 1 and ack.ack == synack.seq + 1


def test_refused_syn_is_answered_by_rst_acking_isn_plus_one() -> None:
    conn = fixture_trace().connection(port=40001)
    syn, rst = conn.segments
    assert conn.syn() is syn
    assert rst.flags_text == "RST, ACK"
    assert rst.ack == (syn.seq + 1) % 2**32
    assert conn.relative_ack(rst) == 1
    # Like Wireshark: a side whose SYN was never seen starts at relative seq 1.
    assert rst.seq == 0 and conn.relative_seq(rst) == 1
    with pytest.raises(LookupError, match="SYN and SYN-ACK"):
        conn.handshake()


def test_unanswered_syn_is_retransmitted_with_the_same_seq() -> None:
    conn = fixture_trace().connection(port=40002)
    first, again = conn.segments
    assert first.has("SYN") and again.has("SYN") and not again.has("ACK")
    assert first.seq == again.seq
    assert conn.relative_seq(first) == conn.relative_seq(again) == 0
    assert first.option("TS") != again.option("TS")  # a new segment, sent later
    assert 0.9e9 < again.time_ns - first.time_ns < 1.5e9  # RFC 6298 §2.1: initial RTO 1 s


def test_handshake_needs_the_final_ack() -> None:
    conn = fixture_trace("server").connection(port=40000)
    trace = Trace.from_frames([fixture_frames("client")[:2]], fixture_names())
    with pytest.raises(LookupError, match="never acknowledged"):
        trace.connection(port=40000).handshake()
    assert len(conn.handshake()) == 3
    no_syn = Trace.from_frames([fixture_frames("client")[2:3]], fixture_names())
    with pytest.raises(LookupError, match="no SYN"):
        no_syn.connection().syn()


def test_relative_numbers_wrap_modulo_2_32() -> None:
    trace = Trace.from_frames([crafted_frames()[1:4]])
    conn = trace.connection(port=443)
    syn, data, sack = conn.segments
    assert syn.seq == 2**32 - 3 and data.seq == 2**32 - 2
    assert conn.relative_seq(data) == 1
    assert conn.relative_ack(sack) == 1
    # The server's SYN was not captured: the client's ack of it fixes the server's base
    # (ack 7001 → relative 1), so the server's first segment has relative seq 1 too.
    assert conn.relative_ack(data) == 1
    assert conn.relative_seq(sack) == 1


def test_without_syn_the_first_segment_picks_the_client() -> None:
    trace = Trace.from_frames([[crafted_frames()[5]]])
    conn = trace.connection()
    assert conn.client == ("192.0.2.1", 40001)
    assert conn.relative_seq(conn.segments[0]) == 1


def test_only_keeps_one_connection() -> None:
    trace = fixture_trace()
    one = trace.only(trace.connection(port=40001))
    assert [s.number for s in one.segments] == [4, 5]
    assert one.names == trace.names and one.frames == trace.frames
    assert len(one.connections()) == 1


def test_write_pcap_per_host(tmp_path: Path) -> None:
    trace = fixture_trace()
    for host in ("client", "server"):
        out = trace.write_pcap(tmp_path / f"{host}.pcap", host=host)
        assert out.read_bytes() == fixture_pcap(host).read_bytes()
    first = trace.write_pcap(tmp_path / "default.pcap")
    assert first.read_bytes() == fixture_pcap("client").read_bytes()
    nobody = trace.write_pcap(tmp_path / "nobody.pcap", host="router")
    assert read_pcap(nobody) == []


def test_pcap_download_carries_the_pcap() -> None:
    trace = fixture_trace()
    for host in ("client", "server"):
        download = pcap_download(trace, f"{host}.pcap", host=host)
        assert download.data == fixture_pcap(host).read_bytes()
        assert download.filename == f"{host}.pcap"
        assert download.mime == "application/vnd.tcpdump.pcap"
        assert download.summary == f"{len(trace.frames[host])} frames captured on {host}"
        link = ET.fromstring(download._repr_html_()).find("a")
        assert link is not None and link.get("download") == f"{host}.pcap"
        prefix = "data:application/vnd.tcpdump.pcap;base64,"
        href = link.get("href", "")
        assert href.startswith(prefix)
        assert base64.b64decode(href[len(prefix):]) == download.data
    assert pcap_download(trace, "x.pcap").data == fixture_pcap("client").read_bytes()


def test_a_trace_holds_data_and_does_not_draw_itself() -> None:
    """Views take a trace (netlab.views); the trace has no drawing of its own."""
    trace = fixture_trace()
    for name in ("table", "ladder", "pcap_download", "_repr_html_"):
        assert not hasattr(trace, name), name
    assert str(Table(trace)).splitlines()[0].startswith("#")


# ---------------------------------------------------------------------------------------
# Oracle: tshark's relative sequence numbers and its grouping into streams


def assert_relative_numbers_match_tshark(tshark: str, pcap: Path) -> int:
    """Compare relative seq/ack, scaled windows and connection grouping with tshark's."""
    rows = [r for r in tshark_rows(tshark, pcap) if r["tcp.flags"] != ""]
    trace = Trace.from_frames([read_pcap(pcap)])
    assert len(trace.segments) == len(rows)
    conns = trace.connections()
    streams: dict[str, int] = {}
    for row, seg in zip(rows, trace.segments, strict=True):
        where = f"frame {row['frame.number']} of {pcap.name}"
        conn = next(i for i, c in enumerate(conns) if seg in c.segments)
        assert streams.setdefault(row["tcp.stream"], conn) == conn, where
        rel_seq = conns[conn].relative_seq(seg)
        rel_ack = conns[conn].relative_ack(seg)
        assert rel_seq == int(row["tcp.seq"]), where
        if seg.has("ACK"):
            assert rel_ack == int(row["tcp.ack"]), where
        else:
            assert rel_ack is None, where
        # The window after scaling (RFC 7323 §2.2), tshark's "calculated window size". When
        # only one SYN was captured, tshark applies its shift anyway while RFC 7323 says
        # scaling is on only if both SYNs carried the option: netlab keeps the raw value.
        if conns[conn].window_shift or seg.has("SYN"):
            assert conns[conn].window(seg) == int(row["tcp.window_size"]), where
    assert len(streams) == len(conns)
    return len(rows)


@pytest.mark.oracle
@pytest.mark.parametrize("host", ["client", "server"])
def test_fixture_relative_numbers_match_tshark(tshark: str, host: str) -> None:
    assert assert_relative_numbers_match_tshark(tshark, fixture_pcap(host)) in (5, 7)


@pytest.mark.oracle
def test_crafted_relative_numbers_match_tshark(tshark: str, crafted_pcap: Path) -> None:
    assert assert_relative_numbers_match_tshark(tshark, crafted_pcap) == 5


@pytest.mark.oracle
@pytest.mark.live
@pytest.mark.parametrize("host", ["client", "server"])
def test_live_relative_numbers_match_tshark(tshark: str, handshake_run: LiveRun,
                                            host: str) -> None:
    assert assert_relative_numbers_match_tshark(tshark, handshake_run.pcaps[host]) in (5, 7)


@pytest.mark.oracle
def test_merged_times_match_tshark(tshark: str) -> None:
    """Each merged segment's two times are the two captures' timestamps, as tshark reads them."""
    seen = {h: {(r["ip.src"], r["tcp.srcport"], r["tcp.seq_raw"], r["tcp.options.timestamp.tsval"]):
                epoch_ns(r["frame.time_epoch"]) for r in tshark_rows(tshark, fixture_pcap(h))}
            for h in ("client", "server")}
    names = fixture_names()
    for seg in fixture_trace().segments:
        ts = seg.option("TS")
        key = (seg.src, str(seg.sport), str(seg.seq), str(ts[0]) if ts else "")
        assert seg.sent_ns == seen[names[seg.src]][key]
        assert seg.received_ns == seen[names[seg.dst]].get(key)



def test_from_pcaps_restores_direction_from_addresses() -> None:
    trace = fixture_trace()
    syn = trace.connection(port=40000).syn()
    # seen leaving the client and arriving at the server: both times known, in that order
    assert syn.sent_ns is not None and syn.received_ns is not None
    assert syn.sent_ns < syn.received_ns
    assert len(trace) == 7  # each segment once, though both pcaps hold most of them


def test_two_captures_of_one_host_are_refused() -> None:
    frames = fixture_frames("client")
    with pytest.raises(ValueError, match="two captures from host 'client'"):
        Trace.from_frames([frames, frames], fixture_names())


def test_flights_count_the_round_trips_the_client_waited_for() -> None:
    """Pipelined HTTP: the SYN is one flight, the three requests (sent before any response)
    the second; up to the SYN-ACK, one; a server segment skipped does not end a flight."""
    import json

    from support import FIXTURES

    names = json.loads((FIXTURES / "http.json").read_text())["names"]
    (conn,) = Trace.from_pcaps({"client": FIXTURES / "http-pipelined-client.pcap"},
                               names).connections()
    synack = next(s for s in conn.segments if s.has("SYN", "ACK"))
    assert conn.flights() == 2
    assert conn.flights(until_ns=synack.time_ns) == 1
    assert conn.flights(skip={synack.number}) == 1
