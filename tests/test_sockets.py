"""The sockets chapter: framing and UDP/ICMP decoding (unit), the experiment (live), tshark."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support import REPO, require_namespaces, run_python, saved

from netlab.analysis.ip_packets import Packet, decode, packets
from netlab.experiments import EXPERIMENTS
from netlab.experiments.sockets.socket_api import MESSAGES, SocketsResult, exchange, sockets
from netlab.kernel.capture import Frame, read_pcap, write_pcap
from netlab.proto.framing import MAX_MESSAGE, Decoder, FramingError, encode, split_lines
from netlab.views.packets import packet_info, packet_table

FACTS = EXPERIMENTS["sockets"].facts
"""How many claims the sockets chapter checks."""

LIFE = [  # (side, call, client, listening socket, connected socket, segments)
    ("server", "socket(AF_INET, SOCK_STREAM)", "-", "CLOSED", "-", ""),
    ("server", "bind(192.0.2.2:8080)", "-", "CLOSED", "-", ""),
    ("server", "listen(8)", "-", "LISTEN", "-", ""),
    ("client", "socket(AF_INET, SOCK_STREAM)", "CLOSED", "LISTEN", "-", ""),
    ("client", "bind(192.0.2.1:40000)", "CLOSED", "LISTEN", "-", ""),
    ("client", "connect(192.0.2.2:8080)", "ESTABLISHED", "LISTEN", "ESTABLISHED",
     "→ SYN | ← SYN, ACK | → ACK"),
    ("server", "accept()", "ESTABLISHED", "LISTEN", "ESTABLISHED", ""),
    ("client", "send(b'hello') = 5", "ESTABLISHED", "LISTEN", "ESTABLISHED",
     "→ PSH, ACK (5 B) | ← ACK"),
    ("server", "recv(1024) = b'hello'", "ESTABLISHED", "LISTEN", "ESTABLISHED", ""),
    ("server", "send(b'HELLO') = 5", "ESTABLISHED", "LISTEN", "ESTABLISHED",
     "← PSH, ACK (5 B) | → ACK"),
    ("client", "recv(1024) = b'HELLO'", "ESTABLISHED", "LISTEN", "ESTABLISHED", ""),
    ("client", "close()", "FIN_WAIT_2", "LISTEN", "CLOSE_WAIT", "→ FIN, ACK | ← ACK"),
    ("server", "recv(1024) = b''", "FIN_WAIT_2", "LISTEN", "CLOSE_WAIT", ""),
    ("server", "close()", "TIME_WAIT", "LISTEN", "-", "← FIN, ACK | → ACK"),
    ("server", "close()", "TIME_WAIT", "-", "-", ""),
]

# ---------------------------------------------------------------------------------------
# Framing


def test_frames_round_trip_however_the_stream_is_split() -> None:
    stream = b"".join(encode(m) for m in (*MESSAGES, b""))
    for cut in range(len(stream) + 1):
        d = Decoder()
        assert d.feed(stream[:cut]) + d.feed(stream[cut:]) == [*MESSAGES, b""]
        d.close()
    d = Decoder()
    assert [m for byte in stream for m in d.feed(bytes([byte]))] == [*MESSAGES, b""]


def test_truncated_frame_is_an_error_at_end_of_stream() -> None:
    d = Decoder()
    assert d.feed(encode(b"hello")[:-1]) == []
    assert d.pending == 8
    with pytest.raises(FramingError, match="ended inside a frame: 8 byte"):
        d.close()
    half_header = Decoder()
    half_header.feed(b"\x00\x00")
    with pytest.raises(FramingError):
        half_header.close()


def test_oversize_length_is_refused_before_buffering() -> None:
    d = Decoder(limit=10)
    with pytest.raises(FramingError, match="announces 4294967295 bytes, more than the limit"):
        d.feed(b"\xff\xff\xff\xff")
    with pytest.raises(FramingError, match="exceeds the limit of 10"):
        encode(b"x" * 11, limit=10)
    assert Decoder().feed(encode(b"x" * MAX_MESSAGE)) == [b"x" * MAX_MESSAGE]
    with pytest.raises(FramingError):
        Decoder().feed((MAX_MESSAGE + 1).to_bytes(4, "big"))


def test_delimiter_framing() -> None:
    assert split_lines(b"a\r\nb\r\n") == ([b"a", b"b"], b"")
    assert split_lines(b"no end") == ([], b"no end")
    assert split_lines(b"x\ny\nz", delimiter=b"\n") == ([b"x", b"y"], b"z")


# ---------------------------------------------------------------------------------------
# Decoding UDP and ICMP (frames built with scapy)


def crafted() -> list[Frame]:
    """UDP over IPv4 (padded to 60 bytes), ICMP port unreachable, the same over IPv6, TCP, ARP."""
    from scapy.layers.inet import ICMP, IP, TCP, UDP
    from scapy.layers.inet6 import ICMPv6DestUnreach, IPv6
    from scapy.layers.l2 import ARP, Ether

    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    udp = bytes(eth / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=40001, dport=9001)
                / b"anyone?")
    unreach = bytes(eth / IP(src="192.0.2.2", dst="192.0.2.1") / ICMP(type=3, code=3)
                    / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=40001, dport=9001)
                    / b"anyone?")
    udp6 = bytes(eth / IPv6(src="2001:db8::1", dst="2001:db8::2")
                 / UDP(sport=40000, dport=9000) / b"six")
    unreach6 = bytes(eth / IPv6(src="2001:db8::2", dst="2001:db8::1")
                     / ICMPv6DestUnreach(code=4) / IPv6(src="2001:db8::1", dst="2001:db8::2")
                     / UDP(sport=40000, dport=9000) / b"six")
    tcp = bytes(eth / IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=1, dport=2, flags="S"))
    arp = bytes(eth / ARP())
    data = [udp + b"\x00" * (60 - len(udp)), unreach, udp6, unreach6, tcp, arp]
    return [Frame(timestamp_ns=1_700_000_000_000_000_000 + i * 1000, outgoing=i % 2 == 0,
                  data=d, host="crafted") for i, d in enumerate(data)]


def test_decode_udp_and_icmp() -> None:
    udp, unreach, udp6, unreach6, tcp = packets(crafted())
    assert (udp.protocol, udp.sport, udp.dport, udp.payload) == ("UDP", 40001, 9001, b"anyone?")
    assert udp.length == 7  # Ethernet padding is not payload
    assert unreach.protocol == "ICMP" and unreach.port_unreachable
    assert unreach.quoted == (("192.0.2.1", 40001), ("192.0.2.2", 9001))
    assert unreach.payload == b"" and unreach.sport is None
    assert "port unreachable (UDP 192.0.2.1:40001 → 192.0.2.2:9001)" in packet_info(unreach)
    assert (udp6.protocol, udp6.src, udp6.payload) == ("UDP", "2001:db8::1", b"six")
    assert unreach6.protocol == "ICMPv6" and unreach6.port_unreachable
    assert unreach6.quoted == (("2001:db8::1", 40000), ("2001:db8::2", 9000))
    assert packet_info(unreach6) == ("port unreachable "
                                     "(UDP [2001:db8::1]:40000 → [2001:db8::2]:9000)")
    assert (tcp.protocol, tcp.tcp_flags) == ("TCP", "S")
    assert [p.number for p in (udp, unreach, udp6, unreach6, tcp)] == [1, 2, 3, 4, 5]
    assert decode(crafted()[-1]) is None  # ARP: no IP


def test_packet_table_in_both_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    names = {"192.0.2.1": "client", "192.0.2.2": "server"}
    text = str(packet_table(packets(crafted())[:2], names))
    assert text.splitlines()[0].split() == ["#", "time", "(ms)", "direction", "protocol",
                                            "len", "info"]
    assert "client → server  UDP" in text and "port unreachable" in text
    assert [line.split()[6] for line in text.splitlines()[1:3]] == ["7", "-"]  # ICMP: no payload
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    zh = str(packet_table(packets(crafted())[:2], names))
    assert "协议" in zh and "端口不可达（UDP 192.0.2.1:40001 → 192.0.2.2:9001）" in zh


TSHARK_UDP = ("frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "udp.srcport",
              "udp.dstport", "data.data", "icmp.type", "icmp.code", "icmpv6.type",
              "icmpv6.code", "tcp.flags")


def tshark_udp(tshark: str, pcap: Path) -> list[dict[str, list[str]]]:
    """tshark's reading of every frame: each field with all its occurrences."""
    cmd = [tshark, "-n", "-r", str(pcap), "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in TSHARK_UDP:
        cmd += ["-e", f]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [{f: (v.split("|") if v else []) for f, v in zip(TSHARK_UDP, line.split("\t"),
                                                            strict=True)}
            for line in done.stdout.splitlines()]


def agree_with_tshark(ours: tuple[Packet, ...], theirs: list[dict[str, list[str]]]) -> None:
    """Our packets and tshark's rows describe the same packets, field by field."""
    assert len(ours) == len(theirs)
    for p, row in zip(ours, theirs, strict=True):
        src = row["ip.src"] or row["ipv6.src"]
        dst = row["ip.dst"] or row["ipv6.dst"]
        assert (p.src, p.dst) == (src[0], dst[0])
        if p.protocol == "UDP":
            assert [str(p.sport), str(p.dport)] == row["udp.srcport"] + row["udp.dstport"]
            assert p.payload.hex() == "".join(row["data.data"]).replace(":", "")
        elif p.protocol in ("ICMP", "ICMPv6"):
            kind = "icmp" if p.protocol == "ICMP" else "icmpv6"
            assert [str(p.icmp_type), str(p.icmp_code)] == \
                [row[f"{kind}.type"][0], row[f"{kind}.code"][0]]
            assert p.quoted is not None
            # The quoted datagram: its addresses are the second occurrence, its ports the first.
            (qs, qsp), (qd, qdp) = p.quoted
            assert [qs, qd] == [src[1], dst[1]]
            assert [str(qsp), str(qdp)] == row["udp.srcport"] + row["udp.dstport"]
        else:
            assert p.protocol == "TCP" and row["tcp.flags"]


def test_decoding_agrees_with_tshark_on_crafted_frames(tshark: str, tmp_path: Path) -> None:
    pcap = write_pcap(tmp_path / "udp.pcap", crafted())
    ours = packets(read_pcap(pcap))
    assert len(ours) == 5
    agree_with_tshark(ours, [r for r in tshark_udp(tshark, pcap) if r["ip.src"]
                             or r["ipv6.src"]])


# ---------------------------------------------------------------------------------------
# The experiment, live


@pytest.fixture(scope="module")
def run() -> SocketsResult:
    require_namespaces()
    return sockets()


@pytest.mark.live
def test_every_fact_holds(run: SocketsResult) -> None:
    facts = run.facts()
    assert len(facts) == FACTS
    assert [f"{f.text}: {f.evidence}" for f in facts if not f.holds] == []


@pytest.mark.live
def test_life_of_a_tcp_socket(run: SocketsResult) -> None:
    rows = [(c.side, c.text, *c.states, run.segments_text(c)) for c in run.life]
    assert rows == LIFE
    assert [c.frames for c in run.life] == [len(run.segments_of(c)) for c in run.life]
    fds = {c.fd for c in run.life}
    assert len(fds) == 3  # listening, client, connected
    table = str(run.life_table())
    assert f"accept({run.life[0].fd}) = {run.life[6].fd}" in table
    assert f"socket(AF_INET, SOCK_STREAM) = {run.life[0].fd}" in table
    times = [t for c in run.life for t in (c.start_ns, c.end_ns)]
    assert times == sorted(times)


@pytest.mark.live
def test_byte_stream(run: SocketsResult) -> None:
    s = run.stream
    assert s.received == (b"onetwothree",)
    assert [seg.payload for seg in run.data_segments()] == list(MESSAGES)
    assert b"".join(s.framed_chunks) == b"".join(encode(m) for m in MESSAGES)
    assert all(len(c) <= 5 for c in s.framed_chunks) and s.framed_messages == MESSAGES


@pytest.mark.live
def test_udp(run: SocketsResult) -> None:
    pkts = run.udp_packets()
    assert [(p.protocol, p.payload) for p in pkts] == [
        ("UDP", b"one"), ("UDP", b"two"), ("UDP", b"three"), ("UDP", b"ok"),
        ("UDP", b"anyone?"), ("ICMP", b"")]
    assert pkts[-1].port_unreachable and (pkts[-1].icmp_type, pkts[-1].icmp_code) == (3, 3)
    assert run.segments_of_udp() == []
    assert isinstance(run.refused, ConnectionRefusedError)
    texts = [c.text for c in run.udp]
    assert "connect(192.0.2.2:9001)" in texts
    assert texts[-2] == "recv(1024) = -1 Connection refused" and run.udp[-2].error is run.refused
    silent = [c for c in run.udp if not run.packets_of(c)]
    assert all(c.frames == 0 for c in silent), [(c.text, c.frames) for c in silent]


@pytest.mark.live
def test_transports(run: SocketsResult) -> None:
    got = {(t.family, t.kind): (t.received, t.protocols) for t in run.transports}
    assert got == {
        ("AF_INET", "SOCK_STREAM"): ((b"onetwothree",), {"TCP"}),
        ("AF_INET6", "SOCK_STREAM"): ((b"onetwothree",), {"TCP"}),
        ("AF_INET", "SOCK_DGRAM"): (MESSAGES, {"UDP"}),
        ("AF_INET6", "SOCK_DGRAM"): (MESSAGES, {"UDP"}),
        ("AF_UNIX", "SOCK_STREAM"): ((b"onetwothree",), set()),
        ("AF_UNIX", "SOCK_DGRAM"): (MESSAGES, set()),
    }
    v6 = run.transport("AF_INET6", "SOCK_DGRAM")
    assert {p.src for p in v6.packets} == {"::1"} and len(v6.packets) == 3


@pytest.mark.live
def test_live_decoding_agrees_with_tshark(run: SocketsResult, tshark: str,
                                          tmp_path: Path) -> None:
    pcap = run.trace.write_pcap(tmp_path / "client.pcap", host="client")
    ours = packets(read_pcap(pcap))
    agree_with_tshark(ours, tshark_udp(tshark, pcap))
    assert sum(p.protocol == "ICMP" for p in ours) == 1
    lo = write_pcap(tmp_path / "v6.pcap", [Frame(timestamp_ns=p.time_ns, outgoing=False,
                                                data=p.frame, host="lo")
                                          for p in run.transport("AF_INET6",
                                                                 "SOCK_DGRAM").packets])
    agree_with_tshark(packets(read_pcap(lo)), tshark_udp(tshark, lo))


def test_exchange_over_unix_sockets_needs_no_privilege(tmp_path: Path) -> None:
    import socket

    assert exchange(socket.AF_UNIX, socket.SOCK_DGRAM, str(tmp_path / "d")) == list(MESSAGES)
    assert exchange(socket.AF_UNIX, socket.SOCK_STREAM, str(tmp_path / "s")) == [b"onetwothree"]


def test_registered_for_the_cli() -> None:
    assert EXPERIMENTS["sockets"].run is sockets


@pytest.mark.live
def test_snippet(tmp_path: Path) -> None:
    require_namespaces()
    pcap = tmp_path / "s.pcap"
    done = run_python(str(REPO / "snippets" / "socket_api.py"), "--pcap", str(pcap))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    assert done.stdout.count("✓") == FACTS and "✗" not in done.stdout
    assert done.stdout.rstrip().endswith(saved(pcap))
    assert sum(p.port_unreachable for p in packets(read_pcap(pcap))) == 1


def test_snippet_unprivileged() -> None:
    done = run_python(str(REPO / "snippets" / "socket_api.py"), demote=True)
    assert done.returncode == 77, done.stderr
    assert "Traceback" not in done.stderr and "sudo " in done.stderr


@pytest.mark.live
def test_the_layers_picture_shows_this_runs_calls(run: SocketsResult) -> None:
    picture = run.layers()
    client, server = picture.hosts
    assert client.calls == tuple(c.strace() for c in run.life if c.side == "client")
    assert server.calls == tuple(c.strace() for c in run.life if c.side == "server")
    assert (client.address, server.address) == ("192.0.2.1", "192.0.2.2")
    assert client.states == (f"socket {run.life[3].fd}: CLOSED → ESTABLISHED → FIN_WAIT_2 "
                             "→ TIME_WAIT",)
    assert server.states[0] == f"listening socket {run.life[0].fd}: CLOSED → LISTEN"
    assert picture.frames == sum(c.frames for c in run.life) == 11
    words = [t.text for t in ET.fromstring(picture.svg()).iter(
        "{http://www.w3.org/2000/svg}text")]
    for call in run.life:
        assert call.strace() in words
