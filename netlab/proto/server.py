"""What every server of the lab shares: a thread per connection, and a stop that ends them all.

A protocol's server subclasses :class:`ThreadedServer` and writes only
:meth:`~ThreadedServer.serve_connection`; :func:`listening` runs it inside a lab host for the
length of a ``with`` block. Stopping is the part that is easy to get wrong: a thread blocked
in ``accept()`` or ``recv()`` does not notice that its socket was closed by another thread,
so the listener and every open connection are *shut down* (which wakes them), and the
threads are joined with a deadline, so a stuck one is reported instead of leaked.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

from netlab.errors import ExperimentError
from netlab.proto.place import Place

__all__ = ["ThreadedServer", "listening"]


class ThreadedServer:
    """Serves each accepted connection on a thread of its own, until :meth:`stop`."""

    thread_name = "netlab-connection"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    def serve_connection(self, conn: socket.socket) -> None:
        """Serve one connection until it ends (subclasses say how); ``conn`` is closed after."""
        raise NotImplementedError

    @property
    def open_connections(self) -> int:
        """Connections being served right now."""
        with self._lock:
            return len(self._open)

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.serve_connection(conn)
        finally:
            conn.close()
            with self._lock:
                self._open.discard(conn)

    def serve_forever(self, listener: socket.socket) -> None:
        """Accept connections, one thread each, until ``listener`` is shut down or closed."""
        listener.settimeout(None)
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # the listener was shut down: the server is stopping
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True,
                                 name=self.thread_name)
            with self._lock:
                self._open.add(conn)
                self._threads.append(t)
            t.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Shut down every open connection and wait for their threads to end.

        Raises:
            ExperimentError: if a thread is still running after ``timeout`` seconds.
        """
        with self._lock:
            conns, threads = list(self._open), list(self._threads)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t for t in threads if t.is_alive()]
        if alive:
            raise ExperimentError(f"{len(alive)} {self.thread_name} threads still running "
                                  f"{timeout} s after the server was stopped")


@contextlib.contextmanager
def listening(host: Place, server: ThreadedServer, port: int, *, address: str | None = None,
              backlog: int = 32) -> Iterator[None]:
    """Run ``server`` on ``address:port`` (the host's first address) inside a lab host.

    On exit the listener is shut down, then the server is stopped: every thread it started
    has ended when the block is left.
    """
    listener = host.run(socket.create_server, (address or host.address, port), backlog=backlog)
    task = host.start(server.serve_forever, listener)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        task.result(5.0)
        server.stop()
