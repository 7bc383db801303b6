"""The HTTP chapter, live: the server against real clients (curl) and bad input, and each
experiment's claims checked against independent witnesses (tshark, curl, the kernel)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import require_namespaces, require_program

from netlab.experiments.http.basics import hello, one_request, persistence
from netlab.experiments.http.costs import TOLERANCE, connection_costs
from netlab.experiments.http.eavesdrop import LOGIN_PASSWORD, eavesdrop
from netlab.experiments.http.head_of_line import head_of_line, slow_and_fast
from netlab.experiments.http.robustness import CASES, bad_input
from netlab.lab import Host, Lab
from netlab.proto.http import HttpClient, Limits, serving
from netlab.proto.http2 import serving_h2

pytestmark = pytest.mark.live


@pytest.fixture
def lab() -> Iterator[tuple[Lab, Host, Host]]:
    require_namespaces()
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server)
        yield lab, client, server


def curl(client: Host, *args: str) -> subprocess.CompletedProcess[bytes]:
    require_program("curl")
    proc = client.popen(["curl", "--silent", "--show-error", "--max-time", "5", *args],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=10)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def tshark_fields(tshark: str, pcap: Path, display: str, *fields: str) -> list[list[str]]:
    cmd = [tshark, "-n", "-r", str(pcap), "-Y", display, "-T", "fields", "-E", "separator=\t"]
    for f in fields:
        cmd += ["-e", f]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    return [line.split("\t") for line in done.stdout.splitlines()]


# ---------------------------------------------------------------------------------------
# The server, against a real client and against bad input


def test_curl_gets_hello(lab: tuple[Lab, Host, Host]) -> None:
    _, client, server = lab
    with serving(server, hello) as srv:
        done = curl(client, "--include", f"http://{server.address}/hello")
        head = curl(client, "--head", f"http://{server.address}/hello")
        missing = curl(client, "--write-out", "%{http_code}", "--output", "/dev/null",
                       f"http://{server.address}/nowhere")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"HTTP/1.1 200 OK\r\n")
    assert done.stdout.endswith(b"\r\n\r\nHello from netlab!\n")
    assert b"content-length: 19\r\n" in done.stdout
    assert head.returncode == 0 and head.stdout.endswith(b"\r\n\r\n")  # HEAD: no body
    assert b"content-length: 19\r\n" in head.stdout
    assert missing.stdout == b"404"
    assert [e.status for e in srv.log if e.what == "request"] == [200, 200, 404]


def test_curl_reuses_one_connection(lab: tuple[Lab, Host, Host]) -> None:
    """curl, asked for three URLs, keeps the connection our server keeps open."""
    _, client, server = lab
    with serving(server, hello) as srv:
        url = f"http://{server.address}/hello"
        done = curl(client, url, url, url)
    assert done.returncode == 0 and done.stdout == b"Hello from netlab!\n" * 3
    requests = [e for e in srv.log if e.what == "request"]
    assert len(requests) == 3 and {e.connection for e in requests} == {1}


def test_curl_http10_gets_one_connection_each(lab: tuple[Lab, Host, Host]) -> None:
    _, client, server = lab
    with serving(server, hello) as srv:
        url = f"http://{server.address}/hello"
        done = curl(client, "--http1.0", url, url)
    assert done.returncode == 0 and done.stdout == b"Hello from netlab!\n" * 2
    assert [e.connection for e in srv.log if e.what == "request"] == [1, 2]
    closes = [e.detail for e in srv.log if e.what == "closed"]
    assert closes == ["the request asked to close (HTTP/1.0 or Connection: close)"] * 2


def test_curl_speaks_http2_to_our_h2_server(lab: tuple[Lab, Host, Host]) -> None:
    """curl's own HTTP/2 (nghttp2), with prior knowledge, against netlab's h2 server."""
    _, client, server = lab
    with serving_h2(server, slow_and_fast, port=8080):
        done = curl(client, "--http2-prior-knowledge", "--write-out", " %{http_version}",
                    f"http://{server.address}:8080/fast")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"fast response\n 2"


def _raw(client: Host, server: Host, data: bytes, timeout: float = 5.0) -> bytes:
    sock = client.run(socket.create_connection, (server.address, 80), timeout)
    with sock:
        sock.sendall(data)
        sock.settimeout(timeout)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input_gets_its_status_and_the_server_goes_on(
        lab: tuple[Lab, Host, Host], case: object) -> None:
    from netlab.experiments.http.robustness import LIMITS, Case

    assert isinstance(case, Case)
    _, client, server = lab
    threads = threading.active_count()
    with serving(server, hello, limits=LIMITS) as srv:
        answer = _raw(client, server, case.data)
        assert answer.split(b"\r\n", 1)[0].split(b" ")[1] == str(case.expected).encode()
        assert b"\r\nconnection: close\r\n" in answer
        done = curl(client, f"http://{server.address}/hello")
        assert done.stdout == b"Hello from netlab!\n"
        errors = [e for e in srv.log if e.what == "error"]
        assert [e.status for e in errors] == [case.expected]
    assert srv.open_connections == 0
    assert threading.active_count() == threads  # every connection thread has ended


def test_a_silent_client_is_closed_after_the_idle_timeout(lab: tuple[Lab, Host, Host]) -> None:
    """A connection that never sends a byte gets no answer, only the server's FIN."""
    _, client, server = lab
    with serving(server, hello, limits=Limits(idle_timeout=0.4)) as srv:
        sock = client.run(socket.create_connection, (server.address, 80), 5.0)
        with sock:
            start = time.monotonic()
            sock.settimeout(3)
            assert sock.recv(100) == b""
            took = time.monotonic() - start
        assert 0.4 <= took < 0.6
        assert [e.detail for e in srv.log] == ["idle for 0.4 s: the server closes"]


def test_a_client_that_never_reads_does_not_hold_the_server(lab: tuple[Lab, Host, Host]) -> None:
    """A client that pipelines requests and never reads: the other clients are still served,
    and stopping the server ends its connection thread (nothing leaks)."""
    _, client, server = lab
    threads = threading.active_count()
    with serving(server, hello, limits=Limits(idle_timeout=2.0)) as srv:
        sock = client.run(socket.create_connection, (server.address, 80), 5.0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        request = b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n"
        sock.setblocking(False)
        sent = 0
        try:
            for _ in range(20000):
                sent += sock.send(request)
        except BlockingIOError:
            pass  # the buffers are full: the server's sendall is blocked on this client
        assert sent > 0
        done = curl(client, f"http://{server.address}/hello")
        assert done.stdout == b"Hello from netlab!\n"
        sock.close()
    assert srv.open_connections == 0 and threading.active_count() == threads


def test_a_crashing_handler_answers_500_and_the_server_goes_on(
        lab: tuple[Lab, Host, Host]) -> None:
    _, client, server = lab

    def broken(request: object) -> object:
        raise RuntimeError("bug")

    with serving(server, broken) as srv:  # type: ignore[arg-type]
        done = curl(client, "--write-out", "%{http_code}", "--output", "/dev/null",
                    f"http://{server.address}/")
        again = curl(client, "--write-out", "%{http_code}", "--output", "/dev/null",
                     f"http://{server.address}/")
    assert done.stdout == again.stdout == b"500"
    assert [e.status for e in srv.log if e.what == "request"] == [500, 500]


def test_bad_input_experiment() -> None:
    require_namespaces()
    result = bad_input()
    assert [o.status for o in result.outcomes] == [400, 431, 501, 413, 408]
    assert all(o.still_serving == 200 and o.open_after == 0 for o in result.outcomes)


def test_client_times_out_on_a_silent_server(lab: tuple[Lab, Host, Host]) -> None:
    from netlab.errors import ExperimentError

    _, client, server = lab
    listener = server.run(socket.create_server, (server.address, 80))
    with listener, HttpClient.connect(client, server.address, timeout=0.3) as http:
        start = time.monotonic()
        with pytest.raises(ExperimentError, match="no complete response within 0.3 s"):
            http.request("GET", "/")
        assert time.monotonic() - start < 1.0


# ---------------------------------------------------------------------------------------
# The experiments, against witnesses


def test_one_request(tshark: str, tmp_path: Path) -> None:
    require_namespaces()
    result = one_request()
    pcap = result.trace.write_pcap(tmp_path / "one.pcap", host="server")
    rows = tshark_fields(tshark, pcap, "http", "http.request.method", "http.request.uri",
                         "http.host", "http.response.code", "http.file_data")
    assert rows[0][:3] == ["GET", "/hello", "192.0.2.2:80"]
    assert rows[1][3] == "200"
    ex = result.exchange
    assert ex.response is not None and ex.response.body == b"Hello from netlab!\n"
    # The client's h11 sent exactly the bytes the server captured.
    assert ex.request_message.raw.startswith(b"GET /hello HTTP/1.1\r\nhost: 192.0.2.2:80\r\n")


def test_connection_costs(tshark: str, tmp_path: Path) -> None:
    require_namespaces()
    require_program("curl")
    result = connection_costs(n=4, rtt=0.05, small=1)
    for run in result.runs:
        pcap = run.trace.write_pcap(tmp_path / f"{run.mode.replace('/', '')}.pcap")
        syns = tshark_fields(tshark, pcap, "tcp.flags.syn == 1 && tcp.flags.ack == 0",
                             "tcp.srcport")
        requests = tshark_fields(tshark, pcap, "http.request", "http.request.version")
        assert len(syns) == run.handshakes == {"HTTP/1.0": 4}.get(run.mode, 1)
        version = "HTTP/1.0" if run.mode == "HTTP/1.0" else "HTTP/1.1"
        assert [r[0] for r in requests] == [version] * 4
        assert TOLERANCE[0] <= run.ratio <= TOLERANCE[1], (run.mode, run.elapsed)
    assert result.run("pipelined").sent_before_first_response() == 4
    assert result.run("HTTP/1.1").sent_before_first_response() == 1


def test_head_of_line() -> None:
    require_namespaces()
    result = head_of_line()
    order = {r.way: r.order for r in result.runs}
    assert order == {"pipelined": ("slow", "fast"), "two connections": ("fast", "slow"),
                     "HTTP/2": ("fast", "slow")}
    assert result.run("pipelined").arrival("/fast") >= result.slow
    assert result.run("HTTP/2").arrival("/fast") < result.slow / 2


def test_persistence(tshark: str, tmp_path: Path) -> None:
    require_namespaces()
    result = persistence(idle_timeout=0.5)
    pcap = result.trace.write_pcap(tmp_path / "persist.pcap", host="server")
    fins = tshark_fields(tshark, pcap, "tcp.flags.fin == 1", "tcp.stream", "ip.src",
                         "frame.time_relative")
    first_fin = {}
    for stream, src, _ in fins:
        first_fin.setdefault(stream, src)
    assert first_fin == {"0": "192.0.2.2", "1": "192.0.2.2"}  # the server closes both
    assert 0.5 <= result.idle_close_after() < 0.6
    assert result.closing.header("connection") == "close"


def test_eavesdropper_reads_the_password(tshark: str, tmp_path: Path) -> None:
    require_namespaces()
    result = eavesdrop()
    pcap = result.trace.write_pcap(tmp_path / "router.pcap", host="router")
    assert LOGIN_PASSWORD.encode() in pcap.read_bytes()
    rows = tshark_fields(tshark, pcap, 'urlencoded-form.key == "password"',
                         "urlencoded-form.value")
    assert rows and LOGIN_PASSWORD in rows[0][0].split(",")


def test_repeats_must_be_positive() -> None:
    with pytest.raises(ValueError, match="repeats must be at least 1, not 0"):
        connection_costs(repeats=0)
    with pytest.raises(ValueError, match="repeats must be at least 1, not 0"):
        head_of_line(repeats=0)
