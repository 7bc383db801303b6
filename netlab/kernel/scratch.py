"""Scratch space for a run that leaves nothing behind, even when the run is killed.

Some experiments need files for a moment: a pcap for scapy to decrypt, a CA certificate
for curl to trust, the TLS key log that Python's ``ssl`` module appends to. Two of those
are secrets (the key log decrypts the capture; the capture holds a password sent in
clear), and a run stopped by SIGKILL runs no cleanup code at all. So:

* a key log lives in memory (:class:`MemoryFile`, a ``memfd``): it has a path that ``ssl``
  and scapy can open while the process lives, and no name on any file system, so it
  vanishes with the process however it ends;
* other files go in a private directory (:func:`directory`), ``$TMPDIR/netlab-UID/``
  (mode 0700, refused unless it is ours), in a subdirectory named after the process that
  made it (its pid and start time). The next run removes every subdirectory whose process
  is gone (:func:`reap`), so what a killed run left does not outlive the next start. A
  signal can also land after such a directory is made and before its ``with`` block
  begins, or while it is removed: a run that handles the signal removes its own
  (:func:`clear`) before it ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from netlab.errors import ExperimentError

__all__ = ["MemoryFile", "clear", "directory", "reap", "root"]

_OWNED = re.compile(r"\.(\d+)\.(\d+)\.[^.]+$")
"""The end of a scratch directory's name: ``.PID.START.RANDOM``."""


def _start_time(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot), or None if there is none.

    With the pid it names a process uniquely: a pid reused later has another start time.
    """
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces; field 22 is starttime
    return int(stat_line.rpartition(")")[2].split()[19])


def root() -> Path:
    """``$TMPDIR/netlab-UID``, made private (0700) if new; an error if it is not ours.

    Raises:
        ExperimentError: the path is a symbolic link, not a directory, owned by someone
            else, or open to others (someone may be waiting for our files there).
    """
    path = Path(tempfile.gettempdir()) / f"netlab-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    st = path.lstat()
    if (not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid()
            or stat.S_IMODE(st.st_mode) & 0o077):
        raise ExperimentError(f"{path} is not a private directory of this user (it must be "
                              "a directory, not a link, mode 700): remove it and run again")
    return path


def _remove(owned: Callable[[int, int], bool]) -> list[Path]:
    """Remove each scratch directory whose maker (its pid and start time) ``owned`` picks;
    which."""
    gone: list[Path] = []
    if not (Path(tempfile.gettempdir()) / f"netlab-{os.getuid()}").exists():
        return gone  # no run has made one yet: nothing to remove, nothing to make
    for entry in root().iterdir():
        m = _OWNED.search(entry.name)
        if m is not None and owned(int(m[1]), int(m[2])):
            shutil.rmtree(entry, ignore_errors=True)
            gone.append(entry)
    return gone


def reap() -> list[Path]:
    """Remove the scratch directories of runs that ended without cleaning up; which."""
    return _remove(lambda pid, started: _start_time(pid) != started)  # its process is gone


def clear() -> list[Path]:
    """Remove this process's own scratch directories, whatever is using them; which."""
    me = os.getpid()
    mine = _start_time(me)
    return _remove(lambda pid, started: (pid, started) == (me, mine))


def _make(prefix: str) -> Path:
    """A new scratch directory, named after this process (what :func:`reap` and
    :func:`clear` read back)."""
    pid = os.getpid()
    return Path(tempfile.mkdtemp(prefix=f"{prefix.rstrip('-')}.{pid}.{_start_time(pid)}.",
                                 dir=root()))


@contextlib.contextmanager
def directory(prefix: str = "netlab-") -> Iterator[Path]:
    """A fresh private directory for the ``with`` block (what dead runs left is reaped first)."""
    reap()
    path = _make(prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class MemoryFile:
    """A file in memory only (``memfd_create(2)``): gone when closed or when the process ends.

    :attr:`path` opens it (``/proc/PID/fd/N``) for code that wants a file name, in this
    process only.
    """

    def __init__(self, name: str) -> None:
        self.fd = os.memfd_create(name, os.MFD_CLOEXEC)

    @property
    def path(self) -> Path:
        return Path(f"/proc/{os.getpid()}/fd/{self.fd}")

    def read(self) -> bytes:
        """Everything written so far."""
        size = os.fstat(self.fd).st_size
        return os.pread(self.fd, size, 0) if size else b""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def __enter__(self) -> MemoryFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
