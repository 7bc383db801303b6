"""A lab in a child process, for the tests that watch it end (``tests/test_network_lab.py``).

    python tests/lab_child.py exit | raise | wait | rtt MS

Each scenario builds client — firewall — server with a delayed link, a stateful firewall,
a capture on both end hosts, one connection open through the firewall and a ``sleep 60``
started in the server, then prints ``ready {json}`` (its pid and the sleep's pid) and:

``exit``
    waits for a line ``go`` on stdin, leaves the ``with`` block normally and prints
    ``closed``;
``raise``
    waits for ``go``, raises ``RuntimeError("failed on purpose")`` inside the ``with``
    block;
``wait``
    sleeps until the test signals it (SIGINT, SIGTERM or SIGKILL);
``rtt MS``
    the client's link has a one-way delay of MS ms; waits for ``go``, then prints
    ``rtt {json}``: five connect() times through the firewall, in seconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

from netlab.lab import Host, Lab


def _accept_all(listener: socket.socket) -> None:
    """Accept and hold connections until the listener is shut down."""
    held = []
    try:
        while True:
            held.append(listener.accept()[0])
    except OSError:
        pass
    finally:
        for conn in held:
            conn.close()


def _connect_times(client: Host, server: Host, port: int, count: int) -> list[float]:
    times = []
    for _ in range(count):
        sock = client.run(socket.socket)
        with sock:
            sock.settimeout(5)
            start = time.perf_counter()
            sock.connect((server.address, port))
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    # Ctrl-C must raise KeyboardInterrupt here even if we were started with SIGINT ignored,
    # as every background job of a non-interactive shell is (Python then keeps it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    scenario = sys.argv[1]
    one_way_ms = float(sys.argv[2]) if scenario == "rtt" else 5.0
    with Lab() as lab:
        client, fw, server = lab.host("client"), lab.host("firewall"), lab.host("server")
        lab.link(client, fw, delay=one_way_ms / 1000)
        lab.link(fw, server)
        fw.add_firewall(idle_timeout="60s", inside=client)
        listener = server.run(socket.create_server, (server.address, 8080))
        serving = server.start(_accept_all, listener)
        # (not on our pipes: a sleep that outlived us would keep the test waiting for EOF)
        sleeper = server.popen(["sleep", "60"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with lab.capture(client, server):
                conn = client.run(socket.create_connection, (server.address, 8080), 5)
                print("ready", json.dumps({"pid": os.getpid(), "sleep": sleeper.pid}),
                      flush=True)
                if scenario == "wait":
                    time.sleep(60)
                elif sys.stdin.readline().strip() != "go":
                    raise SystemExit("expected the line 'go'")
                if scenario == "raise":
                    raise RuntimeError("failed on purpose")
                if scenario == "rtt":
                    times = _connect_times(client, server, 8080, 5)
                    print("rtt", json.dumps(times), flush=True)
                conn.close()
        finally:
            listener.shutdown(socket.SHUT_RDWR)
            listener.close()
            serving.result(5)
    if sleeper.returncode != -9:
        raise SystemExit(f"the lab did not kill its sleep: {sleeper.returncode}")
    print("closed", flush=True)


if __name__ == "__main__":
    main()
