"""What every server of the lab shares: a thread per connection, and a stop that ends them all.

A protocol's server subclasses :class:`ThreadedServer` and writes only
:meth:`~ThreadedServer.serve_connection`; :func:`listening` runs it inside a lab host for the
length of a ``with`` block. Stopping is the part that is easy to get wrong: a thread blocked
in ``accept()`` or ``recv()`` does not notice that its socket was closed by another thread,
so the listener and every open connection are *shut down* (which wakes them), and the
threads are joined with a deadline, so a stuck one is reported instead of leaked.

A server must also outlive its clients' excesses, and its own shortages:

* ``accept()`` fails for reasons that end nothing: the process is out of file descriptors
  (``EMFILE``; ``ENFILE`` for the whole system), the kernel is out of memory (``ENOBUFS``,
  ``ENOMEM``), or the client reset its connection while it waited in the queue
  (``ECONNABORTED``). The server counts each one (:attr:`~ThreadedServer.accept_errors`),
  reports it through :meth:`~ThreadedServer.note_accept_error`, waits a little longer each
  time (so that it does not spin while nothing can change), and accepts again; the
  connections waiting in the kernel's queue are served once descriptors are free.
  Any other error (``EINVAL`` once the listener is shut down) stops the server.
* At most :attr:`~ThreadedServer.max_connections` connections are served at once; one more
  is accepted, sent :meth:`~ThreadedServer.refusal` (HTTP's ``503 Service Unavailable``,
  for instance) and closed, and counted in :attr:`~ThreadedServer.refused`.
* Bookkeeping is bounded: a connection's thread forgets itself when it ends, and logs keep
  the last :data:`LOG_LIMIT` entries.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator

from netlab.errors import ExperimentError
from netlab.proto.place import Place

__all__ = ["ThreadedServer", "listening", "TRANSIENT_ACCEPT_ERRORS", "LOG_LIMIT",
           "MAX_CONNECTIONS"]

TRANSIENT_ACCEPT_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM,
                                     errno.ECONNABORTED, errno.EPROTO, errno.EPERM})
"""``accept()`` errors after which the listener still works (accept(2), "Error handling":
"Linux accept() passes already-pending network errors on the new socket as an error code
from accept()")."""
BACKOFF_FIRST = 0.01
BACKOFF_MAX = 0.5
"""Seconds: the first pause after a failed ``accept()``, and the longest (it doubles)."""
LOG_LIMIT = 1000
"""How many entries a server's log keeps (the oldest are dropped)."""
MAX_CONNECTIONS = 128
"""How many connections a server serves at once by default."""


class ThreadedServer:
    """Serves each accepted connection on a thread of its own, until :meth:`stop`."""

    thread_name = "netlab-connection"
    max_connections = MAX_CONNECTIONS
    """Connections served at once; one more is refused (set it on an instance to change it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self.accept_errors: dict[str, int] = Counter()
        """``accept()`` failures the server survived, by errno name (``EMFILE`` …)."""
        self.refused = 0
        """Connections refused because :attr:`max_connections` were open."""
        self.accepted = 0
        """Connections accepted and served."""

    def serve_connection(self, conn: socket.socket) -> None:
        """Serve one connection until it ends (subclasses say how); ``conn`` is closed after."""
        raise NotImplementedError

    def refusal(self) -> bytes:
        """What a connection over :attr:`max_connections` is sent before it is closed."""
        return b""

    def note_accept_error(self, exc: OSError, pause: float) -> None:
        """Report an ``accept()`` failure the server survives (subclasses log it)."""

    def note_refused(self, peer: tuple[str, int]) -> None:
        """Report a connection refused for :attr:`max_connections` (subclasses log it)."""

    @property
    def open_connections(self) -> int:
        """Connections being served right now."""
        with self._lock:
            return len(self._open)

    @property
    def threads(self) -> int:
        """Connection threads that have not ended yet."""
        with self._lock:
            return len(self._threads)

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.serve_connection(conn)
        finally:
            conn.close()
            with self._lock:
                self._open.discard(conn)
                self._threads.discard(threading.current_thread())

    def _turn_away(self, conn: socket.socket) -> None:
        """Send the refusal without waiting (a fresh socket's buffer has room), then close."""
        try:
            peer: tuple[str, int] = conn.getpeername()[:2]
        except OSError:
            peer = ("?", 0)
        with self._lock:  # counted and logged first: whoever sees the close finds them
            self.refused += 1
        self.note_refused(peer)
        with contextlib.suppress(OSError):
            conn.setblocking(False)
            if data := self.refusal():
                conn.send(data)
                conn.shutdown(socket.SHUT_WR)
        conn.close()

    def serve_forever(self, listener: socket.socket) -> None:
        """Accept connections, one thread each, until ``listener`` is shut down or closed."""
        listener.settimeout(None)
        pause = 0.0
        while True:
            try:
                conn, _ = listener.accept()
            except OSError as exc:
                if exc.errno not in TRANSIENT_ACCEPT_ERRORS:
                    return  # EINVAL or EBADF: the listener was shut down, the server stops
                pause = min(BACKOFF_MAX, pause * 2 or BACKOFF_FIRST)
                with self._lock:
                    self.accept_errors[errno.errorcode.get(exc.errno or 0, str(exc.errno))] += 1
                self.note_accept_error(exc, pause)
                time.sleep(pause)
                continue
            pause = 0.0
            with self._lock:
                full = len(self._open) >= self.max_connections
            if full:
                self._turn_away(conn)
                continue
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True,
                                 name=self.thread_name)
            with self._lock:
                self._open.add(conn)
                self._threads.add(t)
                self.accepted += 1
            try:
                t.start()
            except RuntimeError as exc:  # "can't start new thread": out of memory or tasks
                with self._lock:
                    self._open.discard(conn)
                    self._threads.discard(t)
                conn.close()
                pause = min(BACKOFF_MAX, pause * 2 or BACKOFF_FIRST)
                with self._lock:
                    self.accept_errors["thread"] += 1
                self.note_accept_error(OSError(errno.EAGAIN, str(exc)), pause)
                time.sleep(pause)

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
