"""What the wire's predicates and the chapter's transfers need of a frame, without scapy.

The wire calls a :meth:`~netlab.kernel.wire.Wire.drop_if` predicate for every frame in its
own thread, so it must be quick: a few ``struct`` reads of the IPv4 and TCP headers.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TcpHead", "tcp_head", "lose_data_segments", "resent_data", "send_bulk", "receive_all"]


@dataclass(frozen=True)
class TcpHead:
    src: str
    sport: int
    dst: str
    dport: int
    seq: int
    flags: int
    length: int
    """Payload bytes."""


def tcp_head(frame: bytes) -> TcpHead | None:
    """The TCP header fields of an Ethernet frame, or None if it carries no IPv4 TCP."""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, 16)[0]
    t = 14 + ihl
    sport, dport, seq = struct.unpack_from("!HHI", frame, t)
    offset = (frame[t + 12] >> 4) * 4
    return TcpHead(socket.inet_ntoa(frame[26:30]), sport, socket.inet_ntoa(frame[30:34]),
                   dport, seq, frame[t + 13], total - ihl - offset)


def _data_to(frame: bytes, dport: int) -> TcpHead | None:
    """The TCP header of ``frame`` if it is a segment carrying data to ``dport``."""
    head = tcp_head(frame)
    return head if head is not None and head.dport == dport and head.length else None


def lose_data_segments(plan: dict[int, int], *, dport: int) -> Callable[[bytes], bool]:
    """A predicate for :meth:`~netlab.kernel.wire.Wire.drop_if` that loses chosen data
    segments sent to ``dport``: ``plan`` maps a segment's position (from 1, counting each
    sequence number once, so retransmissions are not counted again) to how many of its
    transmissions to lose. ``{5: 1}`` loses the 5th segment once (its retransmission
    passes); ``{1: 4}`` loses the first segment and its next three retransmissions.
    """
    order: dict[int, int] = {}  # sequence number → position
    lost: dict[int, int] = {}  # position → transmissions lost so far
    lock = threading.Lock()

    def predicate(frame: bytes) -> bool:
        head = _data_to(frame, dport)
        if head is None:
            return False
        with lock:
            number = order.setdefault(head.seq, len(order) + 1)
            if lost.get(number, 0) >= plan.get(number, 0):
                return False
            lost[number] = lost.get(number, 0) + 1
            return True

    return predicate


def resent_data(*, dport: int) -> Callable[[bytes], bool]:
    """A predicate (for :meth:`~netlab.kernel.wire.Wire.slow_if`) true of a data segment
    sent to ``dport`` whose sequence number it has seen before: a retransmission."""
    seen: set[int] = set()
    lock = threading.Lock()

    def predicate(frame: bytes) -> bool:
        head = _data_to(frame, dport)
        if head is None:
            return False
        with lock:
            if head.seq in seen:
                return True
            seen.add(head.seq)
            return False

    return predicate


PATTERN = bytes(range(256)) * 256
"""What :func:`send_bulk` sends, again and again."""


def bulk(size: int) -> bytes:
    """The ``size`` bytes :func:`send_bulk` sends: what the receiver must have read."""
    return PATTERN * (size // len(PATTERN)) + PATTERN[:size % len(PATTERN)]


def send_bulk(sock: socket.socket, size: int) -> None:
    """Send ``size`` bytes (a repeating pattern) and close the sending side."""
    block = PATTERN
    left = size
    while left:
        n = min(left, len(block))
        sock.sendall(block[:n])
        left -= n
    sock.shutdown(socket.SHUT_WR)


def receive_all(listener: socket.socket, timeout: float) -> bytes:
    """Accept one connection and read until the peer closes (each recv() within ``timeout``)."""
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(timeout)
        chunks = []
        while chunk := conn.recv(1 << 16):
            chunks.append(chunk)
    return b"".join(chunks)
