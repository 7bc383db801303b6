"""netlab.experiments.tcp.handshake, run live once per session (see conftest.handshake_run)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from support import HANDSHAKE_FACTS, LiveRun, tshark_rows
from test_table import ALL_CONNECTIONS

from netlab.experiments.tcp.handshake import Negotiation
from netlab.model.tcp_states import TcpState
from netlab.views.table import Table

CLOSED, SYN_SENT, SYN_RECV = TcpState.CLOSED, TcpState.SYN_SENT, TcpState.SYN_RECV
LISTEN, ESTABLISHED = TcpState.LISTEN, TcpState.ESTABLISHED

# (moment, client, server, accept queue): the wire holds each segment until both kernels
# have been read, so this sequence is exact on every run.
SNAPSHOTS = [
    ("socket() and bind() done", CLOSED, LISTEN, 0),
    ("SYN on the wire", SYN_SENT, LISTEN, 0),
    ("SYN-ACK on the wire", SYN_SENT, SYN_RECV, 0),
    ("ACK on the wire", ESTABLISHED, SYN_RECV, 0),
    ("ACK delivered, accept() not yet called", ESTABLISHED, ESTABLISHED, 1),
    ("accept() returned", ESTABLISHED, ESTABLISHED, 0),
]


@pytest.mark.live
def test_every_fact_holds(handshake_run: LiveRun) -> None:
    facts = handshake_run.result.facts()
    assert len(facts) == HANDSHAKE_FACTS
    failed = [f"{f.text}: {f.evidence}" for f in facts if not f.holds]
    assert failed == []
    assert all(f.evidence for f in facts)


@pytest.mark.live
def test_snapshots_show_the_exact_state_sequence(handshake_run: LiveRun) -> None:
    snaps = handshake_run.result.snapshots
    assert [(str(s.moment), s.client, s.server, s.accept_queue) for s in snaps] == SNAPSHOTS
    times = [s.timestamp_ns for s in snaps]
    assert times == sorted(times)


@pytest.mark.live
def test_states_were_read_while_the_wire_held_each_segment(handshake_run: LiveRun) -> None:
    """Each 'on the wire' snapshot falls between the segment leaving and arriving."""
    result = handshake_run.result
    moments = {str(s.moment): s.timestamp_ns for s in result.snapshots}
    for seg, moment in zip(result.segments, ("SYN on the wire", "SYN-ACK on the wire",
                                              "ACK on the wire"), strict=True):
        assert seg.sent_ns is not None and seg.received_ns is not None
        assert seg.sent_ns < moments[moment] < seg.received_ns, moment
    assert moments["socket() and bind() done"] < result.segments[0].sent_ns  # type: ignore[operator]


@pytest.mark.live
def test_nothing_on_the_wire_outside_connect(handshake_run: LiveRun) -> None:
    result = handshake_run.result
    assert result.segments_before_connect == 0
    assert result.segments_during_accept == 0


@pytest.mark.live
def test_refused_and_unanswered(handshake_run: LiveRun) -> None:
    result = handshake_run.result
    assert isinstance(result.refused, ConnectionRefusedError)
    assert isinstance(result.unanswered, TimeoutError)
    assert result.unanswered_states == (SYN_SENT, SYN_SENT)
    assert 0.9 < result.retransmission_delay() < 1.5
    syn, rst = result.refused_connection.segments
    assert rst.has("RST", "ACK") and rst.ack == (syn.seq + 1) % 2**32
    lone = result.unanswered_connection.segments
    assert len(lone) == 2 and all(s.received_ns is None for s in lone)


@pytest.mark.live
def test_trace_shape(handshake_run: LiveRun) -> None:
    trace = handshake_run.result.trace
    assert len(trace) == 7
    assert [c.client for c in trace.connections()] == [
        ("192.0.2.1", 40000), ("192.0.2.1", 40001), ("192.0.2.1", 40002)]
    assert trace.names == {"192.0.2.1": "client", "192.0.2.2": "server"}
    # Stable columns of the table equal the committed fixture's (times and windows vary).
    live = str(Table(trace, absolute=False, options=False)).splitlines()

    def stable(line: str) -> list[str]:
        cells = line.split()
        return cells[:1] + cells[2:-1]

    assert [stable(line) for line in live] == [stable(line)
                                               for line in ALL_CONNECTIONS.splitlines()]


@pytest.mark.live
def test_negotiation(handshake_run: LiveRun) -> None:
    n = handshake_run.result.negotiation()
    # veth MTU 1500 - 20 (IPv4 header) - 20 (TCP header) = 1460 (RFC 9293 §3.7.1)
    assert n.mss == (1460, 1460)
    assert n.sack and n.timestamps
    assert None not in n.window_scale
    grid = str(n)
    assert grid.splitlines()[0].split() == ["option", "client", "(SYN)", "server", "(SYN-ACK)",
                                            "in", "effect"]
    assert "window scale" in grid and grid.count("yes") >= 6


def test_negotiation_without_options() -> None:
    n = Negotiation(mss=(536, None), window_scale=(7, None), sack=False, timestamps=False)
    rows = n.grid().rows
    assert rows[0] == ["MSS", "536", "None", "each side's own value"]
    assert rows[1] == ["window scale", "7", "None", "no"]  # RFC 7323 §2.2: both or neither
    assert rows[2] == ["SACK permitted", "?", "?", "no"]
    assert rows[3] == ["timestamps", "?", "?", "no"]


@pytest.mark.oracle
@pytest.mark.live
def test_negotiation_matches_tshark(handshake_run: LiveRun, tshark: str) -> None:
    rows = tshark_rows(tshark, handshake_run.pcaps["client"])
    syn, synack = rows[0], rows[1]
    assert (syn["tcp.flags"], synack["tcp.flags"]) == ("0x0002", "0x0012")
    n = handshake_run.result.negotiation()
    assert n.mss == (int(syn["tcp.options.mss_val"]), int(synack["tcp.options.mss_val"]))
    assert n.window_scale == (int(syn["tcp.options.wscale.shift"]),
                              int(synack["tcp.options.wscale.shift"]))
    assert n.sack == bool(syn["tcp.options.sack_perm"] and synack["tcp.options.sack_perm"])
    assert n.timestamps == bool(syn["tcp.options.timestamp.tsval"]
                                and synack["tcp.options.timestamp.tsval"])


@pytest.mark.live
def test_report(handshake_run: LiveRun) -> None:
    report = handshake_run.result.report()
    assert report.startswith("Three-way handshake (client 192.0.2.1:40000 → server "
                             "192.0.2.2:8080)")
    assert report.count("✓") == HANDSHAKE_FACTS and "✗" not in report
    assert str(handshake_run.result.table()) in report
    assert str(handshake_run.result.snapshot_table()) in report
    for heading in ("Kernel states between segments", "Negotiated in the SYN and SYN-ACK",
                    "All three connections", "Facts"):
        assert f"\n\n{heading}\n\n" in report


@pytest.mark.live
def test_snapshot_table(handshake_run: LiveRun) -> None:
    lines = str(handshake_run.result.snapshot_table()).splitlines()
    assert lines[0].split() == ["moment", "client", "server", "accept", "queue"]
    for line, (moment, client, server, queue) in zip(lines[1:], SNAPSHOTS, strict=True):
        assert line.startswith(moment)
        assert line.split()[-3:] == [client.name, server.name, str(queue)]


@pytest.mark.live
def test_ladder_shows_segments_and_state_changes(handshake_run: LiveRun) -> None:
    svg = handshake_run.result.ladder().svg()
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    groups = [g.get("class") for g in root.iter(f"{ns}g")]
    assert groups.count("segment") == 3
    labels = [g.findtext(f"{ns}title") for g in root.iter(f"{ns}g") if g.get("class") == "state"]
    assert [label.split(" — ")[0] for label in labels if label] == [
        "client: CLOSED", "server: LISTEN", "client: SYN_SENT", "server: SYN_RECV",
        "client: ESTABLISHED", "server: ESTABLISHED"]
    assert root.findtext(f"{ns}title") == "TCP three-way handshake, captured on client and server"
    moments = handshake_run.result.states()
    assert len(moments) == len(SNAPSHOTS)
    assert [s.client for s in moments] == [c for _, c, _, _ in SNAPSHOTS]
    # each label's tooltip says what had just happened
    assert [label.split(" — ")[1] for label in labels if label][:2] == [
        "socket() and bind() done", "socket() and bind() done"]


@pytest.mark.live
def test_ladder_tooltips_in_chinese(handshake_run: LiveRun, monkeypatch: pytest.MonkeyPatch
                                    ) -> None:
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    root = ET.fromstring(handshake_run.result.ladder().svg())
    ns = "{http://www.w3.org/2000/svg}"
    labels = [g.findtext(f"{ns}title") or "" for g in root.iter(f"{ns}g")
              if g.get("class") == "state"]
    assert labels[0] == "客户端：CLOSED — socket() 和 bind() 之后"
    assert [label.split(" — ")[0] for label in labels[-2:]] == [
        "客户端：ESTABLISHED", "服务器：ESTABLISHED"]
