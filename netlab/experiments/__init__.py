"""One function per experiment, grouped by chapter; pages, snippets, the CLI and tests call these.

Each chapter is a folder (``tcp/``, ``http/``, ...) of experiment modules; a module's private
helpers start with ``_`` and serve only their chapter. Every experiment returns a
:class:`~netlab.experiments.result.Result`. :data:`EXPERIMENTS` is the registry the CLI lists:
each entry's name, chapter, summary, function, and how many facts its result checks (the
tests hold every run to that number).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from netlab.experiments.http.basics import one_request, persistence
from netlab.experiments.http.chapter import HttpResult, http
from netlab.experiments.http.costs import connection_costs
from netlab.experiments.http.eavesdrop import eavesdrop
from netlab.experiments.http.head_of_line import head_of_line
from netlab.experiments.http.robustness import bad_input
from netlab.experiments.https.certs import CertsResult, certificates
from netlab.experiments.https.cost import HttpsCost, https_round_trips
from netlab.experiments.https.eavesdrop import EavesdropResult, https_eavesdropper
from netlab.experiments.https.request import HttpsRequestResult, https_one_request
from netlab.experiments.lab.tour import LabTourResult, lab_tour
from netlab.experiments.longlived.heartbeat import HeartbeatResult, heartbeats
from netlab.experiments.longlived.idle import IdleResult, idle_connections
from netlab.experiments.longlived.push import PushPollResult, push_vs_poll
from netlab.experiments.longlived.websocket import WebSocketResult, websocket
from netlab.experiments.network.bottleneck import BottleneckResult, bottleneck
from netlab.experiments.network.congestion import CongestionResult, congestion_control
from netlab.experiments.network.flow import FlowResult, flow_control
from netlab.experiments.network.impairments import ImpairmentsResult, impairments
from netlab.experiments.network.mtu import MtuResult, mtu
from netlab.experiments.network.nagle import NagleResult, nagle
from netlab.experiments.network.recovery import RecoveryResult, recovery
from netlab.experiments.queues.backlog import BacklogResult, accept_queue
from netlab.experiments.queues.fastopen import FastOpenResult, fast_open
from netlab.experiments.queues.flood import FloodResult, syn_flood
from netlab.experiments.queues.losses import LossesResult, handshake_losses
from netlab.experiments.queues.old_syn import OldSynResult, old_duplicate_syn
from netlab.experiments.result import Fact, Result
from netlab.experiments.sockets.socket_api import SocketsResult, sockets
from netlab.experiments.tcp.handshake import HandshakeResult, handshake
from netlab.experiments.tcp.teardown import TeardownResult, teardown

__all__ = [
    "EXPERIMENTS", "Experiment", "Fact", "Result",
    "lab_tour", "LabTourResult",
    "sockets", "SocketsResult",
    "handshake", "HandshakeResult", "teardown", "TeardownResult",
    "old_duplicate_syn", "OldSynResult", "handshake_losses", "LossesResult", "accept_queue",
    "BacklogResult", "syn_flood", "FloodResult", "fast_open", "FastOpenResult",
    "http", "HttpResult", "one_request", "connection_costs", "head_of_line", "persistence",
    "bad_input", "eavesdrop",
    "https_one_request", "HttpsRequestResult", "certificates", "CertsResult",
    "https_eavesdropper", "EavesdropResult", "https_round_trips", "HttpsCost",
    "idle_connections", "IdleResult", "heartbeats", "HeartbeatResult", "push_vs_poll",
    "PushPollResult", "websocket", "WebSocketResult",
    "bottleneck", "BottleneckResult", "impairments", "ImpairmentsResult", "nagle",
    "NagleResult", "recovery", "RecoveryResult", "flow_control", "FlowResult",
    "congestion_control", "CongestionResult",
    "mtu", "MtuResult",
]


@dataclass(frozen=True)
class Experiment:
    """An entry of the registry: what ``netlab list`` shows and ``netlab run NAME`` runs."""

    name: str
    chapter: str
    """The page the experiment belongs to (``handshake`` for docs/handshake.md)."""
    summary: str
    run: Callable[[], Result]
    facts: int
    """How many facts its result checks."""


def _registry(*entries: Experiment) -> dict[str, Experiment]:
    return {e.name: e for e in entries}


#: Every experiment ``netlab run`` can run, by name, in the order of the chapters.
EXPERIMENTS = _registry(
    Experiment("lab", "lab", "the lab itself: delayed links measured against their RTT, a "
               "stateful firewall that drops what comes from outside", lab_tour, facts=8),
    Experiment("sockets", "sockets", "what a socket is: system calls, file descriptors, TCP "
               "byte streams, UDP datagrams, ICMP port unreachable, Unix domain sockets",
               sockets, facts=15),
    Experiment("handshake", "handshake", "TCP three-way handshake, states between segments, "
               "RST, unanswered SYN", handshake, facts=10),
    Experiment("why-three", "queues", "why three segments, not two: an old duplicate SYN, "
               "the server's SYN-ACK, the client's RST", old_duplicate_syn, facts=6),
    Experiment("handshake-losses", "queues", "the SYN, the SYN-ACK or the ACK lost: "
               "retransmission intervals against tcp_syn_retries and tcp_synack_retries",
               handshake_losses, facts=5),
    Experiment("accept-queue", "queues", "listen(backlog): the SYN queue and the accept "
               "queue, overflowing with tcp_abort_on_overflow 0 and 1", accept_queue,
               facts=4),
    Experiment("syn-flood", "queues", "a bounded SYN flood from documentation addresses, "
               "with tcp_syncookies 0, 1 and 2", syn_flood, facts=4),
    Experiment("fast-open", "queues", "TCP Fast Open: the cookie, then data in the SYN, "
               "answered one round trip earlier", fast_open, facts=3),
    Experiment("teardown", "teardown", "closing TCP connections: four-way teardown, "
               "half-close, TIME_WAIT, CLOSE_WAIT, RST, states checked against RFC 9293",
               teardown, facts=13),
    Experiment("http", "http", "HTTP over TCP: all the http-* experiments below, together",
               http, facts=27),
    Experiment("http-request", "http", "one HTTP request: the capture, the bytes, h11's "
               "events", one_request, facts=7),
    Experiment("http-costs", "http", "10 requests over a 50 ms RTT: HTTP/1.0 vs persistent "
               "vs pipelined, measured against round trips", connection_costs, facts=6),
    Experiment("http-hol", "http", "head-of-line blocking: pipeline vs two connections vs "
               "HTTP/2", head_of_line, facts=3),
    Experiment("http-keepalive", "http", "persistent connections, Connection: close, the "
               "server's idle timeout", persistence, facts=3),
    Experiment("http-bad-input", "http", "bad input to the HTTP server: 400, 431, 501, 413, "
               "408", bad_input, facts=6),
    Experiment("http-eavesdrop", "http", "a login over plain HTTP, read by a router on the "
               "path", eavesdrop, facts=2),
    Experiment("https", "https", "one HTTPS request on ports 80 and 443: TLS records, the "
               "handshake as the client logged it and as the capture decrypts, SNI",
               https_one_request, facts=9),
    Experiment("https-certs", "https", "certificate chain; unknown CA, wrong host name, "
               "expired (Python ssl, curl, openssl s_client); bad input on the TLS port",
               certificates, facts=8),
    Experiment("https-eavesdrop", "https", "a login posted over HTTP and HTTPS, captured on "
               "a router; decrypted with the key log", https_eavesdropper,
               facts=3),
    Experiment("https-cost", "https", "time to the first response byte: HTTP, TLS 1.3, TLS "
               "1.2, resumed sessions, against the round trips", https_round_trips,
               facts=4),
    Experiment("idle", "longlived", "an idle connection through a firewall that forgets: the "
               "silent death, and TCP keepalive that prevents it", idle_connections, facts=8),
    Experiment("heartbeat", "longlived", "application heartbeats against TCP keepalive: a "
               "hung server, a cut link", heartbeats, facts=8),
    Experiment("push", "longlived", "updates pushed over one WebSocket against HTTP polling: "
               "connections, bytes, latency", push_vs_poll, facts=7),
    Experiment("websocket", "longlived", "WebSocket: the HTTP Upgrade handshake, masked "
               "frames, ping/pong, the closing handshake", websocket, facts=6),
    Experiment("bottleneck", "network", "a 2 Mbit/s link with a 10-frame drop-tail queue: "
               "the rate, the queue's limit and delay, the drops, measured from the captures",
               bottleneck, facts=4),
    Experiment("impairments", "network", "a link that loses a chosen segment, loses, "
               "reorders and duplicates at random: what the receiver sees, what TCP hides",
               impairments, facts=5),
    Experiment("recovery", "network", "loss and recovery: fast retransmit after duplicate "
               "ACKs with SACK, the tail loss probe (RACK-TLP), timeouts with exponential "
               "back-off", recovery, facts=6),
    Experiment("flow", "network", "flow control: a receiver that stops reading, the zero "
               "window, zero-window probes, the window update, window scaling", flow_control,
               facts=5),
    Experiment("nagle", "network", "Nagle's algorithm against delayed ACK: the 40 ms "
               "write-write-read stall, TCP_NODELAY, TCP_QUICKACK", nagle, facts=4),
    Experiment("congestion", "network", "congestion control: reno, cubic and bbr through "
               "the same bottleneck, cwnd and ssthresh from TCP_INFO, bufferbloat",
               congestion_control, facts=8),
    Experiment("mtu", "network", "MSS and MTU: path MTU discovery over a 1280-byte link, "
               "the black hole when its ICMP is dropped, MSS clamping in nftables", mtu,
               facts=7),
)
