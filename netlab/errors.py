"""The exceptions netlab raises, each with a message that says what to do.

Low-level failures (``PermissionError`` from a raw socket, ``FileNotFoundError`` for a
missing program) are mapped to these at the boundary, so a reader who runs an experiment
without the right privilege sees one sentence, not a traceback from deep inside.
"""

from __future__ import annotations

import shlex
import subprocess
import sys

__all__ = [
    "NetlabError",
    "PrivilegeError",
    "MissingToolError",
    "ExperimentError",
    "CaptureError",
    "LabError",
    "userns_available",
]


class NetlabError(Exception):
    """Base class of every error netlab raises on purpose."""


class PrivilegeError(NetlabError):
    """The experiment needs a capability the process does not have."""

    def __init__(self, what: str) -> None:
        command = shlex.join(sys.orig_argv) if sys.orig_argv else "python ..."
        if userns_available():
            alternative = (f"or, since this system allows unprivileged user namespaces, "
                           f"inside one: `unshare -rn {command}`")
        else:
            alternative = ("(unprivileged user namespaces, `unshare -rn`, are not allowed on "
                           "this system)")
        super().__init__(
            f"{what} needs CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_NET_RAW: netlab makes private "
            f"network namespaces and captures packets in them. Run it as root: `sudo {command}`, "
            f"{alternative}."
        )


def userns_available() -> bool:
    """True if an unprivileged user may make a user + network namespace (``unshare -rn``).

    Checked in a child process: ``CLONE_NEWUSER`` is refused to a multithreaded process, and
    the distribution's policy (sysctls, AppArmor) decides the rest.
    """
    try:
        done = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


class MissingToolError(NetlabError):
    """A system program netlab needs is not installed."""

    def __init__(self, program: str, package: str) -> None:
        super().__init__(
            f"`{program}` was not found. Install it with `sudo apt-get install {package}` "
            "(Debian/Ubuntu)."
        )


class ExperimentError(NetlabError):
    """An experiment did not observe what it needs to observe (the network misbehaved)."""


class CaptureError(NetlabError):
    """A packet capture lost packets or could not be started."""


class LabError(NetlabError):
    """Setting up or tearing down the lab's namespaces, links or wire failed."""
