"""The unprivileged path, end to end, as a real non-root user (``nobody``).

Without privilege the CLI says what to do; inside an unprivileged user namespace
(``unshare -rn``), where the system allows one, the whole experiment runs without root.
The project's interpreter may live where ``nobody`` cannot read it (pyenv under /root), so
these tests use the system's Python of the same version with the venv's packages on the
path, and skip, saying why, where there is none.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from support import HANDSHAKE_FACTS, skip_or_fail_in_ci

from netlab.errors import userns_available

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = Path("/usr/bin/python3")


def _as_nobody(*command: str) -> subprocess.CompletedProcess[str]:
    if os.geteuid() != 0:
        skip_or_fail_in_ci("switching to the user nobody needs root")
    if shutil.which("runuser") is None:
        pytest.skip("runuser (util-linux) is not installed")
    version = subprocess.run([str(SYSTEM_PYTHON), "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True, check=False).stdout.strip()
    if not SYSTEM_PYTHON.exists() or version != str(tuple(sys.version_info[:2])):
        pytest.skip(f"no system Python {sys.version_info[0]}.{sys.version_info[1]} that "
                    "the user nobody can run")
    site = sysconfig.get_paths()["purelib"]
    probe = subprocess.run(["runuser", "-u", "nobody", "--", "test", "-r", f"{ROOT}/netlab/cli.py",
                            "-a", "-r", site], check=False)
    if probe.returncode != 0:
        pytest.skip(f"the user nobody cannot read {ROOT} or {site}")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": f"{ROOT}:{site}",
           "HOME": "/nonexistent"}
    return subprocess.run(["runuser", "-u", "nobody", "--", "env", *[f"{k}={v}" for k, v in
                           env.items()], *command], capture_output=True, text=True,
                          timeout=60, cwd="/", check=False)


def test_nobody_gets_one_clear_line() -> None:
    done = _as_nobody(str(SYSTEM_PYTHON), "-m", "netlab", "run", "handshake")
    assert done.returncode == 77, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "CAP_SYS_ADMIN" in line and "sudo " in line


@pytest.mark.live
def test_nobody_runs_the_experiment_in_a_user_namespace() -> None:
    if not userns_available() or _as_nobody("unshare", "-rn", "true").returncode != 0:
        pytest.skip("this system does not allow unprivileged user namespaces")
    done = _as_nobody("unshare", "-rn", str(SYSTEM_PYTHON), "-m", "netlab", "run", "handshake")
    assert done.returncode == 0, done.stderr
    assert "✗" not in done.stdout
    assert done.stdout.count("✓") == HANDSHAKE_FACTS
