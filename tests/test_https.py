"""The HTTPS chapter's experiments, live, with tshark and real clients as the oracles."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support import REPO, host_state, require_namespaces, run_python, settled_host_state

from netlab.analysis.tls_decrypt import CONTENT_TYPES
from netlab.experiments.https._lab import PAGE
from netlab.experiments.https.certs import CertsResult, certificates
from netlab.experiments.https.cost import ROUND_TRIPS, TOLERANCE, HttpsCost, https_round_trips
from netlab.experiments.https.eavesdrop import PASSWORD, EavesdropResult, https_eavesdropper
from netlab.experiments.https.request import (
    PLAIN_PORT,
    TLS_PORT,
    HttpsRequestResult,
    https_one_request,
)
from netlab.proto.tls import SERVER_NAME

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def request_run() -> HttpsRequestResult:
    require_namespaces()
    return https_one_request()


@pytest.fixture(scope="module")
def certs_run() -> tuple[CertsResult, object, object]:
    require_namespaces()
    before = host_state()
    result = certificates()
    return result, before, settled_host_state(before)


@pytest.fixture(scope="module")
def eavesdrop_run() -> EavesdropResult:
    require_namespaces()
    return https_eavesdropper()


@pytest.fixture(scope="module")
def cost_run() -> HttpsCost:
    require_namespaces()
    return https_round_trips()


def files(tmp_path: Path, pcap: bytes, keylog: bytes) -> tuple[Path, Path]:
    p, k = tmp_path / "capture.pcap", tmp_path / "keys.log"
    p.write_bytes(pcap)
    k.write_bytes(keylog)
    return p, k


def run_tshark(program: str, pcap: Path, *args: str, keylog: Path | None = None) -> list[str]:
    opts = ["-o", f"tls.keylog_file:{keylog}"] if keylog else ["-o", "tls.keylog_file:"]
    done = subprocess.run([program, "-n", "-r", str(pcap), *opts, *args], capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.splitlines()


def test_request_facts(request_run: HttpsRequestResult) -> None:
    failed = [f"{f.text}: {f.evidence}" for f in request_run.facts() if not f.holds]
    assert failed == []


def test_tshark_sees_http_on_80_and_only_tls_on_443(request_run: HttpsRequestResult,
                                                    tshark: str, tmp_path: Path) -> None:
    pcap, _ = files(tmp_path, request_run.pcap, request_run.keylog)
    rows = [line.split("\t") for line in run_tshark(
        tshark, pcap, "-T", "fields", "-e", "tcp.srcport", "-e", "tcp.dstport",
        "-e", "tcp.len", "-e", "frame.protocols")]
    plain = [r for r in rows if str(PLAIN_PORT) in r[:2] and r[2] != "0"]
    secure = [r for r in rows if str(TLS_PORT) in r[:2] and r[2] != "0"]
    assert plain and all("http" in r[3].split(":") for r in plain)
    assert secure and all(r[3].endswith(":tls") for r in secure)
    assert not any("http" in r[3].split(":") for r in secure)


def test_tshark_reads_the_sni_and_the_same_records(request_run: HttpsRequestResult,
                                                  tshark: str, tmp_path: Path) -> None:
    pcap, _ = files(tmp_path, request_run.pcap, request_run.keylog)
    assert run_tshark(tshark, pcap, "-Y", "tls.handshake.type == 1", "-T", "fields",
                  "-e", "tls.handshake.extensions_server_name") == [SERVER_NAME]
    lengths = [int(n) for line in run_tshark(tshark, pcap, "-Y", "tls", "-T", "fields",
                                             "-e", "tls.record.length") for n in line.split(",")]
    assert lengths == [r.length for r in request_run.eavesdropped]
    clear = [int(t) for line in run_tshark(tshark, pcap, "-Y", "tls", "-T", "fields",
                                           "-e", "tls.record.content_type")
             for t in line.split(",") if t]
    ours = [r.wire_type for r in request_run.eavesdropped if not r.encrypted]
    assert [CONTENT_TYPES[t] for t in clear] == ours


def test_tshark_decrypts_with_the_key_log(request_run: HttpsRequestResult, tshark: str,
                                          tmp_path: Path) -> None:
    pcap, keys = files(tmp_path, request_run.pcap, request_run.keylog)
    fields = ["-T", "fields", "-e", "tcp.srcport", "-e", "http.request.method",
              "-e", "http.response.code"]
    assert run_tshark(tshark, pcap, "-Y", f"http && tcp.port == {TLS_PORT}", *fields) == []
    decrypted = run_tshark(tshark, pcap, "-Y", f"http && tcp.port == {TLS_PORT}", *fields,
                       keylog=keys)
    assert decrypted == [f"{TLS_PORT}\tGET\t", "443\t\t200"]
    names = run_tshark(tshark, pcap, "-Y", "tls.handshake.type", "-T", "fields",
                   "-e", "tls.handshake.type", keylog=keys)
    wire = [t for line in names for t in line.split(",")]
    # ClientHello, ServerHello, EncryptedExtensions, Certificate, CertificateVerify,
    # Finished, Finished, NewSessionTicket ×2: the same messages the client logged.
    logged = [m.data[0] for m in request_run.client_log if m.name != "ChangeCipherSpec"]
    assert [int(t) for t in wire] == logged


def test_ladder_labels_tls_records(request_run: HttpsRequestResult) -> None:
    text = request_run.ladder().describe()
    for label in ("ClientHello", "ServerHello + CCS + [EE, Cert, CV",
                  "ChangeCipherSpec + [Finished]", "[application data]",
                  "[alert: close_notify]"):
        assert label in text
    assert "SYN" in text and "FIN" in text


def test_certificate_facts(certs_run: tuple[CertsResult, object, object]) -> None:
    result = certs_run[0]
    failed = [f"{f.text}: {f.evidence}" for f in result.facts() if not f.holds]
    assert failed == []


def test_real_clients_say_why(certs_run: tuple[CertsResult, object, object]) -> None:
    result = certs_run[0]
    assert result.run("curl", "trusted").stdout == PAGE.decode()
    assert "Verification: OK" in result.run("openssl", "trusted").stderr
    assert f"Verified peername: {SERVER_NAME}" in result.run("openssl", "trusted").stderr
    expected = {
        ("curl", "unknown CA"):
            "curl: (60) SSL certificate problem: unable to get local issuer certificate",
        ("curl", "wrong host name"): "curl: (60) SSL: no alternative certificate subject "
                                     "name matches target host name 'wrong.netlab.test'",
        ("curl", "expired"): "curl: (60) SSL certificate problem: certificate has expired",
        ("openssl", "unknown CA"): "verify error:num=20:unable to get local issuer certificate",
        ("openssl", "wrong host name"): "verify error:num=62:hostname mismatch",
        ("openssl", "expired"): "verify error:num=10:certificate has expired",
    }
    for (program, case), line in expected.items():
        run = result.run(program, case)
        assert run.error_line() == line
        assert run.returncode == (60 if program == "curl" else 1)


def test_bad_input_is_closed_and_nothing_leaks(certs_run: tuple[CertsResult, object, object]
                                              ) -> None:
    result, before, after = certs_run
    details = [e.detail for e in result.server_log if e.what == "closed"]
    assert any("HTTP_REQUEST" in d for d in details)
    assert any("timed out" in d for d in details)
    assert [b.answer for b in result.bad] == [b"", b""]
    assert result.after_bad == 200 and result.open_after == 0
    assert after.threads <= before.threads and after.fds <= before.fds  # type: ignore[attr-defined]


def test_eavesdropper_facts(eavesdrop_run: EavesdropResult) -> None:
    failed = [f"{f.text}: {f.evidence}" for f in eavesdrop_run.facts() if not f.holds]
    assert failed == []
    secret = PASSWORD.encode()
    assert not any(secret in f.data for fs in eavesdrop_run.trace.frames.values() for f in fs)
    assert set(eavesdrop_run.trace.frames) == {"router", "router:eth1"}


def test_tshark_finds_the_password_only_with_the_key_log(eavesdrop_run: EavesdropResult,
                                                         tshark: str, tmp_path: Path) -> None:
    pcap = eavesdrop_run.trace.write_pcap(tmp_path / "router.pcap", host="router")
    keys = tmp_path / "keys.log"
    keys.write_bytes(eavesdrop_run.keylog)
    form = ["-Y", "urlencoded-form", "-T", "fields", "-e", "urlencoded-form.value"]
    assert run_tshark(tshark, pcap, *form) == []
    assert run_tshark(tshark, pcap, *form, keylog=keys) == [f"alice,{PASSWORD}"]


def test_cost(cost_run: HttpsCost) -> None:
    failed = [f"{f.text}: {f.evidence}" for f in cost_run.facts() if not f.holds]
    assert failed == []
    assert [w.name for w in cost_run.ways] == list(ROUND_TRIPS)
    low, high = TOLERANCE
    for w in cost_run.ways:
        assert low <= w.ratio <= high, (w.name, w.ratio)
    # TLS 1.2 costs one round trip more than TLS 1.3, whatever the machine's noise.
    gap = cost_run.way("TLS 1.2").ttfb - cost_run.way("TLS 1.3").ttfb
    assert 0.6 * cost_run.rtt < gap < 1.4 * cost_run.rtt


@pytest.mark.parametrize("name", ["https_request", "https_eavesdrop"])
def test_snippet_files_decrypt_in_tshark(name: str, tshark: str, tmp_path: Path) -> None:
    require_namespaces()
    pcap, keys = tmp_path / "s.pcap", tmp_path / "s.log"
    done = run_python(str(REPO / "snippets" / f"{name}.py"), "--pcap", str(pcap),
                      "--keylog", str(keys))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✗" not in done.stdout and done.stderr == ""
    assert run_tshark(tshark, pcap, "-Y", "http.request", "-T", "fields", "-e", "tcp.dstport",
                  keylog=keys)[-1] == "443"


def test_cost_snippet_and_cli() -> None:
    require_namespaces()
    # One connection per way: the plumbing and the round-trip counts, which do not depend on
    # the machine's load; the times' tolerance is test_cost's (medians of five).
    done = run_python(str(REPO / "snippets" / "https_cost.py"), "--repeats", "1")
    assert done.returncode in (0, 1) and done.stderr == "", done.stdout + done.stderr
    assert "TLS 1.2 resumed" in done.stdout
    assert "✓ each way waits for the round trips its protocol needs" in done.stdout
    assert "✓ resumed sessions skip the certificate" in done.stdout
    cli = run_python("-m", "netlab", "run", "https-certs")
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "certificate has expired" in cli.stdout


@pytest.mark.parametrize("name", ["https_request", "https_certs", "https_eavesdrop",
                                  "https_cost"])
def test_snippets_without_privilege_say_what_to_do(name: str) -> None:
    done = run_python(str(REPO / "snippets" / f"{name}.py"), demote=True)
    assert done.returncode == 77, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert "sudo " in done.stderr and "CAP_NET_ADMIN" in done.stderr


@pytest.fixture(scope="module")
def late_request_run() -> HttpsRequestResult:
    """The same request, written only after the server's NewSessionTickets came in.

    A busy client can be that late: the tickets reach it one round trip after its Finished.
    The wait also lets the server's tail loss probe resend its last ticket before the request
    acknowledges it, so the capture holds one record twice.
    """
    require_namespaces()
    import time

    from netlab.proto.http import HttpClient

    on_time = HttpClient.request

    def late(self: HttpClient, *args: object, **kwargs: object) -> object:
        time.sleep(0.06)  # three times the 20 ms round trip
        return on_time(self, *args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HttpClient, "request", late)
        return https_one_request()


def test_a_late_request_is_still_three_round_trips(late_request_run: HttpsRequestResult,
                                                   tshark: str, tmp_path: Path) -> None:
    run = late_request_run
    tickets = [r for r in run.records if r.messages == ("NewSessionTicket",)]
    assert len(tickets) == 2  # each record once, though a segment of them came twice
    assert run.response_record().plaintext.startswith(b"HTTP/1.1 200")
    assert run.round_trips() == 3 and run.plain_round_trips() == 2
    # the ticket came before the request: counted naively, that is a fourth flight
    from netlab.experiments.https._lab import flights

    assert flights(run.tls_connection, run.response_record().time_ns + 1) == 4
    pcap, keys = files(tmp_path, run.pcap, run.keylog)
    order = run_tshark(tshark, pcap, "-Y", f"tcp.len > 0 && tcp.port == {TLS_PORT}", "-T",
                       "fields", "-e", "tls.handshake.type", "-e", "http.request.method",
                       keylog=keys)
    first_ticket = next(i for i, line in enumerate(order) if line.startswith("4"))
    request = next(i for i, line in enumerate(order) if "GET" in line)
    assert first_ticket < request
