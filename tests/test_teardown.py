"""netlab.experiments.tcp.teardown, run live once for this module, with tshark and ss as oracles.

The CLI and the snippet run the same experiment as a reader would, as processes started
before the in-process run, so the three runs overlap.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import (
    REPO,
    finish,
    require_namespaces,
    require_program,
    saved,
    start_python,
    tshark_rows,
)
from test_trace import assert_relative_numbers_match_tshark

from netlab.analysis.trace import Trace
from netlab.experiments import EXPERIMENTS
from netlab.experiments.tcp.teardown import (
    CHUNKS,
    CLOSE_WAIT_PORTS,
    Close,
    TeardownResult,
    teardown,
)
from netlab.kernel.capture import read_pcap
from netlab.model.tcp_states import RULES, Event, TcpState, UnexpectedTransition
from netlab.views.timeline import rules_grid, timeline_grid

TEARDOWN_FACTS = EXPERIMENTS["teardown"].facts  # the registry holds the count, once
"""How many claims the teardown chapter checks (each printed with ✓ or ✗)."""

S = TcpState
ORDERLY = [  # (moment, client, server): exact on every run, the wire holds each segment
    ("socket() and bind() done", S.CLOSED, S.LISTEN),
    ("client calls connect()", S.SYN_SENT, S.LISTEN),
    ("SYN arrived at server", S.SYN_SENT, S.SYN_RECV),
    ("SYN, ACK arrived at client", S.ESTABLISHED, S.SYN_RECV),
    ("ACK arrived at server", S.ESTABLISHED, S.ESTABLISHED),
    ("request and response exchanged", S.ESTABLISHED, S.ESTABLISHED),
    ("client calls close()", S.FIN_WAIT_1, S.ESTABLISHED),
    ("FIN, ACK arrived at server", S.FIN_WAIT_1, S.CLOSE_WAIT),
    ("ACK arrived at client", S.FIN_WAIT_2, S.CLOSE_WAIT),
    ("server calls close()", S.FIN_WAIT_2, S.LAST_ACK),
    ("FIN, ACK arrived at client", S.TIME_WAIT, S.LAST_ACK),
    ("ACK arrived at server", S.TIME_WAIT, S.CLOSED),
]
SIMULTANEOUS = [
    ("connection established", S.ESTABLISHED, S.ESTABLISHED),
    ("client calls close()", S.FIN_WAIT_1, S.ESTABLISHED),
    ("server calls close()", S.FIN_WAIT_1, S.FIN_WAIT_1),
    ("FIN, ACK arrived at server", S.FIN_WAIT_1, S.CLOSING),
    ("FIN, ACK arrived at client", S.CLOSING, S.CLOSING),
    ("ACK arrived at client", S.TIME_WAIT, S.CLOSING),
    ("ACK arrived at server", S.TIME_WAIT, S.TIME_WAIT),
]


@dataclass
class Processes:
    """``netlab run teardown`` and ``snippets/tcp_teardown.py``, running side by side."""

    cli_pcap: Path
    snippet_pcap: Path
    cli: subprocess.Popen[str]
    snippet: subprocess.Popen[str]
    done: dict[str, subprocess.CompletedProcess[str]]

    def result(self, which: str) -> subprocess.CompletedProcess[str]:
        if which not in self.done:
            self.done[which] = finish(getattr(self, which))
        return self.done[which]


@dataclass(frozen=True)
class Run:
    result: TeardownResult
    pcaps: dict[str, Path]
    """netlab's pcap of the client's capture of each connection, by name."""


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    require_namespaces()
    directory = tmp_path_factory.mktemp("teardown-processes")
    cli, snippet = directory / "cli.pcap", directory / "snippet.pcap"
    procs = Processes(cli, snippet,
                      start_python("-m", "netlab", "run", "teardown", "--pcap", str(cli)),
                      start_python(str(REPO / "snippets" / "tcp_teardown.py"), "--pcap",
                                   str(snippet)), {})
    yield procs
    procs.result("cli")
    procs.result("snippet")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, processes: Processes) -> Run:
    """The experiment, run once (live: needs root); ``processes`` only so they overlap."""
    require_namespaces()
    result = teardown()
    directory = tmp_path_factory.mktemp("teardown")
    pcaps = {c.name: c.trace.write_pcap(directory / f"{c.name}.pcap", host="client")
             for c in result.closes}
    return Run(result, pcaps)


def moments(close: Close) -> list[tuple[str, TcpState, TcpState]]:
    return [(str(s.moment), s.client, s.server) for s in close.snapshots]


# ---------------------------------------------------------------------------------------
# The facts and the exact state sequences


@pytest.mark.live
def test_every_fact_holds(run: Run) -> None:
    facts = run.result.facts()
    assert len(facts) == TEARDOWN_FACTS
    assert [f"{f.text}: {f.evidence}" for f in facts if not f.holds] == []
    assert all(f.evidence for f in facts)


@pytest.mark.live
def test_orderly_states_step_by_step(run: Run) -> None:
    o = run.result.orderly
    assert moments(o) == ORDERLY
    times = [s.timestamp_ns for s in o.snapshots]
    assert times == sorted(times)


@pytest.mark.live
def test_orderly_four_segments(run: Run) -> None:
    o = run.result.orderly
    c = o.closing
    assert [(s.sent_by, s.received_by, s.flags_text, s.length) for s in c] == [
        ("client", "server", "FIN, ACK", 0), ("server", "client", "ACK", 0),
        ("server", "client", "FIN, ACK", 0), ("client", "server", "ACK", 0)]
    conn = o.connection
    # Request "ping" and response "pong" took 4 sequence numbers each; a FIN takes one more.
    assert [(conn.relative_seq(s), conn.relative_ack(s)) for s in c] == [
        (5, 5), (5, 6), (5, 6), (6, 6)]
    assert c[1].ack == (c[0].seq + 1) % 2**32 and c[3].ack == (c[2].seq + 1) % 2**32
    # The ACK of a FIN is delayed (tcp_fin() enters pingpong mode): 40 ms once data arrived,
    # one timer tick on the half-close connection, which received no data before its FIN.
    assert 0.036 <= o.ack_delay < 0.5 and run.result.half_close.ack_delay < 0.02


@pytest.mark.live
def test_each_fin_was_held_while_the_states_were_read(run: Run) -> None:
    """A snapshot after a call falls between its segment leaving and arriving."""
    o = run.result.orderly
    at = {str(s.moment): s.timestamp_ns for s in o.snapshots}
    fin_c, fin_s = o.fin("client"), o.fin("server")
    assert fin_c.sent_ns is not None and fin_c.received_ns is not None
    assert fin_s.sent_ns is not None and fin_s.received_ns is not None
    assert fin_c.sent_ns < at["client calls close()"] < fin_c.received_ns
    assert fin_s.sent_ns < at["server calls close()"] < fin_s.received_ns


@pytest.mark.live
def test_half_close_data_after_the_fin(run: Run) -> None:
    h = run.result.half_close
    fin = h.fin("client")
    data = h.data_after_fin
    assert [s.payload for s in data] == list(CHUNKS)
    assert all(s.number > fin.number and s.received_by == "client" for s in data)
    assert h.eof == b"" and h.received == CHUNKS and h.client_eof == b""
    # Each chunk was acknowledged by the client, whose FIN had long been acknowledged.
    acks = [s for s in h.segments if s.sent_by == "client" and s.number > fin.number]
    assert [h.connection.relative_ack(s) for s in acks][:3] == [27, 39, 62]
    assert moments(h)[4] == ("server reads EOF, then sends 3 chunks; client reads them",
                             S.FIN_WAIT_2, S.CLOSE_WAIT)
    assert h.path("client")[-3:] == [S.FIN_WAIT_1, S.FIN_WAIT_2, S.TIME_WAIT]


@pytest.mark.live
def test_close_on_eof_three_segments(run: Run) -> None:
    c = run.result.close_on_eof
    fin, fin_ack, ack = c.closing
    assert (fin.sent_by, fin_ack.sent_by, ack.sent_by) == ("client", "server", "client")
    assert fin_ack.has("FIN", "ACK") and fin_ack.ack == (fin.seq + 1) % 2**32
    assert ack.ack == (fin_ack.seq + 1) % 2**32
    assert moments(c)[3] == ("FIN, ACK arrived at server; server calls close()",
                             S.FIN_WAIT_1, S.LAST_ACK)
    assert S.FIN_WAIT_2 not in c.path("client")  # RFC 9293 Figure 5, note 2
    assert [t.rule.event for t in c.timeline().transitions if t.host == "client"][-1] \
        is Event.RCV_FIN_ACK_OF_FIN


@pytest.mark.live
def test_simultaneous_close_crosses(run: Run) -> None:
    c = run.result.simultaneous
    assert moments(c) == SIMULTANEOUS
    fin_c, fin_s = c.fin("client"), c.fin("server")
    assert fin_c.received_ns is not None and fin_s.received_ns is not None
    assert fin_c.sent_ns is not None and fin_s.sent_ns is not None
    assert fin_s.sent_ns < fin_c.received_ns and fin_c.sent_ns < fin_s.received_ns
    conn = c.connection
    assert fin_s.ack == (fin_c.seq) % 2**32  # the server's FIN does not acknowledge the client's
    assert [conn.relative_ack(s) for s in c.closing] == [1, 1, 2, 2]


@pytest.mark.live
def test_lost_ack(run: Run) -> None:
    la = run.result.lost_ack
    first, again = la.fins
    assert first.seq == again.seq and first.ack == again.ack
    assert la.dropped.has("ACK") and la.dropped.ack == (first.seq + 1) % 2**32
    assert la.dropped.received_ns is None and la.dropped.sent_by == "client"
    answer = next(s for s in la.segments if s.number > again.number)
    assert answer.sent_by == "client" and answer.ack == la.dropped.ack
    assert answer.received_by == "server"
    assert [(s.client, s.server) for s in la.snapshots[-3:]] == [
        (S.TIME_WAIT, S.LAST_ACK), (S.TIME_WAIT, S.LAST_ACK), (S.TIME_WAIT, S.CLOSED)]
    assert str(la.snapshots[-2].moment) == "FIN, ACK arrived at client again"
    assert 0.15 < la.retransmission_delay < 1.5  # RTO, at least 200 ms on Linux
    assert la.timer_before.kind == la.timer_after.kind == 3
    assert la.timer_after.ticks - la.timer_before.ticks >= 10  # restarted: RFC 9293 §3.10.7.4


@pytest.mark.live
def test_close_wait_sockets(run: Run) -> None:
    cw = run.result.close_wait
    states = [(e.remote[1], e.state, t.kind) for e, t in cw.server_sockets]
    assert states == [(0, S.LISTEN, 0)] + [(p, S.CLOSE_WAIT, 0) for p in CLOSE_WAIT_PORTS]
    assert [(e.local[1], e.state, t.kind) for e, t in cw.client_sockets] == [
        (p, S.FIN_WAIT_2, 3) for p in CLOSE_WAIT_PORTS]
    assert cw.fin_timeout == 60
    lines = str(cw.sockets_grid()).splitlines()
    assert lines[0].split() == ["local", "remote", "state", "timer", "left", "(s)"]
    assert lines[2].split()[3:] == ["CLOSE_WAIT", "off", "-"]
    assert len(lines) == 1 + 4 + 3
    # The server's kernel acknowledged the FIN after a delay: nothing else came from it.
    assert [s.flags_text for s in cw.closing] == ["FIN, ACK", "ACK"]


@pytest.mark.live
def test_resets(run: Run) -> None:
    for a in (run.result.abort, run.result.unread):
        (rst,) = a.closing
        assert rst.has("RST") and rst.sent_by == "client" and rst.received_by == "server"
        assert isinstance(a.error, ConnectionResetError) and a.error.errno == errno.ECONNRESET
        assert a.server_fd_state is S.CLOSED
        assert moments(a)[-1][1:] == (S.CLOSED, S.CLOSED)
    # With unread data, the RST acknowledges the data the application never read.
    conn = run.result.unread.connection
    assert conn.relative_ack(run.result.unread.closing[0]) == 19
    assert moments(run.result.abort)[1] == (
        "client sets SO_LINGER to {on, 0 s}; client calls close()", S.CLOSED, S.ESTABLISHED)


@pytest.mark.live
def test_restarts(run: Run) -> None:
    rows = [(r.port, r.old_reuseaddr, r.new_reuseaddr, r.old_state, r.error)
            for r in run.result.restarts]
    assert rows == [(8081, False, False, S.TIME_WAIT, "EADDRINUSE"),
                    (8081, False, True, S.TIME_WAIT, "EADDRINUSE"),
                    (8082, True, False, S.TIME_WAIT, "EADDRINUSE"),
                    (8082, True, True, S.TIME_WAIT, None)]
    assert str(run.result.restart_grid()).splitlines()[-1].split() == [
        "yes", "yes", "TIME_WAIT", "succeeds"]


@pytest.mark.live
def test_runs_in_a_few_seconds(run: Run) -> None:
    assert run.result.duration < 5


# ---------------------------------------------------------------------------------------
# TIME_WAIT's timer: /proc/net/tcp against ss, which asks over netlink


@pytest.mark.live
def test_time_wait_timer_unit(run: Run) -> None:
    t = run.result.orderly.time_wait
    assert os.sysconf("SC_CLK_TCK") == 100  # USER_HZ: not the kernel's HZ (often 250 or 1000)
    assert t.kind == 3 and t.name == "timewait"
    assert 5900 < t.ticks <= 6000 and 59.0 < t.seconds <= 60.0


@pytest.mark.live
@pytest.mark.oracle
def test_time_wait_timer_matches_ss(run: Run) -> None:
    require_program("ss")
    line = run.result.orderly.ss
    assert line is not None
    m = re.fullmatch(r"TIME-WAIT 0 0 192\.0\.2\.1:40000 192\.0\.2\.2:8080 "
                     r"timer:\(timewait,(\d+)sec,0\)", line)
    assert m, line
    assert abs(int(m[1]) - run.result.orderly.time_wait.seconds) <= 1


# ---------------------------------------------------------------------------------------
# The timeline: every change checked against RFC 9293


@pytest.mark.live
def test_orderly_timeline(run: Run) -> None:
    tl = run.result.orderly.timeline()
    assert [(t.host, t.rule.state, t.rule.event, t.rule.next) for t in tl.transitions] == [
        ("client", S.CLOSED, Event.ACTIVE_OPEN, S.SYN_SENT),
        ("server", S.LISTEN, Event.RCV_SYN, S.SYN_RECV),
        ("client", S.SYN_SENT, Event.RCV_SYN_ACK, S.ESTABLISHED),
        ("server", S.SYN_RECV, Event.RCV_ACK_OF_SYN, S.ESTABLISHED),
        ("client", S.ESTABLISHED, Event.CLOSE, S.FIN_WAIT_1),
        ("server", S.ESTABLISHED, Event.RCV_FIN, S.CLOSE_WAIT),
        ("client", S.FIN_WAIT_1, Event.RCV_ACK_OF_FIN, S.FIN_WAIT_2),
        ("server", S.CLOSE_WAIT, Event.CLOSE, S.LAST_ACK),
        ("client", S.FIN_WAIT_2, Event.RCV_FIN, S.TIME_WAIT),
        ("server", S.LAST_ACK, Event.RCV_ACK_OF_FIN, S.CLOSED),
    ]
    segments = [t.segment for t in tl.transitions if t.segment is not None]
    conn = run.result.orderly.segments
    assert segments == [*conn[:3], *conn[-4:]]  # the handshake and the teardown
    assert tl.path("client") == run.result.orderly.path("client")
    assert tl.path("server") == run.result.orderly.path("server")
    lines = str(timeline_grid(tl)).splitlines()
    assert lines[0].split() == ["time", "(ms)", "event", "client", "server", "RFC", "9293",
                                "rule"]
    assert lines[1].split() == ["before", "the", "first", "segment", "CLOSED", "LISTEN"]
    assert lines[-1].endswith("server: rcv ACK of FIN / delete TCB")


@pytest.mark.live
def test_every_connection_follows_the_rfc(run: Run) -> None:
    for close in run.result.closes:
        tl = close.timeline()
        for host in ("client", "server"):
            # Every state seen in a snapshot is on the checked path, in the same order (the
            # path can hold more: two changes between two snapshots, as on close on EOF).
            path = iter(tl.path(host))
            assert all(state in path for state in close.path(host)), (close.name, host)
            assert tl.path(host)[-1] is close.path(host)[-1]
    eof = run.result.close_on_eof.timeline()
    assert eof.path("server") == [S.ESTABLISHED, S.CLOSE_WAIT, S.LAST_ACK, S.CLOSED]
    seen = run.result.rules_seen()
    assert {(r.state, r.event) for r in seen} >= {
        (S.FIN_WAIT_1, Event.RCV_FIN), (S.CLOSING, Event.RCV_ACK_OF_FIN),
        (S.FIN_WAIT_1, Event.RCV_FIN_ACK_OF_FIN), (S.ESTABLISHED, Event.ABORT),
        (S.ESTABLISHED, Event.RCV_RST)}
    assert not any(r.event is Event.TIMEOUT for r in seen)  # nobody waited 60 s


@pytest.mark.live
def test_timeline_refuses_a_state_the_rfc_does_not_lead_to(run: Run) -> None:
    o = run.result.orderly
    snaps = list(o.snapshots)
    snaps[8] = dataclasses.replace(snaps[8], client=S.CLOSING)  # instead of FIN_WAIT_2
    bad = dataclasses.replace(o, snapshots=tuple(snaps))
    with pytest.raises(UnexpectedTransition, match="leads to FIN_WAIT_2"):
        bad.timeline()


@pytest.mark.live
def test_timeline_refuses_a_change_without_its_event(run: Run) -> None:
    o = run.result.orderly
    calls = tuple(c for c in o.calls if c.host != "server")  # forget the server's close()
    with pytest.raises(UnexpectedTransition, match="CLOSE_WAIT to LAST_ACK"):
        dataclasses.replace(o, calls=calls).timeline()
    wrong = tuple(dataclasses.replace(c, event=Event.TIMEOUT) if c.host == "server" else c
                  for c in o.calls)
    with pytest.raises(UnexpectedTransition, match="no transition from CLOSE-WAIT on "
                                                   "Timeout=2MSL"):
        dataclasses.replace(o, calls=wrong).timeline()


@pytest.mark.live
def test_rules_grid_marks_what_was_seen(run: Run) -> None:
    lines = str(run.result.rules_grid()).splitlines()
    assert lines[0].split() == ["state", "event", "/", "action", "next", "state", "where",
                                "seen", "here"]
    timeout = next(line for line in lines if "Timeout=2MSL" in line)
    assert not timeout.rstrip().endswith("✓")
    assert next(line for line in lines if line.startswith("CLOSING")).endswith("✓")
    assert any("§3.10.5" in line and line.endswith("✓") for line in lines)  # ABORT
    figure = [r for r in RULES if r.source.startswith("§3.3.2")]
    assert len(str(rules_grid()).splitlines()) == 1 + len(figure)


# ---------------------------------------------------------------------------------------
# Views


@pytest.mark.live
def test_ladders(run: Run) -> None:
    ns = "{http://www.w3.org/2000/svg}"
    o = ET.fromstring(run.result.orderly.ladder().svg())
    assert o.findtext(f"{ns}title") == ("Orderly close: the passive side closes later "
                                        "(four segments)")
    labels = [(g.findtext(f"{ns}title") or "").split(" — ")[0] for g in o.iter(f"{ns}g")
              if g.get("class") == "state"]
    assert labels[-6:] == ["client: FIN_WAIT_1", "server: CLOSE_WAIT", "client: FIN_WAIT_2",
                           "server: LAST_ACK", "client: TIME_WAIT", "server: CLOSED"]
    lost = ET.fromstring(run.result.lost_ack.ladder().svg())
    crosses = [g for g in lost.iter(f"{ns}g") if g.get("class") == "segment"
               and g.find(f"{ns}path") is not None]
    assert len(crosses) == 1  # the ACK the wire dropped


@pytest.mark.live
def test_chinese_labels(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    table = str(run.result.close_on_eof.snapshot_table()).splitlines()
    assert table[0].split() == ["时刻", "客户端", "服务器"]
    assert table[4].startswith("FIN, ACK 到达服务器；服务器调用 close()")
    lost = str(run.result.lost_ack.snapshot_table())
    assert "FIN, ACK 再次到达客户端" in lost and "线路把客户端的 ACK 丢掉了" in lost
    assert str(run.result.restart_grid()).splitlines()[-1].split()[-1] == "成功"
    timeline = str(run.result.orderly.timeline_table())
    assert "客户端：connect()" in timeline and "服务器：rcv SYN / snd SYN,ACK" in timeline
    assert "乱" not in str(run.result.close_wait.sockets_grid())


@pytest.mark.live
def test_report(run: Run) -> None:
    report = run.result.report()
    assert report.startswith("Closing TCP connections (client 192.0.2.1 → server "
                             "192.0.2.2:8080)")
    assert report.count("✓") == TEARDOWN_FACTS and "✗" not in report
    for c in run.result.closes:
        assert f"\n\n{c.title} (client port {c.client_port})\n\n" in report
    assert str(run.result.orderly.timeline_table()) in report


@pytest.mark.live
def test_pcap_download(run: Run) -> None:
    d = run.result.pcap_download()
    assert d.filename == "teardown.pcap"
    assert d.data[:4] in (bytes.fromhex("4d3cb2a1"), bytes.fromhex("a1b23c4d"))
    assert len(run.result.trace.connections()) == 10


# ---------------------------------------------------------------------------------------
# tshark, the oracle


@pytest.mark.oracle
@pytest.mark.live
@pytest.mark.parametrize("name", ["orderly", "half_close", "close_on_eof", "simultaneous",
                                  "lost_ack", "close_wait", "abort", "unread"])
def test_decoding_matches_tshark(run: Run, tshark: str, name: str) -> None:
    pcap = run.pcaps[name]
    count = assert_relative_numbers_match_tshark(tshark, pcap)
    ours = Trace.from_frames([read_pcap(pcap)]).segments
    assert count == len(ours)
    rows = tshark_rows(tshark, pcap)
    assert [int(r["tcp.flags"], 16) for r in rows] == [s.flags for s in ours]
    assert [int(r["tcp.len"]) for r in rows] == [s.length for s in ours]


@pytest.mark.oracle
@pytest.mark.live
def test_tshark_sees_the_fin_retransmitted(run: Run, tshark: str) -> None:
    done = subprocess.run([tshark, "-n", "-r", str(run.pcaps["lost_ack"]), "-Y",
                           "tcp.analysis.retransmission", "-T", "fields", "-e", "frame.number",
                           "-e", "tcp.flags.str"], capture_output=True, text=True, check=True)
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    ours = Trace.from_frames([read_pcap(run.pcaps["lost_ack"])]).segments
    again = run.result.lost_ack.fins[1]
    position = next(i for i, s in enumerate(ours, 1) if s.seq == again.seq and s.has("FIN")
                    and s.frame == again.frame)
    assert len(rows) == 1 and int(rows[0][0]) == position and "F" in rows[0][1]


# ---------------------------------------------------------------------------------------
# As a reader runs it


@pytest.mark.live
def test_cli(processes: Processes, tshark: str) -> None:
    done = processes.result("cli")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    assert done.stdout.count("✓") == TEARDOWN_FACTS and "✗" not in done.stdout
    assert done.stdout.rstrip().endswith(f"capture saved to {processes.cli_pcap} (open it with "
                                         "Wireshark or tshark -r)")
    rows = tshark_rows(tshark, processes.cli_pcap)
    ports = {int(r["tcp.srcport"]) for r in rows} | {int(r["tcp.dstport"]) for r in rows}
    assert ports == {8080, *range(40000, 40010)}
    assert len({r["tcp.stream"] for r in rows}) == 10


@pytest.mark.live
def test_snippet(processes: Processes) -> None:
    done = processes.result("snippet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    assert done.stdout.count("✓") == TEARDOWN_FACTS and "✗" not in done.stdout
    assert done.stdout.rstrip().endswith(saved(processes.snippet_pcap))
    assert len(Trace.from_frames([read_pcap(processes.snippet_pcap)]).connections()) == 10


def test_registered() -> None:
    assert EXPERIMENTS["teardown"].run is teardown


def test_snippet_unprivileged() -> None:
    done = finish(start_python(str(REPO / "snippets" / "tcp_teardown.py"), demote=True))
    assert done.returncode == 77, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert "sudo " in done.stderr and "CAP_NET_ADMIN" in done.stderr
