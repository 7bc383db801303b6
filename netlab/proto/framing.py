"""Messages over a byte stream: a tiny length-prefixed framing, the way real protocols do it.

TCP delivers bytes, not messages (RFC 9293 §2.2: "the data stream … is conceptually an
unbroken stream of octets"): three ``send()`` calls may come out of one ``recv()``, and one
``send()`` may come out of several. A protocol on top of TCP must say where each message
ends. Two ways are common:

* a **length prefix**: each message is preceded by its length (TLS records, HTTP/2 frames,
  WebSocket frames, DNS over TCP's two-byte length, RFC 1035 §4.2.2);
* a **delimiter**: each message ends with a byte sequence that cannot occur inside it
  (HTTP/1.1's header lines end in CRLF, RFC 9112 §2.1; SMTP, Redis).

This module implements the first with a 4-byte big-endian ("network order") length:

>>> from netlab.proto.framing import Decoder, encode
>>> wire = encode(b"one") + encode(b"two")
>>> wire
b'\\x00\\x00\\x00\\x03one\\x00\\x00\\x00\\x03two'
>>> d = Decoder()
>>> d.feed(wire[:5]), d.feed(wire[5:])
([], [b'one', b'two'])
>>> d.close()
"""

from __future__ import annotations

import struct

from netlab.errors import NetlabError

__all__ = ["FramingError", "encode", "Decoder", "split_lines", "HEADER", "MAX_MESSAGE"]

HEADER = struct.Struct("!I")
"""The length prefix, an unsigned 32-bit integer in network byte order."""
MAX_MESSAGE = 1 << 20
"""The largest message accepted, 1 MiB, so that a peer cannot make us buffer 4 GiB by lying."""


class FramingError(NetlabError):
    """The byte stream does not hold well-formed frames."""


def encode(message: bytes, *, limit: int = MAX_MESSAGE) -> bytes:
    """One message as a frame: its length (4 bytes, big-endian), then the message itself."""
    if len(message) > limit:
        raise FramingError(f"message of {len(message)} bytes exceeds the limit of {limit}")
    return HEADER.pack(len(message)) + message


class Decoder:
    """Turns the chunks ``recv()`` returns, however the stream was split, into messages.

    Args:
        limit: the largest message length accepted; a longer prefix is an error at once,
            before any of the message is buffered.
    """

    def __init__(self, *, limit: int = MAX_MESSAGE) -> None:
        self.limit = limit
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received that do not yet make a whole frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes from the stream; return the messages they complete, in order.

        Raises:
            FramingError: if a length prefix exceeds the limit.
        """
        self._buffer += data
        messages = []
        at = 0  # the consumed bytes are dropped once, at the end: linear in the chunk's size
        try:
            while len(self._buffer) - at >= HEADER.size:
                (length,) = HEADER.unpack_from(self._buffer, at)
                if length > self.limit:
                    raise FramingError(f"frame announces {length} bytes, more than the limit "
                                       f"of {self.limit}: not this protocol, or a hostile peer")
                end = at + HEADER.size + length
                if len(self._buffer) < end:
                    break
                messages.append(bytes(self._buffer[at + HEADER.size:end]))
                at = end
        finally:
            del self._buffer[:at]
        return messages

    def close(self) -> None:
        """The stream has ended (``recv()`` returned ``b""``): nothing may be left over.

        Raises:
            FramingError: if the stream ended inside a frame (a truncated message).
        """
        if self._buffer:
            raise FramingError(f"the stream ended inside a frame: {len(self._buffer)} byte(s) "
                               "of an incomplete message left over")


def split_lines(data: bytes, *, delimiter: bytes = b"\r\n") -> tuple[list[bytes], bytes]:
    """Delimiter framing: the complete lines in ``data`` and the unfinished rest.

    >>> from netlab.proto.framing import split_lines
    >>> split_lines(b"GET / HTTP/1.1\\r\\nHost: a\\r\\nAcc")
    ([b'GET / HTTP/1.1', b'Host: a'], b'Acc')
    """
    *lines, rest = data.split(delimiter)
    return lines, rest
