"""netlab.tcpstates: the kernel's state numbers, checked against the C header that defines them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netlab.tcpstates import TcpState

# glibc's copy of the kernel's numbering (include/net/tcp_states.h has the same enum, plus
# TCP_NEW_SYN_RECV = 12 and TCP_BOUND_INACTIVE = 13, which never reach user space).
HEADER = Path("/usr/include/netinet/tcp.h")
C_NAMES = {
    "TCP_ESTABLISHED": "ESTABLISHED", "TCP_SYN_SENT": "SYN_SENT", "TCP_SYN_RECV": "SYN_RECV",
    "TCP_FIN_WAIT1": "FIN_WAIT_1", "TCP_FIN_WAIT2": "FIN_WAIT_2", "TCP_TIME_WAIT": "TIME_WAIT",
    "TCP_CLOSE": "CLOSED", "TCP_CLOSE_WAIT": "CLOSE_WAIT", "TCP_LAST_ACK": "LAST_ACK",
    "TCP_LISTEN": "LISTEN", "TCP_CLOSING": "CLOSING",
}


def _header_enum() -> dict[str, int]:
    if not HEADER.exists():
        pytest.skip(f"{HEADER} is not installed (sudo apt-get install libc6-dev)")
    text = HEADER.read_text()
    body = re.search(r"enum\s*\{\s*TCP_ESTABLISHED = 1,(.*?)\};", text, re.DOTALL)
    assert body is not None
    names = ["TCP_ESTABLISHED"] + re.findall(r"\b(TCP_[A-Z_0-9]+)\b", body.group(1))
    return {name: number for number, name in enumerate(names, start=1)}


def test_numbers_match_the_c_header() -> None:
    numbers = _header_enum()
    assert set(numbers) == set(C_NAMES)
    for c_name, number in numbers.items():
        assert TcpState[C_NAMES[c_name]] == number
        assert TcpState.from_kernel(number) is TcpState[C_NAMES[c_name]]


@pytest.mark.parametrize("code", range(1, 12))
def test_every_kernel_code_maps_to_itself(code: int) -> None:
    assert TcpState.from_kernel(code).value == code


def test_new_syn_recv_is_shown_as_syn_recv() -> None:
    assert TcpState.from_kernel(12) is TcpState.SYN_RECV
    assert TcpState.NEW_SYN_RECV.rfc_name == "SYN-RECEIVED"


@pytest.mark.parametrize("code", [0, 13, 14, 255, -1])
def test_unknown_code_raises(code: int) -> None:
    with pytest.raises(ValueError, match=f"unknown kernel TCP state number {code}"):
        TcpState.from_kernel(code)


def test_rfc_names() -> None:
    # RFC 9293 §3.3.2: "LISTEN ... SYN-SENT ... SYN-RECEIVED ... ESTABLISHED ... FIN-WAIT-1 ...
    # FIN-WAIT-2 ... CLOSE-WAIT ... CLOSING ... LAST-ACK ... TIME-WAIT ... CLOSED"
    rfc = {"LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
           "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT", "CLOSED"}
    assert {s.rfc_name for s in TcpState} == rfc
    assert TcpState.SYN_RECV.rfc_name == "SYN-RECEIVED"
    assert TcpState.FIN_WAIT_1.rfc_name == "FIN-WAIT-1"
    assert TcpState.CLOSE_WAIT.rfc_name == "CLOSE-WAIT"
    assert TcpState.CLOSED.rfc_name == "CLOSED"
