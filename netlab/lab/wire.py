"""A userspace wire: two interfaces bridged frame by frame by a thread.

The wire sits in a namespace of its own between two hosts. It reads every frame that
arrives on one interface through an AF_PACKET socket and writes it out of the other,
unless told otherwise:

``pass``
    forward at once;
``step``
    hold each frame until :meth:`Wire.release` is called, so an experiment can read both
    kernels' TCP states between two segments (a handshake in slow motion);
``drop``
    discard every frame (a cable cut, or a host that never answers).

The endpoints must have TX checksum offload off (see
:func:`netlab.lab.link.checksum_offload_off`), otherwise frames cross with unfinished
checksums and the receiver drops them.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

from netlab.errors import ExperimentError, LabError
from netlab.lab.link import Interface

__all__ = ["Wire", "WireMode"]

WireMode = Literal["pass", "step", "drop"]
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


@dataclass(frozen=True)
class _Held:
    data: bytes
    out: socket.socket


class Wire:
    """Bridge interfaces ``a`` and ``b`` (both in the wire's namespace)."""

    def __init__(self, a: Interface, b: Interface, *, mode: WireMode = "pass") -> None:
        self._mode: WireMode = mode
        self._held: deque[_Held] = deque()
        self._cond = threading.Condition()
        self.forwarded = 0
        self.dropped = 0
        self._socks = [a.ns.run(_bound_socket, a.name), b.ns.run(_bound_socket, b.name)]
        self._wake_r, self._wake_w = os.pipe()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="netlab-wire", daemon=True)
        self._thread.start()

    @property
    def mode(self) -> WireMode:
        return self._mode

    @mode.setter
    def mode(self, mode: WireMode) -> None:
        with self._cond:
            self._mode = mode

    def _loop(self) -> None:
        sa, sb = self._socks
        sock = {sa.fileno(): sa, sb.fileno(): sb}
        peer = {sa.fileno(): sb, sb.fileno(): sa}
        while True:
            ready, _, _ = select.select([*sock, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            for fd in ready:
                s = sock[fd]
                data, addr = s.recvfrom(65536)
                if addr[2] == PACKET_OUTGOING:  # our own transmission, seen by our socket
                    continue
                with self._cond:
                    if self._mode == "pass":
                        peer[fd].send(data)
                        self.forwarded += 1
                    elif self._mode == "drop":
                        self.dropped += 1
                    else:
                        self._held.append(_Held(data, peer[fd]))
                    self._cond.notify_all()

    def held(self) -> int:
        """How many frames the wire is holding now."""
        with self._cond:
            return len(self._held)

    def wait_held(self, count: int = 1, timeout: float = 2.0) -> None:
        """Block until the wire holds at least ``count`` frames (``step`` mode)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._held) >= count, timeout):
                raise ExperimentError(
                    f"expected {count} frame(s) on the wire within {timeout} s, "
                    f"got {len(self._held)}"
                )

    def release(self) -> bytes:
        """Forward the oldest held frame; return its bytes."""
        with self._cond:
            if not self._held:
                raise LabError("release() with no frame held on the wire")
            frame = self._held.popleft()
            frame.out.send(frame.data)
            self.forwarded += 1
            return frame.data

    def idle(self, quiet: float = 0.05) -> bool:
        """True when no frame arrives during ``quiet`` seconds and none is held."""
        with self._cond:
            before = self.forwarded + self.dropped + len(self._held)
        time.sleep(quiet)
        with self._cond:
            return not self._held and self.forwarded + self.dropped == before

    def close(self) -> None:
        """Stop the thread and close the sockets (held frames are discarded)."""
        if self._stop:
            return
        self._stop = True
        os.write(self._wake_w, b"x")
        self._thread.join(5)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        for s in self._socks:
            s.close()


def _bound_socket(ifname: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, ETH_P_ALL))
    return s
