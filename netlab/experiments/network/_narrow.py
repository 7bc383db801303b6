"""The MTU experiment's path and programs: four hosts with a narrow link in the middle, a
server that answers a small or a large response, a client that gives up after a while.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import time

from netlab.experiments.endpoints import SERVER_PORT, TIMEOUT, client_socket
from netlab.kernel.link import checksum_offload_off
from netlab.lab import Host, Lab

__all__ = ["narrow_path", "serve", "ask", "route"]


def narrow_path(lab: Lab, *, narrow: int, delay: float) -> tuple[Host, Host, Host, Host]:
    """client —1500— router —``narrow``— isp —1500— server; the client's link delayed."""
    client, router, isp, server = (lab.host(n) for n in ("client", "router", "isp", "server"))
    lab.link(client, router, delay=delay)
    lab.link(router, isp, mtu=narrow)
    lab.link(isp, server)
    router.router()
    isp.router()
    router.route_via(isp.address_on(isp.interfaces[0]))
    isp.route_via(router.address_on(router.interfaces[1]))
    # Without offload the server's kernel cuts segments to their size on the wire before
    # its capture sees them (a veth would otherwise hand on 64 kB "super-segments").
    checksum_offload_off(server.interfaces[0])
    return client, router, isp, server


def serve(listener: socket.socket, small: int, large: int) -> None:
    """Answer each line ``small`` with ``small`` bytes, any other line with ``large``."""
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(TIMEOUT)
        reader = conn.makefile("rb")
        try:
            for line in reader:
                size = small if line.strip() == b"small" else large
                conn.sendall(bytes(i % 251 for i in range(size)))
        except OSError:  # the black hole: the client gave up and reset the connection
            pass


def _read(sock: socket.socket, size: int, deadline: float) -> int:
    got = 0
    while got < size and (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(size - got)
        except TimeoutError:
            break
        if not chunk:
            break
        got += len(chunk)
    return got


def ask(server: str, port: int, small: int, large: int, wait: float) -> tuple[int, int, float]:
    """Ask for the small response, then for the large one, waiting at most ``wait`` s for
    it; return the bytes read of each, and the seconds the large one took."""
    sock = client_socket("192.0.2.1", port)
    with sock:
        sock.settimeout(TIMEOUT)
        sock.connect((server, SERVER_PORT))
        sock.sendall(b"small\n")
        got_small = _read(sock, small, time.monotonic() + TIMEOUT)
        start = time.monotonic()
        sock.sendall(b"large\n")
        got_large = _read(sock, large, start + wait)
        took = time.monotonic() - start
        if got_large < large:  # give up: abort (RST), so the server stops resending
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return got_small, got_large, took


def route(address: str) -> str:
    """``ip route get address``: the route, and what the kernel learned about the path."""
    done = subprocess.run(["ip", "route", "get", address], capture_output=True, text=True,
                          timeout=10, check=False)
    return done.stdout.strip() or done.stderr.strip()
