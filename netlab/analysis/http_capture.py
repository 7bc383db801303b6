"""HTTP messages decoded from a capture: what really crossed the wire, not what a program says.

The bytes of each direction of a TCP connection are put back in order from the captured
segments (by relative sequence number; a retransmitted byte counts once), then parsed by two
h11 state machines in lock-step: a server-side one reads the requests from the client's
bytes, a client-side one reads the responses from the server's bytes. Each knows what the
other has seen, so h11 can tell, for instance, that the response to a ``HEAD`` has no body,
and where a pipelined request ends and the next begins.

Each message also records the segments that carried it, so a ladder diagram can label the
arrows with the message they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass

import h11

from netlab.analysis.dissect import Segment
from netlab.analysis.trace import Connection
from netlab.proto.http import Request, Response, decode_headers

__all__ = ["HttpMessage", "Exchange", "stream", "exchanges", "labels"]


@dataclass(frozen=True, kw_only=True)
class HttpMessage:
    """An HTTP message and the captured bytes it was made of."""

    raw: bytes
    """The message's bytes exactly as captured (head and body)."""
    start: int
    """Where they start in the bytes their side sent (the first byte is 0)."""
    segments: tuple[int, ...]
    """Numbers of the segments that carried any of these bytes."""


@dataclass(frozen=True, kw_only=True)
class Exchange:
    """One request and its response (None if the capture ends before the response does)."""

    request: Request
    request_message: HttpMessage
    response: Response | None
    response_message: HttpMessage | None


def stream(conn: Connection, *, from_client: bool) -> tuple[bytes, list[tuple[int, Segment]]]:
    """The payload bytes one side sent, in order, and where each segment's bytes start.

    Returns the bytes, and for each segment that added bytes, its offset in them. Stops at
    the first gap (bytes the capture did not see).
    """
    segs = sorted((s for s in conn.segments if s.length and conn.is_from_client(s) == from_client),
                  key=conn.relative_seq)
    data = bytearray()
    offsets: list[tuple[int, Segment]] = []
    for s in segs:
        start = conn.relative_seq(s) - 1  # byte 1 is offset 0 (the SYN took number 0)
        end = start + s.length
        if end <= len(data):
            continue  # a retransmission of bytes already in place
        if start > len(data):
            break  # a gap: bytes the capture did not see
        offsets.append((len(data), s))
        data += s.payload[len(data) - start:]
    return bytes(data), offsets


def _segments(offsets: list[tuple[int, Segment]], start: int, end: int) -> tuple[int, ...]:
    out = []
    for i, (off, seg) in enumerate(offsets):
        nxt = offsets[i + 1][0] if i + 1 < len(offsets) else off + seg.length
        if off < end and nxt > start:
            out.append(seg.number)
    return tuple(out)


class _Reader:
    """One direction's bytes, fed to an h11 connection, with the position of each event."""

    def __init__(self, h: h11.Connection, data: bytes, closed: bool) -> None:
        self.h = h
        self.data = data
        h.receive_data(data)
        if closed:
            h.receive_data(b"")

    @property
    def consumed(self) -> int:
        return len(self.data) - len(self.h.trailing_data[0])

    def message(self) -> tuple[list[h11.Event], int, int] | None:
        """The next message's events and its byte range, or None if there is none."""
        start = self.consumed
        events: list[h11.Event] = []
        while True:
            try:
                event = self.h.next_event()
            except h11.RemoteProtocolError:
                return None
            if not isinstance(event, h11.Event) or isinstance(event, h11.ConnectionClosed):
                return None  # NEED_DATA or PAUSED: no complete message left
            events.append(event)
            if isinstance(event, h11.EndOfMessage):
                return events, start, self.consumed


def _body(events: list[h11.Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, h11.Data))


def _replay(h: h11.Connection, events: list[h11.Event]) -> bool:
    """Tell ``h`` what its peer's machine read; False if h11 would not have sent it so."""
    try:
        for e in events:
            h.send(e)
    except h11.LocalProtocolError:
        return False
    return True


def exchanges(conn: Connection, *,
              client_stream: tuple[bytes, list[tuple[int, Segment]]] | None = None,
              ) -> tuple[Exchange, ...]:
    """Every request and response of a connection, decoded from the captured bytes.

    Any bytes may have been captured: decoding stops, without an error, at the first message
    that is not HTTP/1.1 (or 1.0) as h11 reads it, or at a gap in the capture; what came
    before is returned. The last exchange's response is None if its bytes are incomplete.
    ``client_stream`` is what :func:`stream` returns for the client's side, for a caller
    that has put it back together already.
    """
    up, up_offsets = client_stream or stream(conn, from_client=True)
    down, down_offsets = stream(conn, from_client=False)
    fin_up = any(s.has("FIN") and conn.is_from_client(s) for s in conn.segments)
    fin_down = any(s.has("FIN") and not conn.is_from_client(s) for s in conn.segments)
    server = _Reader(h11.Connection(h11.SERVER), up, fin_up)
    client = _Reader(h11.Connection(h11.CLIENT), down, fin_down)
    out = []
    while (req := server.message()) is not None:
        events, start, end = req
        head = events[0]
        assert isinstance(head, h11.Request)
        request = Request(method=head.method.decode("ascii"), target=head.target.decode("ascii"),
                          http_version=head.http_version.decode("ascii"),
                          headers=decode_headers(head.headers), body=_body(events))
        request_message = HttpMessage(raw=up[start:end], start=start,
                                      segments=_segments(up_offsets, start, end))
        # Tell the client-side machine what the client sent, so it can read the response.
        # h11 only writes HTTP/1.1; an HTTP/1.0 request is replayed as 1.1 with "close",
        # which gives h11 the same framing rules for the response (RFC 9112 §9.3).
        fields = list(head.headers)
        if request.http_version != "1.1":
            fields.append((b"connection", b"close"))
        if not _replay(client.h, [h11.Request(method=head.method, target=head.target,
                                              headers=fields), *events[1:]]):
            break
        got = client.message()
        if got is None:
            out.append(Exchange(request=request, request_message=request_message,
                                response=None, response_message=None))
            break
        events, start, end = got
        rhead = next(e for e in events if isinstance(e, h11.Response))
        response = Response(status=rhead.status_code, headers=decode_headers(rhead.headers),
                            body=_body(events), reason=rhead.reason.decode("latin-1"),
                            http_version=rhead.http_version.decode("ascii"))
        out.append(Exchange(request=request, request_message=request_message, response=response,
                            response_message=HttpMessage(raw=down[start:end], start=start,
                                                     segments=_segments(down_offsets, start, end))))
        # And tell the server-side machine what the server answered, to reach the next request
        # (an HTTP/1.0 response as 1.1 with "close", as the request above).
        replies: list[h11.Event] = []
        for e in events:
            if isinstance(e, h11.Response):
                rfields = list(e.headers)
                if e.http_version != b"1.1":
                    rfields.append((b"connection", b"close"))
                replies.append(h11.Response(status_code=e.status_code, headers=rfields,
                                            reason=e.reason))
            elif not isinstance(e, h11.InformationalResponse):
                replies.append(e)
        if not _replay(server.h, replies):
            break
        if server.h.our_state is not h11.DONE or client.h.our_state is not h11.DONE:
            break
        server.h.start_next_cycle()
        client.h.start_next_cycle()
    return tuple(out)


def labels(conn: Connection) -> dict[int, str]:
    """A short label for each segment that carried HTTP: ``GET /a`` or ``200 OK``.

    A message spread over several segments labels each of them; a segment carrying several
    pipelined requests gets them all, joined by ``+``.
    """
    out: dict[int, list[str]] = {}
    for ex in exchanges(conn):
        out_req = f"{ex.request.method} {ex.request.target}"
        for n in ex.request_message.segments:
            out.setdefault(n, []).append(out_req)
        if ex.response is not None and ex.response_message is not None:
            text = f"{ex.response.status} {ex.response.reason}"
            for n in ex.response_message.segments:
                out.setdefault(n, []).append(text)
    return {n: " + ".join(v) for n, v in out.items()}
