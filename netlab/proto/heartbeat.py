"""A small message protocol with heartbeats: ping, pong and data over one TCP connection.

Every message is a frame of :mod:`netlab.proto.framing` (a 4-byte big-endian length, then the
message); the message's first byte says what it is:

======  ========  ================================================================
byte    kind      meaning
======  ========  ================================================================
``P``   ping      "are you there?"; the body (4 bytes: a counter) is sent back
``O``   pong      the answer to a ping, with the ping's body
``D``   data      anything the application sends (an update, a chat message)
======  ========  ================================================================

>>> from netlab.proto.heartbeat import HeartbeatMessage, encode, Reader
>>> wire = encode(HeartbeatMessage.ping(7)) + encode(HeartbeatMessage("data", b"hi"))
>>> wire
b'\\x00\\x00\\x00\\x05P\\x00\\x00\\x00\\x07\\x00\\x00\\x00\\x03Dhi'
>>> Reader().feed(wire)  # doctest: +NORMALIZE_WHITESPACE
[HeartbeatMessage(kind='ping', body=b'\\x00\\x00\\x00\\x07'),
 HeartbeatMessage(kind='data', body=b'hi')]

Why heartbeats, when TCP has keepalive? A keepalive probe is answered by the peer's
*kernel*; a pong is sent by the peer's *application*. A server whose program hangs, or
whose event loop is stuck, still answers every keepalive probe and acknowledges every
segment, and only a message that its code must answer shows that it is not working. The
same pings also keep a firewall's or NAT's memory of the connection fresh, like keepalive.

Both ends enforce deadlines, so that neither can be held by a dead or hostile peer:

* :class:`HeartbeatClient` declares the server dead when no pong has come for ``deadline``
  seconds (the server's link is cut, or its application hangs);
* :class:`HeartbeatServer` drops a client that sends nothing for ``idle_deadline`` seconds,
  takes longer than ``message_deadline`` seconds to send a whole message (one byte at a
  time keeps a connection busy but never completes anything), sends a frame longer than
  ``max_frame`` bytes or a message of an unknown kind, or that does not read what it is
  sent for ``write_timeout`` seconds (its pongs would pile up in the server's memory).
  It keeps serving every other client, and each connection it drops leaves no thread or
  descriptor behind.
"""

from __future__ import annotations

import errno
import select
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from netlab.errors import NetlabError
from netlab.proto.framing import Decoder, FramingError
from netlab.proto.framing import encode as encode_frame
from netlab.proto.server import LOG_LIMIT, ThreadedServer

__all__ = ["HeartbeatMessage", "ProtocolError", "encode", "Reader", "HeartbeatEvent",
           "HeartbeatServer", "HeartbeatClient", "Verdict", "KINDS", "MAX_FRAME"]

KINDS = {"ping": b"P", "pong": b"O", "data": b"D"}
"""Each kind of message and its first byte."""
_BY_BYTE = {v: k for k, v in KINDS.items()}
MAX_FRAME = 4096
"""The largest message accepted by default, in bytes (heartbeats and updates are small)."""
_COUNTER = struct.Struct("!I")


class ProtocolError(NetlabError):
    """The peer sent something that is not a message of this protocol.

    ``messages`` holds the well-formed messages that came before the bad one in the same
    chunk, so that a receiver can still act on them, in order, before it gives up.
    """

    def __init__(self, text: str, messages: list[HeartbeatMessage] | None = None) -> None:
        super().__init__(text)
        self.messages = messages or []


@dataclass(frozen=True)
class HeartbeatMessage:
    """One message: its kind (``"ping"``, ``"pong"`` or ``"data"``) and its body."""

    kind: str
    body: bytes = b""

    @classmethod
    def ping(cls, counter: int) -> HeartbeatMessage:
        """A ping carrying a 32-bit counter, which its pong sends back."""
        return cls("ping", _COUNTER.pack(counter % 2**32))

    @property
    def counter(self) -> int:
        """The counter of a ping or pong."""
        return int(_COUNTER.unpack(self.body)[0])


def encode(message: HeartbeatMessage, *, limit: int = MAX_FRAME) -> bytes:
    """The bytes of one message on the wire: a frame holding the kind byte and the body."""
    if message.kind not in KINDS:
        raise ProtocolError(f"unknown message kind {message.kind!r}")
    return encode_frame(KINDS[message.kind] + message.body, limit=limit)


class Reader:
    """Messages from the chunks ``recv()`` returns, however the stream was split.

    Raises :class:`ProtocolError` (at once, before buffering it) for a frame announcing more
    than ``limit`` bytes, and for an empty message or one of an unknown kind.
    """

    def __init__(self, *, limit: int = MAX_FRAME) -> None:
        self._frames = Decoder(limit=limit)

    @property
    def pending(self) -> int:
        """Bytes received of a message not yet complete."""
        return self._frames.pending

    def feed(self, data: bytes) -> list[HeartbeatMessage]:
        """Add received bytes; return the messages they complete."""
        messages: list[HeartbeatMessage] = []
        try:
            frames = self._frames.feed(data)
        except FramingError as exc:
            raise ProtocolError(str(exc), messages) from None
        for frame in frames:
            kind = _BY_BYTE.get(frame[:1])
            if kind is None:
                raise ProtocolError(f"a message of unknown kind {frame[:1]!r}: not this "
                                    "protocol", messages)
            messages.append(HeartbeatMessage(kind, frame[1:]))
        return messages


@dataclass(frozen=True, kw_only=True)
class HeartbeatEvent:
    """Something the server noticed about one connection."""

    time_ns: int
    peer: tuple[str, int]
    what: str
    """``connected``, ``closed by client``, ``bad message``, ``silent client``, ``slow
    message``, ``not reading``, ``stopped``; and, not about one connection (``peer`` is
    ``("", 0)`` or the refused client's), ``refused`` (over the connection cap) and
    ``accept failed``."""
    detail: str = ""


class HeartbeatServer(ThreadedServer):
    """Serve the protocol: pong every ping, from one thread per connection.

    Run it in a lab host with :func:`netlab.proto.server.listening`
    (``with listening(host, HeartbeatServer(), 8080):``), which stops it at the end.

    Args:
        idle_deadline: seconds a client may send nothing before it is dropped.
        message_deadline: seconds from a message's first byte to its last; a slower client
            is dropped.
        max_frame: the largest message accepted, in bytes.
        write_timeout: seconds a send may wait for a client that does not read.
        send_buffer: the kernel's send buffer for each connection (``SO_SNDBUF``), which
            bounds the memory a client that does not read can hold.
        on_data: called with each data message's body; its return value, if not None, is
            sent back as data.
    """

    thread_name = "netlab-heartbeat"

    def __init__(self, *, idle_deadline: float = 3.0, max_frame: int = MAX_FRAME,
                 write_timeout: float = 1.0, send_buffer: int = 65536,
                 on_data: Callable[[bytes], bytes | None] | None = None,
                 message_deadline: float = 2.0) -> None:
        super().__init__()
        self.idle_deadline = idle_deadline
        self.message_deadline = message_deadline
        self.max_frame = max_frame
        self.write_timeout = write_timeout
        self.send_buffer = send_buffer
        self.on_data = on_data
        self.pings = 0
        """Pings answered so far."""
        self._log: deque[HeartbeatEvent] = deque(maxlen=LOG_LIMIT)
        self._awake = threading.Event()
        self._awake.set()
        self._stopping = False

    @property
    def log(self) -> tuple[HeartbeatEvent, ...]:
        """What happened so far, in order."""
        with self._lock:
            return tuple(self._log)

    def _note(self, peer: tuple[str, int], what: str, detail: str = "") -> None:
        with self._lock:
            self._log.append(HeartbeatEvent(time_ns=time.time_ns(), peer=peer, what=what,
                                            detail=detail))

    def note_accept_error(self, exc: OSError, pause: float) -> None:
        name = errno.errorcode.get(exc.errno or 0, "?")
        self._note(("", 0), "accept failed",
                   f"{name} ({exc.strerror}): accepting again in {pause:g} s")

    def note_refused(self, peer: tuple[str, int]) -> None:
        self._note(peer, "refused", f"{self.max_connections} connections open")

    def freeze(self) -> None:
        """Make the application hang: stop reading and answering (the kernel carries on)."""
        self._awake.clear()

    def thaw(self) -> None:
        """Let the application run again."""
        self._awake.set()

    def push(self, body: bytes) -> int:
        """Send a data message to every connected client now; return how many got it."""
        with self._lock:
            conns = list(self._open)
        sent = 0
        for conn in conns:
            try:
                conn.sendall(encode(HeartbeatMessage("data", body), limit=self.max_frame))
                sent += 1
            except OSError:
                pass  # that connection's own thread notices and cleans up
        return sent

    def serve_connection(self, conn: socket.socket) -> None:
        """Answer one client until it leaves, breaks the protocol, falls silent or stops
        reading; every way out is logged before the connection is closed."""
        try:
            peer = conn.getpeername()
        except OSError:  # gone before its thread started: nothing to serve
            return
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(self.write_timeout)
        self._note(peer, "connected")
        reader = Reader(limit=self.max_frame)
        heard = time.monotonic()
        begun: float | None = None  # when the first byte of an incomplete message came
        why, detail = "stopped", ""
        try:
            while not self._stopping:
                if not self._awake.is_set():  # hung: read nothing, answer nothing
                    self._awake.wait(0.05)
                    heard = time.monotonic()  # a hung server notices nothing
                    begun = begun and heard  # nor how long a message is taking
                    continue
                left = self.idle_deadline - (time.monotonic() - heard)
                if left <= 0:
                    why, detail = "silent client", f"nothing for {self.idle_deadline:g} s"
                    break
                if begun is not None:
                    late = self.message_deadline - (time.monotonic() - begun)
                    if late <= 0:
                        why, detail = "slow message", (
                            f"{reader.pending} byte(s) of a message, not complete after "
                            f"{self.message_deadline:g} s")
                        break
                    left = min(left, late)
                ready, _, _ = select.select([conn], [], [], min(left, 0.05))
                if not ready:
                    continue
                data = conn.recv(65536)
                if not data:
                    why = "stopped" if self._stopping else "closed by client"
                    break
                heard = time.monotonic()
                try:
                    messages = reader.feed(data)
                except ProtocolError as exc:  # answer what came before, then give up
                    why, detail = "bad message", str(exc)
                    self._reply(conn, exc.messages)
                    break
                self._reply(conn, messages)
                if not reader.pending:
                    begun = None
                elif messages or begun is None:  # a new message has begun
                    begun = heard
        except TimeoutError:
            why, detail = "not reading", f"a send waited {self.write_timeout:g} s"
        except OSError as exc:
            why, detail = ("stopped", "") if self._stopping else (
                "connection error", exc.strerror or str(exc))
        finally:  # logged first: whoever sees the close or the count drop finds the entry
            self._note(peer, why, detail)

    def _reply(self, conn: socket.socket, messages: list[HeartbeatMessage]) -> None:
        for message in messages:
            reply = self._answer(message)
            if reply is not None:
                conn.sendall(encode(reply, limit=self.max_frame))

    def _answer(self, message: HeartbeatMessage) -> HeartbeatMessage | None:
        if message.kind == "ping":
            self.pings += 1
            return HeartbeatMessage("pong", message.body)
        if message.kind == "data" and self.on_data is not None:
            out = self.on_data(message.body)
            return None if out is None else HeartbeatMessage("data", out)
        return None

    def stop(self, timeout: float = 5.0) -> None:
        """End every connection (a hung server too) and wait for every thread."""
        self._stopping = True
        self._awake.set()
        super().stop(timeout)


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """Why and when a :class:`HeartbeatClient` stopped."""

    reason: str
    """``no pong``, ``closed by server``, ``connection error``, ``bad message`` or ``closed``."""
    time_ns: int
    last_pong_ns: int | None
    detail: str = ""


@dataclass
class _Counts:
    pings: list[int] = field(default_factory=list)
    pongs: list[int] = field(default_factory=list)
    data: list[tuple[int, bytes]] = field(default_factory=list)


class HeartbeatClient:
    """Ping the server every ``interval`` seconds; give up when no pong came for ``deadline``.

    Runs on a thread of its own from construction until :attr:`verdict` is set (the
    server is declared dead, or the connection ends) or :meth:`close` is called. Data
    messages from the server are kept with the time they arrived (:attr:`data`).
    """

    def __init__(self, sock: socket.socket, *, interval: float = 0.25, deadline: float = 1.0,
                 max_frame: int = MAX_FRAME) -> None:
        if not 0 < interval < deadline:
            raise ValueError(f"the interval ({interval} s) must be shorter than the deadline "
                             f"({deadline} s), or one late pong would be fatal")
        self.sock = sock
        self.interval = interval
        self.deadline = deadline
        self._reader = Reader(limit=max_frame)
        self._counts = _Counts()
        self._verdict: Verdict | None = None
        self._done = threading.Event()
        self._stop = False
        self._send_lock = threading.Lock()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(deadline)  # a send to a server that stopped reading cannot hang
        self._thread = threading.Thread(target=self._loop, name="heartbeat-client",
                                        daemon=True)
        self._thread.start()

    @property
    def pings(self) -> tuple[int, ...]:
        """When each ping was sent (``time.time_ns()``)."""
        return tuple(self._counts.pings)

    @property
    def pongs(self) -> tuple[int, ...]:
        """When each pong arrived."""
        return tuple(self._counts.pongs)

    @property
    def data(self) -> tuple[tuple[int, bytes], ...]:
        """Data messages from the server, with the time each arrived."""
        return tuple(self._counts.data)

    @property
    def verdict(self) -> Verdict | None:
        """Why the client stopped, or None while it runs."""
        return self._verdict

    def send(self, body: bytes) -> None:
        """Send a data message to the server."""
        with self._send_lock:
            self.sock.sendall(encode(HeartbeatMessage("data", body)))

    def wait(self, timeout: float) -> Verdict:
        """Block until the client stops; its verdict.

        Raises:
            TimeoutError: if it is still running after ``timeout`` seconds.
        """
        if not self._done.wait(timeout):
            raise TimeoutError(f"the heartbeat client still runs after {timeout} s")
        assert self._verdict is not None
        return self._verdict

    def _finish(self, reason: str, detail: str = "") -> None:
        pongs = self._counts.pongs
        self._verdict = Verdict(reason=reason, time_ns=time.time_ns(),
                                last_pong_ns=pongs[-1] if pongs else None, detail=detail)

    def _loop(self) -> None:
        counter = 0
        heard = next_ping = time.monotonic()
        try:
            while not self._stop:
                now = time.monotonic()
                if now - heard >= self.deadline:
                    self._finish("no pong", f"no pong for {self.deadline:g} s")
                    return
                if now >= next_ping:
                    counter += 1
                    with self._send_lock:
                        self.sock.sendall(encode(HeartbeatMessage.ping(counter)))
                    self._counts.pings.append(time.time_ns())
                    next_ping += self.interval
                wait = max(0.0, min(next_ping, heard + self.deadline) - time.monotonic())
                ready, _, _ = select.select([self.sock], [], [], wait)
                if not ready:
                    continue
                data = self.sock.recv(65536)
                if not data:
                    self._finish("closed by server")
                    return
                for message in self._reader.feed(data):
                    if message.kind == "pong":
                        heard = time.monotonic()
                        self._counts.pongs.append(time.time_ns())
                    elif message.kind == "data":
                        self._counts.data.append((time.time_ns(), message.body))
            self._finish("closed")
        except ProtocolError as exc:
            self._finish("bad message", str(exc))
        except OSError as exc:
            self._finish("connection error", exc.strerror or str(exc))
        finally:
            self._done.set()

    def close(self) -> None:
        """Stop pinging and close the connection."""
        self._stop = True
        self._thread.join(5)
        self.sock.close()

    def __enter__(self) -> HeartbeatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
