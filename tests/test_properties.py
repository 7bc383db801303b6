"""Property-based tests of netlab's own parsers (hypothesis): any input, only the documented
errors, bounded memory; and round trips where netlab both writes and reads.

The number of examples per property is fixed (``EXAMPLES``) so that a run is bounded in time;
``pytest --hypothesis-show-statistics`` prints how many each ran.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsproto.events import BytesMessage, TextMessage

from netlab.errors import NetlabError
from netlab.kernel.capture import CaptureError, Frame, read_pcap, write_pcap
from netlab.kernel.tcp_info import parse_proc_net_tcp
from netlab.proto.framing import Decoder, FramingError
from netlab.proto.framing import encode as encode_frame
from netlab.proto.heartbeat import KINDS, HeartbeatMessage, ProtocolError, Reader, encode
from netlab.proto.http import _describe
from netlab.proto.websocket import Assembler, frames
from netlab.proto.websocket import _TooBig as TooBig

EXAMPLES = 300
bounded = settings(max_examples=EXAMPLES, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


# ---------------------------------------------------------------------------------------
# Length-prefixed framing (netlab.proto.framing) and the heartbeat protocol on it


@bounded
@given(st.lists(st.binary(max_size=300), max_size=20), st.lists(st.integers(0, 10_000)))
def test_framing_round_trip_however_the_stream_is_split(messages: list[bytes],
                                                        cuts: list[int]) -> None:
    wire = b"".join(encode_frame(m, limit=300) for m in messages)
    decoder = Decoder(limit=300)
    out = [m for chunk in _split(wire, cuts) for m in decoder.feed(chunk)]
    assert out == messages and decoder.pending == 0
    decoder.close()


@bounded
@given(st.lists(st.binary(max_size=200), max_size=30))
def test_framing_any_bytes_only_framing_error_and_bounded(chunks: list[bytes]) -> None:
    decoder = Decoder(limit=64)
    try:
        for chunk in chunks:
            decoder.feed(chunk)
            # a frame over the limit is refused as soon as its header is in: nothing more
            # than one allowed frame and one chunk is ever held
            assert decoder.pending <= 4 + 64 + 200
        decoder.close()
    except FramingError:
        pass


@bounded
@given(st.lists(st.tuples(st.sampled_from(sorted(KINDS)), st.binary(max_size=50)),
                max_size=20), st.lists(st.integers(0, 5_000)))
def test_heartbeat_messages_round_trip(messages: list[tuple[str, bytes]],
                                       cuts: list[int]) -> None:
    sent = [HeartbeatMessage(kind, body) for kind, body in messages]
    wire = b"".join(encode(m) for m in sent)
    reader = Reader()
    assert [m for c in _split(wire, cuts) for m in reader.feed(c)] == sent
    assert reader.pending == 0


@bounded
@given(st.lists(st.binary(max_size=100), max_size=20))
def test_heartbeat_reader_any_bytes_only_protocol_error(chunks: list[bytes]) -> None:
    reader = Reader(limit=128)
    try:
        for chunk in chunks:
            reader.feed(chunk)
            assert reader.pending <= 4 + 128 + 100
    except ProtocolError as exc:
        assert isinstance(exc, NetlabError)


# ---------------------------------------------------------------------------------------
# WebSocket: the capture decoder and the message assembler


def _frame(opcode: int, payload: bytes, fin: bool, key: bytes | None) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    mask = 0x80 if key is not None else 0
    n = len(payload)
    if n < 126:
        head += bytes([mask | n])
    elif n < 1 << 16:
        head += bytes([mask | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask | 127]) + struct.pack("!Q", n)
    if key is None:
        return head + payload
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


ws_frames = st.lists(st.tuples(st.sampled_from([0, 1, 2, 8, 9, 10]),
                               st.binary(max_size=70_000).filter(lambda b: len(b) < 300
                                                                 or len(b) > 65_535)
                               | st.binary(max_size=300),
                               st.booleans(), st.none() | st.binary(min_size=4, max_size=4)),
                     max_size=6)


@settings(max_examples=100, deadline=None, database=None)
@given(ws_frames, st.integers(0, 20))
def test_websocket_frames_round_trip_and_a_cut_capture(
        spec: list[tuple[int, bytes, bool, bytes | None]], cut: int) -> None:
    wire = b"".join(_frame(*f) for f in spec)
    decoded = frames(wire)
    assert [(f.opcode, f.payload, f.fin, f.masked) for f in decoded] == [
        (op, payload, fin, key is not None) for op, payload, fin, key in spec]
    assert sum(f.size for f in decoded) == len(wire)
    # a capture that ends mid-frame: every whole frame before the cut, nothing after it
    n = max(0, len(wire) - cut)
    ends = [sum(f.size for f in decoded[:i + 1]) for i in range(len(decoded))]
    assert frames(wire[:n]) == [f for f, end in zip(decoded, ends, strict=True) if end <= n]


@bounded
@given(st.binary(max_size=2_000))
def test_websocket_frames_any_bytes_never_raise(data: bytes) -> None:
    decoded = frames(data)
    assert sum(f.size for f in decoded) <= len(data)


@bounded
@given(st.lists(st.text(max_size=50), min_size=1, max_size=10), st.integers(1, 400))
def test_assembler_joins_pieces_or_refuses_past_the_limit(parts: list[str], limit: int) -> None:
    whole = Assembler(limit=limit)
    size = 0
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        size += len(part.encode())
        try:
            out = whole.add(TextMessage(data=part, message_finished=last))
        except TooBig:
            assert size > limit
            return
        assert size <= limit
        assert (out is None) != last
    assert isinstance(out, TextMessage) and out.data == "".join(parts)
    assert not whole.pending
    assert whole.add(BytesMessage(data=b"x")) == BytesMessage(data=b"x")


# ---------------------------------------------------------------------------------------
# pcap files, /proc/net/tcp, h11's error messages


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2**32 * 10**9 - 1), st.binary(min_size=1,
                                                                       max_size=1500)),
                max_size=20))
def test_pcap_round_trip(tmp_path: Path, frames_: list[tuple[int, bytes]]) -> None:
    written = [Frame(timestamp_ns=ts, outgoing=False, data=data, host="h")
               for ts, data in frames_]
    path = write_pcap(tmp_path / "p.pcap", written)
    assert read_pcap(path, host="h") == written


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_read_pcap_any_bytes_capture_error_or_frames(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(data)
    try:
        read_pcap(path)
    except CaptureError:
        assert data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                                b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    except Exception as exc:  # scapy's reader on a truncated header
        pytest.fail(f"read_pcap raised {type(exc).__name__}: {exc}")


_hex = st.text("0123456789ABCDEF", min_size=1, max_size=8)


@bounded
@given(st.lists(st.tuples(_hex, _hex, _hex, _hex, st.sampled_from(
    ["01", "02", "03", "04", "05", "06", "07", "08", "09", "0A", "0B"])), max_size=5))
def test_proc_net_tcp_lines_parse(entries: list[tuple[str, str, str, str, str]]) -> None:
    lines = [f"{i:4}: {a.rjust(8, '0')}:{p.rjust(4, '0')[-4:]} "
             f"{b.rjust(8, '0')}:{q.rjust(4, '0')[-4:]} {s} 00000000:00000000 00:00000000 "
             "00000000     0        0 1 1 0000000000000000 100 0 0 10 0"
             for i, (a, p, b, q, s) in enumerate(entries)]
    parsed = parse_proc_net_tcp("  sl  local_address ...\n" + "\n".join(lines))
    assert [e.local[1] for e in parsed] == [int(p.rjust(4, "0")[-4:], 16)
                                            for _, p, _, _, _ in entries]


@bounded
@given(st.binary(min_size=1, max_size=100))
def test_an_http_error_never_echoes_the_clients_bytes(garbage: bytes) -> None:
    import h11

    h = h11.Connection(h11.SERVER)
    h.receive_data(b"\x00" + garbage + b"\r\n\r\n")
    try:
        h.next_event()
    except h11.RemoteProtocolError as exc:
        text = _describe(exc)
        assert "bytearray" not in text and "b'" not in text and 'b"' not in text, text
