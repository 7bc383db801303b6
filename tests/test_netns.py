"""netlab.kernel.netns: anonymous namespaces, entered by short-lived threads only."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import require_namespaces

from netlab.errors import LabError
from netlab.kernel.netns import Namespace

pytestmark = pytest.mark.live


def _netns_inode() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


@pytest.fixture
def ns() -> Iterator[Namespace]:
    require_namespaces()
    namespace = Namespace("t")
    yield namespace
    namespace.close()


def test_code_runs_in_another_namespace(ns: Namespace) -> None:
    mine = _netns_inode()
    with ns, Namespace("u") as other:
        inside = ns.run(_netns_inode)
        assert inside != mine
        assert other.run(_netns_inode) not in (mine, inside)
        assert ns.run(_netns_inode) == inside  # every call enters the same namespace
        assert os.fstat(ns.fd).st_ino == inside
    assert _netns_inode() == mine  # the calling thread never moved


def test_loopback_up_and_ipv6_off(ns: Namespace) -> None:
    root_setting = Path("/proc/sys/net/ipv6/conf/all/disable_ipv6").read_text()
    with ns:
        links = ns.run(subprocess.run, ["ip", "-o", "link", "show"], capture_output=True,
                       text=True, check=True).stdout.splitlines()
        assert len(links) == 1 and " lo: " in links[0] and "UP" in links[0]
        assert ns.run(Path("/proc/sys/net/ipv6/conf/all/disable_ipv6").read_text) == "1\n"
    with Namespace("six", ipv6=True) as six:
        assert six.run(Path("/proc/sys/net/ipv6/conf/all/disable_ipv6").read_text) == "0\n"
    # and the root namespace's setting is untouched
    assert Path("/proc/sys/net/ipv6/conf/all/disable_ipv6").read_text() == root_setting


def test_run_returns_values_and_raises_errors(ns: Namespace) -> None:
    with ns:
        assert ns.run(lambda a, *, b: a + b, 2, b=3) == 5
        with pytest.raises(ZeroDivisionError):
            ns.run(lambda: 1 / 0)


def test_task_in_the_background(ns: Namespace) -> None:
    with ns:
        go = threading.Event()
        task = ns.start(lambda: go.wait(5) and _netns_inode())
        with pytest.raises(LabError, match="still running after 0.05 s"):
            task.result(0.05)
        go.set()
        assert task.result() == ns.run(_netns_inode)


def test_closed_namespace(ns: Namespace) -> None:
    ns.close()
    ns.close()  # twice is fine
    assert repr(ns) == "<Namespace t closed>"
    with pytest.raises(LabError, match="namespace 't' is closed"):
        ns.run(_netns_inode)


def test_namespace_fd_is_not_inherited(ns: Namespace) -> None:
    with ns:
        flags = int(Path(f"/proc/self/fdinfo/{ns.fd}").read_text().split("flags:")[1].split()[0],
                    8)
        assert flags & os.O_CLOEXEC


def test_threads_end(ns: Namespace) -> None:
    before = set(threading.enumerate())
    with ns:
        for _ in range(5):
            ns.run(_netns_inode)
    deadline = time.monotonic() + 1
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert set(threading.enumerate()) - before == set()
