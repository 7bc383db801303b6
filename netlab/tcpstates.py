"""TCP connection states: one table read by code, tests and pages.

Linux numbers its TCP states in ``include/net/tcp_states.h``; the same numbers appear in
``/proc/net/tcp`` (hexadecimal) and in ``tcpi_state`` of ``TCP_INFO``. RFC 9293 §3.3.2 names
the states of the protocol. The enum below pairs the two: its value is the kernel's number,
``rfc_name`` the RFC's name. We print the names the way
``netstat`` and most textbooks do (``SYN_SENT``, ``FIN_WAIT_1``), which are the RFC names
with underscores.

>>> from netlab.tcpstates import TcpState
>>> TcpState.from_kernel(2).name
'SYN_SENT'
>>> TcpState.from_kernel(0x0A)
<TcpState.LISTEN: 10>
>>> TcpState.CLOSED.rfc_name
'CLOSED'
"""

from __future__ import annotations

import enum

__all__ = ["TcpState"]


class TcpState(enum.IntEnum):
    """A TCP state, valued by the Linux kernel's number for it."""

    ESTABLISHED = 1
    SYN_SENT = 2
    SYN_RECV = 3
    FIN_WAIT_1 = 4
    FIN_WAIT_2 = 5
    TIME_WAIT = 6
    CLOSED = 7  # the kernel calls it TCP_CLOSE
    CLOSE_WAIT = 8
    LAST_ACK = 9
    LISTEN = 10
    CLOSING = 11
    NEW_SYN_RECV = 12  # a request socket; /proc/net/tcp reports it as SYN_RECV

    @classmethod
    def from_kernel(cls, code: int) -> TcpState:
        """The state for a kernel state number (``tcpi_state`` or ``/proc/net/tcp``)."""
        try:
            state = cls(code)
        except ValueError:
            raise ValueError(f"unknown kernel TCP state number {code!r}") from None
        return cls.SYN_RECV if state is cls.NEW_SYN_RECV else state

    @property
    def rfc_name(self) -> str:
        """The name RFC 9293 §3.3.2 gives this state (``SYN-RECEIVED`` …)."""
        return _RFC_NAMES[self]


_RFC_NAMES = {
    TcpState.ESTABLISHED: "ESTABLISHED",
    TcpState.SYN_SENT: "SYN-SENT",
    TcpState.SYN_RECV: "SYN-RECEIVED",
    TcpState.FIN_WAIT_1: "FIN-WAIT-1",
    TcpState.FIN_WAIT_2: "FIN-WAIT-2",
    TcpState.TIME_WAIT: "TIME-WAIT",
    TcpState.CLOSED: "CLOSED",
    TcpState.CLOSE_WAIT: "CLOSE-WAIT",
    TcpState.LAST_ACK: "LAST-ACK",
    TcpState.LISTEN: "LISTEN",
    TcpState.CLOSING: "CLOSING",
    TcpState.NEW_SYN_RECV: "SYN-RECEIVED",
}
