"""A network namespace's own settings and counters: ``/proc/sys/net`` and ``netstat``.

Both are per network namespace, and both are read through the calling *thread's*
namespace: ``/proc/sys/net`` is resolved when the file is opened, and the counters come
from ``/proc/thread-self/net/netstat`` (``/proc/net`` is ``/proc/self/net``, the main
thread's). So call these inside a host (``host.run(set_sysctl, "net.ipv4.tcp_syncookies",
0)``), and the machine's own settings are never touched.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["sysctl", "set_sysctl", "netstat"]


def _path(name: str) -> Path:
    if not name.startswith("net."):
        raise ValueError(f"only the namespace's own net.* settings, not {name!r}")
    return Path("/proc/sys") / name.replace(".", "/")


def sysctl(name: str) -> int:
    """The value of a numeric setting such as ``net.ipv4.tcp_syn_retries``."""
    return int(_path(name).read_text().split()[0])


def set_sysctl(name: str, value: int) -> None:
    """Set a numeric ``net.*`` setting of the calling thread's network namespace."""
    _path(name).write_text(f"{value}\n")


def netstat() -> dict[str, int]:
    """The namespace's TCP/IP counters, ``"TcpExt.ListenOverflows"`` → value.

    ``/proc/net/netstat`` holds pairs of lines, a header of names and a line of values,
    each starting with the group (``TcpExt:``, ``IpExt:``, ``MPTcpExt:``).
    """
    lines = Path("/proc/thread-self/net/netstat").read_text().splitlines()
    out: dict[str, int] = {}
    for names, values in zip(lines[::2], lines[1::2], strict=True):
        group, *keys = names.split()
        _, *numbers = values.split()
        out.update({f"{group.rstrip(':')}.{k}": int(v) for k, v in zip(keys, numbers,
                                                                       strict=True)})
    return out
