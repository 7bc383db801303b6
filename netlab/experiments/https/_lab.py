"""What the HTTPS experiments share: the server's TLS setup, the page it serves, and the
readings of a TLS capture (round trips, the first response byte, record labels on arrows).

The same handler answers on port 80 (plain HTTP) and on port 443 (HTTP inside TLS): the only
difference between the two services is the ``wrap`` that turns the accepted TCP connection
into a TLS one before HTTP starts (RFC 9110 §4.2.2: "https" is HTTP over TLS, port 443).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from netlab.analysis.dissect import Segment
from netlab.analysis.tls_decrypt import WireRecord
from netlab.analysis.trace import Connection, Trace, seen_at
from netlab.i18n import tr
from netlab.kernel.scratch import MemoryFile
from netlab.kernel.scratch import directory as scratch_directory
from netlab.proto.http import HttpClient, Request, Response, Wrap
from netlab.proto.tls import SERVER_NAME, Authority, Version, client_context, server_context

__all__ = ["HTTP_PORT", "HTTPS_PORT", "PAGE", "handler", "TlsFiles", "tls_files",
           "server_wrap", "client_wrap", "close_tls", "flights", "client_time", "first_response",
           "record_labels", "tr"]

HTTP_PORT = 80  # RFC 9110 §4.2.1: the default port of "http"
HTTPS_PORT = 443  # RFC 9110 §4.2.2: the default port of "https" (and scapy's TLS port)
PAGE = b"<!doctype html><title>netlab</title><p>Hello from the lab's server.\n"


def handler(request: Request) -> Response:
    """The one page of the lab's web server, whatever the path; a login form's POST is
    answered with a greeting (the password is never echoed)."""
    if request.method == "POST":
        return Response(status=200, body=b"Welcome back.\n",
                        headers=(("content-type", "text/plain"),))
    return Response(status=200, body=PAGE, headers=(("content-type", "text/html"),))


@dataclass(frozen=True)
class TlsFiles:
    """The CA, the server's certificate and contexts, and where the key log goes."""

    authority: Authority
    server: ssl.SSLContext
    directory: Path
    keylog: Path

    def client(self, version: Version = "1.3", *, keylog: bool = True) -> ssl.SSLContext:
        """A verifying client context that trusts the lab's root (and logs its keys)."""
        return client_context(self.authority, version=version,
                              keylog=self.keylog if keylog else None)


@contextmanager
def tls_files(*, tickets: int = 2) -> Iterator[TlsFiles]:
    """A fresh CA and server certificate, a private scratch directory, and a key log.

    The key log is a ``netlab.kernel.scratch.MemoryFile``: its path works for ``ssl`` and
    scapy, and the secrets never reach a disk, so no way of ending the run leaves them.
    """
    authority = Authority()
    leaf = authority.issue()
    with scratch_directory("netlab-tls-") as directory, MemoryFile("netlab-keys.log") as keys:
        yield TlsFiles(authority, server_context(leaf, tickets=tickets), directory, keys.path)


def server_wrap(ctx: ssl.SSLContext) -> Wrap:
    """The server's ``wrap``: TLS over the accepted connection (the handshake runs here)."""

    def wrap(sock: socket.socket) -> socket.socket:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return ctx.wrap_socket(sock, server_side=True)

    return wrap


def client_wrap(ctx: ssl.SSLContext, *, server_name: str = SERVER_NAME,
                session: ssl.SSLSession | None = None) -> Wrap:
    """The client's ``wrap``: TLS with SNI ``server_name``, resuming ``session`` if given.

    TCP_NODELAY first: otherwise Nagle's algorithm may hold the request back until the
    client's Finished is acknowledged, and a round trip would be measured that TLS does not
    need.
    """

    def wrap(sock: socket.socket) -> socket.socket:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return ctx.wrap_socket(sock, server_hostname=server_name, session=session)

    return wrap


def close_tls(client: HttpClient, timeout: float = 1.0) -> None:
    """Close a TLS client's connection the polite way: a close_notify alert first.

    RFC 8446 §6.1: "Each party MUST send a 'close_notify' alert before closing its write
    side of the connection". ``unwrap()`` sends it, then waits for the server's; a server
    that closes TCP without one ends the wait early, which is not an error here.
    """
    sock = client.sock
    if isinstance(sock, ssl.SSLSocket):
        sock.settimeout(timeout)
        with contextlib.suppress(OSError, ValueError):
            sock.unwrap()
    client.close()


def client_time(seg: Segment, client: str = "client") -> int:
    """When the client's capture saw the segment (sent or received), in ns."""
    return seen_at(seg, client)


def flights(conn: Connection, until_ns: int, client: str = "client",
            records: Sequence[WireRecord] = ()) -> int:
    """Round trips the client waited for before ``until_ns``
    (:meth:`~netlab.analysis.trace.Connection.flights`). Given the connection's TLS
    ``records``, a server segment that only completed NewSessionTicket records does not end
    a flight: a TLS 1.3 server sends its tickets as soon as it has the client's Finished
    (RFC 8446 §4.6.1), and the client never waits for them, so a request written a moment
    late, after a ticket came in, is still the same flight.
    """
    return conn.flights(until_ns=until_ns, host=client,
                        skip=_ticket_segments(conn, records, client))


def _ticket_segments(conn: Connection, records: Sequence[WireRecord], client: str
                     ) -> set[int]:
    """The server's segments that carried only NewSessionTicket records, resent ones too."""
    found: dict[int, list[WireRecord]] = {}
    for seg in conn.segments:
        if conn.is_from_client(seg):
            continue
        t = client_time(seg, client)
        for r in records:
            if r.time_ns == t and (r.src, r.sport) == (seg.src, seg.sport):
                found.setdefault(seg.number, []).append(r)
    tickets = [seg for seg in conn.segments if seg.number in found
               and all(set(r.messages) == {"NewSessionTicket"} for r in found[seg.number])]
    return {seg.number for seg in conn.segments if seg.length and not conn.is_from_client(seg)
            and any(t.seq <= seg.seq and seg.seq + seg.length <= t.seq + t.length
                    for t in tickets)}


def first_response(records: Sequence[WireRecord], server_port: int = HTTPS_PORT
                   ) -> WireRecord:
    """The first record from the server that carries application data: the response.

    scapy does not decrypt an abbreviated (resumed) TLS 1.2 handshake; there the record
    header's type, which TLS 1.2 leaves true, finds the response.
    """
    for r in records:
        if r.sport == server_port and "application data" in r.messages:
            return r
    for r in records:  # TLS 1.2 headers carry the true content type (RFC 5246 §6.2.1)
        if r.sport == server_port and not r.decrypted and r.inner_type == "application_data":
            return r
    raise LookupError("no application data from the server in the decrypted capture")


#: Short names for a crowded arrow (the records table spells them out).
SHORT = {"ChangeCipherSpec": "CCS", "EncryptedExtensions": "EE", "Certificate": "Cert",
         "CertificateVerify": "CV", "NewSessionTicket": "Ticket", "application data": "data"}
LABEL_WIDTH = 40  # characters that fit along an arrow of the ladder


def _label(records: Sequence[WireRecord]) -> str:
    """``ServerHello + CCS + [EE, Cert, CV]``: encrypted records in square brackets."""

    def build(short: bool) -> str:
        parts: list[str] = []
        hidden: list[str] = []
        for r in records:
            names = [SHORT.get(n, n) if short else n for n in r.messages] or ["?"]
            if r.encrypted:
                hidden += names
                continue
            if hidden:
                parts.append(f"[{', '.join(hidden)}]")
                hidden = []
            parts += names
        if hidden:
            parts.append(f"[{', '.join(hidden)}]")
        return " + ".join(parts)

    full = build(short=False)
    return full if len(full) <= LABEL_WIDTH else build(short=True)


def record_labels(trace: Trace, records: Sequence[WireRecord], client: str = "client"
                  ) -> dict[int, str]:
    """Segment number → the TLS records that segment completed, as the client saw them.

    A record in square brackets was encrypted: on the wire it is only ciphertext.
    """
    found: dict[int, list[WireRecord]] = {}
    for seg in trace.segments:
        t = client_time(seg, client)
        for r in records:
            if r.time_ns == t and (r.src, r.sport) == (seg.src, seg.sport):
                found.setdefault(seg.number, []).append(r)
    return {n: _label(v) for n, v in found.items()}
