"""A userspace wire: two interfaces bridged frame by frame by a thread.

The wire sits in a namespace of its own between two hosts. It reads every frame that
arrives on one interface through an AF_PACKET socket and writes it out of the other,
unless told otherwise:

``pass``
    forward, after the link's one-way ``delay`` if it has one (and at its ``rate``, losing a
    ``loss`` fraction of frames at random, if given): a link with a real round-trip time,
    where the kernel has no netem. A link with a ``rate`` is a bottleneck: frames wait in a
    drop-tail queue of at most ``queue`` frames (or ``queue_bytes`` bytes), counting the one
    being sent, and a frame that finds it full is dropped. Frames matching a predicate set
    with :meth:`Wire.drop_if` are lost on purpose (the 5th data segment, every SYN ...);
    ``reorder`` holds a fraction of frames back by ``reorder_delay`` so later ones overtake
    them, and ``duplicate`` sends a fraction of frames twice;
``step``
    hold each frame until :meth:`Wire.release` is called, so an experiment can read both
    kernels' TCP states between two segments (a handshake in slow motion);
``drop``
    discard every frame (a cable cut, or a host that never answers).

In any mode, :meth:`Wire.inject` puts a frame on the wire toward one end, as if it had been
delayed in the network all along (an old duplicate) or sent by a host outside the lab.

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
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from netlab.errors import ExperimentError, LabError
from netlab.kernel.link import Interface

__all__ = ["Wire", "WireMode"]

WireMode = Literal["pass", "step", "drop"]
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33
SO_TIMESTAMPNS = 35
RECEIVE_BUFFER = 8 << 20
PRIORITY = -10
"""The wire thread's nice value (lower runs first; only root may go below 0)."""


@dataclass(frozen=True)
class _Held:
    data: bytes
    out: socket.socket


class Wire:
    """Bridge interfaces ``a`` and ``b`` (both in the wire's namespace).

    Args:
        mode: ``"pass"``, ``"step"`` or ``"drop"`` (see above); can be changed later.
        delay: one-way delay in seconds, each direction (the round trip is twice this).
        loss: the fraction of frames to lose at random in ``pass`` mode (0 to 1).
        rate: the link's bit rate in bit/s (frames queue behind each other), or None.
        seed: the seed of the random loss, so a run can be repeated.
        queue: the most frames the bottleneck holds, each direction (with ``rate``), or None
            for no limit.
        queue_bytes: the most bytes of frames it holds, each direction, or None.
        reorder: the fraction of frames held back by ``reorder_delay`` seconds more.
        duplicate: the fraction of frames sent twice.
    """

    def __init__(self, a: Interface, b: Interface, *, mode: WireMode = "pass",
                 delay: float = 0.0, loss: float = 0.0, rate: float | None = None,
                 seed: int = 0, queue: int | None = None, queue_bytes: int | None = None,
                 reorder: float = 0.0, reorder_delay: float = 0.005,
                 duplicate: float = 0.0) -> None:
        if (delay < 0 or not 0 <= loss <= 1 or (rate is not None and rate <= 0)
                or not 0 <= reorder <= 1 or not 0 <= duplicate <= 1 or reorder_delay < 0
                or (queue is not None and queue < 1)
                or (queue_bytes is not None and queue_bytes < 1)):
            raise LabError(f"bad link parameters: delay={delay} loss={loss} rate={rate} "
                           f"queue={queue} queue_bytes={queue_bytes} reorder={reorder} "
                           f"duplicate={duplicate}")
        if (queue is not None or queue_bytes is not None) and rate is None:
            raise LabError("a queue limit needs a rate: frames queue only behind a bottleneck")
        self._mode: WireMode = mode
        self.delay = delay
        self.loss = loss
        self.rate = rate
        self.queue = queue
        self.queue_bytes = queue_bytes
        self.reorder = reorder
        self.reorder_delay = reorder_delay
        self.duplicate = duplicate
        self._drop_if: Callable[[bytes], bool] | None = None
        self._slow_if: tuple[Callable[[bytes], bool], float] | None = None
        self._queued: dict[int, deque[tuple[float, int]]] = {}  # per direction: (done, size)
        self.queue_drops = 0
        """Frames dropped because the bottleneck's queue was full."""
        self.chosen_drops = 0
        """Frames dropped because they matched the :meth:`drop_if` predicate."""
        self.held_back: list[bytes] = []
        """The frames ``reorder`` held back, in the order they came."""
        self.injected = 0
        """Frames put on the wire by :meth:`inject`."""
        self.duplicated = 0
        self.max_queue = 0
        """The most frames the queue held at once (either direction), counting the one sent."""
        self.ahead_at_drops: dict[str, list[int]] = {"a": [], "b": []}
        """For each frame the full queue dropped, by the end it was going to (``"a"`` or
        ``"b"``), how many frames the queue held at that moment, by the wire's own count
        (the witness of ``queue``, next to the captures')."""
        self.late: list[float] = []
        """How many seconds after its due time each delayed frame left, in the order sent.
        This is the wire thread's lateness on a busy machine; the queue does not suffer from
        it, since frames are admitted at the time the kernel received them."""
        self._random = random.Random(seed)
        self._held: deque[_Held] = deque()
        self._due: list[tuple[float, int, bytes, socket.socket]] = []  # a heap, by due time
        self._order = itertools.count()
        self._free_at: dict[int, float] = {}  # per direction: when the last frame is sent
        self._cond = threading.Condition()
        self.forwarded = 0
        self.dropped = 0
        """Frames discarded in ``drop`` mode."""
        self.lost = 0
        """Frames lost at random (``loss``) in ``pass`` mode."""
        self._socks = [a.ns.run(_bound_socket, a.name), b.ns.run(_bound_socket, b.name)]
        self._wake_r, self._wake_w = os.pipe()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="netlab-wire", daemon=True)
        self._thread.start()

    @property
    def reordered(self) -> int:
        """How many frames ``reorder`` held back."""
        return len(self.held_back)

    @property
    def mode(self) -> WireMode:
        return self._mode

    @mode.setter
    def mode(self, mode: WireMode) -> None:
        with self._cond:
            self._mode = mode

    def _loop(self) -> None:
        try:  # a busy machine must not slow the link down: ahead of ordinary processes
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PRIORITY)
        except OSError:  # not allowed (no CAP_SYS_NICE): an ordinary thread, then
            pass
        offset = _clock_offset()
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
                data, anc, _, addr = s.recvmsg(65536, socket.CMSG_SPACE(16))
                if addr[2] == PACKET_OUTGOING:  # our own transmission, seen by our socket
                    continue
                with self._cond:
                    if self._mode == "pass":
                        self._forward(fd, data, peer[fd], _arrived(anc, offset))
                    elif self._mode == "drop":
                        self.dropped += 1
                    else:
                        self._held.append(_Held(data, peer[fd]))
                    self._cond.notify_all()

    def inject(self, frame: bytes, *, toward: Literal["a", "b"]) -> None:
        """Send ``frame`` out of end ``a`` or ``b`` now, to the host on that side.

        The frame goes as it is: a whole Ethernet frame addressed to that host (one a
        :meth:`drop_if` predicate kept, or one built for the purpose).
        """
        with self._cond:
            self._socks[0 if toward == "a" else 1].send(frame)
            self.injected += 1

    def drop_if(self, predicate: Callable[[bytes], bool] | None) -> None:
        """Drop every frame (either direction) for which ``predicate(frame)`` is true.

        The predicate sees the whole Ethernet frame, in the wire's thread, in arrival order,
        so it may count (``the 5th data segment``) as well as match; it must be quick.
        None removes it.
        """
        with self._cond:
            self._drop_if = predicate

    def slow_if(self, predicate: Callable[[bytes], bool] | None, extra: float = 0.0) -> None:
        """Hold every frame for which ``predicate(frame)`` is true ``extra`` seconds longer
        than the link's delay. The predicate sees every frame, in the wire's thread, in
        arrival order, before :meth:`drop_if`'s (so it also sees the frames that one drops);
        it must be quick. None removes it."""
        if extra < 0:
            raise LabError(f"bad extra delay: {extra}")
        with self._cond:
            self._slow_if = None if predicate is None else (predicate, extra)

    def _forward(self, direction: int, data: bytes, out: socket.socket,
                 arrived: float | None = None) -> None:
        """Forward ``data`` according to the link's settings; ``arrived`` is when the kernel
        received it (monotonic seconds; now if unknown). The queue and the link's schedule
        count from that moment, not from when this thread got to read the frame: a thread
        that waited for the CPU must neither leave the link idle meanwhile nor find a queue
        that is fuller or emptier than the frames on the wire made it."""
        slow = 0.0
        if self._slow_if is not None and self._slow_if[0](data):
            slow = self._slow_if[1]
        if self._drop_if is not None and self._drop_if(data):
            self.chosen_drops += 1
            return
        if self.loss and self._random.random() < self.loss:
            self.lost += 1
            return
        copies = 1
        if self.duplicate and self._random.random() < self.duplicate:
            copies = 2
            self.duplicated += 1
        extra = slow
        if self.reorder and self._random.random() < self.reorder:
            extra = self.reorder_delay
            self.held_back.append(data)
        if not self.delay and self.rate is None and not extra:
            for _ in range(copies):
                out.send(data)
                self.forwarded += 1
            return
        for _ in range(copies):
            now = min(arrived, time.monotonic()) if arrived is not None else time.monotonic()
            leaves = now
            if self.rate is not None:  # serialisation: the frame waits for the ones before it
                if not self._admit(direction, now, len(data)):
                    self.queue_drops += 1
                    toward = "a" if out is self._socks[0] else "b"
                    self.ahead_at_drops[toward].append(len(self._queued[direction]))
                    continue
                leaves = max(now, self._free_at.get(direction, now)) + len(data) * 8 / self.rate
                self._free_at[direction] = leaves
                self._queued[direction].append((leaves, len(data)))
                self.max_queue = max(self.max_queue, len(self._queued[direction]))
            heapq.heappush(self._due, (leaves + self.delay + extra, next(self._order), data, out))

    def _admit(self, direction: int, now: float, size: int) -> bool:
        """Whether the bottleneck's drop-tail queue has room for a frame of ``size`` bytes."""
        queued = self._queued.setdefault(direction, deque())
        while queued and queued[0][0] <= now:  # sent in full: no longer in the queue
            queued.popleft()
        if self.queue is not None and len(queued) >= self.queue:
            return False
        return self.queue_bytes is None or sum(n for _, n in queued) + size <= self.queue_bytes

    def _send_due(self) -> None:
        now = time.monotonic()
        with self._cond:
            while self._due and self._due[0][0] <= now:
                due, _, data, out = heapq.heappop(self._due)
                out.send(data)
                self.late.append(now - due)
                self.forwarded += 1

    def describe(self) -> str:
        """What the wire does, in words (for pages: which mechanism delays the link)."""
        parts = [f"one-way delay {self.delay * 1000:g} ms"] if self.delay else []
        if self.loss:
            parts.append(f"loss {self.loss:.1%}")
        if self.rate:
            parts.append(f"rate {self.rate / 1e6:g} Mbit/s")
        if self.queue is not None:
            parts.append(f"queue {self.queue} frames")
        if self.queue_bytes is not None:
            parts.append(f"queue {self.queue_bytes} bytes")
        if self.reorder:
            parts.append(f"reorder {self.reorder:.1%}")
        if self.duplicate:
            parts.append(f"duplicate {self.duplicate:.1%}")
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
            before = self._seen() + len(self._held)
        time.sleep(quiet)
        with self._cond:
            after = self._seen()
            return not self._held and not self._due and after == before

    def overflows(self) -> int:
        """Frames the kernel dropped before the wire read them, because its sockets' buffers
        were full (``PACKET_STATISTICS``): losses nobody asked for, on a machine too busy
        for the wire's thread. Counted since the last call, so call it once, at the end."""
        total = 0
        for s in self._socks:
            try:
                stats = s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
            except OSError:
                continue
            total += int.from_bytes(stats[4:8], "little")
        return total

    def _seen(self) -> int:
        return (self.forwarded + self.dropped + self.lost + self.queue_drops
                + self.chosen_drops)

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


def _clock_offset() -> float:
    """``time.time()`` less ``time.monotonic()``, read where the two calls came closest
    together: a thread descheduled between them would shift every frame's time."""
    best = (float("inf"), 0.0)
    for _ in range(20):
        before = time.monotonic()
        real = time.time()
        after = time.monotonic()
        best = min(best, (after - before, real - (before + after) / 2))
    return best[1]


def _arrived(ancillary: list[tuple[int, int, bytes]], offset: float) -> float | None:
    """The kernel's receive time of a frame (``SO_TIMESTAMPNS``, the clock the captures
    use), as a ``time.monotonic()`` value (``offset`` from :func:`_clock_offset`); None if
    the kernel gave none."""
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", value[:16])
            return float(sec + nsec / 1e9 - offset)
    return None


def _bound_socket(ifname: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    try:  # room for a burst while the wire's thread waits for the CPU (root may force it)
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    s.bind((ifname, ETH_P_ALL))
    return s
