"""netlab.model.tcp_states: the kernel's state numbers, checked against the C header that defines
them, and RFC 9293's state diagram held as a table, checked arrow by arrow against its Figure 5."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netlab.model.tcp_states import (
    RULES,
    Event,
    TcpState,
    UnexpectedTransition,
    next_state,
    rule,
    segment_event,
)

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


# ---------------------------------------------------------------------------------------
# RFC 9293's state diagram

S, E = TcpState, Event
# Every arrow of RFC 9293 §3.3.2 Figure 5, read off the figure: (from, event, action, to).
FIGURE_5 = [
    (S.CLOSED, E.PASSIVE_OPEN, "create TCB", S.LISTEN),
    (S.CLOSED, E.ACTIVE_OPEN, "create TCB, snd SYN", S.SYN_SENT),
    (S.LISTEN, E.CLOSE, "delete TCB", S.CLOSED),
    (S.LISTEN, E.RCV_SYN, "snd SYN,ACK", S.SYN_RECV),
    (S.LISTEN, E.SEND, "snd SYN", S.SYN_SENT),
    (S.SYN_SENT, E.CLOSE, "delete TCB", S.CLOSED),
    (S.SYN_SENT, E.RCV_SYN, "snd SYN,ACK", S.SYN_RECV),
    (S.SYN_SENT, E.RCV_SYN_ACK, "snd ACK", S.ESTABLISHED),
    (S.SYN_RECV, E.RCV_RST, "", S.LISTEN),
    (S.SYN_RECV, E.RCV_ACK_OF_SYN, "", S.ESTABLISHED),
    (S.SYN_RECV, E.CLOSE, "snd FIN", S.FIN_WAIT_1),
    (S.ESTABLISHED, E.CLOSE, "snd FIN", S.FIN_WAIT_1),
    (S.ESTABLISHED, E.RCV_FIN, "snd ACK", S.CLOSE_WAIT),
    (S.FIN_WAIT_1, E.RCV_ACK_OF_FIN, "", S.FIN_WAIT_2),
    (S.FIN_WAIT_1, E.RCV_FIN, "snd ACK", S.CLOSING),
    (S.FIN_WAIT_2, E.RCV_FIN, "snd ACK", S.TIME_WAIT),
    (S.CLOSE_WAIT, E.CLOSE, "snd FIN", S.LAST_ACK),
    (S.CLOSING, E.RCV_ACK_OF_FIN, "", S.TIME_WAIT),
    (S.LAST_ACK, E.RCV_ACK_OF_FIN, "delete TCB", S.CLOSED),
    (S.TIME_WAIT, E.TIMEOUT, "delete TCB", S.CLOSED),
]
SYNCHRONIZED = (S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT, S.CLOSING,
                S.LAST_ACK, S.TIME_WAIT)


def test_every_arrow_of_figure_5() -> None:
    figure = {(r.state, r.event, r.action, r.next) for r in RULES if r.source.startswith(
        "§3.3.2 Figure 5")}
    assert figure - {(S.FIN_WAIT_1, E.RCV_FIN_ACK_OF_FIN, "snd ACK", S.TIME_WAIT)} \
        == set(FIGURE_5)


def test_note_2_fin_wait_1_straight_to_time_wait() -> None:
    r = rule(S.FIN_WAIT_1, E.RCV_FIN_ACK_OF_FIN)
    assert (r.next, r.action, r.source) == (S.TIME_WAIT, "snd ACK", "§3.3.2 Figure 5, note 2")
    assert r.label == "rcv FIN, ACK of FIN / snd ACK"


def test_one_rule_per_state_and_event() -> None:
    keys = [(r.state, r.event) for r in RULES]
    assert len(keys) == len(set(keys))
    assert all(r.source.startswith("§3.") for r in RULES)
    assert TcpState.NEW_SYN_RECV not in {r.state for r in RULES} | {r.next for r in RULES}


@pytest.mark.parametrize("state", [S.SYN_RECV, *SYNCHRONIZED[:4]])
def test_abort_sends_rst_from_synchronized_states(state: TcpState) -> None:
    # RFC 9293 §3.10.5: "Send a reset segment [...] Delete the TCB, enter CLOSED state"
    r = rule(state, E.ABORT)
    assert (r.next, r.action, r.source) == (S.CLOSED, "snd RST, delete TCB", "§3.10.5")


@pytest.mark.parametrize("state", [S.SYN_SENT, *SYNCHRONIZED])
def test_rst_closes(state: TcpState) -> None:
    # RFC 9293 §3.5.3: "If the receiver was in any other state, it aborts the connection and
    # advises the user and goes to the CLOSED state."
    assert next_state(state, E.RCV_RST) is S.CLOSED


def test_rst_to_a_listener_is_ignored() -> None:
    # RFC 9293 §3.5.3: "If the receiver was in the LISTEN state, it ignores it."
    with pytest.raises(UnexpectedTransition):
        rule(S.LISTEN, E.RCV_RST)


def test_close_wait_ends_only_when_the_application_closes() -> None:
    """No timer leaves CLOSE_WAIT: a program that never calls close() keeps it forever."""
    assert {r.event for r in RULES if r.state is S.CLOSE_WAIT} == {E.CLOSE, E.ABORT, E.RCV_RST}
    assert {r.event for r in RULES if r.state is S.TIME_WAIT} == {E.TIMEOUT, E.ABORT,
                                                                 E.RCV_RST}


@pytest.mark.parametrize(("state", "event"), [
    (S.CLOSE_WAIT, E.TIMEOUT), (S.ESTABLISHED, E.RCV_ACK_OF_FIN), (S.TIME_WAIT, E.RCV_FIN),
    (S.FIN_WAIT_2, E.CLOSE), (S.CLOSED, E.RCV_SYN), (S.LAST_ACK, E.CLOSE)])
def test_unexpected_transitions_raise(state: TcpState, event: Event) -> None:
    with pytest.raises(UnexpectedTransition, match=f"RFC 9293 has no transition from "
                       f"{state.rfc_name} on {event.value}"):
        next_state(state, event)


def test_unexpected_transition_is_an_experiment_error() -> None:
    from netlab.errors import ExperimentError, NetlabError

    assert issubclass(UnexpectedTransition, ExperimentError)
    assert issubclass(UnexpectedTransition, NetlabError)


def test_new_syn_recv_follows_syn_recv_rules() -> None:
    assert next_state(S.NEW_SYN_RECV, E.RCV_ACK_OF_SYN) is S.ESTABLISHED


@pytest.mark.parametrize(("flags", "acks_syn", "acks_fin", "event"), [
    ({"SYN"}, False, False, E.RCV_SYN),
    ({"SYN", "ACK"}, True, False, E.RCV_SYN_ACK),
    ({"ACK"}, True, False, E.RCV_ACK_OF_SYN),
    ({"FIN", "ACK"}, False, False, E.RCV_FIN),
    ({"FIN", "PSH", "ACK"}, False, True, E.RCV_FIN_ACK_OF_FIN),
    ({"ACK"}, False, True, E.RCV_ACK_OF_FIN),
    ({"RST", "ACK"}, False, True, E.RCV_RST),
    ({"RST"}, False, False, E.RCV_RST),
    ({"PSH", "ACK"}, False, False, None),
    ({"ACK"}, False, False, None),
])
def test_segment_event(flags: set[str], acks_syn: bool, acks_fin: bool,
                       event: Event | None) -> None:
    assert segment_event(flags, acks_syn=acks_syn, acks_fin=acks_fin) is event


def test_the_four_way_teardown_on_paper() -> None:
    """Both sides of an orderly close, event by event, as RFC 9293 §3.6 Figure 12 shows it."""
    a, b = S.ESTABLISHED, S.ESTABLISHED
    a = next_state(a, E.CLOSE)  # (Close) FIN-WAIT-1 --> <FIN,ACK>
    b = next_state(b, E.RCV_FIN)  # CLOSE-WAIT
    a = next_state(a, E.RCV_ACK_OF_FIN)  # FIN-WAIT-2 <-- <ACK>
    b = next_state(b, E.CLOSE)  # (Close) LAST-ACK
    a = next_state(a, E.RCV_FIN)  # TIME-WAIT <-- <FIN,ACK>
    b = next_state(b, E.RCV_ACK_OF_FIN)  # CLOSED
    assert (a, b) == (S.TIME_WAIT, S.CLOSED)
    assert next_state(a, E.TIMEOUT) is S.CLOSED  # (2 MSL)
