"""netlab.lab: hosts, links and cleanup, checked with ip(8), ethtool(8) and /proc.

The cleanup tests compare this process (threads, file descriptors) and the root network
namespace (``ip -o link``, ``ip -o addr``, ``/proc/net/dev``, ``/run/netns``) before and
after an experiment, including one that fails half-way through.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from support import (
    HostState,
    LiveRun,
    host_state,
    require_namespaces,
    require_program,
    server_socket,
    settled_host_state,
    side_by_side,
)

import netlab.experiments.tcp.handshake as handshake_module
import netlab.lab.lab
from netlab.analysis.trace import Trace
from netlab.errors import LabError
from netlab.experiments.tcp.handshake import handshake
from netlab.lab import Host, Lab

pytestmark = pytest.mark.live


@pytest.fixture
def lab() -> Iterator[Lab]:
    require_namespaces()
    with Lab() as lab:
        yield lab


def _inside(host: Host, *cmd: str) -> str:
    done = host.run(subprocess.run, list(cmd), capture_output=True, text=True, check=True)
    out: str = done.stdout
    return out


def assert_left_clean(before: HostState, after: HostState) -> None:
    assert after.threads - before.threads == frozenset(), "threads left running"
    assert after.fds == before.fds, "file descriptors left open"
    assert after.links == before.links
    assert after.addresses == before.addresses
    assert after.proc_net_dev == before.proc_net_dev
    assert after.run_netns == before.run_netns


# ---------------------------------------------------------------------------------------
# Hosts and links


def test_addresses_come_from_the_documentation_networks(lab: Lab) -> None:
    a, b = lab.host("a"), lab.host("b")
    with pytest.raises(LabError, match="host 'a' has no address yet"):
        _ = a.address
    for _ in range(3):
        lab.link(a, b)
    assert a.addresses == ["192.0.2.1", "198.51.100.1", "203.0.113.1"]
    assert b.addresses == ["192.0.2.2", "198.51.100.2", "203.0.113.2"]
    assert a.address == "192.0.2.1"
    assert [i.name for i in a.interfaces] == ["eth0", "eth1", "eth2"]
    assert lab.names == {"192.0.2.1": "a", "198.51.100.1": "a", "203.0.113.1": "a",
                         "192.0.2.2": "b", "198.51.100.2": "b", "203.0.113.2": "b"}
    # what the kernel of host a reports
    inet = {line.split()[1]: line.split()[3] for line in
            _inside(a, "ip", "-o", "-4", "addr", "show").splitlines()}
    assert inet == {"lo": "127.0.0.1/8", "eth0": "192.0.2.1/24", "eth1": "198.51.100.1/24",
                    "eth2": "203.0.113.1/24"}
    with pytest.raises(LabError, match="at most 3 links"):
        lab.link(a, b)
    with pytest.raises(LabError, match="already a host called 'a'"):
        lab.host("a")
    assert repr(a) == "<Host a 192.0.2.1 198.51.100.1 203.0.113.1>"


def test_neighbours_are_permanent(lab: Lab) -> None:
    client, server = lab.host("client"), lab.host("server")
    link = lab.link(client, server)
    neigh = _inside(client, "ip", "neigh", "show", "dev", "eth0").split()
    assert neigh[:3] == ["192.0.2.2", "lladdr", link.b.mac] and "PERMANENT" in neigh


def test_wire_links_have_tx_checksum_offload_off(lab: Lab) -> None:
    ethtool = require_program("ethtool")
    client, server, other = lab.host("client"), lab.host("server"), lab.host("other")
    lab.link(client, server, wire="pass")
    lab.link(client, other)
    assert "tx-checksumming: off" in _inside(client, ethtool, "-k", "eth0")
    assert "tx-checksumming: off" in _inside(server, ethtool, "-k", "eth0")
    assert "tx-checksumming: on" in _inside(client, ethtool, "-k", "eth1")  # plain veth


@pytest.mark.parametrize("host", ["client", "server"])
def test_no_arp_or_ipv6_noise_in_captures(handshake_run: LiveRun, host: str) -> None:
    frames = handshake_run.result.trace.frames[host]
    assert {f.data[12:14] for f in frames} == {b"\x08\x00"}  # IPv4 only


# ---------------------------------------------------------------------------------------
# Cleanup


def test_cleanup_after_an_experiment(handshake_run: LiveRun) -> None:
    assert_left_clean(handshake_run.before, handshake_run.after)


def _fail_at_third_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = handshake_module._server_side

    def failing(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:  # the SYN-ACK is held on the wire, both captures are running
            raise RuntimeError("failed on purpose")
        return real(*args)

    monkeypatch.setattr(handshake_module, "_server_side", failing)


def _fail_while_linking(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: Any) -> None:  # both veth pairs exist, the wire does not yet
        raise RuntimeError("failed on purpose")

    monkeypatch.setattr(netlab.lab.lab, "checksum_offload_off", failing)


@pytest.mark.parametrize("failure", [_fail_at_third_snapshot, _fail_while_linking])
def test_cleanup_after_an_experiment_that_fails(monkeypatch: pytest.MonkeyPatch,
                                                failure: Any) -> None:
    require_namespaces()
    failure(monkeypatch)
    before = host_state()
    with pytest.raises(RuntimeError, match="failed on purpose"):
        handshake()
    assert_left_clean(before, settled_host_state(before))


# ---------------------------------------------------------------------------------------
# Two labs at once


def _echo_once(listener: socket.socket) -> bytes:
    conn, _ = listener.accept()
    with conn:
        data = conn.recv(1000)
        conn.sendall(data.upper())
        conn.recv(1)
    return data


def _client(payload: bytes) -> bytes:
    with socket.create_connection(("192.0.2.2", 8080), timeout=2) as s:
        s.sendall(payload)
        return s.recv(1000)


def _one_lab(i: int, ready: threading.Barrier) -> tuple[bytes, Trace, int]:
    payload = f"lab number {i}".encode()
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server, wire="pass")
        listener = server.run(server_socket)
        ready.wait(10)  # both labs exist now, with the same addresses and ports
        try:
            with lab.capture(client, server) as cap:
                echo = server.start(_echo_once, listener)
                reply = client.run(_client, payload)
                assert echo.result() == payload
            ready.wait(10)  # nobody closes before both are done
        finally:
            listener.close()
        assert cap.trace is not None
        return reply, cap.trace, os.fstat(client.ns.fd).st_ino


def test_two_labs_at_once_do_not_collide() -> None:
    require_namespaces()
    results = side_by_side(_one_lab, (1, 2))
    assert set(results) == {1, 2}
    (reply1, trace1, ns1), (reply2, trace2, ns2) = results[1], results[2]
    assert (reply1, reply2) == (b"LAB NUMBER 1", b"LAB NUMBER 2")
    assert ns1 != ns2
    for i, trace in ((1, trace1), (2, trace2)):
        payloads = {s.payload for s in trace.segments if s.payload}
        assert payloads == {f"lab number {i}".encode(), f"LAB NUMBER {i}".encode()}
        assert all(s.received_ns is not None for s in trace.segments)
