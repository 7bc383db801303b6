"""The sockets the TCP experiments make: a listener, and a client bound to a pinned port.

Each is made by a thread inside a host (``host.run(listening_socket, ...)``), so it belongs to that
host's namespace. Client ports are pinned instead of ephemeral so that every run of a
chapter prints the same table.
"""

from __future__ import annotations

import socket

__all__ = ["listening_socket", "client_socket", "SERVER_PORT", "CLIENT_PORT", "TIMEOUT",
           "STEP_TIMEOUT", "LONG_TIMEOUT"]

#: The server's port: unprivileged, and always free, since the server's namespace is new.
SERVER_PORT = 8080
#: The client's port, pinned instead of ephemeral so that every run prints the same table.
CLIENT_PORT = 40000
#: Seconds: the longest wait for any connection or response of an experiment.
TIMEOUT = 5.0
#: Seconds: the longest wait for any one segment or state where an experiment steps a
#: connection segment by segment (the wire holds each one until it is released).
STEP_TIMEOUT = 2.0
#: Seconds: the longest single wait of the experiments that wait for kernel timers
#: (keepalive, heartbeats, certificate checks by external clients).
LONG_TIMEOUT = 10.0


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
