"""HTTP/2 in clear text (RFC 9113), enough to show multiplexing; h2 does the protocol.

HTTP/2 sends every request and response as *frames* on numbered *streams* of one TCP
connection, so responses need not wait for each other: a fast response may overtake a slow
one. The client here starts HTTP/2 "with prior knowledge" (RFC 9113 §3.3): it sends the
connection preface at once, without an HTTP/1.1 Upgrade. Browsers only speak HTTP/2 over
TLS (negotiated with ALPN); the frames are the same, and here they stay readable.

The server answers each request on a thread of its own (the handler may be slow), and a lock
serialises access to the one h2 state machine and the socket.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import h2.config
import h2.connection
import h2.events

from netlab.errors import ExperimentError
from netlab.proto.http import Request, Response
from netlab.proto.place import Place
from netlab.proto.server import ThreadedServer, listening

__all__ = ["Http2Server", "serving_h2", "Http2Client", "Arrival"]

RECV_SIZE = 65536


class Http2Server(ThreadedServer):
    """Serve HTTP/2 (prior knowledge) connections; each stream's handler runs on its own thread."""

    thread_name = "netlab-h2-connection"

    def __init__(self, handler: Callable[[Request], Response]) -> None:
        super().__init__()
        self.handler = handler

    def serve_connection(self, sock: socket.socket) -> None:
        """Serve one connection until the client closes it or breaks the protocol."""
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=False, header_encoding="utf-8"))
        lock = threading.Lock()
        heads: dict[int, list[tuple[str, str]]] = {}
        bodies: dict[int, bytearray] = {}
        workers: list[threading.Thread] = []

        def flush() -> None:
            data = conn.data_to_send()
            if data:
                sock.sendall(data)

        def answer(stream_id: int) -> None:
            with lock:
                fields, body = heads.pop(stream_id), bytes(bodies.pop(stream_id, b""))
            head = dict(fields)
            request = Request(method=head.get(":method", ""), target=head.get(":path", ""),
                              http_version="2", body=body,
                              headers=tuple((k, v) for k, v in fields if not k.startswith(":")))
            try:
                response = self.handler(request)
            except Exception as exc:  # a handler bug answers 500; the server goes on
                response = Response.text(500, f"500 Internal Server Error: {exc}\n")
            if response.delay:
                time.sleep(response.delay)
            with lock, contextlib.suppress(OSError, h2.exceptions.ProtocolError):
                conn.send_headers(stream_id, [(":status", str(response.status)),
                                              ("content-length", str(len(response.body))),
                                              *response.headers])
                conn.send_data(stream_id, response.body, end_stream=True)
                flush()

        try:
            with lock:
                conn.initiate_connection()
                flush()
            while data := sock.recv(RECV_SIZE):
                with lock:
                    events = conn.receive_data(data)
                    for ev in events:
                        if isinstance(ev, h2.events.RequestReceived) and ev.stream_id:
                            heads[ev.stream_id] = [(str(k), str(v)) for k, v in ev.headers or ()]
                        elif isinstance(ev, h2.events.DataReceived) and ev.stream_id:
                            bodies.setdefault(ev.stream_id, bytearray()).extend(ev.data or b"")
                            conn.acknowledge_received_data(ev.flow_controlled_length or 0,
                                                           ev.stream_id)
                        elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id:
                            w = threading.Thread(target=answer, args=(ev.stream_id,),
                                                 daemon=True, name="netlab-h2-stream")
                            workers.append(w)
                            w.start()
                        elif isinstance(ev, h2.events.ConnectionTerminated):
                            return
                    flush()
        except (OSError, h2.exceptions.ProtocolError):
            pass  # a broken connection ends only itself
        finally:
            for w in workers:
                w.join(5.0)


@contextlib.contextmanager
def serving_h2(host: Place, handler: Callable[[Request], Response], *, port: int = 8080
               ) -> Iterator[Http2Server]:
    """Serve HTTP/2 on ``host.address:port`` inside a lab host until the block ends."""
    server = Http2Server(handler)
    with listening(host, server, port):
        yield server


@dataclass(frozen=True, kw_only=True)
class Arrival:
    """A response as the client saw it complete."""

    target: str
    stream_id: int
    response: Response
    at: float
    """``time.monotonic()`` when its last frame was read."""


class Http2Client:
    """An HTTP/2 client on one connection: send several GETs at once, collect the answers."""

    def __init__(self, sock: socket.socket, authority: str, *, timeout: float = 5.0) -> None:
        self.sock = sock
        self.authority = authority
        self.timeout = timeout
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding="utf-8"))

    @classmethod
    def connect(cls, host: Place, address: str, port: int = 8080, *, timeout: float = 5.0
                ) -> Http2Client:
        sock = host.run(socket.create_connection, (address, port), timeout)
        return cls(sock, f"{address}:{port}", timeout=timeout)

    def _read(self, handle: Callable[[list[h2.events.Event]], bool]) -> None:
        """Read, and give each batch of events to ``handle``, until it returns True."""
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ExperimentError(f"HTTP/2: no answer within {self.timeout} s")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(RECV_SIZE)
            except TimeoutError:
                continue
            if not data:
                raise ExperimentError("HTTP/2: the server closed the connection")
            finished = handle(self.conn.receive_data(data))
            if out := self.conn.data_to_send():
                self.sock.sendall(out)
            if finished:
                return

    def start(self) -> None:
        """Send the connection preface and SETTINGS; wait for the server's SETTINGS."""
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())
        self._read(lambda evs: any(isinstance(e, h2.events.RemoteSettingsChanged) for e in evs))

    def get_all(self, targets: Sequence[str]) -> list[Arrival]:
        """Send a GET for every target at once, then read until all are answered, in the
        order they complete."""
        streams = {}
        for target in targets:
            sid = self.conn.get_next_available_stream_id()
            self.conn.send_headers(sid, [(":method", "GET"), (":path", target),
                                         (":scheme", "http"), (":authority", self.authority)],
                                   end_stream=True)
            streams[sid] = target
        self.sock.sendall(self.conn.data_to_send())
        heads: dict[int, dict[str, str]] = {}
        bodies: dict[int, bytearray] = {}
        done: list[Arrival] = []

        def collect(events: list[h2.events.Event]) -> bool:
            for ev in events:
                if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id:
                    heads[ev.stream_id] = {str(k): str(v) for k, v in ev.headers or ()}
                elif isinstance(ev, h2.events.DataReceived) and ev.stream_id:
                    bodies.setdefault(ev.stream_id, bytearray()).extend(ev.data or b"")
                    self.conn.acknowledge_received_data(ev.flow_controlled_length or 0,
                                                        ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id in streams:
                    sid = ev.stream_id
                    head = heads.get(sid, {})
                    done.append(Arrival(target=streams[sid], stream_id=sid, at=time.monotonic(),
                                        response=Response(
                                            status=int(head.get(":status", "0")),
                                            body=bytes(bodies.get(sid, b"")), http_version="2",
                                            headers=tuple((k, v) for k, v in head.items()
                                                          if not k.startswith(":")))))
            return len(done) == len(streams)

        self._read(collect)
        return done

    def close(self) -> None:
        with contextlib.suppress(OSError, h2.exceptions.ProtocolError):
            self.conn.close_connection()
            self.sock.sendall(self.conn.data_to_send())
        self.sock.close()

    def __enter__(self) -> Http2Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
