"""scripts/preview.sh: a writer's live preview (sphinx-autobuild) of one language of the site."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support import skip_or_fail_in_ci

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "preview.sh"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=30, check=False)


@pytest.mark.parametrize(("args", "message"), [
    (("fr",), "language must be en or zh_CN, not 'fr'"),
    (("en", "eighty"), "the port must be a number, not 'eighty'"),
])
def test_bad_arguments_get_a_clear_error(args: tuple[str, ...], message: str) -> None:
    done = _run(*args)
    assert done.returncode == 2 and message in done.stderr


def test_serves_the_built_site_on_loopback() -> None:
    """The preview starts from the last build (nothing is read again), writes beside it (not
    into it), serves on 127.0.0.1 and stops on SIGINT, as Ctrl-C stops it."""
    if os.geteuid() != 0:
        skip_or_fail_in_ci("preview.sh needs root (a chapter's experiments run again when it "
                           "changes)")
    if not (REPO / "docs" / "_build" / "doctrees" / "en" / "environment.pickle").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI: the site must be built before the tests (scripts/test.sh does it)")
        pytest.skip("build the site first: sudo bash scripts/build-site.sh")
    real = REPO / "docs" / "_build" / "html" / "en" / "index.html"
    before = real.stat().st_mtime_ns if real.exists() else None
    with socket.socket() as probe:  # a free port (sphinx-autobuild prints 0 for --port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(["bash", str(SCRIPT), "en", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        output, url = [], None
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if re.search(rf"Serving on http://127\.0\.0\.1:{port}\b", line):
                url = f"http://127.0.0.1:{port}"
        assert url, "".join(output)
        for _ in range(50):  # it prints the address just before the server accepts
            try:
                with urllib.request.urlopen(f"{url}/index.html", timeout=10) as page:
                    assert page.status == 200 and b"netlab" in page.read()
                    break
            except urllib.error.URLError:
                time.sleep(0.2)
        else:
            pytest.fail(f"nothing answered on {url}")
        assert "executing" not in "".join(output)  # no experiment ran: nothing had changed
        # the preview (and its reload script) stays out of the real build
        assert (real.stat().st_mtime_ns if real.exists() else None) == before
        assert (REPO / "docs" / "_build" / "preview" / "en" / "index.html").exists()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
