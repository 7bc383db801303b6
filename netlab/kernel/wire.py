"""A userspace wire: two interfaces bridged frame by frame by a thread.

The wire sits in a namespace of its own between two hosts. It reads every frame that
arrives on one interface through an AF_PACKET socket and writes it out of the other,
unless told otherwise:

``pass``
    forward, after the link's one-way ``delay`` if it has one (and at its ``rate``, losing a
    ``loss`` fraction of frames at random, if given): a link with a real round-trip time,
    where the kernel has no netem;
``step``
    hold each frame until :meth:`Wire.release` is called, so an experiment can read both
    kernels' TCP states between two segments (a handshake in slow motion);
``drop``
    discard every frame (a cable cut, or a host that never answers).

In any mode, :meth:`Wire.drop_when` loses only the frames an experiment chooses (the
first SYN-ACK, say), a given number of times, and keeps them; :meth:`Wire.inject` puts a
frame on the wire toward one end, as if it had been delayed in the network all along
(an old duplicate) or sent by a host that is not in the lab.

The endpoints must have TX checksum offload off (see
:func:`netlab.kernel.link.checksum_offload_off`), otherwise frames cross with unfinished
checksums and the receiver drops them.
"""

from __future__ import annotations

import heapq
import itertools
import os
import random
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from netlab.errors import ExperimentError, LabError
from netlab.kernel.link import Interface

__all__ = ["DropRule", "Wire", "WireMode"]

WireMode = Literal["pass", "step", "drop"]
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


@dataclass(frozen=True)
class _Held:
    data: bytes
    out: socket.socket


@dataclass(eq=False)
class DropRule:
    """Frames the wire loses on purpose: those ``predicate`` accepts, ``count`` times at most.

    Made by :meth:`Wire.drop_when`; ``frames`` keeps every frame it dropped, in order, so an
    experiment can show it, or put it back on the wire later (:meth:`Wire.inject`).
    """

    predicate: Callable[[bytes], bool]
    count: int
    frames: list[bytes] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """True once the rule has dropped its ``count`` frames (it drops no more)."""
        return len(self.frames) >= self.count


class Wire:
    """Bridge interfaces ``a`` and ``b`` (both in the wire's namespace).

    Args:
        mode: ``"pass"``, ``"step"`` or ``"drop"`` (see above); can be changed later.
        delay: one-way delay in seconds, each direction (the round trip is twice this).
        loss: the fraction of frames to lose at random in ``pass`` mode (0 to 1).
        rate: the link's bit rate in bit/s (frames queue behind each other), or None.
        seed: the seed of the random loss, so a run can be repeated.
    """

    def __init__(self, a: Interface, b: Interface, *, mode: WireMode = "pass",
                 delay: float = 0.0, loss: float = 0.0, rate: float | None = None,
                 seed: int = 0) -> None:
        if delay < 0 or not 0 <= loss <= 1 or (rate is not None and rate <= 0):
            raise LabError(f"bad link parameters: delay={delay} loss={loss} rate={rate}")
        self._mode: WireMode = mode
        self.delay = delay
        self.loss = loss
        self.rate = rate
        self._random = random.Random(seed)
        self._held: deque[_Held] = deque()
        self._rules: list[DropRule] = []
        self._due: list[tuple[float, int, bytes, socket.socket]] = []  # a heap, by due time
        self._order = itertools.count()
        self._free_at: dict[int, float] = {}  # per direction: when the last frame is sent
        self._cond = threading.Condition()
        self.forwarded = 0
        self.dropped = 0
        """Frames discarded in ``drop`` mode or by a :class:`DropRule`."""
        self.lost = 0
        """Frames lost at random (``loss``) in ``pass`` mode."""
        self.injected = 0
        """Frames put on the wire by :meth:`inject`."""
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
            timeout = max(0.0, self._due[0][0] - time.monotonic()) if self._due else None
            ready, _, _ = select.select([*sock, self._wake_r], [], [], timeout)
            if self._wake_r in ready:
                return
            self._send_due()
            for fd in ready:
                s = sock[fd]
                data, addr = s.recvfrom(65536)
                if addr[2] == PACKET_OUTGOING:  # our own transmission, seen by our socket
                    continue
                with self._cond:
                    if self._rule_drops(data):
                        self.dropped += 1
                    elif self._mode == "pass":
                        self._forward(fd, data, peer[fd])
                    elif self._mode == "drop":
                        self.dropped += 1
                    else:
                        self._held.append(_Held(data, peer[fd]))
                    self._cond.notify_all()

    def _rule_drops(self, data: bytes) -> bool:
        for rule in self._rules:
            if not rule.done and rule.predicate(data):
                rule.frames.append(data)
                return True
        return False

    def drop_when(self, predicate: Callable[[bytes], bool], count: int = 1) -> DropRule:
        """Lose the next ``count`` frames (either direction) for which ``predicate`` is true.

        The predicate gets each Ethernet frame's bytes, in the wire's thread: keep it quick
        and let it not raise. Rules are tried in the order they were made, before the mode
        applies, so a rule works in ``pass`` and ``step`` mode alike.
        """
        if count < 1:
            raise LabError(f"a drop rule drops at least one frame, not {count}")
        rule = DropRule(predicate, count)
        with self._cond:
            self._rules.append(rule)
        return rule

    def wait_dropped(self, rule: DropRule, timeout: float = 2.0) -> None:
        """Block until ``rule`` has dropped all its frames, at most ``timeout`` seconds."""
        with self._cond:
            if not self._cond.wait_for(lambda: rule.done, timeout):
                raise ExperimentError(
                    f"expected the wire to drop {rule.count} chosen frame(s) within "
                    f"{timeout} s, it dropped {len(rule.frames)}")

    def inject(self, frame: bytes, *, toward: Literal["a", "b"]) -> None:
        """Send ``frame`` out of end ``a`` or ``b`` now, to the host on that side.

        The frame is sent as it is: it must be a whole Ethernet frame addressed to that host
        (a frame a drop rule kept, or one built for it).
        """
        with self._cond:
            self._socks[0 if toward == "a" else 1].send(frame)
            self.injected += 1

    def _forward(self, direction: int, data: bytes, out: socket.socket) -> None:
        if self.loss and self._random.random() < self.loss:
            self.lost += 1
            return
        if not self.delay and self.rate is None:
            out.send(data)
            self.forwarded += 1
            return
        now = time.monotonic()
        leaves = now
        if self.rate is not None:  # serialisation: the frame waits for the ones before it
            leaves = max(now, self._free_at.get(direction, now)) + len(data) * 8 / self.rate
            self._free_at[direction] = leaves
        heapq.heappush(self._due, (leaves + self.delay, next(self._order), data, out))

    def _send_due(self) -> None:
        now = time.monotonic()
        with self._cond:
            while self._due and self._due[0][0] <= now:
                _, _, data, out = heapq.heappop(self._due)
                out.send(data)
                self.forwarded += 1

    def describe(self) -> str:
        """What the wire does, in words (for pages: which mechanism delays the link)."""
        parts = [f"one-way delay {self.delay * 1000:g} ms"] if self.delay else []
        if self.loss:
            parts.append(f"loss {self.loss:.1%}")
        if self.rate:
            parts.append(f"rate {self.rate / 1e6:g} Mbit/s")
        return "userspace wire (AF_PACKET bridge)" + (": " + ", ".join(parts) if parts else "")

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
            before = self.forwarded + self.dropped + self.lost + len(self._held)
        time.sleep(quiet)
        with self._cond:
            after = self.forwarded + self.dropped + self.lost
            return not self._held and not self._due and after == before

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
