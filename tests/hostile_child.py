"""A server short of file descriptors, in a child process (``tests/test_hostile.py``).

    python tests/hostile_child.py emfile SERVER CLIENTS SPARE

Starts a lab with SERVER (``http`` or ``heartbeat``) on the server host, opens CLIENTS
sockets in the client host, then lowers this process's RLIMIT_NOFILE so that only SPARE
more descriptors can be opened, and connects them all at once: the server can accept SPARE
of them, then ``accept()`` fails with EMFILE. Each client sends one request (HTTP with
``Connection: close``; a ping for the heartbeat server) after holding its connection for
half a second (so that the server is sure to run out), reads the answer and closes, which
frees a descriptor for the next one. The limit is restored after 15 s at most, then one
more client is served, and the child prints one line of JSON: how many were answered, the
server's count of accept errors and its log entries about them.

The limit applies to the whole process, so it runs here and not in the test's process.
"""

from __future__ import annotations

import json
import os
import resource
import select
import socket
import sys
import time

from netlab.lab import Lab
from netlab.proto.heartbeat import HeartbeatMessage, HeartbeatServer, Reader, encode
from netlab.proto.http import HttpServer, Response
from netlab.proto.server import ThreadedServer, listening

PORT = 8080  # unprivileged, and free inside our namespace
DEADLINE = 15.0  # seconds the clients may take, all together
HOLD = 0.5  # seconds the clients wait, connected, before they send anything


def _request(kind: str) -> bytes:
    if kind == "http":
        return b"GET / HTTP/1.1\r\nhost: 192.0.2.2\r\nconnection: close\r\n\r\n"
    return encode(HeartbeatMessage.ping(1))


def _answered(kind: str, data: bytes) -> bool:
    if kind == "http":
        return data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"ok\n")
    return any(m.kind == "pong" for m in Reader().feed(data))


def _flood(kind: str, socks: list[socket.socket]) -> int:
    """Connect every socket, send, read each answer; how many were answered in time."""
    deadline = time.monotonic() + DEADLINE
    for s in socks:
        s.setblocking(False)
        s.connect_ex(("192.0.2.2", PORT))
    time.sleep(HOLD)  # every connection waits: the server runs out of descriptors
    pending = {s: b"" for s in socks}
    sent: set[socket.socket] = set()
    answered = 0
    while pending and (left := deadline - time.monotonic()) > 0:
        readable, writable, _ = select.select(list(pending), [s for s in pending if s not in sent],
                                              [], min(left, 0.2))
        for s in writable:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                s.send(_request(kind))
                sent.add(s)
        for s in readable:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            pending[s] += data
            if _answered(kind, pending[s]) or not data:
                answered += _answered(kind, pending[s])
                del pending[s]
                s.close()
    for s in pending:
        s.close()
    return answered


def _limit_leaving(spare: int) -> int:
    """The RLIMIT_NOFILE under which exactly ``spare`` descriptors can still be opened.

    The limit bounds a descriptor's *number* (open(2) returns the lowest free one), so the
    free numbers below it are counted, not the open descriptors.
    """
    taken = {int(n) for n in os.listdir("/proc/self/fd")}
    limit, free = 0, 0
    while free < spare or limit in taken:
        free += limit not in taken
        limit += 1
    return limit


def main() -> None:
    _, scenario, kind, clients, spare = sys.argv
    assert scenario == "emfile"
    server: ThreadedServer
    if kind == "http":
        server = HttpServer(lambda request: Response.text(200, "ok\n"))
    else:
        server = HeartbeatServer(idle_deadline=2.0)
    with Lab() as lab:
        client, host = lab.host("client"), lab.host("server")
        lab.link(client, host)
        with listening(host, server, PORT, backlog=64):
            socks = [client.run(socket.socket) for _ in range(int(clients))]
            limit = _limit_leaving(int(spare))
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
            try:
                answered = _flood(kind, socks)
            finally:
                resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            after = _flood(kind, [client.run(socket.socket)])
            log = [e.detail for e in getattr(server, "log", ()) if e.what == "accept failed"]
    print(json.dumps({"answered": answered, "after": after, "limit": limit,
                      "accept_errors": dict(getattr(server, "accept_errors", {})),
                      "logged": log[:3],
                      "logged_count": len(log)}))


if __name__ == "__main__":
    main()
