"""Where protocol code runs: anything that can run a function in a network namespace.

The servers and clients of ``netlab.proto`` open their sockets by calling code inside a
namespace, so the socket belongs to it (:mod:`netlab.kernel.netns`). They need no more of a
lab host than that: a :class:`Place` runs a function there and waits for it, starts one in
the background, and has an address to listen on. :class:`netlab.lab.lab.Host` is one; a test
may pass anything else that fits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from netlab.kernel.netns import Task

__all__ = ["Place"]

T = TypeVar("T")


class Place(Protocol):
    """What the protocols use of a lab host: ``run``, ``start`` and ``address``."""

    @property
    def address(self) -> str:
        """The IPv4 address a server listens on by default."""
        ...

    def run(self, fn: Callable[..., T], *args: Any, timeout: float = 10.0, **kwargs: Any) -> T:
        """Run ``fn`` inside the namespace and return its result."""
        ...

    def start(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        """Start ``fn`` in the background inside the namespace."""
        ...
