"""A stateful firewall host: nftables with connection tracking, inside a lab namespace.

The ruleset forwards between the host's interfaces with ``policy drop``: packets of known
connections (``ct state established,related``) pass both ways; a new connection may only be
opened from the inside interface, and for TCP only by a SYN, as real stateful firewalls and
NATs do. Everything else reaches a named counter and is dropped, so a page can say how many
segments the firewall discarded.

The idle timeout is connection tracking's own: how long an established TCP connection (or a
UDP flow) may stay silent before the firewall forgets it. After that, its next segment is
no longer "established" and is dropped: the silent death of an idle connection. The
sysctls are per network namespace, so the host's own settings are never touched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from netlab.errors import LabError, MissingToolError
from netlab.kernel.netns import Namespace

__all__ = ["Firewall", "ruleset", "load_rules", "read_counter"]

TABLE = "netlab"


def ruleset(inside: str) -> str:
    """The nftables ruleset for a firewall whose inside interface is ``inside``.

    >>> from netlab.kernel.firewall import ruleset
    >>> print(ruleset("eth0"))  # doctest: +ELLIPSIS
    table inet netlab {
        counter dropped {
        }
        chain forward {
            type filter hook forward priority filter; policy drop;
            ct state established,related accept
            iifname "eth0" tcp flags & (fin | syn | rst | ack) == syn ct state new accept
    ...
    """
    # ("fwd" is an nft keyword: the chain is called "forward".)
    return f"""\
table inet {TABLE} {{
    counter dropped {{
    }}
    chain forward {{
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "{inside}" tcp flags & (fin | syn | rst | ack) == syn ct state new accept
        iifname "{inside}" meta l4proto {{ udp, icmp }} ct state new accept
        counter name "dropped" drop
    }}
}}
"""


def _nft() -> str:
    path = shutil.which("nft")
    if path is None:
        raise MissingToolError("nft", "nftables")
    return path


def load_rules(ns: Namespace, rules: str) -> None:
    """Load an nftables ruleset (``nft -f``) into the namespace ``ns``."""
    done = ns.run(subprocess.run, [_nft(), "-f", "-"], input=rules, capture_output=True,
                  text=True, timeout=10)
    if done.returncode != 0:
        raise LabError(f"nft refused the ruleset: {done.stderr.strip()}")


def read_counter(ns: Namespace, table: str, name: str) -> int:
    """How many packets the named counter of ``inet`` table ``table`` in ``ns`` has counted."""
    done = ns.run(subprocess.run, [_nft(), "-j", "list", "counter", "inet", table, name],
                  capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise LabError(f"nft could not read the counter {name!r}: {done.stderr.strip()}")
    for item in json.loads(done.stdout)["nftables"]:
        if "counter" in item:
            return int(item["counter"]["packets"])
    raise LabError(f"nft listed no counter {name!r}")


class Firewall:
    """A firewall in the namespace ``ns``; made by :meth:`netlab.lab.lab.Host.add_firewall`.

    Args:
        inside: the interface on the trusted side, from which new connections may be opened.
        idle_timeout: how long connection tracking remembers an idle connection, in seconds.
    """

    def __init__(self, ns: Namespace, *, inside: str, idle_timeout: float) -> None:
        self.ns = ns
        self.inside = inside
        self.idle_timeout = idle_timeout
        load_rules(ns, ruleset(inside))
        ns.run(_set_idle_timeout, round(idle_timeout))

    def drops(self) -> int:
        """How many packets the firewall has dropped so far."""
        return read_counter(self.ns, TABLE, "dropped")

    def tracked(self) -> int:
        """How many connections connection tracking remembers right now."""
        return int(self.ns.run(
            lambda: Path("/proc/sys/net/netfilter/nf_conntrack_count").read_text()))


def _set_idle_timeout(seconds: int) -> None:
    """Set conntrack's idle timeouts of this thread's namespace (root's are not touched)."""
    if seconds < 1:
        raise LabError("the firewall's idle timeout must be at least 1 s (conntrack counts "
                       "in whole seconds)")
    base = Path("/proc/sys/net/netfilter")
    for name in ("nf_conntrack_tcp_timeout_established", "nf_conntrack_udp_timeout",
                 "nf_conntrack_udp_timeout_stream"):
        (base / name).write_text(str(seconds))
