"""Reading a TLS capture back: the records on the wire, decrypted with the session's key log.

A TLS record's 5-byte header (content type, legacy version, length; RFC 8446 §5.1) travels in
clear; its content does too until the keys are agreed, then it is ciphertext: in TLS 1.3 every
record after the ServerHello is an ``application_data`` record on the wire, whatever it
carries (§5.2). With the NSS key log the client wrote (``SSLContext.keylog_filename``),
scapy's TLS layer derives the traffic keys and decrypts each record, as Wireshark does.

scapy dissects TLS on TCP port 443 only, which is why the lab's TLS server listens there.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from netlab.kernel.capture import Frame, read_pcap, write_pcap
from netlab.kernel.scratch import directory as scratch_directory

__all__ = ["WireRecord", "decrypt", "CONTENT_TYPES"]

#: RFC 8446 §5.1: ContentType.
CONTENT_TYPES = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}
_lock = threading.Lock()  # scapy's TLS settings are process-wide


@dataclass(frozen=True, kw_only=True)
class WireRecord:
    """One TLS record as captured, and what it carried once decrypted."""

    time_ns: int
    """When the capture saw the (last) segment that completed the record."""
    src: str
    sport: int
    dst: str
    dport: int
    wire_type: str
    """The content type in the record header, readable by anyone on the path."""
    length: int
    """The record's length field, the size of what follows the header."""
    encrypted: bool
    inner_type: str
    """What the record really carries (equal to ``wire_type`` for a clear record)."""
    messages: tuple[str, ...]
    """Handshake message names, or ``alert: <description>``, or ``application data``."""
    message_bytes: tuple[bytes, ...]
    """Each handshake message, whole (type, length, body), as the endpoints hashed it."""
    plaintext: bytes = b""
    """Application data, decrypted."""
    decrypted: bool = True
    """False if an encrypted record could not be decrypted (no key for it)."""

    def label(self) -> str:
        """A short label: the messages, and ``[encrypted]`` if they were."""
        inside = ", ".join(self.messages) if self.decrypted else "?"
        return f"{inside} [encrypted]" if self.encrypted else inside


def _opaque(msg: Any) -> bool:
    """scapy's stand-in for content it could not decrypt or dissect."""
    return type(msg).__name__ in ("Raw", "_TLSEncryptedContent")


def _messages(msgs: list[Any]) -> tuple[tuple[str, ...], tuple[bytes, ...], bytes]:
    from netlab.proto.tls import HANDSHAKE_TYPES

    names: list[str] = []
    raw: list[bytes] = []
    plain = b""
    for m in msgs:
        kind = type(m).__name__
        if kind == "TLSApplicationData":
            names.append("application data")
            plain += bytes(m.data)
        elif kind == "TLSAlert":
            from scapy.layers.tls.record import _tls_alert_description

            names.append("alert: " + _tls_alert_description.get(m.descr, str(m.descr)))
        elif kind == "TLSChangeCipherSpec":
            names.append("ChangeCipherSpec")
        elif hasattr(m, "msgtype"):
            data = bytes(m)
            names.append(HANDSHAKE_TYPES.get(data[0], kind))
            raw.append(data)
        else:
            names.append(kind)
    return tuple(names), tuple(raw), plain


_MAX_SKEW = 2**31  # sequence numbers further apart than this are not of one stream


_Header = tuple[int, int]
"""A record's content type and length, as its header says (RFC 8446 §5.1)."""


def _whole_records(pcap: str, out: str) -> dict[tuple[str, int, str, int, int], _Header]:
    """Copy the capture to ``out`` with each direction's TCP bytes put back in order and cut
    into one segment per TLS record; frames without TCP payload are left out.

    scapy's TCP reassembly (``TCPSession``) is not enough for a capture as the wire gives it:

    * a retransmitted segment (after a loss, or a tail loss probe, RFC 8985 §7) carries a
      record the capture already holds; scapy would read that record a second time and count
      it in the TLS record sequence number, the nonce of every later record (RFC 8446 §5.3),
      so none of them would decrypt;
    * a segment that ends inside a record's 5-byte header leaves scapy a piece it takes for
      raw bytes, not for the start of a record: that record and the rest of the stream are
      lost;
    * scapy compares sequence numbers as plain integers, so a stream whose numbers wrap past
      2**32 (RFC 9293 §3.4) loses its bytes after the wrap; and segments that arrive out of
      order, or overlap, are not always put back together.

    Here the bytes of each direction are placed by their sequence number (the first copy of
    a byte counts; a byte seen again is the same byte), and each record, walked by the length
    in its header (RFC 8446 §5.1), is written as one segment, at the time of the frame that
    completed it, numbered so that it does not wrap. The stream stops at the first gap (bytes
    the capture did not see) and at a record the capture does not hold whole. The copy keeps
    every timestamp to the nanosecond.

    Returns each record's header by its segment (addresses, ports, sequence number): scapy
    may rewrite a record's type as it follows the session (a record whose content it could
    not dissect becomes application_data), so the header is read here, as captured.
    """
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    Way = tuple[str, int, str, int]
    first_seq: dict[Way, int] = {}
    pieces: dict[Way, list[tuple[int, bytes, Frame]]] = {}  # (offset from the first, data)
    for f in read_pcap(pcap):
        # the bytes as captured: bytes(layer) would have scapy build the layers again, and
        # its TLS layer rewrites what it builds (a record it cannot dissect becomes
        # application_data)
        p = Ether(f.data)
        if not (p.haslayer(IP) and p.haslayer(TCP)) or p[IP].frag or p[IP].flags.MF:
            continue
        ip, tcp = p[IP], p[TCP]
        start = 14 + 4 * int(ip.ihl) + 4 * int(tcp.dataofs)
        data = f.data[start:14 + int(ip.len)]  # beyond the IP length: Ethernet's padding
        way = (str(ip.src), int(tcp.sport), str(ip.dst), int(tcp.dport))
        seq = int(tcp.seq) + (1 if tcp.flags.S else 0)  # the SYN takes one number
        base = first_seq.setdefault(way, seq)
        offset = (seq - base) % 2**32
        if offset >= _MAX_SKEW:
            offset -= 2**32  # before the first number seen: reordered, or a SYN seen late
        if data:
            pieces.setdefault(way, []).append((offset, data, f))
    kept: list[Frame] = []
    headers: dict[tuple[str, int, str, int, int], _Header] = {}
    for way, got in pieces.items():
        first = min(off for off, _, _ in got)
        stream = bytearray()
        done_at: list[Frame] = []  # for each byte, the frame that completed the stream to it
        have: dict[int, tuple[int, Frame]] = {}
        for off, data, f in got:  # in capture order: the first copy of each byte
            for i, b in enumerate(data):
                have.setdefault(off - first + i, (b, f))
            while len(stream) in have:
                stream.append(have[len(stream)][0])
                done_at.append(f)
        # Each direction keeps its own numbers (scapy takes a record whose number is that of
        # its session's first segment for a second dissection of the session), moved down
        # by 2**31 if they would wrap.
        origin = (first_seq[way] + first) % 2**32
        if origin + len(stream) >= 2**32:
            origin -= 2**31
        at = 0
        while at + 5 <= len(stream):
            end = at + 5 + int.from_bytes(stream[at + 3:at + 5], "big")
            if end > len(stream):
                break
            f = done_at[end - 1]
            head = Ether(f.data[:14 + 4 * int(Ether(f.data)[IP].ihl)])  # Ethernet and IP
            tcp = Ether(f.data)[TCP].copy()
            tcp.remove_payload()
            tcp.seq, tcp.flags = origin + at, "PA"
            del head[IP].len, head[IP].chksum, tcp.chksum
            head[IP].remove_payload()
            frame = bytes(head / tcp / Raw(bytes(stream[at:end])))
            kept.append(Frame(timestamp_ns=f.timestamp_ns, outgoing=f.outgoing, data=frame,
                              host=f.host))
            headers[(*way, origin + at)] = (stream[at], end - at - 5)
            at = end
    kept.sort(key=lambda k: k.timestamp_ns)
    write_pcap(out, kept)
    return headers


def decrypt(pcap: str | os.PathLike[str], keylog: str | os.PathLike[str] | None
            ) -> tuple[WireRecord, ...]:
    """Every TLS record in ``pcap``, decrypted with ``keylog`` where it can be.

    Without a key log (``None``) the encrypted records stay opaque: that is the eavesdropper's
    view. A pcap captured on one interface holds each record once.
    """
    from scapy.config import conf
    from scapy.layers.inet import IP, TCP
    from scapy.layers.tls.record import TLS
    from scapy.layers.tls.record_tls13 import TLS13
    from scapy.layers.tls.session import _tls_sessions
    from scapy.sendrecv import sniff
    from scapy.sessions import TCPSession

    out: list[WireRecord] = []
    with _lock, scratch_directory("netlab-tls-") as scratch:
        first = os.fspath(scratch / "records.pcap")
        headers = _whole_records(os.fspath(pcap), first)  # before scapy follows sessions
        saved = (conf.tls_session_enable, conf.tls_nss_filename)
        conf.tls_session_enable = True
        conf.tls_nss_filename = os.fspath(keylog) if keylog is not None else None
        # scapy remembers TLS sessions process-wide by addresses and ports: a connection of
        # an earlier capture between the same lab addresses must not lend this one its keys.
        fresh: Any = _tls_sessions
        setattr(conf, "tls_sessions", fresh())  # noqa: B010 (scapy's Conf is untyped here)
        try:
            packets = sniff(offline=first, session=TCPSession, quiet=True)
        finally:
            conf.tls_session_enable, conf.tls_nss_filename = saved
            conf.tls_nss_keys = None  # type: ignore[assignment]
            setattr(conf, "tls_sessions", fresh())  # noqa: B010
    ccs_sent: set[tuple[str, int]] = set()  # senders whose later records are encrypted
    tls13: set[frozenset[tuple[str, int]]] = set()  # connections whose ServerHello chose 1.3
    for p in packets:
        if not (p.haslayer(TCP) and (p.haslayer(TLS) or p.haslayer(TLS13))):
            continue
        ip, tcp = p[IP], p[TCP]
        t = int(p.time * 1_000_000_000)
        sender = (str(ip.src), int(tcp.sport))
        conn = frozenset({sender, (str(ip.dst), int(tcp.dport))})
        # the record's header as captured (each frame holds one record, see _whole_records)
        head = headers.get((*sender, str(ip.dst), int(tcp.dport), int(tcp.seq)))
        for layer in p[TCP].payload.iterpayloads():
            if not isinstance(layer, TLS | TLS13):
                continue
            kind, size = head if head is not None else (int(layer.type), int(layer.len))
            head = None  # one record per frame; any other layer speaks for itself
            wire = CONTENT_TYPES.get(kind, str(kind))
            common: dict[str, Any] = dict(
                time_ns=t, src=str(ip.src), sport=int(tcp.sport), dst=str(ip.dst),
                dport=int(tcp.dport), wire_type=wire, length=size)
            if isinstance(layer, TLS13):  # scapy made it TLS 1.3 ciphertext
                inner: Any = layer.inner if keylog is not None else None
                ok = inner is not None and getattr(inner, "msg", None) is not None \
                    and not any(_opaque(m) for m in inner.msg)
                names, raw, plain = _messages(list(inner.msg) if ok else [])
                inner_type = CONTENT_TYPES.get(inner.type, "?") if ok else "?"
                out.append(WireRecord(**common, encrypted=True, decrypted=ok,
                                      inner_type=inner_type, messages=names,
                                      message_bytes=raw, plaintext=plain))
                continue
            # RFC 5246 §7.1: after its ChangeCipherSpec, a sender's records are encrypted.
            encrypted = sender in ccs_sent or kind == 23
            if kind == 20:
                ccs_sent.add(sender)
            msgs = list(layer.msg or [])
            if any(type(m).__name__ == "TLS13ServerHello" for m in msgs):
                tls13.add(conn)
            # A TLS 1.3 record that scapy could not decrypt stays a plain TLS record.
            ok = not encrypted or (keylog is not None and conn not in tls13
                                   and not any(_opaque(m) for m in msgs))
            names, raw, plain = _messages(msgs if ok else [])
            out.append(WireRecord(**common, encrypted=encrypted, decrypted=ok,
                                  inner_type=wire if ok or keylog is not None else "?",
                                  messages=names, message_bytes=raw, plaintext=plain))
    return tuple(out)
