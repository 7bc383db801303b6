"""Live packet capture on one interface, the way tcpdump does it: an AF_PACKET socket.

Each frame is kept exactly once with the kernel's nanosecond timestamp and its direction
(sent by this host, or received). On ``lo`` the kernel shows every frame twice, once as it
leaves (``PACKET_OUTGOING``) and once as it arrives (``PACKET_HOST``); we keep one copy.

The capture starts when the socket is bound (before the experiment runs) and stops after
draining everything the kernel queued for it. If the kernel reports a dropped frame
(``PACKET_STATISTICS``), :meth:`Capture.stop` raises instead of returning a partial trace.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from netlab.errors import CaptureError, PrivilegeError

if TYPE_CHECKING:
    from netlab.kernel.netns import Namespace

__all__ = ["Frame", "Capture", "write_pcap", "read_pcap"]

ETH_P_ALL = 0x0003
PACKET_HOST = 0
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_TIMESTAMPNS = 35
LINKTYPE_ETHERNET = 1
# pcap's magic number in both byte orders, microsecond and nanosecond variants.
_PCAP_MAGIC = {bytes.fromhex(m) for m in ("a1b2c3d4", "d4c3b2a1", "a1b23c4d", "4d3cb2a1")}


@dataclass(frozen=True, kw_only=True)
class Frame:
    """One captured link-layer frame."""

    timestamp_ns: int
    """When the kernel saw the frame (CLOCK_REALTIME, nanoseconds)."""
    outgoing: bool
    """True if the capturing host sent it, False if it received it."""
    data: bytes
    """The whole Ethernet frame."""
    host: str = ""
    """Name of the host whose interface saw the frame."""


class Capture:
    """Capture every frame on ``ifname`` inside namespace ``ns``.

    Use it as a context manager around the experiment; ``frames`` holds the result::

        with Capture(ns, "eth0", host="client") as cap:
            ...  # traffic
        cap.frames
    """

    def __init__(self, ns: Namespace, ifname: str, *, host: str = "") -> None:
        self.ifname = ifname
        self.host = host or ns.name
        self.frames: list[Frame] = []
        self._loopback = ifname == "lo"
        try:
            self._sock = ns.run(_open_socket, ifname)
        except PermissionError:
            raise PrivilegeError("Packet capture") from None
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._loop, name=f"capture-{self.host}", daemon=True)
        self._stopped = False
        self._thread.start()

    def _take(self, flags: int = 0) -> bool:
        try:
            data, anc, _, addr = self._sock.recvmsg(65536, socket.CMSG_SPACE(16), flags)
        except BlockingIOError:
            return False
        pkttype = addr[2]
        if self._loopback and pkttype == PACKET_OUTGOING:
            return True  # the same frame comes back as PACKET_HOST
        ts = time.time_ns()
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", value[:16])
                ts = sec * 1_000_000_000 + nsec
        self.frames.append(
            Frame(timestamp_ns=ts, outgoing=pkttype == PACKET_OUTGOING, data=data, host=self.host)
        )
        return True

    def _loop(self) -> None:
        try:
            while True:
                ready, _, _ = select.select([self._sock.fileno(), self._wake_r], [], [])
                if self._sock.fileno() in ready:
                    self._take()
                elif self._wake_r in ready:
                    while self._take(socket.MSG_DONTWAIT):  # drain what is queued
                        pass
                    return
        except (OSError, ValueError):
            # the interface or the socket went away under it: the run was interrupted and
            # its lab taken down before stop() (the frames so far are kept)
            return

    def stop(self, settle: float = 0.02) -> list[Frame]:
        """Stop after ``settle`` seconds of grace; return the frames, oldest first."""
        if self._stopped:
            return self.frames
        self._stopped = True
        time.sleep(settle)
        os.write(self._wake_w, b"x")
        self._thread.join(5)
        _, drops = struct.unpack("II", self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        self._sock.close()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        if self._thread.is_alive():
            raise CaptureError(f"capture on {self.host}:{self.ifname} did not stop")
        if drops:
            raise CaptureError(f"the kernel dropped {drops} frame(s) before {self.host} read them")
        self.frames.sort(key=lambda f: f.timestamp_ns)
        return self.frames

    def __enter__(self) -> Capture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_pcap(self, path: str | os.PathLike[str]) -> Path:
        """Save the frames as a pcap file (nanosecond timestamps) for Wireshark."""
        return write_pcap(path, self.frames)


def _open_socket(ifname: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind((ifname, ETH_P_ALL))
    s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)  # reset the counters
    return s


def write_pcap(path: str | os.PathLike[str], frames: list[Frame]) -> Path:
    """Write ``frames`` to ``path`` in pcap format with nanosecond resolution."""
    from scapy.utils import RawPcapWriter

    out = Path(path)
    writer = RawPcapWriter(str(out), linktype=LINKTYPE_ETHERNET, nano=True, sync=True)
    try:
        writer._write_header(None)  # an empty capture is still a valid pcap file
        for f in frames:
            sec, nsec = divmod(f.timestamp_ns, 1_000_000_000)
            writer.write_packet(f.data, sec=sec, usec=nsec)
    finally:
        writer.close()
    return out


def read_pcap(path: str | os.PathLike[str], *, host: str = "") -> list[Frame]:
    """Read an Ethernet pcap file back into frames (direction unknown: ``outgoing=False``).

    Raises:
        CaptureError: if the file is not a pcap file.
    """
    from scapy.utils import RawPcapReader

    with open(path, "rb") as f:
        magic = f.read(4)
    if magic not in _PCAP_MAGIC:
        raise CaptureError(f"{os.fspath(path)} is not a pcap file (pcapng is not read here)")
    frames = []
    with RawPcapReader(str(path)) as reader:
        for data, meta in reader:
            ts = meta.sec * 1_000_000_000 + (meta.usec if reader.nano else meta.usec * 1000)
            frames.append(Frame(timestamp_ns=ts, outgoing=False, data=data, host=host))
    return frames
