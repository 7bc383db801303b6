"""Property-based tests of netlab's own parsers (hypothesis): any input, only the documented
errors, bounded memory; and round trips where netlab both writes and reads.

The number of examples per property is fixed (``EXAMPLES``) so that a run is bounded in time;
``pytest --hypothesis-show-statistics`` prints how many each ran.
"""

from __future__ import annotations

import errno
import socket
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsproto.events import BytesMessage, TextMessage

from netlab.analysis.dissect import Segment, dissect, option_text
from netlab.analysis.http_capture import exchanges, labels, stream
from netlab.analysis.tls_decrypt import CONTENT_TYPES, decrypt
from netlab.analysis.trace import Connection
from netlab.errors import ExperimentError, NetlabError
from netlab.kernel.capture import CaptureError, Frame, read_pcap, write_pcap
from netlab.kernel.sockdiag import parse_reply
from netlab.kernel.tcp_info import parse_proc_net_tcp
from netlab.model.tcp_states import TcpState
from netlab.proto.framing import Decoder, FramingError
from netlab.proto.framing import encode as encode_frame
from netlab.proto.heartbeat import KINDS, HeartbeatMessage, ProtocolError, Reader, encode
from netlab.proto.http import _describe
from netlab.proto.tls import hello_fields
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


# ---------------------------------------------------------------------------------------
# Dissection: scapy's layers mapped onto our records (netlab.analysis.dissect)


_OPTION_SIZE = {"MSS": 4, "WScale": 3, "SAckOK": 2, "Timestamp": 10, "NOP": 1}


def _option_bytes(options: list[tuple[str, Any]]) -> int:
    return sum(_OPTION_SIZE[k] if k in _OPTION_SIZE else 2 + 4 * len(v) for k, v in options)


def _tcp_options() -> st.SearchStrategy[list[tuple[str, Any]]]:
    one = st.one_of(
        st.tuples(st.just("MSS"), st.integers(0, 0xFFFF)),
        st.tuples(st.just("WScale"), st.integers(0, 14)),
        st.tuples(st.just("SAckOK"), st.just(b"")),
        st.tuples(st.just("Timestamp"), st.tuples(st.integers(0, 2**32 - 1),
                                                  st.integers(0, 2**32 - 1))),
        st.tuples(st.just("NOP"), st.none()),
        st.tuples(st.just("SAck"), st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=6)
                  .filter(lambda v: len(v) % 2 == 0).map(tuple)),
    )
    return st.lists(one, max_size=6).filter(lambda opts: _option_bytes(opts) <= 40)


def _ours(options: list[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    """The options as dissect names them; scapy pads them to 32 bits with an EOL."""
    names = {"MSS": "MSS", "WScale": "WS", "SAckOK": "SACK_PERM", "Timestamp": "TS",
             "NOP": "NOP", "SAck": "SACK"}
    padded = [("EOL", None)] if _option_bytes(options) % 4 else []
    return tuple((names[k], None if k in ("SAckOK", "NOP") else v) for k, v in options
                 ) + tuple(padded)


_tcp_fields = st.fixed_dictionaries({
    "sport": st.integers(0, 0xFFFF), "dport": st.integers(0, 0xFFFF),
    "flags": st.integers(0, 0xFF), "seq": st.integers(0, 2**32 - 1),
    "ack": st.integers(0, 2**32 - 1), "window": st.integers(0, 0xFFFF)})


@bounded
@given(_tcp_fields, _tcp_options(), st.binary(max_size=300), st.booleans(),
       st.integers(0, 0xFFFF), st.integers(0, 20))
def test_dissect_gives_back_the_fields_scapy_built(
        fields: dict[str, int], options: list[tuple[str, Any]], payload: bytes, v6: bool,
        ip_id: int, padding: int) -> None:
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether

    ip = (IPv6(src="2001:db8::1", dst="2001:db8::2", fl=ip_id) if v6
          else IP(src="192.0.2.1", dst="192.0.2.2", id=ip_id))
    frame = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip
                  / TCP(options=options, **fields) / payload) + b"\0" * padding
    got = dissect(frame, timestamp_ns=7, outgoing=True, host="h")
    assert got is not None
    assert (got.src, got.dst) == ((ip.src, ip.dst))
    assert {k: getattr(got, k) for k in fields} == fields
    assert got.ip_id == ip_id and got.payload == payload and got.frame == frame
    assert got.options == _ours(options)


@bounded
@given(st.binary(max_size=200), _tcp_options(), st.integers(0, 120), st.binary(max_size=60))
def test_dissect_any_bytes_a_segment_or_none(garbage: bytes, options: list[tuple[str, Any]],
                                             at: int, patch: bytes) -> None:
    """Raw bytes, and a good frame with a stretch overwritten (its options, its lengths)."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    good = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                 / IP(src="192.0.2.1", dst="192.0.2.2") / TCP(options=options) / b"data")
    for frame in (garbage, b"\x02" * 12 + b"\x08\x00" + garbage,
                  good[:at] + patch + good[at + len(patch):]):
        got = dissect(frame, timestamp_ns=0, outgoing=False, host="h")
        assert got is None or len(got.payload) <= len(frame)
        if got is not None:
            option_text(got.options)  # what the tables print of them


# ---------------------------------------------------------------------------------------
# HTTP from a capture: the bytes of a connection put back together, then h11
# (netlab.analysis.http_capture)

_C, _S = ("192.0.2.1", 40000), ("192.0.2.2", 80)
_ISN = {_C: 2**32 - 100, _S: 5000}  # the client's numbers wrap past 2**32


def _segment(n: int, src: tuple[str, int], flags: int, seq: int, payload: bytes,
             ack: int = 0) -> Segment:
    dst = _S if src == _C else _C
    return Segment(number=n, src=src[0], sport=src[1], dst=dst[0], dport=dst[1], flags=flags,
                   seq=seq % 2**32, ack=ack % 2**32, window=1000, options=(),
                   payload=payload, sent_ns=n, received_ns=None, frame=b"")


def _connection(up: bytes, down: bytes, up_cuts: list[int], down_cuts: list[int],
                repeats: list[tuple[bool, int, int]], fin: bool) -> Connection:
    """SYN, SYN-ACK, then each side's bytes in segments cut anywhere, some sent again (whole
    or in part, after the original), and FINs if ``fin``."""
    segs = [_segment(1, _C, 0x02, _ISN[_C], b""),
            _segment(2, _S, 0x12, _ISN[_S], b"", _ISN[_C] + 1)]
    for side, data, cuts in ((_C, up, up_cuts), (_S, down, down_cuts)):
        at = 0
        for piece in _split(data, cuts):
            if piece:
                segs.append(_segment(len(segs) + 1, side, 0x18, _ISN[side] + 1 + at, piece))
            at += len(piece)
    for from_client, a, b in repeats:
        side, data = (_C, up) if from_client else (_S, down)
        a, b = sorted((a % (len(data) + 1), b % (len(data) + 1)))
        if a < b:
            segs.append(_segment(len(segs) + 1, side, 0x18, _ISN[side] + 1 + a, data[a:b]))
    if fin:
        for side, data in ((_C, up), (_S, down)):
            segs.append(_segment(len(segs) + 1, side, 0x11, _ISN[side] + 1 + len(data), b""))
    return Connection(segments=tuple(segs), client=_C, server=_S)


_bodies = st.binary(max_size=200)
_token = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
_http = st.lists(st.tuples(
    st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE"]),
    _token.map(lambda t: "/" + t),
    st.lists(st.tuples(_token.map(lambda t: "x-" + t), _token), max_size=3),
    _bodies, st.booleans(),  # request body, chunked
    st.sampled_from([200, 201, 204, 304, 404, 500]), _bodies, st.booleans(),
), min_size=1, max_size=4)


def _wire(spec: list[tuple[Any, ...]]) -> tuple[bytes, bytes, list[tuple[bytes, bytes]]]:
    """Both directions' bytes of the exchanges, written by h11, and each message's bytes."""
    import h11

    client, server = h11.Connection(h11.CLIENT), h11.Connection(h11.SERVER)
    up = down = b""
    messages = []
    for method, target, headers, body, chunked, status, rbody, rchunked in spec:
        framing = ([(b"transfer-encoding", b"chunked")] if chunked
                   else [(b"content-length", str(len(body)).encode())])
        req = client.send(h11.Request(method=method, target=target,
                                      headers=[(b"host", b"example.com"), *headers, *framing]))
        if body:
            req += client.send(h11.Data(data=body))
        req += client.send(h11.EndOfMessage())
        server.receive_data(req)
        while not isinstance(server.next_event(), h11.EndOfMessage):
            pass
        no_body = status in (204, 304)
        rframing = ([] if no_body else [(b"transfer-encoding", b"chunked")] if rchunked
                    else [(b"content-length", str(len(rbody)).encode())])
        resp = server.send(h11.Response(status_code=status, headers=rframing))
        if rbody and not no_body and method != "HEAD":
            resp += server.send(h11.Data(data=rbody))
        resp += server.send(h11.EndOfMessage())
        client.receive_data(resp)
        while not isinstance(client.next_event(), h11.EndOfMessage):
            pass
        up, down = up + req, down + resp
        messages.append((req, resp))
        client.start_next_cycle()
        server.start_next_cycle()
    return up, down, messages


_repeats = st.lists(st.tuples(st.booleans(), st.integers(0, 5_000), st.integers(0, 5_000)),
                    max_size=5)


@settings(max_examples=200, deadline=None, database=None)
@given(_http, st.lists(st.integers(0, 5_000)), st.lists(st.integers(0, 5_000)), _repeats,
       st.booleans())
def test_http_exchanges_come_back_however_the_segments_fell(
        spec: list[tuple[Any, ...]], up_cuts: list[int], down_cuts: list[int],
        repeats: list[tuple[bool, int, int]], fin: bool) -> None:
    up, down, messages = _wire(spec)
    conn = _connection(up, down, up_cuts, down_cuts, repeats, fin)
    assert stream(conn, from_client=True)[0] == up
    assert stream(conn, from_client=False)[0] == down
    got = exchanges(conn)
    assert len(got) == len(spec)
    for ex, s, (req, resp) in zip(got, spec, messages, strict=True):
        method, target, headers, body, _, status, rbody, _ = s
        assert (ex.request.method, ex.request.target, ex.request.body) == (method, target, body)
        assert ex.request_message.raw == req
        assert ex.response is not None and ex.response_message is not None
        assert ex.response.status == status and ex.response_message.raw == resp
        assert ex.response.body == (b"" if status in (204, 304) or method == "HEAD" else rbody)
        # the segments named are those that carried the bytes (and never the handshake's)
        assert ex.request_message.segments and 1 not in ex.request_message.segments
        assert all(conn.segments[n - 1].length for n in ex.response_message.segments)


@settings(max_examples=200, deadline=None, database=None)
@given(_http, st.lists(st.tuples(st.booleans(), st.integers(0, 5_000), st.binary(max_size=20)),
                       min_size=1, max_size=4),
       st.lists(st.integers(0, 5_000)), st.booleans(), st.binary(max_size=300),
       st.binary(max_size=300))
def test_http_exchanges_of_damaged_or_any_bytes_never_raise(
        spec: list[tuple[Any, ...]], damage: list[tuple[bool, int, bytes]], cuts: list[int],
        fin: bool, up_garbage: bytes, down_garbage: bytes) -> None:
    """A real exchange with stretches overwritten, then raw bytes: exchanges, never an error;
    no message longer than what was captured."""
    up, down, _ = _wire(spec)
    for from_client, at, patch in damage:
        data = up if from_client else down
        at %= len(data) + 1
        data = data[:at] + patch + data[at + len(patch):]
        up, down = (data, down) if from_client else (up, data)
    for u, d in ((up, down), (up_garbage, down_garbage), (up, down_garbage)):
        conn = _connection(u, d, cuts, cuts, [], fin)
        got = exchanges(conn)
        assert sum(len(e.request_message.raw) for e in got) <= len(u)
        assert sum(len(e.response_message.raw) for e in got
                   if e.response_message is not None) <= len(d)
        labels(conn)


# ---------------------------------------------------------------------------------------
# sock_diag: the kernel's netlink answer to one lookup (netlab.kernel.sockdiag)

_KERNEL_STATES = [s.value for s in TcpState if s is not TcpState.NEW_SYN_RECV]
_rtattrs = st.lists(st.tuples(st.integers(1, 30), st.binary(max_size=40)), max_size=4).map(
    lambda attrs: b"".join(struct.pack("=HH", 4 + len(p), t) + p + b"\0" * (-len(p) % 4)
                           for t, p in attrs))


@bounded
@given(st.booleans(), st.sampled_from(_KERNEL_STATES), st.integers(0, 0xFFFF),
       st.integers(0, 0xFFFF), st.binary(min_size=16, max_size=16),
       st.binary(min_size=16, max_size=16), st.integers(0, 2**32 - 1),
       st.integers(0, 2**32 - 1), _rtattrs, st.integers(0, 200))
def test_sock_diag_reply_gives_back_what_was_packed(
        v6: bool, state: int, sport: int, dport: int, src: bytes, dst: bytes, rqueue: int,
        wqueue: int, attrs: bytes, cut: int) -> None:
    family = socket.AF_INET6 if v6 else socket.AF_INET
    size = 16 if v6 else 4
    # struct inet_diag_msg (linux/inet_diag.h), then its attributes, after a nlmsghdr
    body = (struct.pack("=BBBB", family, state, 0, 0)
            + struct.pack("!HH16s16s", sport, dport, src[:size], dst[:size])
            + struct.pack("=III", 0, 1, 2) + struct.pack("=IIIII", 0, rqueue, wqueue, 0, 9)
            + attrs)
    reply = struct.pack("=IHHII", 16 + len(body), 20, 0, 1, 0) + body
    entry = parse_reply(reply)
    assert entry is not None
    assert entry.local == (socket.inet_ntop(family, src[:size]), sport)
    assert entry.remote == (socket.inet_ntop(family, dst[:size]), dport)
    assert (entry.state, entry.rx_queue, entry.tx_queue) == (
        TcpState.from_kernel(state), rqueue, wqueue)
    # a reply cut short is refused, never misread
    with pytest.raises(ExperimentError):
        parse_reply(reply[:min(cut, len(reply) - 1)])


@bounded
@given(st.integers(-2**31, 2**31 - 1), st.binary(max_size=8))
def test_sock_diag_error_reply_none_for_enoent_else_experiment_error(
        code: int, rest: bytes) -> None:
    reply = struct.pack("=IHHIIi", 20 + len(rest), 2, 0, 1, 0, code) + rest
    try:
        assert parse_reply(reply) is None and code == -errno.ENOENT
    except ExperimentError:
        assert code != -errno.ENOENT


@bounded
@given(st.binary(max_size=150), st.sampled_from([None, 2, 20, 3]))
def test_sock_diag_any_bytes_an_entry_none_or_experiment_error(data: bytes,
                                                               kind: int | None) -> None:
    if kind is not None:  # a well-formed header over garbage, to get past the first check
        data = struct.pack("=IHHII", 16 + len(data), kind, 0, 1, 0) + data
    try:
        parse_reply(data)
    except ExperimentError:
        pass


# ---------------------------------------------------------------------------------------
# TLS records walked in a capture (netlab.analysis.tls_decrypt) and the hello messages'
# fields (netlab.proto.tls.hello_fields)

_TLS_C, _TLS_S = ("192.0.2.1", 40001), ("192.0.2.2", 443)
_record_specs = st.lists(st.one_of(
    # a Finished message (RFC 8446 §4.4.4): its body is opaque, any bytes dissect. (scapy
    # walks records by their length, but a message it cannot dissect may swallow the next
    # record of the same segment: real handshake messages are well formed.)
    st.tuples(st.just(22), st.just(20), st.binary(min_size=1, max_size=300)),
    st.tuples(st.just(21), st.just(0), st.binary(min_size=2, max_size=2)),
    st.tuples(st.just(23), st.just(0), st.binary(min_size=1, max_size=3000)),
), min_size=1, max_size=6)


def _records(specs: list[tuple[int, int, bytes]]) -> bytes:
    out = b""
    for kind, msg, body in specs:
        if kind == 22:  # one handshake message: type, 3-byte length, body (RFC 8446 §4)
            body = bytes([msg]) + len(body).to_bytes(3, "big") + body
        out += struct.pack("!BHH", kind, 0x0303, len(body)) + body  # RFC 8446 §5.1
    return out


def _tls_frames(streams: dict[tuple[str, int], bytes], cuts: list[int],
                repeats: list[tuple[bool, int, int]], isn: int = 7000) -> list[Frame]:
    """Each side's bytes in TCP segments cut anywhere, then some of them sent again, whole or
    in part (as after a loss), with a handshake before. The client's initial sequence number
    is ``isn`` (its numbers may wrap past 2**32, RFC 9293 §3.4)."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    isn_of = {_TLS_C: isn, _TLS_S: 7000}

    def frame(src: tuple[str, int], flags: str, seq: int, data: bytes = b"") -> bytes:
        dst = _TLS_S if src == _TLS_C else _TLS_C
        return bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                     / IP(src=src[0], dst=dst[0]) / TCP(sport=src[1], dport=dst[1],
                                                        flags=flags, seq=seq % 2**32)
                     / data)

    out = [frame(_TLS_C, "S", isn_of[_TLS_C]), frame(_TLS_S, "SA", isn_of[_TLS_S])]
    for side, data in streams.items():
        at = 0
        for piece in _split(data, cuts):
            if piece:
                out.append(frame(side, "PA", isn_of[side] + 1 + at, piece))
            at += len(piece)
    for from_client, a, b in repeats:
        side = _TLS_C if from_client else _TLS_S
        data = streams[side]
        a, b = sorted((a % (len(data) + 1), b % (len(data) + 1)))
        if a < b:
            out.append(frame(side, "PA", isn_of[side] + 1 + a, data[a:b]))
    return [Frame(timestamp_ns=1_700_000_000_000_000_000 + i * 1000, outgoing=True, data=d,
                  host="c") for i, d in enumerate(out)]


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_record_specs, _record_specs, st.lists(st.integers(0, 20_000), max_size=8),
       _repeats, st.integers(0, 2**32 - 1) | st.integers(2**32 - 20_000, 2**32 - 1),
       st.lists(st.tuples(st.integers(2, 40), st.integers(2, 40)), max_size=3))
def test_tls_records_walked_however_the_segments_fell(
        tmp_path: Path, up: list[tuple[int, int, bytes]], down: list[tuple[int, int, bytes]],
        cuts: list[int], repeats: list[tuple[bool, int, int]], isn: int,
        swaps: list[tuple[int, int]]) -> None:
    """Records cut anywhere into segments, some segments repeated, some captured out of
    order, sequence numbers that wrap: the same records, in order, of the same lengths."""
    frames_ = _tls_frames({_TLS_C: _records(up), _TLS_S: _records(down)}, cuts, repeats, isn)
    data = [f.data for f in frames_]
    for a, b in swaps:  # reordered on the way (the two SYNs stay first)
        if a < len(data) and b < len(data):
            data[a], data[b] = data[b], data[a]
    pcap = write_pcap(tmp_path / "tls.pcap", [replace(f, data=d)
                                              for f, d in zip(frames_, data, strict=True)])
    got = decrypt(pcap, None)
    for side, specs in ((_TLS_C, up), (_TLS_S, down)):
        mine = [r for r in got if (r.src, r.sport) == side]
        lengths = [len(b) + 4 if k == 22 else len(b) for k, _, b in specs]
        assert [(r.wire_type, r.length) for r in mine] == [
            (CONTENT_TYPES[k], n) for (k, _, _), n in zip(specs, lengths, strict=True)]
        # without a key log, only application data is hidden (no ChangeCipherSpec was sent)
        assert [r.encrypted for r in mine] == [k == 23 for k, _, _ in specs]


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400), st.binary(max_size=400), st.lists(st.integers(0, 1000),
                                                                  max_size=4))
def test_tls_records_of_any_bytes_never_raise_and_stay_within_them(
        tmp_path: Path, up: bytes, down: bytes, cuts: list[int]) -> None:
    # a plausible record header first, so that scapy takes the rest for TLS
    up = b"\x16\x03\x01" + up
    pcap = write_pcap(tmp_path / "any.pcap", _tls_frames({_TLS_C: up, _TLS_S: down}, cuts,
                                                         []))
    got = decrypt(pcap, None)
    for side, data in ((_TLS_C, up), (_TLS_S, down)):
        assert sum(5 + r.length for r in got if (r.src, r.sport) == side) <= len(data)


@bounded
@given(st.sampled_from([1, 2, 8, 4, 11]), st.binary(max_size=300), st.booleans())
def test_hello_fields_of_any_message_a_dict(kind: int, body: bytes, whole: bool) -> None:
    data = bytes([kind]) + len(body).to_bytes(3, "big") + body
    fields = hello_fields(data if whole else data[:-1])
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


@bounded
@given(st.binary(min_size=1, max_size=40), st.lists(st.binary(min_size=1, max_size=10),
                                                    min_size=1, max_size=3),
       st.integers(0, 200), st.binary(max_size=8))
def test_hello_fields_of_a_client_hello_and_of_it_damaged(
        name: bytes, alpn: list[bytes], at: int, patch: bytes) -> None:
    from scapy.layers.tls.extensions import (
        ProtocolName,
        ServerName,
        TLS_Ext_ALPN,
        TLS_Ext_ServerName,
    )
    from scapy.layers.tls.handshake import TLSClientHello

    hello = bytes(TLSClientHello(ciphers=[0x1301], ext=[
        TLS_Ext_ServerName(servernames=[ServerName(servername=name)]),
        TLS_Ext_ALPN(protocols=[ProtocolName(protocol=p) for p in alpn])]))
    fields = hello_fields(hello)
    assert fields["server name (SNI)"] == name.decode("ascii", "replace")
    assert fields["ALPN"] == ", ".join(p.decode("ascii", "replace") for p in alpn)
    assert fields["cipher suites"] == "TLS_AES_128_GCM_SHA256"
    damaged = hello[:at] + patch + hello[at + len(patch):]
    assert isinstance(hello_fields(damaged), dict)
