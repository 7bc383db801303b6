"""Helpers shared by the tests: fixture loading, the tshark oracle, tcpdump, host snapshots.

Nothing here asserts; the tests do. Every helper reads its facts from somewhere other than
netlab where it can (the raw bytes, tshark, tcpdump, ``ip``, ``/proc``), so the tests
compare netlab with an independent witness rather than with itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from netlab.analysis.trace import Trace
from netlab.experiments import EXPERIMENTS
from netlab.experiments.tcp.handshake import HandshakeResult
from netlab.kernel.capture import Frame, read_pcap
from netlab.kernel.netns import Namespace
from netlab.proto.tls import SERVER_NAME

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent

HANDSHAKE_FACTS = EXPERIMENTS["handshake"].facts
"""How many claims the handshake chapter checks (each printed with ✓ or ✗)."""

# ---------------------------------------------------------------------------------------
# Privilege


_CAP_NET_ADMIN, _CAP_NET_RAW, _CAP_SYS_ADMIN = 12, 13, 21


def _effective_caps() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return 0


def can_make_namespaces() -> bool:
    """True if this process may create network namespaces and capture in them."""
    caps = _effective_caps()
    return all(caps >> bit & 1 for bit in (_CAP_NET_ADMIN, _CAP_NET_RAW, _CAP_SYS_ADMIN))


def skip_or_fail_in_ci(reason: str) -> None:
    """Skip the calling test with ``reason``; under CI (``CI=true``) fail it instead.

    CI runs as root on a machine scripts/setup.sh prepared: what is missing there is a bug
    of the set-up, and a skipped test would hide it.
    """
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require_namespaces() -> None:
    """Skip the calling test unless netlab can make namespaces here.

    Under CI (``CI=true``) the missing privilege fails the test instead: CI runs as root, so a
    live test that cannot make its namespaces there has found a broken set-up, not a reason
    to skip.
    """
    if not can_make_namespaces():
        reason = ("live test: needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_NET_RAW) to "
                  "create network namespaces and capture packets")
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: {reason}; CI runs the tests as root", pytrace=False)
        pytest.skip(f"{reason}; run `sudo pytest`")


def require_program(name: str) -> str:
    """The path of program ``name``, or skip the calling test saying what to install.

    Under CI (``CI=true``) a missing program fails the test instead: scripts/setup.sh
    installs every one, so a missing one there is a bug of the set-up, not a reason to skip.
    """
    path = shutil.which(name)
    if path is None:
        package = {"tshark": "tshark", "tcpdump": "tcpdump", "ss": "iproute2"}.get(name, name)
        message = f"`{name}` is not installed (sudo apt-get install {package})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: scripts/setup.sh should have installed it")
        pytest.skip(f"{message}; CI installs it, so there this test runs")
    return path


def saved(pcap: object) -> str:
    """The last line the CLI and every snippet print after saving a capture."""
    return f"capture saved to {pcap} (open it with Wireshark or tshark -r)"


def start_python(*args: str, demote: bool = False) -> subprocess.Popen[str]:
    """Start this interpreter with ``args``, the repository on its path, from ``/``.

    With ``demote`` (and when we are root), run it as ``nobody`` with every capability
    dropped except CAP_DAC_READ_SEARCH, which only lets it reach the interpreter (under
    /root, mode 700) and the repository: the situation of a reader who forgot ``sudo``.
    """
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("NETLAB_DOCS_LANG", None)
    cmd = [sys.executable, *args]
    if demote and os.geteuid() == 0:
        keep = "-all,+dac_read_search"
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               f"--inh-caps={keep}", f"--ambient-caps={keep}", f"--bounding-set={keep}",
               "env", f"PYTHONPATH={REPO}", "PYTHONDONTWRITEBYTECODE=1", *cmd]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd="/")


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Wait for a process from :func:`start_python`; its exit status and output."""
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def run_python(*args: str, demote: bool = False,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """:func:`start_python`, waited for."""
    return finish(start_python(*args, demote=demote), timeout)


@dataclass
class LiveProcesses:
    """The CLI and the snippet, each running the handshake as a reader would, side by side.

    Both start at once (and before the session's in-process run), so the three live runs
    of the experiment overlap instead of costing 2.5 s each.
    """

    cli_pcap: Path
    snippet_pcap: Path
    _cli: subprocess.Popen[str]
    _snippet: subprocess.Popen[str]
    _done: dict[str, subprocess.CompletedProcess[str]]

    @classmethod
    def start(cls, directory: Path) -> LiveProcesses:
        cli, snippet = directory / "cli.pcap", directory / "snippet.pcap"
        return cls(cli, snippet,
                   start_python("-m", "netlab", "run", "handshake", "--pcap", str(cli)),
                   start_python(str(REPO / "snippets" / "tcp_handshake.py"), "--pcap",
                                str(snippet)),
                   {})

    def cli(self) -> subprocess.CompletedProcess[str]:
        """``python -m netlab run handshake --pcap cli.pcap``."""
        if "cli" not in self._done:
            self._done["cli"] = finish(self._cli)
        return self._done["cli"]

    def snippet(self) -> subprocess.CompletedProcess[str]:
        """``python snippets/tcp_handshake.py --pcap snippet.pcap``."""
        if "snippet" not in self._done:
            self._done["snippet"] = finish(self._snippet)
        return self._done["snippet"]


# ---------------------------------------------------------------------------------------
# The committed fixtures


def fixture_names() -> dict[str, str]:
    """The sidecar's address → host name map of the handshake fixtures."""
    meta = json.loads((FIXTURES / "handshake.json").read_text())
    names: dict[str, str] = meta["names"]
    return names


def fixture_pcap(host: str) -> Path:
    return FIXTURES / f"handshake-{host}.pcap"


def ipv4_src(frame: bytes) -> str:
    """The IPv4 source address of an Ethernet frame, read straight from the bytes."""
    assert frame[12:14] == b"\x08\x00", "not an IPv4 frame"
    return socket.inet_ntoa(frame[26:30])


def with_direction(frames: list[Frame], names: dict[str, str]) -> list[Frame]:
    """``read_pcap`` cannot know a frame's direction; a frame is outgoing if its host sent it."""
    return [replace(f, outgoing=names.get(ipv4_src(f.data)) == f.host) for f in frames]


def fixture_frames(host: str) -> list[Frame]:
    """The frames captured on ``host``, with their direction restored from the sidecar."""
    return with_direction(read_pcap(fixture_pcap(host), host=host), fixture_names())


def fixture_trace(*hosts: str) -> Trace:
    """The handshake trace rebuilt from the committed pcaps of ``hosts`` (both by default)."""
    return Trace.from_pcaps({h: fixture_pcap(h) for h in hosts or ("client", "server")},
                            fixture_names())


# ---------------------------------------------------------------------------------------
# tshark, the oracle

TSHARK_FIELDS = (
    "frame.number",
    "frame.time_epoch",
    "frame.len",
    "ip.src",
    "tcp.srcport",
    "ip.dst",
    "tcp.dstport",
    "tcp.flags",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.len",
    "tcp.window_size_value",
    "tcp.window_size",
    "tcp.options.mss_val",
    "tcp.options.wscale.shift",
    "tcp.options.sack_perm",
    "tcp.options.sack_le",
    "tcp.options.sack_re",
    "tcp.options.timestamp.tsval",
    "tcp.options.timestamp.tsecr",
    "tcp.seq",
    "tcp.ack",
    "tcp.stream",
    "tcp.option_kind",
)


_tshark_cache: dict[tuple[str, Path, int, int], list[dict[str, str]]] = {}


def tshark_rows(tshark: str, pcap: Path) -> list[dict[str, str]]:
    """tshark's dissection of ``pcap``, one dict of field → text per frame.

    The relevant preferences are set on the command line, so a user's Wireshark profile
    cannot change what the oracle says. Each file is dissected once per session (tshark
    takes a third of a second to start).
    """
    st = pcap.stat()
    key = (tshark, pcap.resolve(), st.st_size, st.st_mtime_ns)
    if key not in _tshark_cache:
        _tshark_cache[key] = _tshark_rows(tshark, pcap)
    return [dict(row) for row in _tshark_cache[key]]


def _tshark_rows(tshark: str, pcap: Path) -> list[dict[str, str]]:
    cmd = [tshark, "-n", "-r", str(pcap), "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=,",
           "-o", "tcp.relative_sequence_numbers:TRUE",
           "-o", "tcp.analyze_sequence_numbers:TRUE"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"tshark failed: {done.stderr}"
    rows = []
    for line in done.stdout.splitlines():
        values = line.split("\t")
        assert len(values) == len(TSHARK_FIELDS), line
        rows.append(dict(zip(TSHARK_FIELDS, values, strict=True)))
    return rows


def epoch_ns(text: str) -> int:
    """tshark's ``frame.time_epoch`` (seconds, 9 decimals) as integer nanoseconds."""
    return int(Decimal(text) * 1_000_000_000)


def opt_int(text: str) -> int | None:
    return None if text == "" else int(text, 0)


# ---------------------------------------------------------------------------------------
# tcpdump, the second witness of a live capture


class Tcpdump:
    """tcpdump writing a nanosecond pcap of ``ifname`` inside namespace ``ns``.

    The process is started from a thread inside the namespace, so it lives there too. It
    runs as root (``-Z root``) because Debian's tcpdump otherwise drops to its own user
    before it opens the output file, which pytest's private tmp directory would refuse.
    """

    def __init__(self, ns: Namespace, ifname: str, path: Path) -> None:
        self.path = path
        tcpdump = require_program("tcpdump")
        cmd = [tcpdump, "-i", ifname, "-n", "-U", "--immediate-mode", "-s", "0",
               "--time-stamp-precision=nano", "-Z", "root", "-w", str(path)]
        self.proc = ns.run(subprocess.Popen, cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        first = self.proc.stderr.readline()  # printed once its socket is bound
        if "listening on" not in first:
            self.proc.kill()
            self.proc.communicate()
            raise RuntimeError(f"tcpdump did not start: {first}")
        self.stderr = ""
        self.frames: list[Frame] = []

    def stop(self) -> list[Frame]:
        """Stop tcpdump (it flushes every packet, ``-U``) and read what it wrote."""
        if self.proc.returncode is None:
            time.sleep(0.05)
            self.proc.send_signal(signal.SIGINT)
            _, self.stderr = self.proc.communicate(timeout=10)
            self.frames = read_pcap(self.path)
        return self.frames

    @property
    def kernel_drops(self) -> int:
        m = re.search(r"(\d+) packets? dropped by kernel", self.stderr)
        return int(m.group(1)) if m else -1


# ---------------------------------------------------------------------------------------
# What a test leaves behind


@dataclass(frozen=True)
class HostState:
    """What netlab must leave as it found it: this process and the root namespace."""

    threads: frozenset[str]
    fds: int
    links: tuple[str, ...]
    addresses: tuple[str, ...]
    proc_net_dev: tuple[str, ...]
    run_netns: tuple[str, ...]


def _ip(*args: str) -> tuple[str, ...]:
    done = subprocess.run(["ip", "-o", *args], capture_output=True, text=True, check=True)
    # Drop lifetimes, which count down on dynamic addresses.
    return tuple(sorted(re.sub(r"(valid|preferred)_lft \S+", "", line).strip()
                        for line in done.stdout.splitlines()))


def host_state() -> HostState:
    """Observe threads, descriptors and the root namespace (from this, the main thread)."""
    dev = Path("/proc/net/dev").read_text().splitlines()[2:]
    netns = Path("/run/netns")
    return HostState(
        threads=frozenset(f"{t.name}#{t.ident}" for t in threading.enumerate()),
        fds=len(os.listdir("/proc/self/fd")),
        links=_ip("link", "show"),
        addresses=_ip("addr", "show"),
        proc_net_dev=tuple(sorted(line.split(":")[0].strip() for line in dev)),
        run_netns=tuple(sorted(os.listdir(netns))) if netns.exists() else (),
    )


def settled_host_state(before: HostState, grace: float = 2.0) -> HostState:
    """``host_state()``, after waiting up to ``grace`` seconds for threads to finish."""
    deadline = time.monotonic() + grace
    while True:
        now = host_state()
        if (now.threads <= before.threads and now.fds <= before.fds) \
                or time.monotonic() > deadline:
            return now
        time.sleep(0.02)


# ---------------------------------------------------------------------------------------
# Hand-made frames for the corners a handshake does not reach


def crafted_frames() -> list[Frame]:
    """Frames built with scapy: Ethernet padding, IPv6, SACK blocks, a sequence wrap.

    1. an RST/ACK padded to Ethernet's 60-byte minimum, as a real NIC delivers it;
    2. an IPv6 SYN (2001:db8::1 → 2001:db8::2) with MSS, SACK_PERM, TS, NOP, WS;
    3. an IPv6 data segment (5 bytes) whose sequence number wraps past 2**32;
    4. an IPv6 ACK carrying two SACK blocks;
    5. a UDP datagram (not TCP: no segment);
    6. an IPv4 segment with one byte of data, padded to 60 bytes.
    """
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether

    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    back = Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")
    rst = bytes(eth / IP(src="192.0.2.2", dst="192.0.2.1", id=0)
                / TCP(sport=8081, dport=40001, flags="RA", seq=0, ack=1001, window=0))
    assert len(rst) == 54
    c6, s6 = "2001:db8::1", "2001:db8::2"
    syn6 = bytes(eth / IPv6(src=c6, dst=s6) / TCP(
        sport=40000, dport=443, flags="S", seq=2**32 - 3, window=64800,
        options=[("MSS", 1440), ("SAckOK", b""), ("Timestamp", (11, 0)), ("NOP", None),
                 ("WScale", 7)]))
    data6 = bytes(eth / IPv6(src=c6, dst=s6) / TCP(
        sport=40000, dport=443, flags="PA", seq=2**32 - 2, ack=7001, window=507,
        options=[("NOP", None), ("NOP", None), ("Timestamp", (12, 21))]) / b"hello")
    sack6 = bytes(back / IPv6(src=s6, dst=c6) / TCP(
        sport=443, dport=40000, flags="A", seq=7001, ack=2**32 - 2, window=509,
        options=[("NOP", None), ("NOP", None), ("SAck", (100, 200, 300, 400))]))
    udp = bytes(eth / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=5353, dport=5353)
                / b"x")
    t0 = 1_700_000_000_123_456_789
    one = bytes(eth / IP(src="192.0.2.1", dst="192.0.2.2", id=7)
                / TCP(sport=40001, dport=8081, flags="PA", seq=1000, ack=0) / b"!")
    assert len(one) == 55
    data = [rst + b"\x00" * 6, syn6, data6, sack6, udp, one + b"\x00" * 5]
    return [Frame(timestamp_ns=t0 + i * 1_000_001, outgoing=False, data=d, host="crafted")
            for i, d in enumerate(data)]


@dataclass(frozen=True)
class LiveRun:
    """One run of :func:`netlab.experiments.tcp.handshake` and what was seen around it."""

    result: HandshakeResult
    pcaps: dict[str, Path]
    """netlab's pcap of each host (``Trace.write_pcap``)."""
    tcpdump: dict[str, list[Frame]]
    """What tcpdump captured on the same interface of each host."""
    tcpdump_drops: dict[str, int]
    before: HostState
    after: HostState


# ---------------------------------------------------------------------------------------
# Labs side by side

K = TypeVar("K")
V = TypeVar("V")


def server_socket() -> socket.socket:
    """The server's listening socket of the two-host tests: 192.0.2.2:8080, 2 s timeout.

    Call it inside the server host (``server.run(server_socket)``).
    """
    s = socket.create_server(("192.0.2.2", 8080))
    s.settimeout(2)
    return s


def side_by_side(work: Callable[[K, threading.Barrier], V], keys: Sequence[K],
                 timeout: float = 30) -> dict[K, V]:
    """Run ``work(key, barrier)`` for every key at once, one thread each; return the results.

    The barrier lets the workers meet (all labs up, all done) before any closes. If one
    worker fails, the barrier is broken so the others stop waiting, and the first error is
    raised here.
    """
    ready = threading.Barrier(len(keys))
    results: dict[K, V] = {}
    errors: list[BaseException] = []

    def body(key: K) -> None:
        try:
            results[key] = work(key, ready)
        except BaseException as exc:
            ready.abort()
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    if errors:
        raise errors[0]
    return results


def handshake_in_memory(client: ssl.SSLContext, server: ssl.SSLContext,
                        name: str = SERVER_NAME, sent: bytearray | None = None
                        ) -> tuple[ssl.SSLObject, ssl.SSLObject]:
    """Run a TLS handshake between two SSLObjects over memory BIOs (no sockets at all).
    ``sent``, if given, receives every byte the server sent, in order."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    c = client.wrap_bio(c_in, c_out, server_hostname=name)
    s = server.wrap_bio(s_in, s_out, server_side=True)
    done = {"c": False, "s": False}
    for _ in range(20):
        for key, obj in (("c", c), ("s", s)):
            if not done[key]:
                try:
                    obj.do_handshake()
                    done[key] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        answer = s_out.read()
        if sent is not None:
            sent += answer
        c_in.write(answer)
        if all(done.values()):
            break
    # TLS 1.3 tickets travel after the handshake: let the client read them.
    s.write(b"x")
    c_in.write(s_out.read())
    assert c.read(1) == b"x"
    return c, s
