"""One function per experiment; pages, snippets, the CLI and tests all call these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netlab.experiments.http_basics import one_request, persistence
from netlab.experiments.http_costs import connection_costs
from netlab.experiments.http_eavesdrop import eavesdrop
from netlab.experiments.http_hol import head_of_line
from netlab.experiments.http_over_tcp import HttpResult, http
from netlab.experiments.http_robustness import bad_input
from netlab.experiments.socket_api import SocketsResult, sockets
from netlab.experiments.tcp_handshake import HandshakeResult, handshake
from netlab.experiments.tcp_teardown import TeardownResult, teardown

__all__ = ["EXPERIMENTS", "Experiment", "handshake", "HandshakeResult", "teardown",
           "TeardownResult", "sockets", "SocketsResult", "http", "HttpResult"]


@dataclass(frozen=True)
class Experiment:
    """An entry of the CLI's list."""

    name: str
    summary: str
    run: Callable[[], Any]


EXPERIMENTS = {
    e.name: e
    for e in [
        Experiment("sockets", "what a socket is: system calls, file descriptors, TCP byte "
                   "streams, UDP datagrams, ICMP port unreachable, Unix domain sockets", sockets),
        Experiment("handshake", "TCP three-way handshake, states between segments, RST, "
                   "unanswered SYN", handshake),
        Experiment("teardown", "closing TCP connections: four-way teardown, half-close, "
                   "TIME_WAIT, CLOSE_WAIT, RST, states checked against RFC 9293", teardown),
        Experiment("http", "HTTP over TCP: all the http-* experiments below, together",
                   http),
        Experiment("http-request", "one HTTP request: the capture, the bytes, h11's events",
                   one_request),
        Experiment("http-costs", "10 requests over a 50 ms RTT: HTTP/1.0 vs persistent vs "
                   "pipelined, measured against round trips", connection_costs),
        Experiment("http-hol", "head-of-line blocking: pipeline vs two connections vs HTTP/2",
                   head_of_line),
        Experiment("http-keepalive", "persistent connections, Connection: close, the server's "
                   "idle timeout", persistence),
        Experiment("http-bad-input", "bad input to the HTTP server: 400, 431, 501, 413, 408",
                   bad_input),
        Experiment("http-eavesdrop", "a login over plain HTTP, read by a router on the path",
                   eavesdrop),
    ]
}
