"""Trace: the TCP segments of an experiment, merged from one or more captures.

A segment captured on the sender's interface and again on the receiver's becomes one
:class:`~netlab.analysis.dissect.Segment` with both times, so a ladder diagram can draw it
leaving one
host and arriving at the other. Segments are grouped into :class:`Connection` objects, which
number sequence and acknowledgment numbers relative to each side's initial sequence number
(ISN), the way Wireshark does.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from netlab.analysis.dissect import Observation, Segment, dissect, source_address
from netlab.kernel.capture import Frame, read_pcap, write_pcap

__all__ = ["Trace", "Connection", "Endpoint", "seen_at"]

#: One end of a connection, as an (IP address, port) pair.
Endpoint = tuple[str, int]


@dataclass(frozen=True)
class Connection:
    """The segments of one TCP connection (one pair of endpoints), in trace order."""

    segments: tuple[Segment, ...]
    client: Endpoint
    """The side that sent the first SYN (or, without a SYN, the first segment)."""
    server: Endpoint

    @cached_property
    def isn(self) -> dict[Endpoint, int]:
        """Each side's base sequence number, chosen as Wireshark chooses it.

        The seq of the side's SYN. For a side whose SYN was not captured, one less than the
        first number seen for it (the seq of its first segment, or the ack of the first
        segment acknowledging it), so its first byte is numbered 1, as if its SYN had been
        seen: an RST answering a refused SYN carries seq 0 and is shown as seq 1.
        """
        bases: dict[Endpoint, int] = {}
        for seg in self.segments:
            if seg.has("SYN"):
                bases.setdefault((seg.src, seg.sport), seg.seq)
        for seg in self.segments:
            bases.setdefault((seg.src, seg.sport), (seg.seq - 1) % 2**32)
            if seg.has("ACK"):
                bases.setdefault((seg.dst, seg.dport), (seg.ack - 1) % 2**32)
        return bases

    @cached_property
    def window_shift(self) -> dict[Endpoint, int]:
        """Each side's window scale shift, if the SYN and SYN-ACK both carried the option.

        RFC 7323 §2.2: "Window scaling is enabled only if both sides sent a Window Scale
        option in their SYN segments"; without the handshake in the trace it is unknown and
        the mapping is empty.
        """
        shifts = {(s.src, s.sport): s.option("WS") for s in self.segments if s.has("SYN")}
        if len(shifts) == 2 and None not in shifts.values():
            return {side: int(shift) for side, shift in shifts.items()}
        return {}

    def window(self, seg: Segment) -> int:
        """The receive window the segment offers, in bytes, as Wireshark computes it.

        RFC 7323 §2.2: "The window field in a segment where the SYN bit is set (i.e., a
        <SYN> or <SYN,ACK>) MUST NOT be scaled"; every later window field is shifted left by
        the sender's announced shift count.
        """
        if seg.has("SYN"):
            return seg.window
        return seg.window << self.window_shift.get((seg.src, seg.sport), 0)

    def is_from_client(self, seg: Segment) -> bool:
        return (seg.src, seg.sport) == self.client

    def relative_seq(self, seg: Segment) -> int:
        """Sequence number relative to the sender's ISN (modulo 2**32, RFC 9293 §3.4)."""
        return (seg.seq - self.isn[(seg.src, seg.sport)]) % 2**32

    def relative_ack(self, seg: Segment) -> int | None:
        """Acknowledgment number relative to the receiver's ISN; None if ACK is not set."""
        if not seg.has("ACK"):
            return None
        base = self.isn.get((seg.dst, seg.dport))
        return None if base is None else (seg.ack - base) % 2**32

    def syn(self) -> Segment:
        """The client's (first) SYN.

        Raises:
            LookupError: if the connection has no SYN.
        """
        for s in self.segments:
            if s.is_syn:
                return s
        raise LookupError("no SYN in this connection")

    def handshake(self) -> tuple[Segment, Segment, Segment]:
        """The SYN, SYN-ACK and ACK that opened this connection.

        Raises:
            LookupError: if the trace does not hold a complete three-way handshake.
        """
        syn = next((s for s in self.segments if s.is_syn), None)
        synack = next((s for s in self.segments if s.has("SYN", "ACK")), None)
        if syn is None or synack is None:
            raise LookupError("no SYN and SYN-ACK in this connection")
        ack = next(
            (s for s in self.segments
             if s.number > synack.number and self.is_from_client(s) and s.has("ACK")
             and not s.has("SYN")),
            None,
        )
        if ack is None:
            raise LookupError("the client never acknowledged the SYN-ACK")
        return syn, synack, ack

    def flights(self, *, until_ns: int | None = None, host: str = "client",
                skip: Collection[int] = ()) -> int:
        """Round trips the client waited for (before ``until_ns``): its flights of segments,
        in the order ``host``'s capture saw them (:func:`seen_at`).

        A flight is a run of segments from the client carrying a SYN or data, ended by a
        segment from the server carrying a SYN or data: pure ACKs do not count, since nobody
        waits for them, and neither do the segments numbered in ``skip`` (what the client
        does not wait for either, such as TLS 1.3 session tickets). A count, so a busy machine
        that slows a reply cannot change it.
        """
        count, last = 0, None
        for seg in sorted(self.segments, key=lambda seg: seen_at(seg, host)):
            if until_ns is not None and seen_at(seg, host) >= until_ns:
                break
            if not (seg.length or seg.has("SYN")) or seg.number in skip:
                continue
            mine = self.is_from_client(seg)
            if mine and last is not True:
                count += 1
            last = mine
        return count


def seen_at(seg: Segment, host: str) -> int:
    """When ``host``'s capture saw ``seg`` (sent or received), in ns; when it was first seen,
    if ``host`` did not capture it."""
    if seg.sent_by == host and seg.sent_ns is not None:
        return seg.sent_ns
    if seg.received_by == host and seg.received_ns is not None:
        return seg.received_ns
    return seg.time_ns


@dataclass(frozen=True)
class Trace:
    """Segments merged from captures, with the names of the hosts that own the addresses."""

    segments: tuple[Segment, ...]
    names: Mapping[str, str] = field(default_factory=dict)
    frames: Mapping[str, tuple[Frame, ...]] = field(default_factory=dict)
    """The raw frames of each capture, by host name (for pcap files)."""

    @classmethod
    def from_frames(cls, captures: Iterable[Sequence[Frame]],
                    names: Mapping[str, str] | None = None) -> Trace:
        """Build a trace from the frames of one or more captures.

        A segment seen leaving one host and arriving at another is merged into one
        :class:`Segment`; an arrival is paired with the latest earlier departure of an
        identical segment, so a retransmission is not confused with its original.
        """
        frames: dict[str, tuple[Frame, ...]] = {}
        observations: list[Observation] = []
        for capture in captures:
            capture = tuple(capture)
            if capture:
                if capture[0].host in frames:
                    raise ValueError(f"two captures from host {capture[0].host!r}")
                frames[capture[0].host] = capture
            for f in capture:
                obs = dissect(f.data, timestamp_ns=f.timestamp_ns, outgoing=f.outgoing, host=f.host)
                if obs is not None:
                    observations.append(obs)
        observations.sort(key=lambda o: o.timestamp_ns)

        pending: dict[tuple[object, ...], list[int]] = {}  # key → unpaired departures
        merged: list[dict[str, object]] = []
        for obs in observations:
            key = obs.key()
            if obs.outgoing:
                merged.append({"obs": obs, "sent": obs.timestamp_ns, "received": None,
                               "sent_by": obs.host, "received_by": None})
                pending.setdefault(key, []).append(len(merged) - 1)
            elif pending.get(key):
                m = merged[pending[key].pop()]
                m["received"], m["received_by"] = obs.timestamp_ns, obs.host
            else:
                merged.append({"obs": obs, "sent": None, "received": obs.timestamp_ns,
                               "sent_by": None, "received_by": obs.host})

        def first_seen(m: dict[str, object]) -> int:
            t = m["sent"] if m["sent"] is not None else m["received"]
            assert isinstance(t, int)
            return t

        merged.sort(key=first_seen)
        segments = []
        for number, m in enumerate(merged, start=1):
            o = m["obs"]
            assert isinstance(o, Observation)
            segments.append(Segment(
                number=number, src=o.src, sport=o.sport, dst=o.dst, dport=o.dport,
                flags=o.flags, seq=o.seq, ack=o.ack, window=o.window, options=o.options,
                payload=o.payload, sent_ns=m["sent"],  # type: ignore[arg-type]
                received_ns=m["received"], frame=o.frame,  # type: ignore[arg-type]
                sent_by=m["sent_by"], received_by=m["received_by"],  # type: ignore[arg-type]
            ))
        return cls(tuple(segments), dict(names or {}), frames)

    @classmethod
    def from_pcaps(cls, pcaps: Mapping[str, str | os.PathLike[str]],
                   names: Mapping[str, str]) -> Trace:
        """Build a trace from pcap files, one per host (``{"client": "client.pcap", ...}``).

        A pcap file does not record whether a frame was sent or received, so a frame counts
        as sent when its source address belongs to the host that captured it (``names``
        maps addresses to host names).
        """
        captures = []
        for host, path in pcaps.items():
            captures.append([replace(f, outgoing=names.get(source_address(f.data) or "") == host)
                             for f in read_pcap(path, host=host)])
        return cls.from_frames(captures, names)

    @property
    def start_ns(self) -> int:
        """Time of the first segment (the zero of every relative time)."""
        return self.segments[0].time_ns if self.segments else 0

    def name(self, address: str) -> str:
        """The host name for an address, or the address itself."""
        return self.names.get(address, address)

    def hop(self, seg: Segment) -> tuple[str, str]:
        """Where the segment was seen leaving and arriving, by capture (host or host:ethN).

        Without a capture on that side, the host that owns the address stands in, so a
        segment between two captured end hosts reads ``client → server``, and one forwarded
        by a firewall captured on its outside interface reads ``firewall:eth1 → server``.
        """
        return seg.sent_by or self.name(seg.src), seg.received_by or self.name(seg.dst)

    def connections(self) -> tuple[Connection, ...]:
        """Connections in the order their first segment appears."""
        return self._connections

    def connection_of(self, seg: Segment) -> Connection:
        """The connection a segment of this trace belongs to."""
        return self._connection_by_number[seg.number]

    @cached_property
    def _connection_by_number(self) -> dict[int, Connection]:
        return {s.number: c for c in self._connections for s in c.segments}

    @cached_property
    def _connections(self) -> tuple[Connection, ...]:
        groups: dict[frozenset[Endpoint], list[Segment]] = {}
        for seg in self.segments:
            ends = frozenset({(seg.src, seg.sport), (seg.dst, seg.dport)})
            groups.setdefault(ends, []).append(seg)
        result = []
        for segs in groups.values():
            first = next((s for s in segs if s.is_syn), segs[0])
            client, server = (first.src, first.sport), (first.dst, first.dport)
            result.append(Connection(tuple(segs), client, server))
        return tuple(result)

    def connection(self, *, port: int | None = None) -> Connection:
        """The one connection that uses ``port`` (either side); the only one if no port."""
        found = [c for c in self.connections()
                 if port is None or port in (c.client[1], c.server[1])]
        if len(found) != 1:
            raise LookupError(f"{len(found)} connections match port={port}")
        return found[0]

    def only(self, connection: Connection) -> Trace:
        """A trace restricted to one connection."""
        wanted = {s.number for s in connection.segments}
        return Trace(tuple(s for s in self.segments if s.number in wanted), self.names, self.frames)

    def write_pcap(self, path: str | os.PathLike[str], *, host: str | None = None) -> Path:
        """Save what the capture on ``host`` saw (the first capture by default) as pcap."""
        if host is None:
            host = next(iter(self.frames), "")
        return write_pcap(path, list(self.frames.get(host, ())))

    def __len__(self) -> int:
        return len(self.segments)
