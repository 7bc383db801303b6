"""One HTTPS request, one trace; and the same page over plain HTTP, to compare the wire.

A client (192.0.2.1) and a server (192.0.2.2) are joined by a link with a 20 ms round trip.
The server runs one web service on two ports: 80, plain HTTP, and 443, the same HTTP inside
TLS (the server's certificate is issued by a CA made for this run). The client fetches
``/account`` from each, with a cookie and the site's name (``Host`` on 80, SNI on 443), with
TLS 1.3, verifying the certificate and the host name, and writes its session secrets to a
key log. Captures run on both hosts.

From one run this gives:

* the TLS connection as a ladder diagram, TCP handshake → TLS handshake → encrypted HTTP →
  close, each arrow labelled with the TLS records it carried (decrypted with the key log);
* the handshake twice: as the client's TLS library reported each message (the message
  callback) and as the capture carried it (decrypted by scapy), with the bytes compared;
* the key fields of ClientHello and ServerHello (SNI, ALPN, cipher suite, key share,
  versions) and the certificate chain the server sent;
* what an observer without the key log reads on port 80 and on port 443.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netlab.analysis.tls_decrypt import WireRecord, decrypt
from netlab.analysis.trace import Connection, Trace
from netlab.experiments.endpoints import TIMEOUT
from netlab.experiments.https._lab import (
    HTTP_PORT,
    HTTPS_PORT,
    PAGE,
    client_wrap,
    close_tls,
    first_response,
    flights,
    handler,
    record_labels,
    server_wrap,
    tls_files,
    tr,
)
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import N_
from netlab.kernel.scratch import directory as scratch_directory
from netlab.lab import Lab
from netlab.proto.http import HttpClient, Response, serving
from netlab.proto.tls import (
    SERVER_NAME,
    CertificateInfo,
    HandshakeLog,
    HandshakeMessage,
    certificate_info,
    hello_fields,
)
from netlab.views import Ladder
from netlab.views.download import Download, pcap_download
from netlab.views.pictures import ChainPicture
from netlab.views.table import Grid

__all__ = ["https_one_request", "HttpsRequestResult", "PLAIN_PORT", "TLS_PORT", "PATH", "COOKIE"]

RTT = 0.020  # seconds: long enough to order every arrow, short enough for a quick build
PLAIN_PORT = 40080  # the client's pinned ports, so every build shows the same numbers
TLS_PORT = 40443
PATH = "/account"  # the same request on both ports: a path, a cookie, the same site name
COOKIE = "session=7f3a9c2e"


@dataclass(frozen=True, kw_only=True)
class HttpsRequestResult:
    """Everything the first part of the HTTPS chapter shows, from one run."""

    trace: Trace
    """Both connections (80 and 443), captured on the client and on the server."""
    records: tuple[WireRecord, ...]
    """The TLS records of the client's capture, decrypted with the key log."""
    eavesdropped: tuple[WireRecord, ...]
    """The same records read without the key log, as anyone on the path sees them."""
    client_log: tuple[HandshakeMessage, ...]
    """The handshake messages as the client's TLS library wrote and read them."""
    plain: Response
    secure: Response
    version: str
    cipher: str
    alpn: str | None
    peer_chain: tuple[CertificateInfo, ...]
    """The chain the server sent (leaf first), as the client read it from Certificate."""
    root: CertificateInfo
    """The root the client trusts, which the server did not send."""
    keylog: bytes
    plain_request_host: str
    """The Host header the client sent on port 80 (the same name as the SNI on 443)."""
    secure_request_host: str
    pcap: bytes = field(repr=False)
    pcap_host: str = "client"

    @property
    def plain_connection(self) -> Connection:
        return self.trace.connection(port=PLAIN_PORT)

    @property
    def tls_connection(self) -> Connection:
        return self.trace.connection(port=TLS_PORT)

    @property
    def handshake_records(self) -> tuple[WireRecord, ...]:
        """The records that carried handshake messages (and ChangeCipherSpec)."""
        return tuple(r for r in self.records
                     if r.inner_type in ("handshake", "change_cipher_spec"))

    def response_record(self) -> WireRecord:
        return first_response(self.records)

    def round_trips(self) -> int:
        """Round trips before the response's first byte reached the client (TLS port)."""
        return flights(self.tls_connection, self.response_record().time_ns + 1,
                       records=self.records)

    def plain_round_trips(self) -> int:
        conn = self.plain_connection
        first = next(s for s in conn.segments if s.length and not conn.is_from_client(s))
        return flights(conn, (first.received_ns or first.time_ns) + 1)

    def ladder(self) -> Ladder:
        """The TLS connection: each arrow with the TLS records its segment completed."""
        labels = record_labels(self.trace, self.records)
        return Ladder(self.trace.only(self.tls_connection),
            notes=labels, title=tr("One HTTPS request: TCP handshake, TLS 1.3 handshake, "
                                   "encrypted HTTP, close"))

    def records_table(self, *, keys: bool = True) -> Grid:
        """Each TLS record: who sent it, its header (clear) and, with the keys, its content."""
        records = self.records if keys else self.eavesdropped
        t0 = self.trace.start_ns
        rows = [[tr("time (ms)"), tr("direction"), tr("record type on the wire"), tr("length"),
                 tr("carries (decrypted)") if keys else tr("content")]]
        for r in records:
            way = tr("client → server") if r.dport == HTTPS_PORT else tr("server → client")
            rows.append([f"{(r.time_ns - t0) / 1e6:.3f}", way, r.wire_type, str(r.length),
                         ", ".join(r.messages) if r.decrypted else tr("(ciphertext)")])
        return Grid(rows, right={rows[0][0], rows[0][3]})

    def messages_table(self) -> Grid:
        """The client's message log beside the decrypted capture, and whether bytes match."""
        wire = [(n, b) for r in self.handshake_records for n, b in
                zip(r.messages, r.message_bytes or [b""] * len(r.messages), strict=False)]
        rows = [[tr("client's TLS library"), tr("bytes"), tr("decrypted capture"), tr("bytes"),
                 tr("same bytes")]]
        log = [m for m in self.client_log if m.name != "ChangeCipherSpec"]
        wire = [(n, b) for n, b in wire if n != "ChangeCipherSpec"]
        for i in range(max(len(log), len(wire))):
            m = log[i] if i < len(log) else None
            w = wire[i] if i < len(wire) else None
            mine = ""
            if m:
                way = tr("write") if m.direction == "write" else tr("read")
                mine = f"{way} {m.name}"
            rows.append([mine, str(m.length) if m else "", w[0] if w else "",
                         str(len(w[1])) if w else "",
                         tr("yes") if m and w and m.data == w[1] else tr("no")])
        return Grid(rows, right={tr("bytes")})

    def same_messages(self) -> bool:
        """The capture, decrypted, carried exactly the messages the client logged."""
        log = [m.data for m in self.client_log if m.name != "ChangeCipherSpec"]
        wire = [b for r in self.handshake_records for b in r.message_bytes]
        return log == wire and bool(log)

    def hello(self, name: str) -> dict[str, str]:
        """The key fields of the first logged message called ``name``."""
        return hello_fields(next(m.data for m in self.client_log if m.name == name))

    def hello_table(self) -> Grid:
        rows = [[tr("message"), tr("field"), tr("value")]]
        for name in ("ClientHello", "ServerHello", "EncryptedExtensions"):
            for k, v in self.hello(name).items():
                rows.append([name, tr(k), v])
        return Grid(rows)

    def chain_table(self) -> Grid:
        """The certificates: the two the server sent, and the root the client trusts."""
        rows = [[tr("certificate"), tr("subject"), tr("issuer"), tr("names (SAN)"),
                 tr("valid until"), tr("key"), tr("CA")]]
        kinds = [tr("server (leaf)"), tr("intermediate CA"), tr("root CA (client's store)")]
        for kind, c in zip(kinds, (*self.peer_chain, self.root), strict=False):
            rows.append([kind, c.subject, c.issuer, ", ".join(c.names) or "-",
                         c.not_after.date().isoformat(), c.key, tr("yes") if c.is_ca
                         else tr("no")])
        return Grid(rows)

    def chain_picture(self) -> ChainPicture:
        """The same certificates as a picture: the two the server sent, then the root."""
        return ChainPicture((*self.peer_chain, self.root), sent=len(self.peer_chain))

    def visible(self, data: bytes, *, port: int) -> bool:
        """``data`` appears in the clear in some captured payload of the ``port`` connection."""
        conn = self.trace.connection(port=port)
        return any(data in s.payload for s in conn.segments)

    def observed(self) -> dict[str, tuple[bool, bool]]:
        """What an observer on the path reads without keys: for each part of the exchange,
        whether its bytes appear in the clear on port 80 and on port 443."""
        parts = {
            N_("site name (Host header on 80, SNI on 443)"): SERVER_NAME.encode(),
            N_("path"): f"GET {PATH} ".encode(),
            N_("a request header (the cookie)"): COOKIE.encode(),
            N_("the page (response body)"): PAGE[:20],
        }
        return {k: (self.visible(v, port=PLAIN_PORT), self.visible(v, port=TLS_PORT))
                for k, v in parts.items()}

    def observer_table(self) -> Grid:
        """What an on-path observer reads on each port, without any key."""
        rows = [[tr("part of the exchange"), tr("port 80 (HTTP)"), tr("port 443 (HTTPS)")]]
        for part, (plain, secure) in self.observed().items():
            rows.append([tr(part), tr("readable") if plain else tr("hidden"),
                         tr("readable") if secure else tr("hidden")])
        return Grid(rows)

    def pcap_download(self) -> Download:
        return pcap_download(self.trace, "https-request.pcap", host="client")

    def keylog_download(self) -> Download:
        return Download("https-request-keys.log", self.keylog, "text/plain",
                        tr("NSS key log of the TLS connection"))

    def facts(self) -> list[Fact]:
        ch = self.hello("ClientHello")
        seen = self.observed()
        plain_host, secure_host = self.plain_request_host, self.secure_request_host
        eaves = [r for r in self.eavesdropped if r.encrypted]
        clear = [r for r in self.eavesdropped if not r.encrypted]
        sh = self.hello("ServerHello")
        ee = self.hello("EncryptedExtensions")
        ch_bytes = next(m.data for m in self.client_log if m.name == "ClientHello")
        logged = [m.name for m in self.client_log if m.name != "ChangeCipherSpec"]
        first = [r.messages[0] for r in self.records]
        from_client = [r.messages[0] for r in self.records if r.dport == 443]
        get = next((r for r in self.records if r.plaintext.startswith(b"GET")), None)
        return [
            Fact(name="https-same-page",
                 text=tr("the same page comes back over port 80 and over port 443"),
                 holds=self.plain.body == self.secure.body == PAGE,
                 evidence=f"{len(self.plain.body)} bytes each, status "
                          f"{self.plain.status} and {self.secure.status}"),
            Fact(name="https-tls13",
                 text=tr("TLS 1.3 with a certificate the client verified"),
                 holds=self.version == "TLSv1.3" and self.alpn == "http/1.1"
                 and len(self.peer_chain) == 2 and self.peer_chain[0].names == (SERVER_NAME,)
                 and self.peer_chain[1].issuer == self.root.subject,
                 evidence=f"{self.version}, {self.cipher}, ALPN {self.alpn}"),
            Fact(name="https-name-visible",
                 text=tr("an observer on the path reads the site's name on both ports: the "
                         "Host header on 80, the SNI in the ClientHello on 443"),
                 holds=seen["site name (Host header on 80, SNI on 443)"] == (True, True)
                 and plain_host == secure_host == SERVER_NAME
                 and ch.get("server name (SNI)") == SERVER_NAME,
                 evidence=f"Host: {plain_host} on 80, Host: {secure_host} inside TLS, "
                          f"SNI {ch.get('server name (SNI)')}"),
            Fact(name="https-content-hidden",
                 text=tr("the path, a request header and the page are readable on port 80; on "
                         "port 443 none of them appears in the captured bytes"),
                 holds=all(v == (True, False) for k, v in seen.items()
                           if not k.startswith("site name")),
                 evidence="; ".join(f"{k}: 80 {'clear' if a else 'hidden'}, 443 "
                                    f"{'clear' if b else 'hidden'}"
                                    for k, (a, b) in seen.items())),
            Fact(name="https-clear-records",
                 text=tr("without the keys only ClientHello, ServerHello and ChangeCipherSpec "
                      "can be read; every other record is ciphertext"),
                 holds=[m for r in clear for m in r.messages]
                 == ["ClientHello", "ServerHello", "ChangeCipherSpec", "ChangeCipherSpec"]
                 and {r.inner_type for r in self.records if r.encrypted}
                 == {"handshake", "application_data", "alert"}
                 and [r.length for r in self.records] == [r.length for r in self.eavesdropped]
                 and all(not r.decrypted and r.wire_type == "application_data" for r in eaves),
                 evidence=f"{len(clear)} clear records, {len(eaves)} encrypted ones, "
                          "all typed application_data on the wire"),
            Fact(name="https-same-messages",
                 text=tr("the decrypted capture carries the very messages the client logged"),
                 holds=self.same_messages()
                 and logged == ["ClientHello", "ServerHello", "EncryptedExtensions",
                                "Certificate", "CertificateVerify", "Finished", "Finished",
                                "NewSessionTicket", "NewSessionTicket"],
                 evidence=f"{len(self.client_log)} messages compared byte for byte"),
            Fact(name="https-round-trips",
                 text=tr("HTTP: 2 round trips to the first response byte; TLS 1.3: 3"),
                 holds=self.plain_round_trips() == 2 and self.round_trips() == 3
                 and first[:2] == ["ClientHello", "ServerHello"]
                 and from_client == ["ClientHello", "ChangeCipherSpec", "Finished",
                                     "application data", "alert: close_notify"],
                 evidence=f"{self.plain_round_trips()} and {self.round_trips()} client "
                          "flights before the response; the client's records: "
                          + ", ".join(from_client)),
            Fact(name="tls13-negotiated",
                 text=tr("the ClientHello offers TLS 1.3 in an extension while its old version "
                         "field says TLS 1.2; the ServerHello picks TLS 1.3, one of the offered "
                         "cipher suites and key shares, and ALPN chooses http/1.1"),
                 holds=ch.get("supported versions") == "TLS 1.3"
                 and sh.get("selected version") == "TLS 1.3"
                 and sh.get("cipher suite") == self.cipher
                 and self.cipher in ch.get("cipher suites", "")
                 and sh.get("key share", "?") in ch.get("key share", "").split(", ")
                 and ee.get("ALPN") == "http/1.1" and ch_bytes[4:6] == b"\x03\x03",
                 evidence=f"legacy_version {ch_bytes[4:6].hex()}, selected "
                          f"{sh.get('selected version')}, {sh.get('cipher suite')}, key share "
                          f"{sh.get('key share')}, ALPN {ee.get('ALPN')}"),
            Fact(name="record-overhead",
                 text=tr("an encrypted TLS 1.3 record is 17 bytes longer than its content: "
                         "one byte of content type and a 16-byte authentication tag"),
                 holds=get is not None and get.length - len(get.plaintext) == 17,
                 evidence=f"the request's record: {get.length} bytes for "
                          f"{len(get.plaintext)} bytes of HTTP" if get is not None
                 else "no GET record"),
        ]

    def report(self) -> str:
        facts = checklist(self.facts())
        return (f"One HTTPS request (client 192.0.2.1 → server 192.0.2.2:443)\n\n"
                f"{self.records_table()}\n\nWithout the key log\n\n"
                f"{self.records_table(keys=False)}\n\nWhat an observer on the path reads\n\n"
                f"{self.observer_table()}\n\nHandshake, two views\n\n"
                f"{self.messages_table()}\n\nKey fields\n\n{self.hello_table()}\n\n"
                f"Certificates\n\n{self.chain_table()}\n\nFacts\n\n{facts}")


def _chain_from(log: tuple[HandshakeMessage, ...]) -> tuple[CertificateInfo, ...]:
    """The certificates of the Certificate message the client read (RFC 8446 §4.4.2)."""
    from scapy.layers.tls import handshake

    layers: Any = handshake  # scapy's dissectors are untyped
    msg = next(m for m in log if m.name == "Certificate" and m.direction == "read")
    parsed = layers.TLS13Certificate(msg.data)
    return tuple(certificate_info(bytes(entry.cert[1].der) if hasattr(entry.cert[1], "der")
                                  else bytes(entry.cert[1])) for entry in parsed.certs)


@replayable
def https_one_request() -> HttpsRequestResult:
    """Run the experiment (well under a second)."""
    with tls_files() as files, Lab() as lab:
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server, delay=RTT / 2)
        ctx = files.client("1.3")
        log = HandshakeLog(ctx)
        with serving(server, handler, port=HTTP_PORT), \
                serving(server, handler, port=HTTPS_PORT, wrap=server_wrap(files.server)), \
                lab.capture(client, server) as cap:
            with HttpClient.connect(client, server.address, HTTP_PORT, timeout=TIMEOUT,
                                    source_port=PLAIN_PORT) as plain_client:
                plain_client.authority = SERVER_NAME  # the site's name, as a browser sends it
                plain = plain_client.request("GET", PATH, headers=[("cookie", COOKIE)])
            c = HttpClient.connect(client, server.address, HTTPS_PORT, timeout=TIMEOUT,
                                   source_port=TLS_PORT, wrap=client_wrap(ctx))
            try:
                c.authority = SERVER_NAME
                secure = c.request("GET", PATH, headers=[("cookie", COOKIE)])
                tls_sock = c.sock
                assert isinstance(tls_sock, ssl.SSLSocket)
                version, cipher = tls_sock.version(), tls_sock.cipher()
                alpn = tls_sock.selected_alpn_protocol()
            finally:
                close_tls(c)


            time.sleep(RTT * 2)  # the closing FINs and ACKs cross before the capture stops
        assert cap.trace is not None
        with scratch_directory("netlab-https-") as tmp:
            pcap = cap.trace.write_pcap(Path(tmp) / "client.pcap", host="client")
            records = decrypt(pcap, files.keylog)
            eavesdropped = decrypt(pcap, None)
            pcap_bytes = pcap.read_bytes()
        messages = log.messages
        root = certificate_info(files.authority.root_pem)
        keylog = files.keylog.read_bytes()
    return HttpsRequestResult(
        trace=cap.trace, records=records, eavesdropped=eavesdropped, client_log=messages,
        plain=plain, secure=secure, version=str(version), cipher=cipher[0] if cipher else "",
        alpn=alpn,
        peer_chain=_chain_from(messages), root=root, keylog=keylog, pcap=pcap_bytes,
        plain_request_host=plain_client.authority, secure_request_host=c.authority)



