"""netlab.kernel.sockdiag: one socket by its addresses, checked against what /proc/net/tcp{,6}
lists."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from support import require_namespaces

from netlab.kernel.netns import Namespace
from netlab.kernel.sockdiag import SockDiag
from netlab.kernel.tcp_info import SocketEntry, tcp_sockets
from netlab.model.tcp_states import TcpState

BACKLOG = 7  # listen()'s backlog: sock_diag reports it as a listener's tx_queue


def _wait_for(check: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.001)


def test_lookup_on_loopback() -> None:
    """In this process's own namespace (loopback needs no privilege)."""
    server = socket.create_server(("127.0.0.1", 0), backlog=BACKLOG)
    client = socket.create_connection(server.getsockname())
    peer: socket.socket | None = None
    try:
        here, there = client.getsockname(), server.getsockname()
        with SockDiag() as diag:
            mine = diag.lookup(here, there)
            assert mine is not None
            assert (mine.local, mine.remote, mine.state) == (here, there, TcpState.ESTABLISHED)
            # the server's kernel finished the handshake: the connection waits to be accepted
            _wait_for(lambda: (found := diag.listener(there)) is not None
                      and found.rx_queue == 1)
            listening = diag.listener(there)
            assert listening is not None
            assert (listening.local, listening.remote) == (there, ("0.0.0.0", 0))
            assert (listening.state, listening.tx_queue) == (TcpState.LISTEN, BACKLOG)
            peer, _ = server.accept()
            theirs = diag.lookup(there, here)
            assert theirs is not None and theirs.state is TcpState.ESTABLISHED
            listening = diag.listener(there)
            assert listening is not None and listening.rx_queue == 0
            # the kernel would hand a segment from an unknown peer to the listener:
            # lookup() says there is no socket for that connection
            assert diag.lookup(there, ("127.0.0.1", 1)) is None
            assert diag.lookup(("127.0.0.1", 1), ("127.0.0.1", 2)) is None
            assert diag.listener(here) is None  # the client's port: no listener there
    finally:
        for s in (client, server, peer):
            if s is not None:
                s.close()


def _make_sockets() -> list[socket.socket]:
    """A listener with one connection accepted and one waiting, a TIME_WAIT, a half-close,
    and an IPv6 connection."""
    listener = socket.create_server(("127.0.0.1", 8080), backlog=BACKLOG)
    v6 = socket.create_server(("::1", 8443), family=socket.AF_INET6, backlog=BACKLOG)
    half = socket.create_connection(("127.0.0.1", 8080), source_address=("127.0.0.1", 40000))
    accepted, _ = listener.accept()
    gone = socket.create_connection(("127.0.0.1", 8080), source_address=("127.0.0.1", 40001))
    gone_peer, _ = listener.accept()
    waiting = socket.create_connection(("127.0.0.1", 8080), source_address=("127.0.0.1", 40002))
    c6 = socket.create_connection(("::1", 8443), source_address=("::1", 40003))
    half.shutdown(socket.SHUT_WR)  # half: FIN_WAIT_2, accepted: CLOSE_WAIT
    accepted.send(b"unread")  # half's rx_queue
    gone.close()  # the client closes first: TIME_WAIT, a mini-socket without a descriptor
    gone_peer.close()
    time.sleep(0.05)
    return [listener, v6, half, accepted, waiting, c6]


@pytest.mark.live
def test_every_socket_as_proc_lists_it() -> None:
    require_namespaces()
    with Namespace("sockdiag", ipv6=True) as ns:
        sockets = ns.run(_make_sockets)
        try:
            listed = ns.run(tcp_sockets)
            with ns.run(SockDiag) as diag:  # made in the namespace, used from this thread
                found: list[SocketEntry | None] = []
                for e in listed:
                    if e.state is TcpState.LISTEN:
                        found.append(diag.listener(e.local))
                    else:
                        found.append(diag.lookup(e.local, e.remote))
        finally:
            for s in sockets:
                s.close()
    states = {e.state for e in listed}
    assert {TcpState.LISTEN, TcpState.ESTABLISHED, TcpState.FIN_WAIT_2, TcpState.CLOSE_WAIT,
            TcpState.TIME_WAIT} <= states
    assert any(e.local == ("::1", 40003) for e in listed)
    for proc, diag_entry in zip(listed, found, strict=True):
        assert diag_entry is not None, proc
        if proc.state is TcpState.LISTEN:  # tx_queue: the backlog, where /proc says 0
            assert proc.tx_queue == 0 and diag_entry.tx_queue == BACKLOG
            assert diag_entry == SocketEntry(local=proc.local, remote=proc.remote,
                                             state=proc.state, tx_queue=BACKLOG,
                                             rx_queue=proc.rx_queue)
        else:
            assert diag_entry == proc
    listener = next(e for e in found if e is not None and e.local == ("127.0.0.1", 8080)
                    and e.state is TcpState.LISTEN)
    assert listener.rx_queue == 1  # `waiting`, never accepted
    half = next(e for e in found if e is not None and e.local == ("127.0.0.1", 40000))
    assert (half.state, half.rx_queue) == (TcpState.FIN_WAIT_2, len(b"unread"))
