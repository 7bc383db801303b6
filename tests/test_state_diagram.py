"""netlab.views.state_diagram: RFC 9293's Figure 5 from the rules table, with a run's steps."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from netlab.model.moments import Moment, StatesAt
from netlab.model.tcp_states import RULES, Event, TcpState, rule
from netlab.views.state_diagram import StateDiagram

SVG = "{http://www.w3.org/2000/svg}"
S = TcpState


def _states(*pairs: tuple[TcpState, TcpState]) -> list[StatesAt]:
    return [StatesAt(moment=Moment.of(f"step {i}"), client=c, server=s, timestamp_ns=10 * i)
            for i, (c, s) in enumerate(pairs)]


def handshake() -> StateDiagram:
    return StateDiagram.from_states(_states(
        (S.CLOSED, S.LISTEN), (S.SYN_SENT, S.LISTEN), (S.SYN_SENT, S.NEW_SYN_RECV),
        (S.ESTABLISHED, S.NEW_SYN_RECV), (S.ESTABLISHED, S.ESTABLISHED)))


def test_every_arrow_of_the_figure_is_a_rule_of_the_table() -> None:
    root = ET.fromstring(StateDiagram().svg())
    lines = [e for e in root.iter(f"{SVG}line") if "netlab-rule" in (e.get("class") or "")]
    figure = [r for r in RULES if r.source.startswith("§3.3.2")]
    assert len(lines) == len(figure) == 21
    assert [line.findtext(f"{SVG}title") for line in lines] == [
        f"{r.state.name} → {r.next.name}: {r.label} ({r.source})" for r in figure]
    states = {g.get("data-state") for g in root.iter(f"{SVG}g")
              if g.get("class") == "netlab-state"}
    assert states == {s.name for s in S} - {"NEW_SYN_RECV"}


def test_the_runs_steps_are_numbered_in_order() -> None:
    d = handshake()
    assert [(side, r.state, r.next) for side, r in d.steps] == [
        ("client", S.CLOSED, S.SYN_SENT), ("server", S.LISTEN, S.SYN_RECV),
        ("client", S.SYN_SENT, S.ESTABLISHED), ("server", S.SYN_RECV, S.ESTABLISHED)]
    root = ET.fromstring(d.svg())
    steps = [g.get("data-step", "") for g in root.iter(f"{SVG}g")
             if g.get("class") == "netlab-step"]
    assert sorted(steps, key=int) == ["1", "2", "3", "4"]
    used = [e for e in root.iter(f"{SVG}line") if "netlab-used" in (e.get("class") or "")]
    assert len(used) == 4
    assert d.describe().endswith("; 4. server: SYN_RECV to ESTABLISHED on rcv ACK of SYN.")


def test_a_rule_outside_the_figure_is_drawn_when_the_run_took_it() -> None:
    abort = rule(S.ESTABLISHED, Event.ABORT)
    d = StateDiagram([("client", abort)])
    assert abort in d.rules() and len(d.rules()) == 22
    assert abort not in StateDiagram().rules()


def test_a_change_the_rfc_does_not_allow_is_refused() -> None:
    with pytest.raises(ValueError, match="no arrow from LISTEN to TIME-WAIT"):
        StateDiagram.from_states(_states((S.CLOSED, S.LISTEN), (S.CLOSED, S.TIME_WAIT)))


def test_labels_and_numbers_do_not_overlap() -> None:
    """The boxes behind the arrows' labels, the states' boxes and the numbers' circles."""
    root = ET.fromstring(handshake().svg())
    boxes = []
    for r in root.iter(f"{SVG}rect"):
        x, y = float(r.get("x", "0")), float(r.get("y", "0"))
        boxes.append((x, y, x + float(r.get("width", "0")), y + float(r.get("height", "0"))))
    for c in root.iter(f"{SVG}circle"):
        x, y, radius = (float(c.get(k, "0")) for k in ("cx", "cy", "r"))
        boxes.append((x - radius, y - radius, x + radius, y + radius))
    assert len(boxes) == 12 + 21 + 4
    clash = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
             if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
    assert clash == []


def test_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    d = handshake()
    assert d.title == "TCP 状态图（RFC 9293 图 5）"
    assert d.describe().startswith("RFC 9293 的 TCP 状态图：11 个状态")
    assert "；2. 服务器：LISTEN → SYN_RECV，rcv SYN / snd SYN,ACK；" in d.describe()
    assert ("<li>服务器：<code>LISTEN</code> → <code>SYN_RECV</code> (rcv SYN / snd SYN,ACK)</li>"
            in d._repr_html_())
    legend = ET.fromstring(d.svg()).find(f"{SVG}g[@class='netlab-legend']")
    assert legend is not None
    assert [t.text for t in legend.iter(f"{SVG}text")] == [
        "图例", "带编号：本次运行中客户端的状态转换", "带编号：本次运行中服务器的状态转换",
        "本次运行没有走过的箭头"]
