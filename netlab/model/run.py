"""Which run a page shows: when the experiments ran, on which kernel, with which netlab.

The docs build runs a page's experiments once and shows that run in both languages
(:mod:`netlab.experiments.replay`). It names the run in a footer under each chapter and in the
downloads, and tells the page's kernel through ``NETLAB_RUN`` (this run as JSON), so the files
a page offers (pcaps, key logs) say which run they come from too.

>>> run = RunInfo("5f2c", "2026-12-06T06:30:00Z", "6.1.0-28-amd64", "0.1.0 (1599371)")
>>> RunInfo.from_json(run.to_json()) == run
True
>>> run.describe("en")
'run 5f2c, 2026-12-06 06:30 UTC, Linux 6.1.0-28-amd64, netlab 0.1.0 (1599371)'
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import secrets
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["RunInfo", "ENV", "current", "new_run", "source_revision"]

ENV = "NETLAB_RUN"
_ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class RunInfo:
    """One execution of a page's experiments."""

    run_id: str
    """Random, 8 hexadecimal digits: the same on both languages' pages and in their downloads."""
    date: str
    """When the run started, UTC, ISO 8601 to the second."""
    kernel: str
    """The Linux kernel release the experiments ran on (``uname -r``)."""
    netlab: str
    """netlab's version, and the commit of its source when it runs from a Git checkout."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunInfo:
        return cls(**json.loads(text))

    def describe(self, lang: str | None = None) -> str:
        """One line for a footer or a file header, in ``lang`` (the page language by default)."""
        from netlab.i18n import tr

        return tr("run {run}, {date} UTC, Linux {kernel}, netlab {netlab}", lang).format(
            run=self.run_id, date=self.date[:16].replace("T", " "), kernel=self.kernel,
            netlab=self.netlab)


def current() -> RunInfo | None:
    """The run this process shows, as the docs build set it (``NETLAB_RUN``), or None."""
    text = os.environ.get(ENV)
    if not text:
        return None
    try:
        return RunInfo.from_json(text)
    except (ValueError, TypeError):
        return None


def source_revision() -> str:
    """netlab's version, with the short commit (``+`` if netlab/ has uncommitted changes)."""
    try:
        __version__ = importlib.metadata.version("netlab")
    except importlib.metadata.PackageNotFoundError:
        __version__ = "unknown"
    try:
        commit = subprocess.run(["git", "-C", str(_ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "-C", str(_ROOT), "status", "--porcelain", "--",
                                "netlab"], capture_output=True, text=True, timeout=10,
                               check=True)
    except (OSError, subprocess.SubprocessError):
        return __version__
    mark = "+" if dirty.stdout.strip() else ""
    return f"{__version__} ({commit.stdout.strip()}{mark})"


def new_run() -> RunInfo:
    """A new run, starting now on this machine."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return RunInfo(secrets.token_hex(4), now.isoformat().replace("+00:00", "Z"),
                   os.uname().release, source_revision())
