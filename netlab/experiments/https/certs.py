"""Certificates: the chain, the client verifying it, and verification failing for each reason.

A client (192.0.2.1) and a server (192.0.2.2). The server listens on two ports with the same
web service: 443 presents a good certificate for ``server.netlab.test``, issued by the lab's
intermediate CA; 4443 presents one that expired (its notAfter is in the past). Each case is
tried by three clients: Python's ``ssl`` (with :func:`netlab.proto.tls.client_context`),
``curl`` and ``openssl s_client``, all verifying:

=================  ====================================================================
case               what the client does
=================  ====================================================================
trusted            trusts the lab's root, asks for ``server.netlab.test`` on 443
unknown CA         trusts only the system's store, asks for ``server.netlab.test`` on 443
wrong host name    trusts the lab's root, asks for ``wrong.netlab.test`` on 443
expired            trusts the lab's root, asks for ``server.netlab.test`` on 4443
=================  ====================================================================

``openssl s_client`` reports a verification error but carries on unless told otherwise: the
experiment passes ``-verify_return_error``, so it aborts the handshake as the others do.

Then the server gets bad input on its TLS port (plain HTTP; a ClientHello cut short) and
must close those connections cleanly and go on serving.
"""

from __future__ import annotations

import datetime
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass

from netlab.analysis.trace import Trace
from netlab.errors import ExperimentError, MissingToolError
from netlab.experiments.endpoints import LONG_TIMEOUT
from netlab.experiments.https._lab import PAGE, client_wrap, close_tls, handler, server_wrap, tr
from netlab.experiments.replay import replayable
from netlab.experiments.result import Fact, checklist
from netlab.i18n import N_
from netlab.lab import Host, Lab
from netlab.proto.http import HttpClient, Limits, LogEntry, serving
from netlab.proto.tls import (
    SERVER_NAME,
    Authority,
    CertificateInfo,
    VerifyFailure,
    client_context,
    server_context,
    verify_failure,
)
from netlab.views.table import Grid

__all__ = ["certificates", "CertsResult", "ClientRun", "TlsBadInput", "CASES", "WRONG_NAME"]

GOOD_PORT = 443
EXPIRED_PORT = 4443  # a second TLS port, for the server certificate that has expired
WRONG_NAME = "wrong.netlab.test"
#: case → (trust the lab's root?, the name asked for, the port)
CASES: dict[str, tuple[bool, str, int]] = {
    N_("trusted"): (True, SERVER_NAME, GOOD_PORT),
    N_("unknown CA"): (False, SERVER_NAME, GOOD_PORT),
    N_("wrong host name"): (True, WRONG_NAME, GOOD_PORT),
    N_("expired"): (True, SERVER_NAME, EXPIRED_PORT),
}
EXPIRED_AT = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
LIMITS = Limits(request_timeout=1.0)
"""The TLS server's limits: a second for a request (and for a handshake to finish)."""


@dataclass(frozen=True, kw_only=True)
class ClientRun:
    """One run of a real client program."""

    program: str
    case: str
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def error_line(self) -> str:
        """The line a user reads first: curl's error, or openssl's ``verify error``."""
        lines = (self.stderr + "\n" + self.stdout).splitlines()
        for key in ("curl: (", "verify error:", "Verification error"):
            for line in lines:
                if key in line:
                    return line.strip()
        return ""


@dataclass(frozen=True, kw_only=True)
class TlsBadInput:
    """What the TLS port answered to input that is not TLS, or not all of it."""

    what: str
    answer: bytes
    """Everything the client received before the server closed."""
    closed_after: float
    """Seconds from sending to the server's close."""


@dataclass(frozen=True, kw_only=True)
class CertsResult:
    """The chapter's certificate part, from one run."""

    chain: tuple[CertificateInfo, ...]
    """Leaf, intermediate and root of the good certificate."""
    expired: CertificateInfo
    python: dict[str, VerifyFailure | None]
    """Each case through Python's ssl (None if the handshake succeeded)."""
    python_page: bytes
    """The page the trusting Python client fetched."""
    runs: tuple[ClientRun, ...]
    bad: tuple[TlsBadInput, ...]
    after_bad: int
    """The status of the good request made after the bad input."""
    server_log: tuple[LogEntry, ...]
    open_after: int
    """Connections the TLS server still had open at the end."""
    trace: Trace
    """Everything, captured on the client."""
    pcap_host: str = "client"
    keylog: None = None  # the key log stays in the run: no page decrypts these connections

    def run(self, program: str, case: str) -> ClientRun:
        return next(r for r in self.runs if r.program == program and r.case == case)

    def chain_table(self) -> Grid:
        rows = [[tr("certificate"), tr("subject"), tr("issuer"), tr("names (SAN)"),
                 tr("valid from"), tr("valid until"), tr("key"), tr("CA")]]
        kinds = [tr("server (leaf)"), tr("intermediate CA"), tr("root CA")]
        for kind, c in zip(kinds, self.chain, strict=True):
            rows.append([kind, c.subject, c.issuer, ", ".join(c.names) or "-",
                         c.not_before.date().isoformat(), c.not_after.date().isoformat(), c.key,
                         tr("yes") if c.is_ca else tr("no")])
        return Grid(rows)

    def failures_table(self) -> Grid:
        """Each case: what Python, curl and openssl said."""
        programs = ["Python ssl (verify_message)", "curl", "openssl s_client"]
        rows = [[tr("case"), *programs]]
        for case in CASES:
            f = self.python[case]
            rows.append([tr(case), "OK" if f is None else f"{f.verify_code}: {f.verify_message}",
                         self._summary("curl", case), self._summary("openssl", case)])
        return Grid(rows, verbatim=set(programs))

    def _summary(self, program: str, case: str) -> str:
        r = self.run(program, case)
        return f"exit {r.returncode}" + (f": {r.error_line()}" if r.returncode else "")

    def facts(self) -> list[Fact]:
        p = self.python
        ok = [r for r in self.runs if r.case == "trusted"]
        bad = [r for r in self.runs if r.case != "trusted"]
        leaf, inter, root = self.chain
        refused = {e.detail for e in self.server_log if "alert" in e.detail}
        details = [e.detail for e in self.server_log]
        trusted = self.run("openssl", "trusted").stderr
        timeout = LIMITS.request_timeout
        return [
            Fact(name="certs-trusted",
                 text=tr("with the lab's root, every client verifies the server and gets the page"),
                 holds=p["trusted"] is None and self.python_page == PAGE
                 and all(r.returncode == 0 for r in ok)
                 and self.run("curl", "trusted").stdout == PAGE.decode(),
                 evidence=", ".join(f"{r.program} exit {r.returncode}" for r in ok)),
            Fact(name="certs-unknown-ca",
                 text=tr("unknown CA: 'unable to get local issuer certificate' (20)"),
                 holds=_code(p["unknown CA"]) == 20 and _message(p["unknown CA"])
                 == "unable to get local issuer certificate",
                 evidence=_text(p["unknown CA"])),
            Fact(name="certs-wrong-host",
                 text=tr("wrong host name: 'Hostname mismatch' (62)"),
                 holds=_code(p["wrong host name"]) == 62
                 and _message(p["wrong host name"]).startswith("Hostname mismatch"),
                 evidence=_text(p["wrong host name"])),
            Fact(name="certs-expired",
                 text=tr("expired: 'certificate has expired' (10)"),
                 holds=_code(p["expired"]) == 10
                 and _message(p["expired"]) == "certificate has expired"
                 and self.expired.not_after == EXPIRED_AT,
                 evidence=_text(p["expired"])),
            Fact(name="certs-others-refuse",
                 text=tr("curl and openssl refuse the same three cases, with a non-zero exit"),
                 holds=all(r.returncode == (60 if r.program == "curl" else 1)
                           and r.error_line() for r in bad)
                 and all(f"verify error:num={_code(p[case])}:"
                         in self.run("openssl", case).error_line()
                         for case in ("unknown CA", "wrong host name", "expired"))
                 and all(_message(p[case]) in self.run("curl", case).error_line()
                         for case in ("unknown CA", "expired")),
                 evidence="; ".join(f"{r.program} {r.case}: exit {r.returncode}" for r in bad)),
            Fact(name="certs-bad-input",
                 text=tr("bad input on the TLS port is closed cleanly, and the server goes on"),
                 holds=all(b.answer == b"" for b in self.bad) and len(self.bad) == 2
                 and self.bad[0].closed_after < timeout / 2
                 and 0.9 * timeout < self.bad[1].closed_after < 2 * timeout
                 and self.after_bad == 200 and self.open_after == 0
                 and any("HTTP_REQUEST" in d for d in details)
                 and any("timed out" in d for d in details),
                 evidence="; ".join(f"{b.what}: closed after {b.closed_after:.2f} s, "
                                    f"{len(b.answer)} bytes back" for b in self.bad)
                 + f" (the server's timeout: {timeout:g} s)"),
            Fact(name="certificate-chain",
                 text=tr("the root signs the intermediate CA, the intermediate signs the "
                         "server's certificate, which names the server and is no CA"),
                 holds=leaf.issuer == inter.subject and inter.issuer == root.subject
                 == root.issuer and [c.is_ca for c in self.chain] == [False, True, True]
                 and leaf.names == (SERVER_NAME,),
                 evidence=f"{leaf.subject} ← {inter.subject} ← {root.subject}"),
            Fact(name="verification-reported",
                 text=tr("openssl s_client reports what it verified, and the server logs the "
                         "alerts of the clients that refused its certificate"),
                 holds="Verification: OK" in trusted
                 and f"Verified peername: {SERVER_NAME}" in trusted
                 and "Protocol version: TLSv1.3" in trusted
                 and self.run("openssl", "unknown CA").stderr.splitlines()[1:2]
                 == ["verify error:num=20:unable to get local issuer certificate"]
                 and any("UNKNOWN_CA" in d for d in refused)
                 and any("BAD_CERTIFICATE" in d for d in refused),
                 evidence="; ".join(sorted(refused))),
        ]


    def report(self) -> str:
        """Everything, as text for a terminal."""
        facts = checklist(self.facts())
        return (f"Certificates\n\n{self.chain_table()}\n\nVerification\n\n"
                f"{self.failures_table()}\n\nFacts\n\n{facts}")

def _code(f: VerifyFailure | None) -> int | None:
    return None if f is None else f.verify_code


def _message(f: VerifyFailure | None) -> str:
    return "" if f is None else f.verify_message


def _text(f: VerifyFailure | None) -> str:
    return "no error" if f is None else f.error


def _python(client: Host, authority: Authority, case: str, address: str
            ) -> tuple[VerifyFailure | None, bytes]:
    trusted, name, port = CASES[case]
    ctx = client_context(authority if trusted else None)
    try:
        c = HttpClient.connect(client, address, port, timeout=LONG_TIMEOUT,
                               wrap=client_wrap(ctx, server_name=name))
    except ssl.SSLError as exc:
        return verify_failure(case, exc), b""
    try:
        c.authority = name
        return None, c.request("GET", "/").body
    finally:
        close_tls(c)


def _program(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingToolError(name, package)
    return path


def _real_client(client: Host, program: str, case: str, ca: str, address: str) -> ClientRun:
    trusted, name, port = CASES[case]
    if program == "curl":
        args = [_program("curl", "curl"), "-q", "--silent", "--show-error", "--noproxy", "*",
                "--max-time", str(LONG_TIMEOUT), "--resolve", f"{name}:{port}:{address}",
                *(["--cacert", ca] if trusted else []), f"https://{name}:{port}/"]
    else:
        args = [_program("openssl", "openssl"), "s_client", "-brief", "-connect",
                f"{address}:{port}", "-servername", name, "-verify_hostname", name,
                "-verify_return_error", *(["-CAfile", ca] if trusted else [])]
    proc = client.popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=LONG_TIMEOUT + 5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ExperimentError(
            f"{program} ({case}) did not finish in {LONG_TIMEOUT + 5} s") from None
    shown = [a if a != ca else "ca.pem" for a in args]
    shown[0] = program
    return ClientRun(program=program, case=case, args=tuple(shown), returncode=proc.returncode,
                     stdout=out, stderr=err)


def client_hello(authority: Authority) -> bytes:
    """A real ClientHello, as Python's ssl would send it (made in memory, never sent)."""
    ctx = client_context(authority)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=SERVER_NAME)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def _bad_input(client: Host, address: str, what: str, data: bytes) -> TlsBadInput:
    sock = client.run(socket.create_connection, (address, GOOD_PORT), LONG_TIMEOUT)
    try:
        sock.settimeout(LONG_TIMEOUT)
        start = time.monotonic()
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        return TlsBadInput(what=what, answer=answer, closed_after=time.monotonic() - start)
    except ConnectionResetError:
        return TlsBadInput(what=what, answer=b"", closed_after=time.monotonic() - start)
    finally:
        sock.close()


@replayable
def certificates() -> CertsResult:
    """Run the experiment (a few seconds: the cut-short ClientHello waits for a timeout)."""
    from netlab.kernel.scratch import directory as scratch_directory

    authority = Authority()
    good = authority.issue()
    expired = authority.issue(not_before=EXPIRED_AT - datetime.timedelta(days=90),
                              not_after=EXPIRED_AT)
    limits = LIMITS
    with scratch_directory("netlab-certs-") as tmp, Lab() as lab:
        ca = str(authority.write(tmp))
        client, server = lab.host("client"), lab.host("server")
        lab.link(client, server)
        with lab.capture(client) as cap, \
                serving(server, handler, port=GOOD_PORT, limits=limits,
                     wrap=server_wrap(server_context(good))) as web, \
                serving(server, handler, port=EXPIRED_PORT,
                        wrap=server_wrap(server_context(expired))):
            python: dict[str, VerifyFailure | None] = {}
            page = b""
            for case in CASES:
                python[case], body = _python(client, authority, case, server.address)
                page = page or body
            runs = tuple(_real_client(client, prog, case, ca, server.address)
                         for prog in ("curl", "openssl") for case in CASES)
            hello = client_hello(authority)
            bad = (_bad_input(client, server.address, N_("plain HTTP"),
                              b"GET / HTTP/1.1\r\nhost: server.netlab.test\r\n\r\n"),
                   _bad_input(client, server.address, N_("ClientHello cut short"),
                              hello[:len(hello) // 3]))
            status, _ = _python(client, authority, "trusted", server.address)
            after = 200 if status is None else 0
            deadline = time.monotonic() + 2
            while web.open_connections and time.monotonic() < deadline:
                time.sleep(0.01)
            open_after, log = web.open_connections, web.log
    assert cap.trace is not None
    return CertsResult(trace=cap.trace, chain=authority.chain(good),
                       expired=authority.chain(expired)[0],
                       python=python, python_page=page, runs=runs, bad=bad, after_bad=after,
                       server_log=log, open_after=open_after)
