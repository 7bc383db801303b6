"""One function per experiment; pages, snippets, the CLI and tests all call these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netlab.experiments.https_cost import HttpsCost, https_cost
from netlab.experiments.https_eavesdrop import EavesdropResult, eavesdrop
from netlab.experiments.https_request import HttpsRequestResult, https_request
from netlab.experiments.socket_api import SocketsResult, sockets
from netlab.experiments.tcp_handshake import HandshakeResult, handshake
from netlab.experiments.tcp_teardown import TeardownResult, teardown
from netlab.experiments.tls_certs import CertsResult, certificates

__all__ = ["EXPERIMENTS", "Experiment", "handshake", "HandshakeResult", "teardown",
           "TeardownResult", "sockets", "SocketsResult", "https_request", "HttpsRequestResult",
           "certificates", "CertsResult", "eavesdrop", "EavesdropResult", "https_cost",
           "HttpsCost"]


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
        # the HTTPS chapter
        Experiment("https", "one HTTPS request on ports 80 and 443: TLS records, the handshake "
                   "as the client logged it and as the capture decrypts, SNI", https_request),
        Experiment("https-certs", "certificate chain; unknown CA, wrong host name, expired "
                   "(Python ssl, curl, openssl s_client); bad input on the TLS port",
                   certificates),
        Experiment("https-eavesdrop", "a login posted over HTTP and HTTPS, captured on a "
                   "router; decrypted with the key log", eavesdrop),
        Experiment("https-cost", "time to the first response byte: HTTP, TLS 1.3, TLS 1.2, "
                   "resumed sessions, against the round trips", https_cost),
    ]
}
