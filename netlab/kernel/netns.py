"""Anonymous network namespaces, entered one thread at a time.

A network namespace is a per-thread property on Linux: ``setns(2)`` and
``unshare(CLONE_NEWNET)`` change only the calling thread. netlab never moves the thread
that called it (the Jupyter kernel's main thread, a test, the CLI): code runs inside a
namespace on a short-lived thread that enters it, and sockets created there belong to that
namespace for their whole life, whichever thread later uses them.

Namespaces here have no name in ``/run/netns``: each is held only by a file descriptor of
this process. When the process ends, however it ends (even by SIGKILL), the kernel drops the
last reference and the namespace disappears with its interfaces, addresses and sockets.
Nothing can be left behind on the host.
"""

from __future__ import annotations

import ctypes
import errno
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from netlab.errors import LabError, PrivilegeError

__all__ = ["Namespace", "Task"]

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        if err == errno.EPERM:
            raise PrivilegeError(what)
        raise LabError(f"{what} failed: {os.strerror(err)}")


def _new_namespace_fd() -> int:
    """Create a network namespace on a throw-away thread; return a descriptor holding it."""
    box: queue.Queue[int | BaseException] = queue.Queue()

    def body() -> None:
        try:
            _check(_libc.unshare(CLONE_NEWNET), "Creating a network namespace")
            box.put(os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC))
        except BaseException as exc:  # handed to the caller below
            box.put(exc)

    thread = threading.Thread(target=body, name="netlab-unshare")
    thread.start()
    thread.join()
    result = box.get_nowait()
    if isinstance(result, BaseException):
        raise result
    return result


class Task:
    """Code running in the background inside a namespace (see :meth:`Namespace.start`)."""

    def __init__(self, thread: threading.Thread, box: queue.Queue[tuple[bool, Any]]) -> None:
        self._thread = thread
        self._box = box

    def done(self) -> bool:
        """Whether the code has finished (returned or raised)."""
        return not self._thread.is_alive()

    def result(self, timeout: float = 10.0) -> Any:
        """Wait for the code to finish; return its value or raise its exception."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise LabError(f"{self._thread.name} still running after {timeout} s")
        ok, value = self._box.get_nowait()
        if not ok:
            raise value
        return value


class Namespace:
    """A fresh network namespace with its loopback interface up.

    Args:
        name: a label for error messages and thread names (``"client"``).
        ipv6: keep IPv6 enabled. Off by default, so captures carry no IPv6 neighbour
            discovery or router solicitations that the experiment did not cause.
    """

    def __init__(self, name: str, *, ipv6: bool = False) -> None:
        self.name = name
        self._fd: int | None = _new_namespace_fd()
        try:
            self.run(_configure, ipv6)
        except BaseException:
            self.close()
            raise

    @property
    def fd(self) -> int:
        """The descriptor that holds the namespace (for ``IFLA_NET_NS_FD``)."""
        if self._fd is None:
            raise LabError(f"namespace {self.name!r} is closed")
        return self._fd

    def _enter(self) -> None:
        _check(_libc.setns(self.fd, CLONE_NEWNET), f"Entering namespace {self.name!r}")

    def start(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        """Run ``fn(*args, **kwargs)`` on a new thread inside this namespace."""
        box: queue.Queue[tuple[bool, Any]] = queue.Queue()

        def body() -> None:
            try:
                self._enter()
                box.put((True, fn(*args, **kwargs)))
            except BaseException as exc:
                box.put((False, exc))

        thread = threading.Thread(target=body, name=f"netlab-{self.name}", daemon=True)
        thread.start()
        return Task(thread, box)

    def run(self, fn: Callable[..., T], *args: Any, timeout: float = 10.0, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` inside this namespace and return its result."""
        result: T = self.start(fn, *args, **kwargs).result(timeout)
        return result

    def close(self) -> None:
        """Drop this process's hold on the namespace (sockets still open keep it alive)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Namespace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Namespace {self.name}{' closed' if self._fd is None else ''}>"


def _configure(ipv6: bool) -> None:
    # /proc/sys/net belongs to the namespace of the thread that opens it.
    if not ipv6:
        for scope in ("default", "all"):
            with open(f"/proc/sys/net/ipv6/conf/{scope}/disable_ipv6", "w") as f:
                f.write("1")
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
