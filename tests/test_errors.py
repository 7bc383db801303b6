"""netlab.errors: each message says what to do."""

from __future__ import annotations

import subprocess
import sys

import pytest

import netlab.errors
from netlab.errors import (
    CaptureError,
    ExperimentError,
    LabError,
    MissingToolError,
    NetlabError,
    PrivilegeError,
    userns_available,
)


@pytest.mark.parametrize("userns", [True, False])
def test_privilege_error_says_run_with_sudo(monkeypatch: pytest.MonkeyPatch,
                                            userns: bool) -> None:
    monkeypatch.setattr(sys, "orig_argv", ["python", "snippets/tcp handshake.py", "--pcap",
                                           "h.pcap"])
    monkeypatch.setattr(netlab.errors, "userns_available", lambda: userns)
    message = str(PrivilegeError("Packet capture"))
    assert message.startswith("Packet capture needs CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_NET_RAW")
    # the exact command to re-run, quoted for a shell
    assert "`sudo python 'snippets/tcp handshake.py' --pcap h.pcap`" in message
    if userns:
        assert "`unshare -rn python 'snippets/tcp handshake.py' --pcap h.pcap`" in message
    else:
        assert "are not allowed on this system" in message
    assert "\n" not in message


def test_userns_available_is_false_without_unshare(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*args: object, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        raise FileNotFoundError("unshare")

    monkeypatch.setattr(subprocess, "run", missing)
    assert userns_available() is False


def test_userns_available_follows_unshare(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, b"", b"unshare: Operation not permitted")

    monkeypatch.setattr(subprocess, "run", fake)
    assert userns_available() is False
    assert calls == [["unshare", "-rn", "true"]]


def test_missing_tool_says_what_to_install() -> None:
    message = str(MissingToolError("tshark", "tshark"))
    assert "`tshark` was not found" in message
    assert "sudo apt-get install tshark" in message


def test_hierarchy() -> None:
    for cls in (PrivilegeError, MissingToolError, ExperimentError, CaptureError, LabError):
        assert issubclass(cls, NetlabError)
    assert issubclass(NetlabError, Exception)
    assert not issubclass(PrivilegeError, PermissionError)  # mapped, not re-raised as is
