"""Kernel TCP states, read two ways.

* For a socket you hold: ``getsockopt(TCP_INFO)``, whose first byte is ``tcpi_state``.
* For sockets you do not hold (the server's half-open connections, say):
  ``/proc/net/tcp``, which lists every TCP socket of a network namespace, each with its
  pending timer. Read it from a thread inside that namespace, through
  ``/proc/thread-self/net``: ``/proc/net`` is ``/proc/self/net``, and ``self`` is the
  process's main thread, which may live elsewhere.

Both report the kernel's state numbers; :class:`netlab.model.tcp_states.TcpState` names them.
(:mod:`netlab.kernel.sockdiag` asks the kernel for one socket by its addresses instead, without
walking the table of every socket.)
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from netlab.i18n import N_
from netlab.model.tcp_states import TcpState

__all__ = ["socket_state", "Congestion", "congestion", "parse_tcp_info", "CA_STATES",
           "SocketEntry", "tcp_sockets", "parse_proc_net_tcp", "TIMER_NAMES", "Timer",
           "tcp_timers", "parse_timers"]

#: What the ``tr`` column of /proc/net/tcp says is pending; the names ``ss -o`` prints.
TIMER_NAMES = {0: N_("off"), 1: "on", 2: "keepalive", 3: "timewait", 4: "persist"}


def socket_state(sock: socket.socket) -> TcpState:
    """The kernel's TCP state of a socket you hold (``TCP_INFO``)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    return TcpState.from_kernel(info[0])


TCP_INFINITE_SSTHRESH = 0x7FFFFFFF
"""``snd_ssthresh`` before the first loss: no threshold yet (include/net/tcp.h)."""
_TCP_INFO = struct.Struct("=8B24I4Q6IQ")
"""``struct tcp_info`` (include/uapi/linux/tcp.h) up to ``tcpi_delivery_rate``: 8 bytes of
state and options, 24 32-bit fields (``rto`` … ``total_retrans``), ``pacing_rate``,
``max_pacing_rate``, ``bytes_acked``, ``bytes_received``, six more 32-bit fields
(``segs_out`` … ``data_segs_out``) and ``delivery_rate``: 168 bytes, which every kernel since
4.9 fills."""
CA_STATES = ("Open", "Disorder", "CWR", "Recovery", "Loss")
"""The names of ``tcpi_ca_state``, the sender's congestion-avoidance state machine
(``enum tcp_ca_state``)."""


@dataclass(frozen=True, kw_only=True)
class Congestion:
    """A sender's congestion control at one moment, as ``TCP_INFO`` reports it."""

    ca_state: str
    """The congestion-avoidance state, one of :data:`CA_STATES` (``Recovery`` after duplicate
    ACKs or SACKs, ``Loss`` after a retransmission timeout)."""
    cwnd: int
    """The congestion window, in segments."""
    ssthresh: int | None
    """The slow-start threshold in segments, or ``None`` while there is none yet."""
    rtt_us: int
    """The smoothed round-trip time, in microseconds."""
    mss: int
    """The sender's maximum segment size, in bytes."""
    unacked: int
    """Segments sent and not yet acknowledged (in flight)."""
    total_retrans: int
    """Segments retransmitted since the connection opened."""
    bytes_acked: int
    delivery_rate: int
    """The kernel's latest delivery-rate sample, in bytes per second."""


def parse_tcp_info(raw: bytes) -> Congestion:
    """The congestion fields of a raw ``struct tcp_info``.

    Raises:
        ValueError: ``raw`` is shorter than the 168 bytes read here.
    """
    if len(raw) < _TCP_INFO.size:
        raise ValueError(f"struct tcp_info of {len(raw)} bytes: {_TCP_INFO.size} expected")
    f = _TCP_INFO.unpack_from(raw)
    u32 = f[8:32]  # rto, ato, snd_mss, rcv_mss, unacked, ... total_retrans
    ssthresh = u32[17]
    return Congestion(
        ca_state=CA_STATES[f[1]] if f[1] < len(CA_STATES) else str(f[1]),
        cwnd=u32[18], ssthresh=None if ssthresh >= TCP_INFINITE_SSTHRESH else ssthresh,
        rtt_us=u32[15], mss=u32[2], unacked=u32[4], total_retrans=u32[23],
        bytes_acked=f[34], delivery_rate=f[42])


def congestion(sock: socket.socket) -> Congestion:
    """The congestion control of a TCP socket you hold, now."""
    return parse_tcp_info(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO.size))


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


@dataclass(frozen=True, kw_only=True)
class Timer:
    """A socket's pending timer: the ``tr`` and ``tm->when`` columns of ``/proc/net/tcp``.

    The kernel's documentation calls ``tm->when`` "jiffies until timer expires", but the
    kernel prints it through ``jiffies_delta_to_clock_t()``: in clock ticks of ``USER_HZ``,
    which user space reads as ``sysconf(_SC_CLK_TCK)`` (100 on Linux, whatever ``HZ`` the
    kernel was built with). So 5998 means 59.98 s; ``ss -o`` shows the same timer in seconds.
    """

    kind: int
    """0 none, 1 retransmission, 2 keepalive (or another socket timer), 3 TIME_WAIT, 4 zero
    window probe; Linux keeps an orphaned FIN_WAIT_2 socket as a TIME_WAIT mini-socket, so
    its timer is kind 3 too."""
    ticks: int
    """Clock ticks until the timer fires."""

    @property
    def name(self) -> str:
        """The timer's name as ``ss -o`` prints it (``timewait``), ``off`` if none."""
        return TIMER_NAMES.get(self.kind, "unknown")

    @property
    def seconds(self) -> float:
        """Seconds until the timer fires."""
        return self.ticks / os.sysconf("SC_CLK_TCK")


def _lines(text: str) -> Iterator[list[str]]:
    """The fields of each socket's line: the header and blank lines skipped."""
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5:
            yield fields


def _entry(fields: list[str]) -> SocketEntry:
    tx, rx = fields[4].split(":")
    return SocketEntry(
        local=_address(fields[1]),
        remote=_address(fields[2]),
        state=TcpState.from_kernel(int(fields[3], 16)),
        tx_queue=int(tx, 16),
        rx_queue=int(rx, 16),
    )


def _timer(fields: list[str]) -> Timer:
    kind, when = fields[5].split(":")
    return Timer(kind=int(kind, 16), ticks=int(when, 16))


def parse_proc_net_tcp(text: str) -> list[SocketEntry]:
    """Parse the text of ``/proc/net/tcp`` or ``/proc/net/tcp6``.

    >>> from netlab.kernel.tcp_info import parse_proc_net_tcp
    >>> line = ("   0: 020200C0:1F90 00000000:0000 0A 00000000:00000001 00:00000000 "
    ...         "00000000     0        0 4617 1 0000000000000000 100 0 0 10 0")
    >>> [entry] = parse_proc_net_tcp("header\\n" + line)
    >>> entry.local, entry.state.name, entry.rx_queue
    (('192.0.2.2', 8080), 'LISTEN', 1)
    """
    return [_entry(fields) for fields in _lines(text)]


def parse_timers(text: str) -> list[tuple[SocketEntry, Timer]]:
    """Every line of ``/proc/net/tcp``, with its timer.

    >>> from netlab.kernel.tcp_info import parse_timers
    >>> line = ("   0: 010200C0:9C40 020200C0:1F90 06 00000000:00000000 03:0000176E "
    ...         "00000000     0        0 0 3 00000000568873ac")
    >>> [(entry, timer)] = parse_timers("header\\n" + line)
    >>> entry.state.name, timer.name, timer.ticks, timer.seconds
    ('TIME_WAIT', 'timewait', 5998, 59.98)
    """
    return [(_entry(fields), _timer(fields)) for fields in _lines(text)]


def _proc_net_tcp() -> Iterator[str]:
    """The texts of the calling thread's ``/proc/net/tcp`` and ``/proc/net/tcp6``."""
    for name in ("tcp", "tcp6"):
        path = Path("/proc/thread-self/net") / name
        if path.exists():
            yield path.read_text()


def tcp_sockets() -> list[SocketEntry]:
    """Every TCP socket of the calling thread's network namespace."""
    return [entry for text in _proc_net_tcp() for entry in parse_proc_net_tcp(text)]


def tcp_timers() -> list[tuple[SocketEntry, Timer]]:
    """Every TCP socket of the calling thread's network namespace, with its pending timer."""
    return [found for text in _proc_net_tcp() for found in parse_timers(text)]

