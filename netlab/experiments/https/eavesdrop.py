"""The eavesdropper again: a login form posted over HTTP and over HTTPS, captured on a router.

A client (192.0.2.1) reaches a server (198.51.100.2) through a router that forwards between
its two links; the capture runs on the router's two interfaces, as an eavesdropper on the
path would capture. The client posts the same login form (``username`` and ``password``,
``application/x-www-form-urlencoded``) twice: to port 80 in plain HTTP, then to port 443
inside TLS 1.3, writing its session secrets to a key log.

The lab, the login application and its made-up password are the HTTP chapter's
(:mod:`netlab.experiments.http.eavesdrop`); only the port and the ``wrap`` differ. The
experiment looks for the password, and for the session cookie the server sets, in every byte
of every frame the router captured, and then decrypts the TLS connection with the key log, as
the key log's owner (or a reader with Wireshark) can.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from netlab.analysis.dissect import Segment
from netlab.analysis.tls_decrypt import WireRecord, decrypt
from netlab.analysis.trace import Trace
from netlab.experiments.endpoints import TIMEOUT
from netlab.experiments.http.eavesdrop import (
    LOGIN_PASSWORD,
    LOGIN_USER,
    login_app,
    login_body,
    path_lab,
)
from netlab.experiments.https._lab import (
    HTTP_PORT,
    HTTPS_PORT,
    client_time,
    client_wrap,
    close_tls,
    server_wrap,
    tls_files,
    tr,
)
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.kernel.scratch import directory as scratch_directory
from netlab.lab import Lab
from netlab.proto.http import HttpClient, Response, serving
from netlab.proto.tls import SERVER_NAME
from netlab.views.download import Download, pcap_download
from netlab.views.message import HexDump, hexdump

__all__ = ["https_eavesdropper", "EavesdropResult", "USERNAME", "PASSWORD", "FORM",
           "WIRESHARK_SETTING"]

USERNAME = LOGIN_USER
PASSWORD = LOGIN_PASSWORD
"""The HTTP chapter's made-up password (it needs no URL encoding, so the search is exact)."""
FORM = login_body()
CAPTURE = "router"  # the capture label of the router's first interface (towards the client)
WIRESHARK_SETTING = "Preferences → Protocols → TLS → (Pre)-Master-Secret log filename"


@dataclass(frozen=True, kw_only=True)
class EavesdropResult:
    """What the router saw, and what the key log reveals."""

    plain_trace: Trace
    """The HTTP login, captured on the router's two interfaces."""
    trace: Trace
    """The HTTPS login, captured on the router's two interfaces (a capture of its own)."""
    plain: Response
    secure: Response
    records: tuple[WireRecord, ...]
    """The TLS records of the router's capture (client side), decrypted with the key log."""
    keylog: bytes = field(repr=False)
    pcap_host: str = CAPTURE

    def frames(self) -> list[bytes]:
        """Every frame the router captured, on both interfaces."""
        return [f.data for frames in self.trace.frames.values() for f in frames]

    def found_in(self, trace: Trace, secret: bytes = PASSWORD.encode()) -> int:
        """How many frames of a capture contain ``secret`` (router, both interfaces)."""
        return sum(1 for frames in trace.frames.values() for f in frames if secret in f.data)

    @property
    def cookie(self) -> bytes:
        """The session cookie the server set over HTTPS (``name=value``)."""
        value = self.secure.header("set-cookie") or ""
        return value.split(";")[0].encode()

    def decrypted_post(self) -> WireRecord:
        """The client's record that carried the POST, as the key log decrypts it."""
        return next(r for r in self.records if r.dport == HTTPS_PORT and
                    r.plaintext.startswith(b"POST "))

    def _segment_of(self, record: WireRecord) -> Segment:
        return next(s for s in self.trace.segments
                    if (s.src, s.sport) == (record.src, record.sport)
                    and client_time(s, CAPTURE) == record.time_ns)

    def plain_dump(self) -> HexDump:
        """The HTTP POST's segment as the router captured it, the password marked."""
        seg = next(s for s in self.plain_trace.segments
                   if s.dport == HTTP_PORT and PASSWORD.encode() in s.payload)
        return hexdump(seg.payload, mark=PASSWORD.encode())

    def secure_dump(self) -> HexDump:
        """The HTTPS POST's segment as the router captured it: a TLS record, ciphertext."""
        return hexdump(self._segment_of(self.decrypted_post()).payload)

    def pcap_download(self) -> Download:
        return pcap_download(self.trace, "https-eavesdropper.pcap", host=CAPTURE)

    def keylog_download(self) -> Download:
        return Download("https-eavesdropper-keys.log", self.keylog, "text/plain",
                        tr("NSS key log of the TLS connection"))

    def facts(self) -> list[Fact]:
        post = self.decrypted_post()
        frames = self.frames()
        return [
            Fact(name="http-password-read",
                 text=tr("over HTTP the router reads the password"),
                 holds=self.found_in(self.plain_trace) == 2,
                 evidence=f"in {self.found_in(self.plain_trace)} frames "
                          "(the POST, seen on each of the router's interfaces)"),
            Fact(name="https-nothing-read",
                 text=tr("over HTTPS neither the password nor the session cookie is in any byte "
                      "the router captured"),
                 holds=self.found_in(self.trace) == 0 and self.secure.status == 200
                 and set(self.trace.frames) == {"router", "router:eth1"}
                 and self.cookie.startswith(b"session=") and len(self.cookie) > len("session=")
                 and self.found_in(self.trace, self.cookie) == 0,
                 evidence=f"searched {len(frames)} frames, "
                          f"{sum(len(f) for f in frames)} bytes"),
            Fact(name="keylog-decrypts",
                 text=tr("with the key log, the same capture shows the form in clear"),
                 holds=post.decrypted and FORM in post.plaintext,
                 evidence=f"decrypted a {post.length}-byte record into "
                          f"{len(post.plaintext)} bytes of HTTP"),
        ]


    def report(self) -> str:
        """Everything, as text for a terminal."""
        facts = checklist(self.facts())
        return (f"The HTTP POST, as the router captured it\n\n{self.plain_dump()}\n\n"
                f"The HTTPS POST, as the router captured it\n\n{self.secure_dump()}\n\n"
                f"Decrypted with the key log\n\n{self.decrypted_post().plaintext!r}\n\n"
                f"Facts\n\n{facts}")

@replayable
def https_eavesdropper() -> EavesdropResult:
    """Run the experiment (well under a second)."""
    with tls_files() as files, Lab() as lab:
        client, router, server = path_lab(lab)
        form = (("content-type", "application/x-www-form-urlencoded"),)
        ctx = files.client("1.3")
        with serving(server, login_app, port=HTTP_PORT), \
                serving(server, login_app, port=HTTPS_PORT, wrap=server_wrap(files.server)):
            with lab.capture(*router.interfaces) as plain_cap, \
                    HttpClient.connect(client, server.address, HTTP_PORT,
                                       timeout=TIMEOUT) as plain_client:
                plain = plain_client.request("POST", "/login", headers=form, body=FORM)
                time.sleep(0.05)  # the last FIN and ACK pass the router
            with lab.capture(*router.interfaces) as cap:
                c = HttpClient.connect(client, server.address, HTTPS_PORT, timeout=TIMEOUT,
                                       wrap=client_wrap(ctx))
                try:
                    c.authority = SERVER_NAME
                    secure = c.request("POST", "/login", headers=form, body=FORM)
                finally:
                    close_tls(c)
                time.sleep(0.05)
        assert cap.trace is not None and plain_cap.trace is not None
        with scratch_directory("netlab-eaves-") as tmp:
            pcap = cap.trace.write_pcap(Path(tmp) / "router.pcap", host=CAPTURE)
            records = decrypt(pcap, files.keylog)
        keylog = files.keylog.read_bytes()
    return EavesdropResult(plain_trace=plain_cap.trace, trace=cap.trace, plain=plain,
                           secure=secure, records=records, keylog=keylog)
