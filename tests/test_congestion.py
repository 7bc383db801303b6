"""Congestion control: TCP_INFO read against ``ss``, and the transfers against tshark."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import require_namespaces

from netlab.experiments import EXPERIMENTS
from netlab.experiments.network.congestion import (
    ALGORITHMS,
    SIZE,
    CongestionResult,
    congestion_control,
)
from netlab.experiments.result import require
from netlab.kernel.tcp_info import CA_STATES, congestion, parse_tcp_info


def _ss(port: int) -> str:
    """``ss -tin``'s line of details for the connection from local ``port`` (same namespace)."""
    done = subprocess.run(["ss", "-tinH", f"sport = :{port}"], capture_output=True, text=True,
                          timeout=10, check=True)
    return done.stdout


def test_tcp_info_agrees_with_ss() -> None:
    """An independent reader of the same struct: iproute2's ss."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=5)
        peer, _ = listener.accept()
        with client, peer:
            client.sendall(b"x" * 200_000)
            got = 0
            while got < 200_000:
                got += len(peer.recv(1 << 16))
            info = congestion(client)
            details = _ss(client.getsockname()[1])
    assert f"cwnd:{info.cwnd}" in details, details
    assert f"mss:{info.mss}" in details, details
    assert re.search(rf"bytes_acked:{info.bytes_acked}\b", details), details
    assert info.ssthresh is None or f"ssthresh:{info.ssthresh}" in details
    assert info.ca_state in CA_STATES and info.unacked == 0


@given(st.binary(max_size=400))
def test_parse_tcp_info_any_bytes(raw: bytes) -> None:
    """Short input is a ValueError, anything long enough parses; nothing else is raised."""
    try:
        info = parse_tcp_info(raw)
    except ValueError:
        assert len(raw) < 168
    else:
        assert len(raw) >= 168 and info.cwnd == int.from_bytes(raw[80:84], "little")


@pytest.fixture(scope="module")
def cc() -> CongestionResult:
    require_namespaces()
    return congestion_control()


def test_congestion_facts(cc: CongestionResult) -> None:
    assert [r.algorithm for r in cc.runs] == list(ALGORITHMS)
    assert len(require(cc)) == EXPERIMENTS["congestion"].facts


def test_retransmissions_agree_with_tshark(cc: CongestionResult, tshark: str,
                                          tmp_path: Path) -> None:
    """The kernel's count of retransmitted segments, tshark's analysis of the capture and the
    red bars of the time–sequence graph: three witnesses, one number per algorithm. On the
    sender's own capture, tshark calls a resent segment a retransmission, or out of order
    when it leaves soon after the one it repeats (less than a round trip)."""
    pcap = cc.trace.write_pcap(tmp_path / "cc.pcap", host="client")
    for run in cc.runs:
        done = subprocess.run(
            [tshark, "-n", "-r", str(pcap), "-Y",
             f"tcp.srcport == {run.port} && tcp.len > 0 && (tcp.analysis.retransmission || "
             "tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission || "
             "tcp.analysis.out_of_order)", "-T", "fields", "-e", "frame.number"],
            capture_output=True, text=True, timeout=60, check=True)
        flagged = len(done.stdout.split())
        red = sum(1 for *_, again in cc.time_sequence(run.algorithm).bars() if again)
        assert flagged == red == run.retransmitted(), (run.algorithm, flagged, red,
                                                       run.retransmitted())


def test_time_sequence_graph_covers_every_byte(cc: CongestionResult) -> None:
    bars = cc.time_sequence("cubic").bars()
    assert max(end for _, _, end, _ in bars) == SIZE
    times = [t for t, *_ in bars]
    assert times == sorted(times)
    svg = cc.time_sequence("cubic").svg()
    assert svg.count("<path") == 2 and "<polyline" in svg and "<desc>" in svg


def test_window_chart_draws_every_algorithm(cc: CongestionResult) -> None:
    chart = cc.window_chart()
    names = [line.name for line in chart.lines]
    assert names == ["reno cwnd", "reno ssthresh", "cubic cwnd", "cubic ssthresh", "bbr cwnd"]
    svg = chart.svg()
    assert svg.count("<polyline") == 5 and 'stroke-dasharray="5 3"' in svg
    top = max(c.cwnd for r in cc.runs for _, c in r.samples)
    assert f"at most {top}" in chart.describe()
