"""What one direction of a TCP connection carries, field by field, with each field's bytes.

The packet inspector (``netlab.views.inspector``) decodes each frame's headers. What the
segments carry above TCP is a byte stream that segments cut anywhere: a TLS record or an HTTP
header may start in one segment and end in the next. So it is read here from the stream, put
back in order, and each field keeps its place in it (byte 0 is the first byte the direction
carried), for the inspector to map back onto the segments.

Two kinds of stream are decoded, by their first bytes:

* **TLS.** Each record's header (RFC 8446 §5.1: type, legacy_record_version, length); the
  ClientHello and ServerHello (§4.1.2, §4.1.3) field by field, with their extensions (§4.2):
  server_name (RFC 6066 §3), alpn (RFC 7301 §3.1), supported_versions (§4.2.1),
  supported_groups (§4.2.7), key_share (§4.2.8) and the others by name and size; the
  certificates of a TLS 1.2 Certificate message (RFC 5246 §7.4.2), which travels in clear.
  What follows a ChangeCipherSpec, and every application_data record, is ciphertext: only its
  size shows (in TLS 1.3 that includes the server's certificates).
* **HTTP/1.x** (RFC 9112): where each message starts and ends is h11's reading
  (:func:`netlab.analysis.http_capture.exchanges`); here each message's start line is cut
  into its three parts, each header field line kept with its bytes, and the body counted.

The values come from scapy's TLS dissectors (cipher suite, extension and group names) and
from the bytes themselves; the offsets from the length fields that frame each structure.
Anything that does not parse ends the decoding there: what was decoded before stays.

>>> from netlab.analysis.payload import tls_parts
>>> record = bytes.fromhex("1403030001" "01")  # a ChangeCipherSpec record
>>> [(f.name, f.text, f.span) for f in tls_parts(b"\\x16\\x03\\x01\\x00\\x00" + record)[1].fields]
... # doctest: +NORMALIZE_WHITESPACE
[('type', 'change_cipher_spec (20)', (5, 6)), ('legacy_record_version', 'TLS 1.2', (6, 8)),
 ('length', '1', (8, 10))]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netlab.analysis.http_capture import HttpMessage, exchanges, stream
from netlab.i18n import N_, ntr, tr

if TYPE_CHECKING:
    from netlab.analysis.trace import Connection

__all__ = ["Field", "Part", "carried", "tls_parts", "http_part"]

Span = tuple[int, int]


@dataclass(frozen=True)
class Field:
    """One field: its name (the protocol's own, not translated), its value as text, and its
    bytes in the stream (end excluded)."""

    name: str
    text: str
    span: Span
    opaque: bool = False
    """Whether the value is only the size of a body or of ciphertext, whose bytes are not
    decoded."""


@dataclass(frozen=True)
class Part:
    """A structure of the stream: a TLS record's header, a handshake message, an HTTP
    message. ``name`` is an English text marked for translation (``tr(part.name)``)."""

    name: str
    fields: tuple[Field, ...]


def carried(conn: Connection) -> dict[bool, list[Part]]:
    """What each side of ``conn`` sent, decoded: by ``from_client``, the parts of its bytes
    (TLS records and messages, or HTTP/1.x messages), placed in them as
    :func:`~netlab.analysis.http_capture.stream` puts them back in order. Nothing for a
    side whose bytes are neither, or do not start at the connection's first byte."""
    client = stream(conn, from_client=True)
    up = client[0]
    if up[:1] == b"\x16" and up[1:2] == b"\x03":
        down, _ = stream(conn, from_client=False)
        return {True: tls_parts(up), False: tls_parts(down)}
    found: dict[bool, list[Part]] = {True: [], False: []}
    for ex in exchanges(conn, client_stream=client):
        found[True].append(http_part(ex.request_message, request=True))
        if ex.response_message is not None:
            found[False].append(http_part(ex.response_message, request=False))
    return found


def _size(n: int) -> str:
    return ntr("{n} byte", "{n} bytes", n).format(n=n)


# --- TLS --------------------------------------------------------------------------------

_CONTENT_TYPES = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}


def _u(data: bytes, at: int, n: int) -> int:
    if at + n > len(data):
        raise _Short
    return int.from_bytes(data[at:at + n], "big")


class _Short(Exception):
    """A length field points beyond the bytes there are."""


def tls_parts(stream: bytes) -> list[Part]:
    """The TLS records one side sent, from the first byte of its stream."""
    return list(_tls(stream))


def _tls(stream: bytes) -> Iterator[Part]:
    from netlab.proto.tls import version_name

    at, ciphered = 0, False
    while at + 5 <= len(stream):
        kind, version, length = stream[at], _u(stream, at + 1, 2), _u(stream, at + 3, 2)
        if kind not in _CONTENT_TYPES or stream[at + 1] != 3:
            return
        end = at + 5 + length
        header = (Field("type", f"{_CONTENT_TYPES[kind]} ({kind})", (at, at + 1)),
                  Field("legacy_record_version", version_name(version), (at + 1, at + 3)),
                  Field("length", str(length), (at + 3, at + 5)))
        if kind == 23 or (kind == 22 and ciphered):
            yield Part(N_("TLS record"), (*header, Field(
                "encrypted_record", _size(length), (at + 5, min(end, len(stream))),
                opaque=True)))
            at = end
            continue
        yield Part(N_("TLS record"), header)
        if kind == 20:
            ciphered = True  # this side's records are encrypted from here on
        elif kind == 22 and end <= len(stream):
            yield from _handshakes(stream, at + 5, end)
        at = end


def _handshakes(stream: bytes, at: int, end: int) -> Iterator[Part]:
    from netlab.proto.tls import HANDSHAKE_TYPES

    while at + 4 <= end:
        kind, length = stream[at], _u(stream, at + 1, 3)
        stop = at + 4 + length
        name = HANDSHAKE_TYPES.get(kind, str(kind))
        head = (Field("msg_type", f"{name} ({kind})", (at, at + 1)),
                Field("length", str(length), (at + 1, at + 4)))
        body: tuple[Field, ...] = ()
        if stop <= end:
            try:
                body = tuple(_BODIES[kind](stream[:stop], at + 4)) if kind in _BODIES else ()
            except (_Short, ValueError, IndexError, TypeError, AttributeError):
                body = ()  # a message its own lengths do not fit: its header only
        yield Part(f"TLS {name}", head + body)
        at = stop


def _hex(data: bytes, keep: int = 8) -> str:
    return data.hex() if len(data) <= keep else f"{data[:keep].hex()}… ({_size(len(data))})"


def _hello(data: bytes, at: int, server: bool) -> Iterator[Field]:
    """A ClientHello's or ServerHello's fields, from the byte after its 4-byte header."""
    from scapy.layers.tls.crypto.suites import _tls_cipher_suites

    from netlab.proto.tls import version_name

    yield Field("legacy_version", version_name(_u(data, at, 2)), (at, at + 2))
    yield Field("random", data[at + 2:at + 34].hex(), (at + 2, at + 34))
    at += 34
    n = _u(data, at, 1)
    name = "legacy_session_id_echo" if server else "legacy_session_id"
    yield Field(name, _hex(data[at + 1:at + 1 + n]) if n else _size(0), (at, at + 1 + n))
    at += 1 + n
    if server:
        suite = _u(data, at, 2)
        yield Field("cipher_suite", _tls_cipher_suites.get(suite, f"0x{suite:04x}"),
                    (at, at + 2))
        yield Field("legacy_compression_method", str(_u(data, at + 2, 1)), (at + 2, at + 3))
        at += 3
    else:
        n = _u(data, at, 2)
        suites = [_u(data, at + 2 + i, 2) for i in range(0, n, 2)]
        yield Field("cipher_suites", ", ".join(_tls_cipher_suites.get(s, f"0x{s:04x}")
                                               for s in suites), (at, at + 2 + n))
        at += 2 + n
        n = _u(data, at, 1)
        yield Field("legacy_compression_methods", ", ".join(str(b) for b in
                                                            data[at + 1:at + 1 + n]),
                    (at, at + 1 + n))
        at += 1 + n
    if at >= len(data):
        return  # no extensions (a TLS 1.2 hello may have none)
    stop = at + 2 + _u(data, at, 2)
    at += 2
    while at + 4 <= stop:
        kind, n = _u(data, at, 2), _u(data, at + 2, 2)
        yield _extension(kind, data[at:at + 4 + n], server, (at, at + 4 + n))
        at += 4 + n


def _extension(kind: int, raw: bytes, server: bool, span: Span) -> Field:
    """One extension, named as scapy names it, its value read by scapy's dissector."""
    from scapy.layers.tls import extensions as ext
    from scapy.layers.tls import keyexchange_tls13 as kx
    from scapy.layers.tls.crypto.groups import _tls_named_groups

    from netlab.proto.tls import version_name

    name = ext._tls_ext.get(kind, f"extension_{kind}")
    e: Any = None
    if kind == 43:
        e = (ext.TLS_Ext_SupportedVersion_SH if server else ext.TLS_Ext_SupportedVersion_CH)(raw)
    elif kind == 51:
        e = (kx.TLS_Ext_KeyShare_SH if server else kx.TLS_Ext_KeyShare_CH)(raw)
    elif kind in (0, 10, 16):
        dissector: Any = ext._tls_ext_cls[kind]
        e = dissector(raw)

    def group(g: int) -> str:
        return str(_tls_named_groups.get(g, f"0x{g:04x}"))

    if kind == 0:
        text = ", ".join(bytes(s.servername).decode("ascii", "replace") for s in e.servernames)
    elif kind == 16:
        text = ", ".join(bytes(p.protocol).decode("ascii", "replace") for p in e.protocols)
    elif kind == 10:
        text = ", ".join(group(g) for g in e.groups)
    elif kind == 43:
        text = (version_name(e.version) if server
                else ", ".join(version_name(v) for v in e.versions))
    elif kind == 51:
        shares = [e.server_share] if server else e.client_shares
        text = ", ".join(tr("{group} ({n}-byte key)").format(group=group(s.group),
                                                             n=len(bytes(s.key_exchange)))
                         for s in shares)
    else:
        text = _size(len(raw) - 4)
    return Field(name, text, span)


def _certificates(data: bytes, at: int) -> Iterator[Field]:
    """A TLS 1.2 Certificate message's chain (RFC 5246 §7.4.2), leaf first."""
    from netlab.proto.tls import certificate_info

    stop = at + 3 + _u(data, at, 3)
    at += 3
    while at + 3 <= stop:
        n = _u(data, at, 3)
        info = certificate_info(data[at + 3:at + 3 + n])
        yield Field("certificate", tr("{subject}, issued by {issuer}").format(
            subject=info.subject, issuer=info.issuer), (at, at + 3 + n))
        at += 3 + n


_BODIES: dict[int, Any] = {
    1: lambda data, at: _hello(data, at, server=False),
    2: lambda data, at: _hello(data, at, server=True),
    11: _certificates,
}


# --- HTTP/1.x ---------------------------------------------------------------------------

def http_part(message: HttpMessage, *, request: bool) -> Part:
    """One HTTP/1.x message, whose bounds h11 found
    (:func:`~netlab.analysis.http_capture.exchanges`): the start line's three parts
    (RFC 9112 §3, §4), each header field line (§5), and the body's size as it crossed
    (chunk framing included)."""
    raw, at = message.raw, message.start
    end = raw.find(b"\r\n\r\n")
    head = raw[:end] if end >= 0 else raw
    lines, pos = [], 0
    for line in head.split(b"\r\n"):
        lines.append((pos, line))
        pos += len(line) + 2
    names = (("method", "request-target", "HTTP-version") if request
             else ("HTTP-version", "status-code", "reason-phrase"))
    fields: list[Field] = []
    pos = 0
    for label, piece in zip(names, lines[0][1].split(b" ", 2), strict=False):
        fields.append(Field(label, piece.decode("latin-1"), (at + pos, at + pos + len(piece))))
        pos += len(piece) + 1
    for pos, line in lines[1:]:
        key, _, value = line.partition(b":")
        fields.append(Field(key.decode("latin-1"), value.strip(b" \t").decode("latin-1"),
                            (at + pos, at + pos + len(line))))
    body = len(head) + 4 if end >= 0 else len(raw)
    if body < len(raw):  # a body, even of chunks that add up to nothing
        fields.append(Field("message-body", _size(len(raw) - body), (at + body, at + len(raw)),
                            opaque=True))
    return Part(N_("HTTP request") if request else N_("HTTP response"), tuple(fields))
