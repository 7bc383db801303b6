"""Kernel TCP states, read two ways.

* For a socket you hold: ``getsockopt(TCP_INFO)``, whose first byte is ``tcpi_state``.
* For sockets you do not hold (the server's half-open connections, say):
  ``/proc/net/tcp``, which lists every TCP socket of a network namespace. Read it from a
  thread inside that namespace, through ``/proc/thread-self/net``: ``/proc/net`` is
  ``/proc/self/net``, and ``self`` is the process's main thread, which may live elsewhere.

Both report the kernel's state numbers; :class:`netlab.tcpstates.TcpState` names them.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from netlab.tcpstates import TcpState

__all__ = ["socket_state", "SocketEntry", "tcp_sockets", "parse_proc_net_tcp", "StateSample"]


def socket_state(sock: socket.socket) -> TcpState:
    """The kernel's TCP state of a socket you hold (``TCP_INFO``)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    return TcpState.from_kernel(info[0])


@dataclass(frozen=True, kw_only=True)
class SocketEntry:
    """One line of ``/proc/net/tcp``."""

    local: tuple[str, int]
    remote: tuple[str, int]
    state: TcpState
    tx_queue: int
    rx_queue: int
    """Receive queue; for a LISTEN socket, the connections waiting in the accept queue."""


def _address(field: str) -> tuple[str, int]:
    # The kernel prints each 32-bit word of the address as a host-order integer.
    host, port = field.split(":")
    words = [int(host[i : i + 8], 16) for i in range(0, len(host), 8)]
    raw = b"".join(struct.pack("=I", w) for w in words)
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, raw), int(port, 16)


def parse_proc_net_tcp(text: str) -> list[SocketEntry]:
    """Parse the text of ``/proc/net/tcp`` or ``/proc/net/tcp6``.

    >>> from netlab.states import parse_proc_net_tcp
    >>> line = ("   0: 020200C0:1F90 00000000:0000 0A 00000000:00000001 00:00000000 "
    ...         "00000000     0        0 4617 1 0000000000000000 100 0 0 10 0")
    >>> [entry] = parse_proc_net_tcp("header\\n" + line)
    >>> entry.local, entry.state.name, entry.rx_queue
    (('192.0.2.2', 8080), 'LISTEN', 1)
    """
    entries = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 5:
            continue
        tx, rx = fields[4].split(":")
        entries.append(SocketEntry(
            local=_address(fields[1]),
            remote=_address(fields[2]),
            state=TcpState.from_kernel(int(fields[3], 16)),
            tx_queue=int(tx, 16),
            rx_queue=int(rx, 16),
        ))
    return entries


def tcp_sockets() -> list[SocketEntry]:
    """Every TCP socket of the calling thread's network namespace."""
    entries = []
    for name in ("tcp", "tcp6"):
        path = Path("/proc/thread-self/net") / name
        if path.exists():
            entries += parse_proc_net_tcp(path.read_text())
    return entries


@dataclass(frozen=True, kw_only=True)
class StateSample:
    """The state of one host's side of a connection at one moment."""

    host: str
    state: TcpState
    timestamp_ns: int
    note: str = ""

    @classmethod
    def now(cls, host: str, state: TcpState, note: str = "") -> StateSample:
        """A sample taken now (same clock as packet timestamps: CLOCK_REALTIME)."""
        return cls(host=host, state=state, timestamp_ns=time.time_ns(), note=note)
