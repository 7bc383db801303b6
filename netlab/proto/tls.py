"""TLS for the lab: a throwaway CA, verifying contexts, the handshake log and the key log.

Everything here verifies certificates. :func:`client_context` always asks for the server's
certificate chain and checks the host name (``CERT_REQUIRED`` and ``check_hostname``, as
``ssl.create_default_context()`` does); there is no switch to turn that off, and
:func:`client_context` raises if something did.

How the pieces fit
------------------

:class:`Authority` makes a root CA and an intermediate CA with trustme, in memory, each time a
chapter is built; the server's certificate is issued by the intermediate, so the server sends
a chain of two certificates and the client trusts only the root, as on the web.

What the endpoints see comes from OpenSSL's message callback, which Python exposes as the
private attribute ``SSLContext._msg_callback`` (CPython 3.8–3.13): each handshake message,
decrypted, as it is written or read (:class:`HandshakeLog`). What the wire carries is the
capture; :func:`decrypt` reads it back with scapy's TLS layer and the NSS key log that
``SSLContext.keylog_filename`` writes (the ``SSLKEYLOGFILE`` format Wireshark reads), so the
two views can be compared byte for byte.

>>> from netlab.proto.tls import HANDSHAKE_TYPES
>>> HANDSHAKE_TYPES[1], HANDSHAKE_TYPES[2], HANDSHAKE_TYPES[8]
('ClientHello', 'ServerHello', 'EncryptedExtensions')
"""

from __future__ import annotations

import datetime
import os
import ssl
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import trustme
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from netlab.errors import NetlabError
from netlab.i18n import N_, tr

__all__ = ["TlsError", "SERVER_NAME", "HANDSHAKE_TYPES", "Authority", "CertificateInfo",
           "certificate_info", "Version", "server_context", "client_context", "HandshakeLog",
           "HandshakeMessage", "hello_fields", "version_name", "message_names", "VerifyFailure",
           "verify_failure"]

SERVER_NAME = "server.netlab.test"
"""The server's name in every certificate (``.test`` is reserved for testing, RFC 6761 §6.2)."""

Version = Literal["1.2", "1.3"]
_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}

#: RFC 8446 §4 (and RFC 5246 §7.4 for the TLS 1.2-only messages): HandshakeType.
HANDSHAKE_TYPES = {
    1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket", 5: "EndOfEarlyData",
    8: "EncryptedExtensions", 11: "Certificate", 12: "ServerKeyExchange",
    13: "CertificateRequest", 14: "ServerHelloDone", 15: "CertificateVerify",
    16: "ClientKeyExchange", 20: "Finished", 24: "KeyUpdate",
}
_HANDSHAKE = 22  # ContentType handshake (RFC 8446 §5.1)
_CHANGE_CIPHER_SPEC = 20


class TlsError(NetlabError):
    """TLS could not be set up or observed as the chapter needs."""


# ---------------------------------------------------------------------------------------
# Certificates


@dataclass(frozen=True, kw_only=True)
class CertificateInfo:
    """What a reader wants to see of one certificate (RFC 5280 §4.1)."""

    subject: str
    issuer: str
    names: tuple[str, ...]
    """The subjectAltName DNS names, which the client matches the host name against."""
    not_before: datetime.datetime
    not_after: datetime.datetime
    key: str
    """The public key's type and size, e.g. ``ECDSA P-256``."""
    is_ca: bool
    """basicConstraints cA, true if it may sign other certificates."""
    der: bytes

    def valid_at(self, when: datetime.datetime) -> bool:
        return self.not_before <= when <= self.not_after


def _key_text(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = {"secp256r1": "P-256", "secp384r1": "P-384"}.get(key.curve.name, key.curve.name)
        return f"ECDSA {curve}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    return type(key).__name__


def certificate_info(data: bytes) -> CertificateInfo:
    """Read a certificate (DER, or PEM) into a :class:`CertificateInfo`."""
    cert = (x509.load_pem_x509_certificate(data) if data.lstrip().startswith(b"-----")
            else x509.load_der_x509_certificate(data))
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = tuple(san.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        names = ()
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    from cryptography.hazmat.primitives.serialization import Encoding

    return CertificateInfo(
        subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
        names=names, not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        key=_key_text(cert), is_ca=is_ca, der=cert.public_bytes(Encoding.DER))


class Authority:
    """A throwaway certificate authority: a root, an intermediate, and what they issue.

    The keys exist only in this process's memory; :meth:`write` puts the root certificate
    (never a key) in a file for programs such as curl and ``openssl s_client``.

    Args:
        name: the organisation named in both CA certificates.
    """

    def __init__(self, name: str = "netlab throwaway CA") -> None:
        self.name = name
        self.root = trustme.CA(organization_name=name, organization_unit_name="root CA")
        self.intermediate = trustme.CA(parent_cert=self.root, organization_name=name,
                                       organization_unit_name="intermediate CA")

    @property
    def root_pem(self) -> bytes:
        """The root certificate in PEM, which a client must trust."""
        return self.root.cert_pem.bytes()

    def issue(self, *names: str, not_before: datetime.datetime | None = None,
              not_after: datetime.datetime | None = None) -> trustme.LeafCert:
        """A server certificate for ``names`` (by default :data:`SERVER_NAME`), from the
        intermediate; ``not_after`` in the past makes an expired one."""
        names = names or (SERVER_NAME,)
        return self.intermediate.issue_cert(*names, common_name=names[0],
                                            organization_name="netlab lab server",
                                            organization_unit_name="web server",
                                            not_before=not_before, not_after=not_after)

    def chain(self, leaf: trustme.LeafCert) -> tuple[CertificateInfo, ...]:
        """Leaf, intermediate, root: the chain the client builds (the server sends two)."""
        pems = [b.bytes() for b in leaf.cert_chain_pems] + [self.root_pem]
        return tuple(certificate_info(p) for p in pems)

    def write(self, directory: str | os.PathLike[str], filename: str = "ca.pem") -> Path:
        """Write the root certificate to ``directory/filename``; return the path."""
        path = Path(directory) / filename
        path.write_bytes(self.root_pem)
        return path


# ---------------------------------------------------------------------------------------
# Contexts


def _pin(ctx: ssl.SSLContext, version: Version) -> None:
    if version not in _VERSIONS:
        raise TlsError(tr("TLS version {version}: netlab speaks '1.2' and '1.3' only "
                          "(SSL 2.0 and 3.0 are prohibited, RFC 6176 and RFC 7568; "
                          "TLS 1.0 and 1.1 are deprecated, RFC 8996)"
                          ).format(version=repr(version)))
    ctx.minimum_version = ctx.maximum_version = _VERSIONS[version]


def server_context(cert: trustme.LeafCert, *, versions: Sequence[Version] = ("1.2", "1.3"),
                   tickets: int = 2) -> ssl.SSLContext:
    """A server context that presents ``cert`` (and its chain), for TLS 1.2 and 1.3.

    Args:
        versions: the versions it accepts (by default both, as web servers do today; the
            client's choice decides).
        tickets: TLS 1.3 session tickets sent after each full handshake (RFC 8446 §4.6.1),
            which a client may use to resume; OpenSSL's default is 2.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    for v in versions:
        if v not in _VERSIONS:
            _pin(ctx, v)  # raises, saying why
    ctx.minimum_version = _VERSIONS[min(versions)]
    ctx.maximum_version = _VERSIONS[max(versions)]
    cert.configure_cert(ctx)
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.num_tickets = tickets
    return ctx


def client_context(trust: Authority | bytes | None, *, version: Version = "1.3",
                   keylog: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """A client context that verifies the server's chain and host name, always.

    Args:
        trust: the authority whose root to trust, or PEM bytes of roots, or None for the
            system's store (which knows nothing of the lab's CA: verification fails).
        keylog: append the session secrets to this NSS key log file (``SSLKEYLOGFILE``),
            so that the capture can be decrypted by whoever holds the file.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname
    _pin(ctx, version)
    if isinstance(trust, Authority):
        ctx.load_verify_locations(cadata=trust.root_pem.decode())
    elif isinstance(trust, bytes):
        ctx.load_verify_locations(cadata=trust.decode())
    else:
        ctx.load_default_certs()
    ctx.set_alpn_protocols(["http/1.1"])
    if keylog is not None:
        ctx.keylog_filename = os.fspath(keylog)
    if ctx.verify_mode is not ssl.CERT_REQUIRED or not ctx.check_hostname:
        raise TlsError("certificate verification must stay on")
    return ctx


# ---------------------------------------------------------------------------------------
# What the endpoints see: the handshake messages, decrypted


@dataclass(frozen=True, kw_only=True)
class HandshakeMessage:
    """One handshake message as an endpoint wrote or read it (after decryption)."""

    direction: str
    """``"write"`` or ``"read"``, from the endpoint's point of view."""
    name: str
    """``ClientHello``, ``Certificate`` … or ``ChangeCipherSpec``."""
    data: bytes
    """The whole message, with its type and 3-byte length (RFC 8446 §4)."""
    version: str
    """The protocol version OpenSSL reports for it."""

    @property
    def length(self) -> int:
        return len(self.data)


class HandshakeLog:
    """Records every handshake message of the connections made with ``ctx``.

    Uses ``SSLContext._msg_callback``, a private attribute CPython has had since 3.8 (and
    still has in 3.13); on a Python without it, :class:`TlsError` says so.
    """

    def __init__(self, ctx: ssl.SSLContext) -> None:
        if not hasattr(ctx, "_msg_callback"):
            raise TlsError("this Python's ssl module has no SSLContext._msg_callback (CPython "
                           "3.8-3.13 have it): the handshake log needs it; decrypt the capture "
                           "with the key log instead (netlab.proto.tls.decrypt)")
        self._messages: list[HandshakeMessage] = []
        self._lock = threading.Lock()
        ctx._msg_callback = self._callback

    def _callback(self, conn: Any, direction: str, version: Any, content_type: Any,
                  msg_type: Any, data: bytes) -> None:
        if content_type == _HANDSHAKE and data:
            name = HANDSHAKE_TYPES.get(data[0], f"handshake type {data[0]}")
        elif content_type == _CHANGE_CIPHER_SPEC:
            name = "ChangeCipherSpec"
        else:  # record headers, inner content types, alerts: not handshake messages
            return
        text = getattr(version, "name", str(version)).replace("TLSv1_", "TLS 1.").replace(
            "TLSv1", "TLS 1.0")
        with self._lock:
            self._messages.append(HandshakeMessage(direction=direction, name=name,
                                                   data=bytes(data), version=text))

    @property
    def messages(self) -> tuple[HandshakeMessage, ...]:
        with self._lock:
            return tuple(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


# Parsed with scapy's TLS layer, the same dissector that decrypts the capture.

_GROUPS = {23: "secp256r1", 24: "secp384r1", 29: "x25519", 30: "x448"}


def hello_fields(data: bytes) -> dict[str, str]:
    """The key fields of a ClientHello, ServerHello or EncryptedExtensions message.

    SNI (RFC 6066 §3), ALPN (RFC 7301), supported versions (RFC 8446 §4.2.1), key share
    groups (§4.2.8), cipher suites; for a ServerHello the choices the server made.

    Any bytes may come in (a capture holds what the peer sent): an empty dict for what is
    not one whole message of these three kinds, or is too short for its own fields; a name
    that is not ASCII is shown with replacement characters. Never an error.
    """
    from scapy.layers.tls import handshake
    from scapy.layers.tls.crypto.suites import _tls_cipher_suites

    layers: Any = handshake  # scapy's dissectors are untyped

    if len(data) < 4 or int.from_bytes(data[1:4], "big") != len(data) - 4:
        return {}  # not one whole handshake message (a ChangeCipherSpec, say)
    kind = data[0]
    msg: Any
    try:  # scapy raises struct.error when the first layer's own fields are cut short
        if kind == 1:
            msg = layers.TLSClientHello(data)
        elif kind == 2:
            msg = layers.TLS13ServerHello(data)
            if not any(type(e).__name__ == "TLS_Ext_SupportedVersion_SH" for e in msg.ext or []):
                msg = layers.TLSServerHello(data)  # a TLS 1.2 ServerHello
        elif kind == 8:
            msg = layers.TLSEncryptedExtensions(data)
        else:
            return {}
    except struct.error:
        return {}
    out: dict[str, str] = {}
    if kind == 1:
        out[N_("cipher suites")] = ", ".join(_tls_cipher_suites.get(c, hex(c))
                                            for c in msg.ciphers or [])
    elif kind == 2:
        out[N_("cipher suite")] = _tls_cipher_suites.get(msg.cipher, hex(msg.cipher))
    for ext in msg.ext or []:
        name = type(ext).__name__
        if name == "TLS_Ext_ServerName":
            out[N_("server name (SNI)")] = ", ".join(bytes(s.servername).decode("ascii", "replace")
                                                     for s in ext.servernames or [])
        elif name == "TLS_Ext_ALPN":
            out["ALPN"] = ", ".join(bytes(p.protocol).decode("ascii", "replace")
                                    for p in ext.protocols or [])
        elif name == "TLS_Ext_SupportedVersion_CH":
            out[N_("supported versions")] = ", ".join(version_name(v) for v in ext.versions)
        elif name == "TLS_Ext_SupportedVersion_SH":
            out[N_("selected version")] = version_name(ext.version)
        elif name == "TLS_Ext_KeyShare_CH":
            out[N_("key share")] = ", ".join(_GROUPS.get(s.group, str(s.group))
                                         for s in ext.client_shares)
        elif name == "TLS_Ext_KeyShare_SH":
            out[N_("key share")] = _GROUPS.get(ext.server_share.group, str(ext.server_share.group))
    if kind == 2 and "selected version" not in out:
        out[N_("selected version")] = version_name(msg.version)
    return out


def version_name(v: int) -> str:
    """A protocol version as TLS writes it on the wire (``0x0303``), by name: ``TLS 1.2``."""
    return {0x0304: "TLS 1.3", 0x0303: "TLS 1.2", 0x0302: "TLS 1.1", 0x0301: "TLS 1.0"}.get(
        v, f"0x{v:04x}")


# ---------------------------------------------------------------------------------------
# Verification failures, as a user of Python's ssl module sees them


@dataclass(frozen=True, kw_only=True)
class VerifyFailure:
    """Why the client refused the server's certificate."""

    case: str
    verify_code: int
    """OpenSSL's X509_V_ERR_* number (what ``openssl s_client`` prints as ``num=``)."""
    verify_message: str
    """OpenSSL's text for it, as ``ssl.SSLCertVerificationError.verify_message`` holds it."""
    error: str
    """``str()`` of the exception, as a traceback would end."""


def verify_failure(case: str, exc: BaseException) -> VerifyFailure:
    """Describe a failed handshake; :class:`TlsError` unless it failed verification."""
    if not isinstance(exc, ssl.SSLCertVerificationError):
        raise TlsError(f"{case}: the handshake failed, but not in verification: {exc!r}")
    return VerifyFailure(case=case, verify_code=exc.verify_code,
                         verify_message=exc.verify_message, error=str(exc))


def message_names(messages: Sequence[HandshakeMessage]) -> tuple[str, ...]:
    """The names of the messages, in order (a short view for tables and tests)."""
    return tuple(m.name for m in messages)
