"""netlab.kernel.tcp_info: TCP_INFO and /proc/net/tcp (states and timers), checked on literal lines and
against ss(8)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from support import require_namespaces, require_program

from netlab.kernel.netns import Namespace
from netlab.kernel.tcp_info import (
    SocketEntry,
    parse_proc_net_tcp,
    parse_timers,
    socket_state,
    tcp_sockets,
    tcp_timers,
)
from netlab.model.tcp_states import TcpState

little_endian_only = pytest.mark.skipif(
    sys.byteorder != "little",
    reason="the literal /proc lines below are as a little-endian kernel prints them")

HEADER = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
          "timeout inode")
# The kernel prints each 32-bit word of an address as a host-order (here little-endian)
# integer: 192.0.2.2 = C0 00 02 02 on the wire → "020200C0"; port 8080 = 0x1F90.
TCP4 = HEADER + """
   0: 020200C0:1F90 00000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 4617 1 0000000000000000 100 0 0 10 0
   1: 020200C0:1F90 010200C0:9C40 01 00000005:00000000 00:00000000 00000000     0        0 4620 1 0000000000000000 20 4 30 10 -1
   2: 010200C0:9C41 020200C0:1F91 02 00000000:00000000 01:00000064 00000000     0        0 4621 1 0000000000000000 100 0 0 10 -1
"""
# 2001:db8::1 = 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 → words B80D0120 0 0 01000000
TCP6 = HEADER + """
   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0000000000000000 100 0 0 10 0
   1: B80D0120000000000000000001000000:01BB B80D0120000000000000000002000000:9C40 03 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 -1
   2: 0000000000000000FFFF0000020200C0:1F90 0000000000000000FFFF0000010200C0:9C42 06 00000000:00000000 03:00000F4B 00000000     0        0 0 3 0000000000000000
"""


@little_endian_only
def test_parse_ipv4() -> None:
    listen, established, syn_sent = parse_proc_net_tcp(TCP4)
    assert listen == SocketEntry(local=("192.0.2.2", 8080), remote=("0.0.0.0", 0),
                                 state=TcpState.LISTEN, tx_queue=0, rx_queue=1)
    assert established.remote == ("192.0.2.1", 40000)
    assert (established.state, established.tx_queue) == (TcpState.ESTABLISHED, 5)
    assert syn_sent.local == ("192.0.2.1", 40001) and syn_sent.state is TcpState.SYN_SENT


@little_endian_only
def test_parse_ipv6() -> None:
    listen, syn_recv, time_wait = parse_proc_net_tcp(TCP6)
    assert (listen.local, listen.remote, listen.state) == (("::", 443), ("::", 0),
                                                           TcpState.LISTEN)
    assert syn_recv.local == ("2001:db8::1", 443)
    assert syn_recv.remote == ("2001:db8::2", 40000)
    assert syn_recv.state is TcpState.SYN_RECV
    # an IPv4 connection on an IPv6 socket: an IPv4-mapped address (RFC 4291 §2.5.5.2)
    assert time_wait.local == ("::ffff:192.0.2.2", 8080)
    assert time_wait.state is TcpState.TIME_WAIT


@little_endian_only
def test_parse_timers() -> None:
    text = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt\n"
            "   0: 020200C0:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 "
            "       0 128959 1 0000000009c14216 100 0 0 10 0\n"
            "   1: 010200C0:9C40 020200C0:1F90 04 00000001:00000000 01:00000013 00000000     0 "
            "       0 0 2 00000000573bdd20 20 0 0 10 -1\n"
            "   2: 010200C0:9C40 020200C0:1F90 05 00000000:00000000 03:0000176E 00000000     0 "
            "       0 0 3 00000000568873ac\n")
    rows = [(e.state, t.name, t.ticks) for e, t in parse_timers(text)]
    assert rows == [(TcpState.LISTEN, "off", 0), (TcpState.FIN_WAIT_1, "on", 0x13),
                    (TcpState.FIN_WAIT_2, "timewait", 5998)]
    assert [e for e, _ in parse_timers(text)] == parse_proc_net_tcp(text)


def test_parse_skips_header_and_blank_lines() -> None:
    assert parse_proc_net_tcp(HEADER) == []
    assert parse_proc_net_tcp(HEADER + "\n\n") == []
    assert parse_proc_net_tcp("") == []


def test_socket_state_on_loopback() -> None:
    """TCP_INFO's first byte, read on sockets we hold (loopback needs no privilege)."""
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.socket()
    try:
        assert socket_state(client) is TcpState.CLOSED
        assert socket_state(server) is TcpState.LISTEN
        client.connect(server.getsockname())
        peer, _ = server.accept()
        assert socket_state(client) is socket_state(peer) is TcpState.ESTABLISHED
        client.shutdown(socket.SHUT_WR)  # our FIN; the peer acknowledges it at once
        deadline = time.monotonic() + 2
        while socket_state(client) is not TcpState.FIN_WAIT_2 and time.monotonic() < deadline:
            time.sleep(0.001)
        assert socket_state(client) is TcpState.FIN_WAIT_2
        assert socket_state(peer) is TcpState.CLOSE_WAIT
        peer.close()
    finally:
        client.close()
        server.close()


def test_moments_are_data_and_read_as_english() -> None:
    from netlab.model.moments import Happening, Moment, StatesAt

    m = Moment((Happening.call("client", "shutdown(SHUT_WR)"),
                Happening.arrival("FIN, ACK", "server", again=True),
                Happening.sentence("the wire loses the client's ACK")))
    assert str(m) == ("client calls shutdown(SHUT_WR); FIN, ACK arrived at server again; "
                      "the wire loses the client's ACK")
    s = StatesAt(moment=m, client=TcpState.FIN_WAIT_1, server=TcpState.CLOSE_WAIT,
                 timestamp_ns=1)
    assert (s.of("client"), s.of("server"), s.accept_queue) == (
        TcpState.FIN_WAIT_1, TcpState.CLOSE_WAIT, None)
    with pytest.raises(KeyError):
        s.of("router")


# ---------------------------------------------------------------------------------------
# Live: /proc/thread-self/net/tcp{,6} inside a namespace, against what ss(8) reports there

_SS_STATES = {
    "ESTAB": TcpState.ESTABLISHED, "LISTEN": TcpState.LISTEN, "SYN-SENT": TcpState.SYN_SENT,
    "SYN-RECV": TcpState.SYN_RECV, "FIN-WAIT-1": TcpState.FIN_WAIT_1,
    "FIN-WAIT-2": TcpState.FIN_WAIT_2, "TIME-WAIT": TcpState.TIME_WAIT,
    "CLOSE-WAIT": TcpState.CLOSE_WAIT, "LAST-ACK": TcpState.LAST_ACK,
    "CLOSING": TcpState.CLOSING, "UNCONN": TcpState.CLOSED,
}


def _ss_endpoint(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    host = host.strip("[]")
    host = {"*": "::", "0.0.0.0": "0.0.0.0"}.get(host, host)
    return host, 0 if port == "*" else int(port)


def _make_sockets() -> list[socket.socket]:
    """A listener with one connection accepted and one waiting; an IPv6 pair; a half-close."""
    keep: list[socket.socket] = []
    listener = socket.create_server(("127.0.0.1", 8080))
    v6 = socket.create_server(("::1", 8443), family=socket.AF_INET6)
    a = socket.create_connection(("127.0.0.1", 8080), source_address=("127.0.0.1", 40000))
    accepted, _ = listener.accept()
    queued = socket.create_connection(("127.0.0.1", 8080))  # never accepted, like `waiting`
    waiting = socket.create_connection(("127.0.0.1", 8080), source_address=("127.0.0.1", 40001))
    c6 = socket.create_connection(("::1", 8443), source_address=("::1", 40002))
    a.shutdown(socket.SHUT_WR)  # a: FIN_WAIT_2, accepted: CLOSE_WAIT
    time.sleep(0.05)
    keep += [listener, v6, a, accepted, queued, waiting, c6]
    return keep


@pytest.mark.live
def test_proc_net_tcp_agrees_with_ss() -> None:
    require_namespaces()
    ss = require_program("ss")
    with Namespace("states", ipv6=True) as ns:
        sockets = ns.run(_make_sockets)
        try:
            ours = ns.run(tcp_sockets)
            timed = ns.run(tcp_timers)
            done = ns.run(subprocess.run, [ss, "-Htan"], capture_output=True, text=True,
                          check=True)
        finally:
            for s in sockets:
                s.close()
    theirs = set()
    for line in done.stdout.splitlines():
        state, recv_q, _send_q, local, remote = line.split()[:5]
        theirs.add((_SS_STATES[state], _ss_endpoint(local), _ss_endpoint(remote),
                    int(recv_q) if state == "LISTEN" else 0))
    mine = {(e.state, e.local, e.remote, e.rx_queue if e.state is TcpState.LISTEN else 0)
            for e in ours}
    assert mine == theirs
    states = {e.state for e in ours}
    assert {TcpState.LISTEN, TcpState.ESTABLISHED, TcpState.FIN_WAIT_2,
            TcpState.CLOSE_WAIT} <= states
    listener = next(e for e in ours if e.local == ("127.0.0.1", 8080)
                    and e.state is TcpState.LISTEN)
    assert listener.rx_queue == 2  # two connections never accepted
    assert any(e.local == ("::1", 40002) for e in ours)
    assert [e for e, _ in timed] == ours  # the same lines, each with its timer
