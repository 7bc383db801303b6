"""The sockets the TCP experiments make: a listener, and a client bound to a pinned port.

Each is made by a thread inside a host (``host.run(listening_socket, ...)``), so it belongs to that
host's namespace. Client ports are pinned instead of ephemeral so that every run of a
chapter prints the same table.
"""

from __future__ import annotations

import socket

__all__ = ["listening_socket", "client_socket"]


def listening_socket(address: str, port: int, *, backlog: int = 8, reuse: bool = False,
             timeout: float = 2.0) -> socket.socket:
    """A TCP socket listening on ``address:port``; ``accept()`` gives up after ``timeout``.

    Args:
        reuse: set SO_REUSEADDR, so the port can be bound again while an old connection on
            it is still in TIME_WAIT.
    """
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(backlog)
    s.settimeout(timeout)
    return s


def client_socket(address: str, port: int) -> socket.socket:
    """A TCP socket bound to ``address:port``, not yet connected."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((address, port))
    return s
