"""netlab.kernel.capture: pcap files (round trip, empty, microseconds) and live capture fidelity.

The live tests compare netlab's AF_PACKET capture with tcpdump's capture of the same
interface at the same time, from inside the same namespace: same frames, same bytes.
"""

from __future__ import annotations

import re
import socket
import struct
import subprocess
from pathlib import Path

import pytest
from support import (
    LiveRun,
    Tcpdump,
    epoch_ns,
    fixture_frames,
    fixture_pcap,
    require_namespaces,
    tshark_rows,
)

from netlab.analysis.trace import Trace
from netlab.errors import CaptureError
from netlab.kernel.capture import Capture, Frame, read_pcap, write_pcap
from netlab.kernel.netns import Namespace

PCAP_NS_MAGIC = 0xA1B23C4D  # pcap with nanosecond timestamps
LINKTYPE_ETHERNET = 1


def test_round_trip_keeps_bytes_and_nanoseconds(tmp_path: Path) -> None:
    frames = fixture_frames("client")
    out = write_pcap(tmp_path / "copy.pcap", frames)
    back = read_pcap(out, host="client")
    assert [(f.data, f.timestamp_ns) for f in back] == [(f.data, f.timestamp_ns) for f in frames]
    assert all(f.host == "client" and not f.outgoing for f in back)
    assert out.read_bytes() == fixture_pcap("client").read_bytes()  # the writer is stable


def test_timestamps_keep_every_nanosecond(tmp_path: Path) -> None:
    stamps = [1, 999_999_999, 1_000_000_000, 1_795_541_113_556_608_257]
    frames = [Frame(timestamp_ns=t, outgoing=True, data=bytes([i]) * 60) for i, t in
              enumerate(stamps)]
    back = read_pcap(write_pcap(tmp_path / "t.pcap", frames))
    assert [f.timestamp_ns for f in back] == stamps


def test_header_is_nanosecond_ethernet_pcap(tmp_path: Path) -> None:
    raw = write_pcap(tmp_path / "x.pcap", fixture_frames("server")).read_bytes()
    magic, major, minor, _, _, _, linktype = struct.unpack("<IHHiIII", raw[:24])
    assert (magic, major, minor, linktype) == (PCAP_NS_MAGIC, 2, 4, LINKTYPE_ETHERNET)
    # each record: ts_sec, ts_nsec, caplen, len, then the frame
    first = fixture_frames("server")[0]
    sec, nsec, caplen, length = struct.unpack("<IIII", raw[24:40])
    assert sec * 10**9 + nsec == first.timestamp_ns
    assert caplen == length == len(first.data)
    assert raw[40:40 + caplen] == first.data


def test_empty_capture_is_a_valid_pcap(tmp_path: Path) -> None:
    raw = write_pcap(tmp_path / "empty.pcap", []).read_bytes()
    assert len(raw) == 24
    assert struct.unpack("<IHH", raw[:8]) == (PCAP_NS_MAGIC, 2, 4)
    assert read_pcap(tmp_path / "empty.pcap") == []
    assert Trace.from_frames([read_pcap(tmp_path / "empty.pcap")]).segments == ()


def test_microsecond_pcap_is_read_in_nanoseconds(tmp_path: Path) -> None:
    data = fixture_frames("client")[0].data
    path = tmp_path / "usec.pcap"
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET)
    record = struct.pack("<IIII", 1_700_000_000, 123_456, len(data), len(data))
    path.write_bytes(header + record + data)
    [frame] = read_pcap(path, host="old")
    assert frame.timestamp_ns == 1_700_000_000_123_456_000
    assert (frame.data, frame.host) == (data, "old")


@pytest.mark.oracle
def test_empty_pcap_read_by_tshark(tshark: str, tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "empty.pcap", [])
    done = subprocess.run([tshark, "-r", str(path)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    info = subprocess.run(["capinfos", "-c", "-E", str(path)], capture_output=True, text=True,
                          check=False)
    if info.returncode == 0:  # capinfos comes with tshark on Debian
        assert re.search(r"Number of packets:\s+0\n", info.stdout), info.stdout
        assert re.search(r"File encapsulation:\s+ether", info.stdout, re.IGNORECASE), info.stdout


@pytest.mark.oracle
@pytest.mark.parametrize("host", ["client", "server"])
def test_times_and_lengths_match_tshark(tshark: str, host: str) -> None:
    rows = tshark_rows(tshark, fixture_pcap(host))
    frames = read_pcap(fixture_pcap(host))
    assert [epoch_ns(r["frame.time_epoch"]) for r in rows] == [f.timestamp_ns for f in frames]
    assert [int(r["frame.len"]) for r in rows] == [len(f.data) for f in frames]


# ---------------------------------------------------------------------------------------
# Live: netlab's capture against tcpdump's, on the same interface at the same time


@pytest.mark.live
@pytest.mark.parametrize("host", ["client", "server"])
def test_capture_matches_tcpdump(handshake_run: LiveRun, host: str) -> None:
    ours = handshake_run.result.trace.frames[host]
    theirs = handshake_run.tcpdump[host]
    assert handshake_run.tcpdump_drops[host] == 0
    assert len(ours) == len(theirs) == {"client": 7, "server": 5}[host]
    assert [f.data for f in ours] == [f.data for f in theirs]
    # Both sockets get the kernel's one timestamp of each packet.
    assert [f.timestamp_ns for f in ours] == [f.timestamp_ns for f in theirs]
    assert all(f.host == host for f in ours)


@pytest.mark.live
def test_capture_direction(handshake_run: LiveRun) -> None:
    for host, address in (("client", "192.0.2.1"), ("server", "192.0.2.2")):
        for f in handshake_run.result.trace.frames[host]:
            assert f.outgoing == (socket.inet_ntoa(f.data[26:30]) == address)


def _loopback_exchange() -> None:
    server = socket.create_server(("127.0.0.1", 8080))
    client = socket.create_connection(("127.0.0.1", 8080))
    peer, _ = server.accept()
    client.sendall(b"ping")
    assert peer.recv(4) == b"ping"
    peer.sendall(b"pong")
    assert client.recv(4) == b"pong"
    for s in (client, peer, server):
        s.close()


@pytest.mark.live
def test_loopback_frames_are_kept_once(tmp_path: Path) -> None:
    """On lo the kernel shows each frame twice (outgoing, then host); keep one, like tcpdump."""
    require_namespaces()
    with Namespace("loop") as ns:
        dump = Tcpdump(ns, "lo", tmp_path / "lo.pcap")
        try:
            with Capture(ns, "lo", host="loop") as cap:
                ns.run(_loopback_exchange)
        finally:
            theirs = dump.stop()
    ours = cap.frames
    # SYN, SYN-ACK, ACK, ping, its ACK, pong, its ACK, then at least three to close
    assert len(ours) >= 10
    assert [f.data for f in ours] == [f.data for f in theirs]
    assert not any(f.outgoing for f in ours)
    assert cap.stop() is cap.frames  # stopping again is harmless
    trace = Trace.from_frames([ours])
    payloads = [s.payload for s in trace.segments if s.payload]
    assert payloads == [b"ping", b"pong"]


@pytest.mark.live
def test_capture_writes_its_own_pcap(tmp_path: Path) -> None:
    require_namespaces()
    with Namespace("loop") as ns, Capture(ns, "lo") as cap:
        ns.run(_loopback_exchange)
    assert cap.host == "loop"  # the namespace's name by default
    back = read_pcap(cap.write_pcap(tmp_path / "lo.pcap"))
    assert [(f.data, f.timestamp_ns) for f in back] == [
        (f.data, f.timestamp_ns) for f in cap.frames]


def test_read_pcap_refuses_a_file_that_is_not_pcap(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("GET / HTTP/1.1\r\n")
    with pytest.raises(CaptureError, match="is not a pcap file"):
        read_pcap(bogus)
