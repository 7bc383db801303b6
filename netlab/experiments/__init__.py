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
from netlab.experiments.https_cost import HttpsCost, https_round_trips
from netlab.experiments.https_eavesdrop import EavesdropResult, https_eavesdropper
from netlab.experiments.https_request import HttpsRequestResult, https_one_request
from netlab.experiments.longlived_heartbeat import HeartbeatResult, heartbeats
from netlab.experiments.longlived_idle import IdleResult, idle_connections
from netlab.experiments.longlived_push import PushPollResult, push_vs_poll
from netlab.experiments.longlived_websocket import WebSocketResult, websocket
from netlab.experiments.socket_api import SocketsResult, sockets
from netlab.experiments.tcp_handshake import HandshakeResult, handshake
from netlab.experiments.tcp_teardown import TeardownResult, teardown
from netlab.experiments.tls_certs import CertsResult, certificates

__all__ = ["EXPERIMENTS", "Experiment", "handshake", "HandshakeResult", "teardown",
           "TeardownResult", "sockets", "SocketsResult", "http", "HttpResult",
           "https_one_request", "HttpsRequestResult", "certificates", "CertsResult",
           "https_eavesdropper", "EavesdropResult", "https_round_trips", "HttpsCost",
           # long-lived connections
           "idle_connections", "IdleResult", "heartbeats", "HeartbeatResult", "push_vs_poll",
           "PushPollResult", "websocket", "WebSocketResult"]


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
        # the HTTPS chapter
        Experiment("https", "one HTTPS request on ports 80 and 443: TLS records, the handshake "
                   "as the client logged it and as the capture decrypts, SNI", https_one_request),
        Experiment("https-certs", "certificate chain; unknown CA, wrong host name, expired "
                   "(Python ssl, curl, openssl s_client); bad input on the TLS port",
                   certificates),
        Experiment("https-eavesdrop", "a login posted over HTTP and HTTPS, captured on a "
                   "router; decrypted with the key log", https_eavesdropper),
        Experiment("https-cost", "time to the first response byte: HTTP, TLS 1.3, TLS 1.2, "
                   "resumed sessions, against the round trips", https_round_trips),
        # long-lived connections
        Experiment("idle", "an idle connection through a firewall that forgets: the silent "
                   "death, and TCP keepalive that prevents it", idle_connections),
        Experiment("heartbeat", "application heartbeats against TCP keepalive: a hung server, "
                   "a cut link", heartbeats),
        Experiment("push", "updates pushed over one WebSocket against HTTP polling: "
                   "connections, bytes, latency", push_vs_poll),
        Experiment("websocket", "WebSocket: the HTTP Upgrade handshake, masked frames, "
                   "ping/pong, the closing handshake", websocket),
    ]
}
