"""MSS and MTU, run live once, with tshark and the kernel's own route as the oracles.

tshark reads the same pcaps as netlab: it must find the ICMP "fragmentation needed" messages
with their next-hop MTU, the segment sizes before and after them, the MSS option of each SYN as
sent and as received, and nothing of the large response arriving through the black hole. The
server's kernel says what it learned in the words of ``ip route get``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, TCP, IPerror, TCPerror
from scapy.layers.l2 import Ether
from support import require_namespaces

from netlab.analysis.dissect import icmp_error
from netlab.errors import LabError
from netlab.experiments import EXPERIMENTS
from netlab.experiments.network.mtu import LARGE, NARROW, PORTS, SMALL, WIDE, MtuResult, mtu
from netlab.lab import Lab


def _tshark(tshark: str, pcap: Path, display: str, *fields: str) -> list[list[str]]:
    cmd = [tshark, "-n", "-r", str(pcap), "-Y", display, "-T", "fields",
           "-o", "tcp.relative_sequence_numbers:TRUE"]
    for f in fields:
        cmd += ["-e", f]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines()]


# ---------------------------------------------------------------------------------------
# Without a lab


def test_icmp_error_reads_fragmentation_needed() -> None:
    frame = bytes(Ether() / IP(src="203.0.113.1", dst="203.0.113.2")
                  / ICMP(type=3, code=4, nexthopmtu=1280)
                  / IPerror(src="203.0.113.2", dst="192.0.2.1", len=1500)
                  / TCPerror(sport=8080, dport=40000, seq=77))
    m = icmp_error(frame)
    assert m is not None
    assert (m.src, m.type, m.code, m.mtu, m.quoted_dst, m.quoted_dport, m.quoted_seq,
            m.quoted_length) == ("203.0.113.1", 3, 4, 1280, "192.0.2.1", 40000, 77, 1500)
    unreachable = bytes(Ether() / IP() / ICMP(type=3, code=3) / IPerror() / TCPerror())
    assert icmp_error(unreachable) is not None and icmp_error(unreachable).mtu is None  # type: ignore[union-attr]
    assert icmp_error(bytes(Ether() / IP() / TCP())) is None


def test_link_mtu_needs_a_plain_veth() -> None:
    require_namespaces()
    with Lab() as lab:
        a, b = lab.host("a"), lab.host("b")
        with pytest.raises(LabError, match="MTU"):
            lab.link(a, b, delay=0.01, mtu=1280)
        with pytest.raises(LabError, match="MTU"):
            lab.link(a, b, mtu=100)
        assert not lab.links and not a.interfaces


# ---------------------------------------------------------------------------------------
# Live


@pytest.fixture(scope="module")
def result() -> MtuResult:
    require_namespaces()
    return mtu()


@pytest.mark.live
def test_every_fact_holds(result: MtuResult) -> None:
    facts = result.facts()
    assert len(facts) == EXPERIMENTS["mtu"].facts
    assert all(f.holds for f in facts), [f.evidence for f in facts if not f.holds]
    assert len({f.name for f in facts}) == len(facts)


@pytest.mark.live
def test_fragmentation_needed_by_tshark(result: MtuResult, tshark: str,
                                        tmp_path: Path) -> None:
    """tshark finds the ICMP messages netlab found, all about the discovery connection,
    with the narrow link's MTU; tcp.srcport and tcp.dstport are those of the quoted segment."""
    pcap = result.trace.write_pcap(tmp_path / "server.pcap", host="server")
    rows = _tshark(tshark, pcap, "icmp.type == 3 && icmp.code == 4", "icmp.mtu",
                   "tcp.dstport", "ip.len")
    assert len(rows) == len(result.icmp("discovery")) >= 1
    assert {(int(m), int(p)) for m, p, _ in rows} == {(NARROW, PORTS["discovery"])}
    # ip.len: the ICMP packet's own, then the quoted packet's: each a full-size one
    assert {int(n.split(",")[-1]) for *_, n in rows} == {WIDE}


@pytest.mark.live
def test_segment_sizes_by_tshark(result: MtuResult, tshark: str, tmp_path: Path) -> None:
    """The largest tcp.len of each connection, in the server's capture (sent) and in the
    client's (arrived): 1448 bytes cannot cross the 1280-byte link; 1228 can."""
    server = result.trace.write_pcap(tmp_path / "server.pcap", host="server")
    client = result.trace.write_pcap(tmp_path / "client.pcap", host="client")

    def largest(pcap: Path, port: int) -> int:
        rows = _tshark(tshark, pcap, f"tcp.srcport == 8080 && tcp.dstport == {port} "
                       f"&& tcp.len > 0", "tcp.len")
        return max(int(n) for (n,) in rows)

    fits, full = NARROW - 52, WIDE - 52
    assert [largest(server, PORTS[c]) for c in ("discovery", "black hole", "clamped")] == [
        full, full, fits]
    assert [largest(client, PORTS[c]) for c in ("discovery", "black hole", "clamped")] == [
        fits, SMALL, fits]
    # the black hole: only the small response arrived; the big segments were resent
    resent = _tshark(tshark, server, f"tcp.dstport == {PORTS['black hole']} && "
                     "tcp.analysis.retransmission", "tcp.len")
    assert resent and {int(n) for (n,) in resent} == {full}


@pytest.mark.live
def test_every_segment_carries_df_by_tshark(result: MtuResult, tshark: str,
                                            tmp_path: Path) -> None:
    """Linux sets Don't Fragment on every TCP packet: which is why the router drops and tells,
    instead of fragmenting. No IP fragment crosses anywhere."""
    for host in ("server", "client"):
        pcap = result.trace.write_pcap(tmp_path / f"{host}.pcap", host=host)
        assert len(_tshark(tshark, pcap, "tcp && !icmp", "frame.number")) > 40
        assert _tshark(tshark, pcap, "tcp && !icmp && ip.flags.df == 0", "frame.number") == []
        assert _tshark(tshark, pcap, "ip.flags.mf == 1 || ip.frag_offset > 0",
                       "frame.number") == []


@pytest.mark.live
def test_clamped_mss_by_tshark(result: MtuResult, tshark: str, tmp_path: Path) -> None:
    """The SYN leaves the client with MSS 1460 and reaches the server with 1240; the SYN-ACK
    the other way round. Without clamping both arrive as sent."""
    server = result.trace.write_pcap(tmp_path / "server.pcap", host="server")
    client = result.trace.write_pcap(tmp_path / "client.pcap", host="client")

    def mss(pcap: Path, port: int) -> tuple[int, int]:
        rows = _tshark(tshark, pcap, f"tcp.flags.syn == 1 && tcp.port == {port}",
                       "tcp.flags.ack", "tcp.options.mss_val")
        by = {int(a): int(v) for a, v in rows}
        return by[0], by[1]  # the SYN's, the SYN-ACK's

    assert mss(client, PORTS["clamped"]) == (WIDE - 40, NARROW - 40)
    assert mss(server, PORTS["clamped"]) == (NARROW - 40, WIDE - 40)
    assert mss(client, PORTS["discovery"]) == mss(server, PORTS["discovery"]) == (
        WIDE - 40, WIDE - 40)


@pytest.mark.live
def test_the_kernel_learned_the_path_mtu(result: MtuResult) -> None:
    """``ip route get`` in the server's namespace: a cached route with mtu 1280 after the
    discovery, none after the black hole or the clamped connection."""
    learned = {case: re.findall(r"\bmtu (\d+)", text) for case, text in result.routes.items()}
    assert learned == {"discovery": [str(NARROW)], "black hole": [], "clamped": []}
    assert "192.0.2.1 via 203.0.113.1 dev eth0" in result.routes["discovery"]


@pytest.mark.live
def test_the_application_reads(result: MtuResult) -> None:
    assert result.received == {"discovery": (SMALL, LARGE), "black hole": (SMALL, 0),
                               "clamped": (SMALL, LARGE)}
    assert result.seconds["black hole"] >= 1.4 > result.seconds["clamped"]
