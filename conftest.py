"""Doctests of the package: those that run a live experiment need network namespaces.

Without the privilege to make them, such a doctest is skipped with the reason, like the live
tests under tests/ (CI runs as root and runs them all).
"""

from __future__ import annotations

import os

import pytest

LIVE_DOCTESTS = {"netlab.experiments.tcp.handshake",
                 # long-lived connections
                 "netlab.experiments.longlived.idle", "netlab.experiments.longlived.heartbeat",
                 "netlab.experiments.longlived.push", "netlab.experiments.longlived.websocket"}


def _can_make_namespaces() -> bool:
    from netlab.errors import PrivilegeError
    from netlab.kernel.netns import Namespace

    try:
        Namespace("probe").close()
    except PrivilegeError:
        return False
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    live = [i for i in items if isinstance(i, pytest.DoctestItem) and i.name in LIVE_DOCTESTS]
    if live and not _can_make_namespaces():
        if os.environ.get("CI") == "true":  # CI runs as root: never skip there
            raise pytest.UsageError("CI: live doctests need root (CAP_SYS_ADMIN, CAP_NET_ADMIN "
                                    "and CAP_NET_RAW) to create network namespaces")
        skip = pytest.mark.skip(reason="live doctest: needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN "
                                       "and CAP_NET_RAW) to create network namespaces")
        for item in live:
            item.add_marker(skip)
