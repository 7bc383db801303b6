"""WebSocket, HTTP's way to a long-lived connection: the Upgrade handshake, then frames.

Two hosts, ``client`` (192.0.2.1) and ``server`` (192.0.2.2), joined by a veth pair; a
:class:`~netlab.proto.websocket.WebSocketServer` listens on port 80 (where Wireshark and
tshark expect HTTP, so they follow the upgrade too). The client, from port 40000:

1. sends the HTTP/1.1 ``GET`` with ``Upgrade: websocket`` and a fresh
   ``Sec-WebSocket-Key``; the server answers ``101 Switching Protocols`` with the matching
   ``Sec-WebSocket-Accept`` (RFC 6455 §4);
2. sends a text message, which the server's application answers;
3. sends :data:`PINGS` pings, each answered by a pong with the same payload (§5.5.2): the
   heartbeat of the protocol;
4. closes with the closing handshake (§7): a close frame each way, then TCP's FIN.

Everything is read back from the capture: the handshake's bytes, and every frame, unmasked.

>>> from netlab.experiments.longlived.websocket import websocket
>>> result = websocket()
>>> [f"{d} {f.opcode_name}" for d, f in result.frames()]  # doctest: +NORMALIZE_WHITESPACE
['client text', 'server text', 'client ping', 'server pong', 'client ping', 'server pong',
 'client ping', 'server pong', 'client close', 'server close']
>>> [fact.name for fact in result.facts() if not fact.holds]
[]
"""

from __future__ import annotations

import base64
import socket
import time
from dataclasses import dataclass, field

from netlab.analysis.http_capture import stream
from netlab.analysis.trace import Connection, Trace
from netlab.experiments.endpoints import CLIENT_PORT, TIMEOUT, client_socket
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import tr
from netlab.lab import Lab
from netlab.proto.server import listening
from netlab.proto.websocket import (
    WebSocketClient,
    WebSocketFrame,
    WebSocketServer,
    accept_key,
    frames,
)
from netlab.views.ladder import Ladder
from netlab.views.table import Grid

__all__ = ["websocket", "WebSocketResult", "PINGS"]

PORT = 80  # HTTP's port: the upgrade starts as an HTTP request
PINGS = 3
"""How many pings the client sends."""
GREETING = "hello, server"


def _reply(text: str) -> str:
    return f"you said: {text}"


@dataclass(frozen=True, kw_only=True)
class WebSocketResult:
    """One WebSocket connection's life, captured on both hosts."""

    trace: Trace
    reply: str
    """What the server's application answered to the greeting."""
    ping_rtts: tuple[float, ...]
    """Seconds from each ping to its pong, measured by the client."""
    close_code: int
    """The status code of the server's close frame."""
    pcap_host: str = field(default="client")
    keylog: None = None  # no TLS in this experiment

    @property
    def connection(self) -> Connection:
        return self.trace.connection(port=CLIENT_PORT)

    def _stream(self, from_client: bool) -> bytes:
        return stream(self.connection, from_client=from_client)[0]

    @property
    def request(self) -> bytes:
        """The upgrade request's bytes, as captured (up to the empty line)."""
        data = self._stream(True)
        return data[:data.index(b"\r\n\r\n") + 4]

    @property
    def response(self) -> bytes:
        """The server's ``101`` response, as captured."""
        data = self._stream(False)
        return data[:data.index(b"\r\n\r\n") + 4]

    def header(self, message: bytes, name: str) -> str | None:
        """A header's value in a captured handshake message (names are case-insensitive)."""
        for line in message.decode("latin-1").split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None

    def frames(self) -> list[tuple[str, WebSocketFrame]]:
        """Every frame after the handshake, in the order captured, as (sender, frame)."""
        conn = self.connection
        out: list[tuple[int, str, WebSocketFrame]] = []
        for from_client, who in ((True, "client"), (False, "server")):
            data, offsets = stream(conn, from_client=from_client)
            start = (len(self.request) if from_client else len(self.response))
            at = start
            for frame in frames(data[start:]):
                # The segment that carried the frame's first byte dates it.
                seg = [s for off, s in offsets if off <= at][-1]
                out.append((seg.time_ns, who, frame))
                at += frame.size
        out.sort(key=lambda item: item[0])
        return [(who, frame) for _, who, frame in out]

    def frame_table(self) -> Grid:
        """The frames: sender, opcode, FIN, mask, payload, and the bytes each took."""
        rows = [[tr("from"), tr("opcode"), "FIN", tr("masked"), tr("payload"),
                 tr("payload bytes"), tr("frame bytes")]]
        for who, f in self.frames():
            text = f.payload.decode("utf-8", "replace")
            if f.opcode == 8 and len(f.payload) >= 2:  # §5.5.1: a 2-byte code, then a reason
                text = f"{int.from_bytes(f.payload[:2], 'big')} {f.payload[2:].decode()}"
            rows.append([tr(who), f"{f.opcode} ({f.opcode_name})", "1" if f.fin else "0",
                         tr("yes") if f.masked else tr("no"), text, str(len(f.payload)),
                         str(f.size)])
        return Grid(rows, right={tr("payload bytes"), tr("frame bytes")})

    def notes(self) -> dict[int, str]:
        """A label per segment for the ladder: the upgrade, ``101``, and each frame's opcode."""
        conn = self.connection
        out: dict[int, list[str]] = {}
        for from_client in (True, False):
            data, offsets = stream(conn, from_client=from_client)
            head = len(self.request) if from_client else len(self.response)
            pieces = [(0, head, "GET Upgrade" if from_client else "101 Switching Protocols")]
            at = head
            for f in frames(data[head:]):
                pieces.append((at, at + f.size, f.opcode_name))
                at += f.size
            for off, seg in offsets:
                end = off + seg.length
                out[seg.number] = [name for a, b, name in pieces if a < end and b > off]
        return {n: " + ".join(v) for n, v in out.items() if v}

    def ladder(self) -> Ladder:
        """The connection's whole life, each segment labelled with what it carried."""
        return Ladder(self.trace, title=tr("A WebSocket connection: upgrade, frames, close"),
                                 notes=self.notes())

    def facts(self) -> list[Fact]:
        """The chapter's claims, each checked on this run's data."""
        req, resp = self.request, self.response
        key = self.header(req, "Sec-WebSocket-Key") or ""
        accept = self.header(resp, "Sec-WebSocket-Accept")
        fs = self.frames()
        pings = [f for w, f in fs if f.opcode == 9]
        pongs = [f for w, f in fs if f.opcode == 10]
        syns = [s for s in self.trace.segments if s.is_syn]
        closes = [(w, f) for w, f in fs if f.opcode == 8]
        return [
            Fact(name="ws-upgrade-request",
                 text=tr("the connection starts as an HTTP/1.1 GET asking to upgrade"),
                 holds=req.startswith(b"GET / HTTP/1.1\r\n")
                 and self.header(req, "Upgrade") == "websocket"
                 and self.header(req, "Connection") == "Upgrade"
                 and self.header(req, "Sec-WebSocket-Version") == "13",
                 evidence=req.split(b"\r\n")[0].decode()),
            Fact(name="ws-accept",
                 text=tr("the server answers 101 with the key's SHA-1 + GUID, base64"),
                 holds=resp.startswith(b"HTTP/1.1 101 Switching Protocols\r\n") and len(key) == 24
                 and len(base64.b64decode(key)) == 16
                 and accept == accept_key(key),
                 evidence=f"key {key} → accept {accept}"),
            Fact(name="ws-masking",
                 text=tr("every client frame is masked, no server frame is (RFC 6455 §5.1)"),
                 holds=bool(fs) and all(f.masked == (w == "client") for w, f in fs)
                 and all(f.header_size == (6 if w == "client" else 2) for w, f in fs)
                 and [f"{w} {f.opcode_name}" for w, f in fs]
                 == (["client text", "server text"] + ["client ping", "server pong"] * PINGS
                     + ["client close", "server close"]),
                 evidence=f"{sum(w == 'client' for w, _ in fs)} client frames masked, "
                          f"{sum(w == 'server' for w, _ in fs)} server frames not"),
            Fact(name="ws-ping-pong",
                 text=tr("each ping is answered by a pong with the same payload"),
                 holds=len(pings) == PINGS and [p.payload for p in pings]
                 == [p.payload for p in pongs]
                 == [f"beat {i}".encode() for i in range(1, PINGS + 1)]
                 and len(self.ping_rtts) == PINGS,
                 evidence=", ".join(p.payload.decode() for p in pings)),
            Fact(name="ws-same-connection",
                 text=tr("the server's application answered over the same connection"),
                 holds=self.reply == _reply(GREETING) and len(syns) == 1
                 and len(self.connection.segments) == len(self.trace.segments),
                 evidence=f"{self.reply!r}; {len(syns)} SYN in the whole capture"),
            Fact(name="ws-close",
                 text=tr("the closing handshake: a close frame each way, code 1000"),
                 holds=[w for w, _ in closes] == ["client", "server"] and self.close_code == 1000,
                 evidence=f"server's close code {self.close_code}"),
        ]

    def report(self) -> str:
        """Everything, as text for a terminal."""
        facts = checklist(self.facts())
        return (f"WebSocket (client 192.0.2.1:{CLIENT_PORT} → server 192.0.2.2:{PORT})\n\n"
                f"{self.request.decode()}{self.response.decode()}"
                f"{self.frame_table()}\n\nFacts\n\n{facts}")


def _connected(address: str, server: tuple[str, int]) -> socket.socket:
    sock = client_socket(address, CLIENT_PORT)
    sock.settimeout(TIMEOUT)
    sock.connect(server)
    return sock


@replayable
def websocket() -> WebSocketResult:
    """Run the experiment (well under a second)."""
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server)
        ws_server = WebSocketServer(on_text=_reply)
        with listening(server, ws_server, PORT), lab.capture(client, server) as cap:
            sock = client.run(_connected, client.address, (server.address, PORT))
            ws = WebSocketClient(sock, f"{server.address}", "/", timeout=TIMEOUT)
            ws.send_text(GREETING)
            reply = ws.receive_text()
            rtts = tuple(ws.ping(f"beat {n}".encode()) for n in range(1, PINGS + 1))
            closed = ws.close()
            # Wait for the server's side to finish, so its FIN is in the capture.
            deadline = time.monotonic() + TIMEOUT
            while ws_server.open_connections and time.monotonic() < deadline:
                time.sleep(0.01)
    assert cap.trace is not None
    return WebSocketResult(trace=cap.trace, reply=reply, ping_rtts=rtts, close_code=closed)
