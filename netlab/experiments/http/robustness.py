"""Bad input to the chapter's HTTP server: each answered with its status, none fatal.

Each case is sent as raw bytes on a fresh connection (a real client would refuse to send most
of them). The experiment reads the server's answer up to the close, then checks that the
server still answers a good request and holds no connection open: nothing leaked.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from netlab.analysis.trace import Trace
from netlab.errors import ExperimentError
from netlab.experiments.http.basics import hello
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import N_, tr
from netlab.lab import Host, Lab
from netlab.proto.http import HttpClient, Limits, serving
from netlab.views.table import Grid

__all__ = ["CASES", "Case", "Outcome", "BadInputResult", "bad_input"]

PORT = 80
LIMITS = Limits(max_header_bytes=4096, max_body_bytes=1024, request_timeout=0.5)
ANSWER_TIMEOUT = 3.0  # seconds: the longest wait for the server's answer and close (the
# server itself gives up on a stalled request after 2 s)


@dataclass(frozen=True, kw_only=True)
class Case:
    name: str
    data: bytes
    expected: int
    """The status RFC 9110 (or RFC 6585) names for this input."""


#: The bad inputs, each with the status it must be answered with.
CASES = (
    Case(name=N_("malformed request line"), data=b"HELLO THERE\r\n\r\n", expected=400),
    Case(name=N_("headers too large"),
         data=b"GET /hello HTTP/1.1\r\nhost: x\r\nx-padding: " + b"a" * 6000 + b"\r\n\r\n",
         expected=431),
    Case(name=N_("unknown method"), data=b"BREW /pot HTTP/1.1\r\nhost: x\r\n\r\n", expected=501),
    Case(name=N_("body too large"),
         data=b"POST /hello HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n" + b"x" * 100,
         expected=413),
    Case(name=N_("a partial request, then silence"),
         data=b"GET /hello HTTP/1.1\r\nhost: x\r\n", expected=408),
)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    case: Case
    status_line: str
    """The first line of the server's answer."""
    closed_after: float
    """Seconds from sending to the server's close."""
    still_serving: int
    """The status of a good request sent right after; 200 means the server goes on."""
    open_after: int
    """The number of connections the server still held after both; 0 means none leaked."""

    @property
    def status(self) -> int:
        parts = self.status_line.split()
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _send_raw(client: Host, address: str, data: bytes) -> tuple[bytes, float]:
    sock = client.run(socket.create_connection, (address, PORT), ANSWER_TIMEOUT)
    with sock:
        start = time.monotonic()
        sock.sendall(data)
        sock.settimeout(ANSWER_TIMEOUT)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer, time.monotonic() - start


@dataclass(frozen=True)
class BadInputResult:
    outcomes: tuple[Outcome, ...]
    trace: Trace
    """Captured on the server."""
    pcap_host: str = "server"
    keylog: None = None  # no TLS in this experiment

    def grid(self) -> Grid:
        rows = [[tr("input"), tr("server's answer"), tr("closed after (ms)"),
                 tr("next good request"), tr("connections left open")]]
        for o in self.outcomes:
            rows.append([tr(o.case.name), o.status_line, f"{o.closed_after * 1e3:.0f}",
                         str(o.still_serving), str(o.open_after)])
        return Grid(rows, right={tr("closed after (ms)"), tr("connections left open")})

    def facts(self) -> list[Fact]:
        """The section's claims, each checked on this run's data."""
        return [Fact(name=f"bad-input-{o.case.expected}",
                     text=tr("{case}: answered {status}, and the server goes on").format(
                         case=tr(o.case.name), status=o.case.expected),
                     holds=o.status == o.case.expected and o.still_serving == 200
                     and o.open_after == 0,
                     evidence=f"{o.status_line}; next request {o.still_serving}; "
                              f"{o.open_after} left open")
                for o in self.outcomes] + [
            Fact(name="request-timeout",
                 text=tr("a client that sends half a request is answered 408 only after the "
                         "server's request timeout"),
                 holds=bool(self.outcomes) and self.outcomes[-1].case.expected == 408
                 and self.outcomes[-1].closed_after >= LIMITS.request_timeout,
                 evidence=f"408 after {self.outcomes[-1].closed_after * 1e3:.0f} ms (timeout "
                          f"{LIMITS.request_timeout * 1e3:g} ms)" if self.outcomes
                 else "no outcome")]

    def report(self) -> str:
        return f"Bad input\n\n{self.grid()}\n\nFacts\n\n{checklist(self.facts())}"

    def __str__(self) -> str:
        return str(self.grid())

    def _repr_html_(self) -> str:
        return self.grid()._repr_html_()


@replayable
def bad_input() -> BadInputResult:
    """Send each of :data:`CASES`, then a good request."""
    out = []
    with Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server)
        with serving(server, hello, port=PORT, limits=LIMITS) as srv, lab.capture(server) as cap:
            for case in CASES:
                answer, took = _send_raw(client, server.address, case.data)
                with HttpClient.connect(client, server.address, PORT, timeout=ANSWER_TIMEOUT) as ok:
                    good = ok.request("GET", "/hello").status
                deadline = time.monotonic() + ANSWER_TIMEOUT
                while srv.open_connections and time.monotonic() < deadline:
                    time.sleep(0.01)  # the good connection's thread is finishing its close
                if not answer:
                    raise ExperimentError(f"{case.name}: the server closed without an answer")
                out.append(Outcome(case=case, status_line=answer.split(b"\r\n", 1)[0].decode(),
                                   closed_after=took, still_serving=good,
                                   open_after=srv.open_connections))
    assert cap.trace is not None
    return BadInputResult(tuple(out), cap.trace)
