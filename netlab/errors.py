"""The exceptions netlab raises, each with a message that says what to do.

Low-level failures (``PermissionError`` from a raw socket, ``FileNotFoundError`` for a
missing program) are mapped to these at the boundary, so a reader who runs an experiment
without the right privilege sees one sentence, not a traceback from deep inside.
"""

from __future__ import annotations

__all__ = [
    "NetlabError",
    "PrivilegeError",
    "MissingToolError",
    "ExperimentError",
    "CaptureError",
    "LabError",
]


class NetlabError(Exception):
    """Base class of every error netlab raises on purpose."""


class PrivilegeError(NetlabError):
    """The experiment needs a capability the process does not have."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} needs CAP_NET_ADMIN and CAP_NET_RAW (netlab creates its own network "
            "namespaces and captures packets in them). Run it as root, e.g. "
            "`sudo python ...`, or, where your distribution allows unprivileged user "
            "namespaces, inside one: `unshare -rn python ...`."
        )


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
