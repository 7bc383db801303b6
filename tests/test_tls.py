"""netlab.proto.tls without namespaces: the CA, the contexts, the handshake log (in memory)."""

from __future__ import annotations

import datetime
import ssl
import types
from pathlib import Path

import pytest
from support import handshake_in_memory

from netlab.proto.tls import (
    SERVER_NAME,
    Authority,
    HandshakeLog,
    TlsError,
    Version,
    certificate_info,
    client_context,
    hello_fields,
    message_names,
    server_context,
    verify_failure,
)


@pytest.fixture(scope="module")
def authority() -> Authority:
    return Authority()


def test_verification_is_always_on(authority: Authority) -> None:
    for trust in (authority, authority.root_pem, None):
        ctx = client_context(trust)
        assert ctx.verify_mode is ssl.CERT_REQUIRED and ctx.check_hostname


@pytest.mark.parametrize("version", ["1.0", "1.1", "ssl3"])
def test_old_versions_are_refused_with_the_rfcs(authority: Authority, version: str) -> None:
    with pytest.raises(TlsError, match="RFC 8996") as info:
        client_context(authority, version=version)  # type: ignore[arg-type]
    assert "RFC 6176" in str(info.value) and "RFC 7568" in str(info.value)
    with pytest.raises(TlsError, match="RFC 8996"):
        server_context(authority.issue(), versions=(version,))  # type: ignore[arg-type]


def test_handshake_log_needs_the_message_callback() -> None:
    with pytest.raises(TlsError, match="_msg_callback"):
        HandshakeLog(types.SimpleNamespace())  # type: ignore[arg-type]


@pytest.mark.parametrize(("version", "expected"), [
    # OpenSSL reports the ChangeCipherSpec the client writes, not the one it reads.
    ("1.3", ("ClientHello", "ServerHello", "EncryptedExtensions", "Certificate",
             "CertificateVerify", "Finished", "ChangeCipherSpec", "Finished",
             "NewSessionTicket", "NewSessionTicket")),
    ("1.2", ("ClientHello", "ServerHello", "Certificate", "ServerKeyExchange",
             "ServerHelloDone", "ClientKeyExchange", "ChangeCipherSpec", "Finished",
             "NewSessionTicket", "Finished")),
])
def test_the_log_holds_each_handshake_message(authority: Authority, version: Version,
                                              expected: tuple[str, ...]) -> None:
    client = client_context(authority, version=version)
    log = HandshakeLog(client)
    c, _ = handshake_in_memory(client, server_context(authority.issue()))
    assert c.version() == f"TLSv{version}"
    assert message_names(log.messages) == expected
    hello = next(m for m in log.messages if m.name == "ClientHello")
    assert hello.direction == "write"
    fields = hello_fields(hello.data)
    assert fields["server name (SNI)"] == SERVER_NAME and fields["ALPN"] == "http/1.1"
    server_hello = hello_fields(next(m.data for m in log.messages if m.name == "ServerHello"))
    assert server_hello["selected version"] == f"TLS {version}"
    assert server_hello["cipher suite"] == c.cipher()[0] or version == "1.2"
    assert hello_fields(b"\x01") == {}  # a ChangeCipherSpec body is no hello


def test_resumption_in_memory_skips_the_certificate(authority: Authority) -> None:
    client, server = client_context(authority), server_context(authority.issue())
    c, _ = handshake_in_memory(client, server)
    session = c.session
    log = HandshakeLog(client)
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    again = client.wrap_bio(c_in, c_out, server_hostname=SERVER_NAME, session=session)
    s = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for obj in (again, s):
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    assert again.session_reused
    assert "Certificate" not in message_names(log.messages)


def test_chain_and_certificate_info(authority: Authority, tmp_path: Path) -> None:
    leaf = authority.issue()
    chain = authority.chain(leaf)
    assert [c.is_ca for c in chain] == [False, True, True]
    assert chain[0].names == (SERVER_NAME,) and "CN=server.netlab.test" in chain[0].subject
    assert chain[0].issuer == chain[1].subject and chain[1].issuer == chain[2].subject
    assert chain[2].issuer == chain[2].subject  # a root signs itself
    assert {c.key for c in chain} == {"ECDSA P-256"}
    assert certificate_info(chain[0].der) == chain[0]
    path = authority.write(tmp_path)
    assert path.read_bytes() == authority.root_pem and b"PRIVATE" not in path.read_bytes()


def test_expired_certificate(authority: Authority) -> None:
    end = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    leaf = authority.issue(not_before=end - datetime.timedelta(days=1), not_after=end)
    info = authority.chain(leaf)[0]
    assert info.not_after == end and not info.valid_at(datetime.datetime.now(datetime.UTC))
    with pytest.raises(ssl.SSLCertVerificationError) as exc:
        handshake_in_memory(client_context(authority), server_context(leaf))
    failure = verify_failure("expired", exc.value)
    assert failure.verify_code == 10 and failure.verify_message == "certificate has expired"


def test_wrong_name_and_unknown_ca(authority: Authority) -> None:
    server = server_context(authority.issue())
    with pytest.raises(ssl.SSLCertVerificationError) as exc:
        handshake_in_memory(client_context(authority), server, name="wrong.netlab.test")
    assert verify_failure("name", exc.value).verify_code == 62
    with pytest.raises(ssl.SSLCertVerificationError) as exc:
        handshake_in_memory(client_context(Authority()), server)
    assert verify_failure("ca", exc.value).verify_message == \
        "unable to get local issuer certificate"


def test_verify_failure_refuses_other_errors() -> None:
    with pytest.raises(TlsError, match="not in verification"):
        verify_failure("x", ssl.SSLError(1, "wrong version number"))


# ---------------------------------------------------------------------------------------
# netlab.analysis.tls_decrypt on a recorded capture: tests/fixtures/https/request.pcap is the
# client's capture of one run of netlab.experiments.https.request (ports 80 and 443), and
# request-keys.log its NSS key log (throwaway keys of a throwaway CA), saved from the result's
# ``pcap`` and ``keylog``.

FIXTURE = Path(__file__).parent / "fixtures" / "https"
RECORDS = ["ClientHello", "ServerHello", "ChangeCipherSpec", "EncryptedExtensions [encrypted]",
           "Certificate [encrypted]", "CertificateVerify [encrypted]", "Finished [encrypted]",
           "ChangeCipherSpec", "Finished [encrypted]", "application data [encrypted]",
           "NewSessionTicket [encrypted]", "NewSessionTicket [encrypted]",
           "application data [encrypted]", "alert: close_notify [encrypted]"]


def test_decrypt_a_recorded_capture() -> None:
    from netlab.analysis.tls_decrypt import decrypt

    records = decrypt(FIXTURE / "request.pcap", FIXTURE / "request-keys.log")
    assert [r.label() for r in records] == RECORDS
    get, page = (r for r in records if r.plaintext)
    assert get.plaintext.startswith(b"GET / HTTP/1.1\r\nhost: server.netlab.test\r\n")
    assert page.plaintext.startswith(b"HTTP/1.1 200 OK\r\n") and page.sport == 443
    assert get.length - len(get.plaintext) == 17  # content type byte + 16-byte AEAD tag
    hello = hello_fields(records[0].message_bytes[0])
    assert hello["server name (SNI)"] == SERVER_NAME


def test_without_the_key_log_only_the_hellos_read() -> None:
    from netlab.analysis.tls_decrypt import decrypt

    records = decrypt(FIXTURE / "request.pcap", None)
    assert [r.label() for r in records if r.decrypted] == [
        "ClientHello", "ServerHello", "ChangeCipherSpec", "ChangeCipherSpec"]
    assert all(r.plaintext == b"" and r.messages == () for r in records if not r.decrypted)
    assert {r.wire_type for r in records if not r.decrypted} == {"application_data"}


def test_a_wrong_key_log_decrypts_nothing(tmp_path: Path) -> None:
    from netlab.analysis.tls_decrypt import decrypt

    other = tmp_path / "other.log"
    other.write_text("CLIENT_RANDOM " + "00" * 32 + " " + "11" * 48 + "\n")
    records = decrypt(FIXTURE / "request.pcap", other)
    assert not any(r.plaintext for r in records)
    assert sum(1 for r in records if r.encrypted and not r.decrypted) == 10
