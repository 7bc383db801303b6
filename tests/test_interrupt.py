"""``netlab run https`` stopped by SIGINT, SIGTERM and SIGKILL: what it prints and leaves.

Each run gets a $TMPDIR of its own, so that what it leaves there is easy to see. SIGINT and
SIGTERM must end the run with one line and exit status 130, the lab taken down and its
files removed; SIGKILL runs no cleanup, so the key log must never have been a file, and what
the killed run left must go at the next start of ``netlab``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import REPO, host_state, require_namespaces, settled_host_state

pytestmark = pytest.mark.live

INTERRUPTED = "netlab: interrupted; the lab was taken down\n"


def _files(tmp: Path) -> list[Path]:
    """Every file and directory under ``tmp``, but netlab's own private one."""
    return sorted(p for p in tmp.rglob("*") if p != tmp / f"netlab-{os.getuid()}")


def _start(tmp: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO),
           "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen([sys.executable, "-m", "netlab", *args], env=env, cwd="/",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_files(tmp: Path, proc: subprocess.Popen[str], timeout: float = 10.0) -> None:
    """Until the run has made something under ``tmp`` (its TLS part has begun)."""
    deadline = time.monotonic() + timeout
    while not _files(tmp) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if not _files(tmp):
        proc.kill()
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"the run made nothing under $TMPDIR: exit {proc.returncode}\n{out}\n{err}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("after", [0.0, 0.4])
def test_interrupted_run_says_one_line_and_leaves_nothing(
        tmp_path: Path, sig: signal.Signals, after: float) -> None:
    require_namespaces()
    before = host_state()
    proc = _start(tmp_path, "run", "https")
    _wait_for_files(tmp_path, proc)
    time.sleep(after)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (proc.returncode, err)
    assert err == INTERRUPTED
    assert _files(tmp_path) == []
    now = settled_host_state(before)
    assert (now.links, now.run_netns) == (before.links, before.run_netns)


def test_killed_run_holds_no_key_log_and_is_reaped_at_the_next_start(tmp_path: Path) -> None:
    require_namespaces()
    proc = _start(tmp_path, "run", "https")
    _wait_for_files(tmp_path, proc)
    time.sleep(0.4)
    left = _files(tmp_path)
    proc.kill()
    proc.communicate(timeout=30)
    assert left and not [p for p in left if "key" in p.name], left
    assert all(p.parent.stat().st_mode & 0o077 == 0 for p in left), left
    listed = _start(tmp_path, "list")
    listed.communicate(timeout=30)
    assert listed.returncode == 0
    assert _files(tmp_path) == []
