"""netlab.analysis.dissect: frames → segments, checked on committed pcaps, hand-made frames
and tshark."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from support import LiveRun, crafted_frames, fixture_frames, fixture_pcap, opt_int, tshark_rows

from netlab.analysis.dissect import FLAG_BITS, Observation, Segment, dissect, option_text
from netlab.kernel.capture import Frame, read_pcap

# The client's capture of the handshake fixture, as tshark dissected it when it was recorded
# (tshark -r tests/fixtures/handshake-client.pcap -T fields -e tcp.srcport -e tcp.flags
#  -e tcp.seq_raw -e tcp.ack_raw -e tcp.len -e tcp.window_size_value ...).
# (sport, flags, seq, ack, len, window, MSS, WS, SACK_PERM, TS)
CLIENT_PCAP = [
    (40000, 0x02, 2792422941, 0, 0, 64240, 1460, 10, True, (1363890214, 0)),
    (8080, 0x12, 1800405286, 2792422942, 0, 65160, 1460, 10, True, (809438224, 1363890214)),
    (40000, 0x10, 2792422942, 1800405287, 0, 63, None, None, None, (1363890232, 809438224)),
    (40001, 0x02, 2334799990, 0, 0, 64240, 1460, 10, True, (4094093658, 0)),
    (8081, 0x14, 0, 2334799991, 0, 0, None, None, None, None),
    (40002, 0x02, 2969263313, 0, 0, 64240, 1460, 10, True, (741210522, 0)),
    (40002, 0x02, 2969263313, 0, 0, 64240, 1460, 10, True, (741211536, 0)),
]


def _dissect(f: Frame) -> Observation:
    obs = dissect(f.data, timestamp_ns=f.timestamp_ns, outgoing=f.outgoing, host=f.host)
    assert obs is not None
    return obs


def _segment(obs: Observation) -> Segment:
    return Segment(number=1, src=obs.src, sport=obs.sport, dst=obs.dst, dport=obs.dport,
                   flags=obs.flags, seq=obs.seq, ack=obs.ack, window=obs.window,
                   options=obs.options, payload=obs.payload, sent_ns=obs.timestamp_ns,
                   received_ns=None, frame=obs.frame)


def test_fixture_fields_match_what_tshark_said_when_recorded() -> None:
    frames = fixture_frames("client")
    assert len(frames) == len(CLIENT_PCAP)
    for f, (sport, flags, seq, ack, length, window, mss, ws, sack, ts) in zip(
            frames, CLIENT_PCAP, strict=True):
        seg = _segment(_dissect(f))
        assert (seg.sport, seg.flags, seg.seq, seg.ack, seg.length, seg.window) == (
            sport, flags, seq, ack, length, window)
        assert seg.option("MSS") == mss
        assert seg.option("WS") == ws
        assert seg.option("SACK_PERM") == sack
        assert seg.option("TS") == ts


def test_fixture_addresses_and_direction() -> None:
    observations = [_dissect(f) for f in fixture_frames("client")]
    for obs in observations:
        assert {obs.src, obs.dst} == {"192.0.2.1", "192.0.2.2"}
        assert obs.outgoing == (obs.src == "192.0.2.1")  # the client capture sent it
        assert obs.host == "client"
    assert [o.dport for o in observations] == [8080, 40000, 8080, 8081, 40001, 8080, 8080]


def test_syn_options_keep_wire_order_and_padding() -> None:
    syn = _dissect(fixture_frames("client")[0])
    # Linux sends MSS, SACK_PERM, TS, NOP, WS (tshark: tcp.option_kind 2,4,8,1,3)
    assert [kind for kind, _ in syn.options] == ["MSS", "SACK_PERM", "TS", "NOP", "WS"]
    assert option_text(syn.options) == "MSS=1460 SACK_PERM TS=1363890214/0 WS=10"


def test_timestamps_echo_across_the_handshake() -> None:
    syn, synack, ack = (_segment(_dissect(f)) for f in fixture_frames("client")[:3])
    # RFC 7323 §3: TSecr echoes the TSval most recently received.
    assert synack.option("TS")[1] == syn.option("TS")[0]
    assert ack.option("TS")[1] == synack.option("TS")[0]


def test_flags() -> None:
    seg = _segment(_dissect(fixture_frames("client")[1]))
    assert seg.flag_names == ("SYN", "ACK")
    assert seg.flags_text == "SYN, ACK"
    assert seg.has("SYN") and seg.has("ACK") and seg.has("SYN", "ACK")
    assert not seg.has("RST") and not seg.has("SYN", "FIN")
    rst = _segment(_dissect(fixture_frames("client")[4]))
    assert rst.flags_text == "RST, ACK"
    # RFC 9293 §3.1: the control bits, lowest first (CWR ECE URG ACK PSH RST SYN FIN).
    assert [bit for _, bit in FLAG_BITS] == [1 << i for i in range(8)]
    every = replace(seg, flags=0xFF)
    assert every.flags_text == "FIN, SYN, RST, PSH, ACK, URG, ECE, CWR"


def test_frame_and_times_are_kept() -> None:
    f = fixture_frames("server")[0]
    obs = _dissect(f)
    assert obs.frame == f.data
    assert obs.timestamp_ns == f.timestamp_ns
    seg = _segment(obs)
    assert seg.time_ns == f.timestamp_ns


def test_padding_is_not_payload() -> None:
    # Ethernet pads short frames to 60 bytes; the IP total length says where TCP ends.
    rst = _dissect(crafted_frames()[0])
    assert len(rst.frame) == 60
    assert rst.payload == b""
    assert (rst.src, rst.dst, rst.flags, rst.ack) == ("192.0.2.2", "192.0.2.1", 0x14, 1001)
    one = _dissect(crafted_frames()[5])
    assert (len(one.frame), one.payload) == (60, b"!")


def test_ipv6() -> None:
    syn, data, sack, _ = (dissect(f.data, timestamp_ns=0, outgoing=False, host="")
                          for f in crafted_frames()[1:5])
    assert syn is not None and data is not None and sack is not None
    assert (syn.src, syn.dst, syn.sport, syn.dport) == ("2001:db8::1", "2001:db8::2", 40000, 443)
    assert option_text(syn.options) == "MSS=1440 SACK_PERM TS=11/0 WS=7"
    assert data.payload == b"hello"
    assert data.seq == 2**32 - 2
    assert dict(sack.options)["SACK"] == (100, 200, 300, 400)
    assert option_text(sack.options) == "SACK=100-200,300-400"


def test_not_tcp_is_none() -> None:
    assert dissect(crafted_frames()[4].data, timestamp_ns=0, outgoing=False, host="") is None
    arp = bytes.fromhex("ffffffffffff020000000001" "0806" "0001080006040001"
                        "020000000001c0000201" "000000000000c0000202")
    assert dissect(arp, timestamp_ns=0, outgoing=False, host="") is None


def test_same_segment_seen_twice_has_one_key() -> None:
    client = [_dissect(f) for f in fixture_frames("client")]
    server = [_dissect(f) for f in fixture_frames("server")]
    # The wire forwards frames unchanged: the first five are the same segments on both sides.
    assert [o.key() for o in client[:5]] == [o.key() for o in server]
    assert len({o.key() for o in client}) == len(client)


@pytest.mark.parametrize(("options", "text"), [
    ((), ""),
    ((("MSS", 1460),), "MSS=1460"),
    ((("NOP", None), ("NOP", None), ("TS", (5, 6)), ("EOL", None)), "TS=5/6"),
    ((("SACK", (1, 2, 3, 4, 5, 6)),), "SACK=1-2,3-4,5-6"),
    ((("SACK_PERM", None), ("WS", 0)), "SACK_PERM WS=0"),
    ((("MD5", b"x"),), "MD5=b'x'"),
])
def test_option_text(options: tuple[tuple[str, object], ...], text: str) -> None:
    assert option_text(options) == text


def test_option_lookup() -> None:
    seg = _segment(_dissect(fixture_frames("client")[0]))
    assert seg.option("MSS") == 1460
    assert seg.option("SACK_PERM") is True  # a flag-like option with no value
    assert seg.option("SACK") is None  # absent


# ---------------------------------------------------------------------------------------
# Oracle: tshark's dissection of the same bytes

_KINDS = {0: "EOL", 1: "NOP", 2: "MSS", 3: "WS", 4: "SACK_PERM", 5: "SACK", 8: "TS"}


def assert_decoding_matches_tshark(tshark: str, pcap: Path) -> int:
    """Compare netlab's dissection of every frame of ``pcap`` with tshark's; return the count."""
    rows = tshark_rows(tshark, pcap)
    frames = read_pcap(pcap)
    assert len(rows) == len(frames)
    compared = 0
    for row, frame in zip(rows, frames, strict=True):
        obs = dissect(frame.data, timestamp_ns=frame.timestamp_ns, outgoing=False, host="")
        if row["tcp.flags"] == "":
            assert obs is None, f"frame {row['frame.number']} is not TCP for tshark"
            continue
        assert obs is not None, f"frame {row['frame.number']} is TCP for tshark"
        where = f"frame {row['frame.number']} of {pcap.name}"
        seg = _segment(obs)
        assert (seg.src, seg.sport, seg.dst, seg.dport) == (
            row["ip.src"] or seg.src, int(row["tcp.srcport"]),
            row["ip.dst"] or seg.dst, int(row["tcp.dstport"])), where
        assert seg.flags == int(row["tcp.flags"], 16), where
        assert seg.seq == int(row["tcp.seq_raw"]), where
        assert seg.ack == int(row["tcp.ack_raw"]), where
        assert seg.length == int(row["tcp.len"]), where
        assert seg.window == int(row["tcp.window_size_value"]), where
        assert seg.option("MSS") == opt_int(row["tcp.options.mss_val"]), where
        assert seg.option("WS") == opt_int(row["tcp.options.wscale.shift"]), where
        assert bool(seg.option("SACK_PERM")) == (row["tcp.options.sack_perm"] != ""), where
        ts = seg.option("TS")
        assert (ts[0] if ts else None) == opt_int(row["tcp.options.timestamp.tsval"]), where
        assert (ts[1] if ts else None) == opt_int(row["tcp.options.timestamp.tsecr"]), where
        kinds = [_KINDS[int(k)] for k in row["tcp.option_kind"].split(",") if k]
        assert [kind for kind, _ in seg.options] == kinds, where
        compared += 1
    return compared


@pytest.mark.oracle
@pytest.mark.parametrize("host", ["client", "server"])
def test_fixture_decoding_matches_tshark(tshark: str, host: str) -> None:
    assert assert_decoding_matches_tshark(tshark, fixture_pcap(host)) == {
        "client": 7, "server": 5}[host]


@pytest.mark.oracle
def test_crafted_decoding_matches_tshark(tshark: str, crafted_pcap: Path) -> None:
    assert assert_decoding_matches_tshark(tshark, crafted_pcap) == 5
    sack = tshark_rows(tshark, crafted_pcap)[3]
    # tshark shows SACK edges relative to the client's ISN (2**32 - 3), as it does seq/ack.
    edges = [int(v) for v in (sack["tcp.options.sack_le"] + "," + sack["tcp.options.sack_re"])
             .split(",")]
    raw = (100, 300, 200, 400)
    assert edges == [(e - (2**32 - 3)) % 2**32 for e in raw]


@pytest.mark.oracle
@pytest.mark.live
@pytest.mark.parametrize("host", ["client", "server"])
def test_live_decoding_matches_tshark(tshark: str, handshake_run: LiveRun, host: str) -> None:
    assert assert_decoding_matches_tshark(tshark, handshake_run.pcaps[host]) == {
        "client": 7, "server": 5}[host]
