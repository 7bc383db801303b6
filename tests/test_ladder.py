"""netlab.views.ladder: the SVG ladder diagram, parsed as XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from support import fixture_trace

from netlab.analysis.dissect import FLAG_BITS, Segment
from netlab.analysis.trace import Trace
from netlab.model.moments import Moment, StatesAt
from netlab.model.tcp_states import TcpState
from netlab.views.ladder import LANE_X, RTT_PX, Ladder, Scale

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises if the SVG is not well-formed XML
    assert root.tag == f"{SVG}svg"
    return root


def _segments(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "segment"]


def test_one_group_per_segment_with_title_and_desc() -> None:
    trace = fixture_trace()
    root = _parse(Ladder(trace, title="All <three> connections").svg())
    groups = _segments(root)
    assert [g.get("data-segment") for g in groups] == [str(s.number) for s in trace.segments]
    for g, seg in zip(groups, trace.segments, strict=True):
        tip = g.find(f"{SVG}title")
        assert tip is not None and tip.text is not None
        assert tip.text.startswith(f"#{seg.number} ")
        assert f"[{seg.flags_text}]" in tip.text and f"raw seq={seg.seq}" in tip.text
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert title.text == "All <three> connections"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert root.get("role") == "img"


def test_description_in_words() -> None:
    trace = fixture_trace()
    ladder = Ladder(trace.only(trace.connection(port=40000)))
    assert ladder.describe() == ("client to server: SYN seq=0; "
                                 "server to client: SYN, ACK seq=0 ack=1; "
                                 "client to server: ACK seq=1 ack=1.")
    desc = _parse(ladder.svg()).find(f"{SVG}desc")
    assert desc is not None and desc.text == ladder.describe()


def test_arrows_go_from_sender_to_receiver_and_down() -> None:
    trace = fixture_trace()
    root = _parse(Ladder(trace).svg())
    for g, seg in zip(_segments(root), trace.segments, strict=True):
        line = g.find(f"{SVG}line")
        assert line is not None
        x1, y1, x2, y2 = (float(line.get(k, "nan")) for k in ("x1", "y1", "x2", "y2"))
        assert x1 == (LANE_X[0] if seg.src == "192.0.2.1" else LANE_X[1])
        assert (x2 > x1) == (seg.src == "192.0.2.1")
        assert y2 > y1  # time runs down the page


def test_lost_segments_end_in_a_cross() -> None:
    """The server was captured but never saw the last two SYNs: they are drawn lost."""
    trace = fixture_trace()
    root = _parse(Ladder(trace).svg())
    lost = [g.find(f"{SVG}path") is not None for g in _segments(root)]
    heads = [g.find(f"{SVG}polygon") is not None for g in _segments(root)]
    assert lost == [s.received_ns is None for s in trace.segments] == [False] * 5 + [True] * 2
    assert heads == [not x for x in lost]
    # With only the client's capture nothing can be called lost: the receiver was not watched.
    client_only = _parse(Ladder(fixture_trace("client")).svg())
    assert all(g.find(f"{SVG}path") is None for g in _segments(client_only))


@pytest.mark.parametrize("scale", ["order", "time"])
def test_a_lost_segment_ends_at_the_hop_that_dropped_it(scale: Scale) -> None:
    """Told what drops segments between the lanes, the figure draws it there, and the two
    lost SYNs end on it, with their cross."""
    ladder = Ladder(fixture_trace(), dropped_by="the wire")
    ladder = ladder.timed() if scale == "time" else ladder
    root = _parse(ladder.svg())
    middle = (LANE_X[0] + LANE_X[1]) / 2
    hops = [g for g in root.iter(f"{SVG}g") if g.get("class") == "netlab-hop"]
    assert [g.findtext(f"{SVG}text") for g in hops] == ["the wire"]
    hop_line = hops[0].find(f"{SVG}line")
    assert hop_line is not None and float(hop_line.get("x1", "0")) == middle
    ends = []
    for g in _segments(root):
        line = g.find(f"{SVG}line")
        assert line is not None
        ends.append((float(line.get("x2", "0")), g.find(f"{SVG}path") is not None))
    assert ends[5:] == [(middle, True)] * 2
    assert all(x in LANE_X for x, _ in ends[:5])
    legend = root.find(f"{SVG}g[@class='netlab-legend']")
    assert legend is not None
    assert "dropped by the wire" in [t.text for t in legend.iter(f"{SVG}text")]
    # no label's box covers a cross
    crosses = [(x, float(g.find(f"{SVG}line").get("y2", "0")))  # type: ignore[union-attr]
               for g, (x, lost) in zip(_segments(root), ends, strict=True) if lost]
    for r in root.iter(f"{SVG}rect"):
        if r.get("class") == "netlab-bg" and r.get("fill-opacity") == "0.85":
            x, y = float(r.get("x", "0")), float(r.get("y", "0"))
            w, h = float(r.get("width", "0")), float(r.get("height", "0"))
            assert not [c for c in crosses if x < c[0] < x + w and y < c[1] < y + h]
    # without being told, no hop is drawn and the arrow stops short, not half way
    plain = _parse(Ladder(fixture_trace()).svg())
    assert not [g for g in plain.iter(f"{SVG}g") if g.get("class") == "netlab-hop"]


def test_a_segment_a_middle_host_never_sent_on_ends_at_its_lane() -> None:
    """A firewall captured on the path received the first SYN and never forwarded it."""
    trace = fixture_trace()
    one = trace.only(trace.connection(port=40000))
    syn, *rest = one.segments
    dropped = replace(syn, received_by="firewall:eth0")
    ladder = Ladder(Trace((dropped, *rest), one.names, one.frames))
    assert ladder.lanes == ("client", "firewall", "server")
    root = _parse(ladder.svg())
    groups = _segments(root)
    line = groups[0].find(f"{SVG}line")
    assert line is not None
    assert float(line.get("x2", "0")) == (LANE_X[0] + LANE_X[1]) / 2  # the firewall's lane
    assert groups[0].find(f"{SVG}path") is not None  # the cross
    assert [g.find(f"{SVG}path") is None for g in groups[1:]] == [True, True]
    # forwarded on (the firewall sent the same segment again), it is not lost
    forwarded = replace(syn, sent_by="firewall:eth1", sent_ns=(syn.received_ns or 0) + 1,
                        received_by="server", number=99)
    ok = _parse(Ladder(Trace((dropped, forwarded, *rest), one.names, one.frames)).svg())
    assert all(g.find(f"{SVG}path") is None for g in _segments(ok))


def test_state_labels_sit_between_the_segments() -> None:
    trace = fixture_trace()
    one = trace.only(trace.connection(port=40000))
    syn, synack, ack = one.segments
    assert syn.received_ns is not None and synack.received_ns is not None
    S = TcpState

    def at(moment: str, client: TcpState, server: TcpState, t: int) -> StatesAt:
        return StatesAt(moment=Moment.of(moment), client=client, server=server, timestamp_ns=t)

    states = [
        at("socket() and bind() done", S.CLOSED, S.LISTEN, syn.time_ns - 10),
        at("SYN on the wire", S.SYN_SENT, S.LISTEN, syn.time_ns + 1),
        at("SYN-ACK on the wire", S.SYN_SENT, S.SYN_RECV, synack.time_ns + 1),
        at("SYN-ACK on the wire", S.SYN_SENT, S.SYN_RECV, synack.time_ns + 2),
        at("ACK on the wire", S.ESTABLISHED, S.SYN_RECV, ack.time_ns + 1),
    ]
    root = _parse(Ladder(one, states=states).svg())
    labels = [g for g in root.iter(f"{SVG}g") if g.get("class") == "state"]
    texts = [(g.findtext(f"{SVG}title"), g.findtext(f"{SVG}text")) for g in labels]
    # a label only where a host's state changes (the repeated SYN_RECV is not drawn again)
    assert [t for _, t in texts] == ["CLOSED", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED"]
    assert texts[3][0] == "server: SYN_RECV — SYN-ACK on the wire"  # the moment, in words
    rects = {t: g.find(f"{SVG}rect") for (_, t), g in zip(texts, labels, strict=True)}
    lines = [g.find(f"{SVG}line") for g in _segments(root)]
    y_syn_start = float(lines[0].get("y1", "nan"))  # type: ignore[union-attr]
    y_closed = float(rects["CLOSED"].get("y", "nan")) + 11  # type: ignore[union-attr]
    y_est = float(rects["ESTABLISHED"].get("y", "nan")) + 11  # type: ignore[union-attr]
    y_ack_start = float(lines[2].get("y1", "nan"))  # type: ignore[union-attr]
    assert y_closed < y_syn_start < y_ack_start < y_est
    # the SYN_SENT label is on the client's lane, SYN_RECV on the server's
    assert float(rects["SYN_SENT"].get("x", "nan")) < LANE_X[0]  # type: ignore[union-attr]
    assert float(rects["SYN_RECV"].get("x", "nan")) > LANE_X[0]  # type: ignore[union-attr]


def test_ids_are_unique_per_diagram() -> None:
    trace = fixture_trace()
    a, b = _parse(Ladder(trace).svg()), _parse(Ladder(trace).svg())
    ids_a = {e.get("id") for e in a.iter() if e.get("id")}
    ids_b = {e.get("id") for e in b.iter() if e.get("id")}
    assert ids_a and ids_b and not ids_a & ids_b


def test_html_figure() -> None:
    trace = fixture_trace()
    ladder = Ladder(trace, title="a & b")
    view = ET.fromstring(ladder._repr_html_())
    figure = view.find("figure")
    assert view.tag == "div" and figure is not None
    caption = figure.find("figcaption")
    assert caption is not None and caption.text is not None
    assert caption.text.strip() == "a & b"
    assert "not to time scale" in (caption.findtext("span") or "")
    svg = figure.find(f"div/{SVG}svg")
    assert svg is not None and svg.get("class") == "netlab-ladder"


# -- time scale, phases, round trips, labels that do not overlap ------------------------------

A, B = "192.0.2.1", "192.0.2.2"
MS = 1_000_000


def _seg(n: int, flags: str, sent: int, received: int | None, *, back: bool = False,
         seq: int = 0, ack: int = 0, payload: bytes = b"") -> Segment:
    bits = {name: bit for name, bit in FLAG_BITS}
    src, dst, sport, dport = (B, A, 80, 40000) if back else (A, B, 40000, 80)
    return Segment(number=n, src=src, sport=sport, dst=dst, dport=dport,
                   flags=sum(bits[f] for f in flags.split(",") if f), seq=seq, ack=ack,
                   window=65535, options=(), payload=payload, sent_ns=sent, received_ns=received,
                   frame=b"", sent_by="server" if back else "client",
                   received_by=None if received is None else ("client" if back else "server"))


def http_trace() -> Trace:
    """One HTTP request over a 50 ms round trip, a delayed ACK, then a crowded close: the
    server's FIN crosses the client's, so their labels would meet at one point."""
    req, resp = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\nhello"
    segs = [
        _seg(1, "SYN", 0, 25 * MS, seq=100),
        _seg(2, "SYN,ACK", 25 * MS, 50 * MS, back=True, seq=900, ack=101),
        _seg(3, "ACK", 50 * MS, 75 * MS, seq=101, ack=901),
        _seg(4, "PSH,ACK", 50 * MS + 10_000, 75 * MS + 10_000, seq=101, ack=901, payload=req),
        _seg(5, "PSH,ACK", 76 * MS, 101 * MS, back=True, seq=901, ack=101 + len(req),
             payload=resp),
        _seg(6, "ACK", 141 * MS, 166 * MS, seq=101 + len(req), ack=901 + len(resp)),  # delayed
        _seg(7, "FIN,ACK", 1400 * MS, 1425 * MS, seq=101 + len(req), ack=901 + len(resp)),
        _seg(8, "FIN,ACK", 1400 * MS + 5000, 1425 * MS + 5000, back=True,
             seq=901 + len(resp), ack=101 + len(req)),
        _seg(9, "ACK", 1425 * MS + 20_000, 1450 * MS, seq=102 + len(req), ack=902 + len(resp)),
        _seg(10, "ACK", 1425 * MS + 30_000, 1450 * MS + 10_000, back=True,
             seq=902 + len(resp), ack=102 + len(req)),
    ]
    return Trace(tuple(segs), {A: "client", B: "server"}, {"client": (), "server": ()})


def _boxes(root: ET.Element, cls: str) -> list[tuple[float, float, float, float]]:
    out = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == cls:
            r = g.find(f"{SVG}rect")
            assert r is not None
            x, y = float(r.get("x", "nan")), float(r.get("y", "nan"))
            out.append((x, y, x + float(r.get("width", "nan")), y + float(r.get("height", "nan"))))
    return out


def _overlapping(boxes: list[tuple[float, float, float, float]]) -> list[tuple[int, int]]:
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes) if i < j
            and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]


def test_phases_and_round_trips_come_from_the_trace() -> None:
    ladder = Ladder(http_trace())
    assert [(p.kind, p.segments) for p in ladder.phases()] == [
        ("tcp", (1, 2, 3)), ("http", (4, 5, 6)), ("close", (7, 8, 9, 10))]
    assert [(r.out.number, r.back.number, r.ns) for r in ladder.round_trips()] == [
        (1, 2, 50 * MS), (4, 5, 101 * MS - 50 * MS - 10_000)]
    assert ladder.title == "TCP handshake, HTTP exchange, teardown between client and server"
    assert ladder.rtt_ns() == 50 * MS


def test_bytes_of_no_known_protocol_are_a_data_phase() -> None:
    segs = list(http_trace().segments)
    segs[3] = replace(segs[3], payload=b"hello")  # not an HTTP request: plain data
    segs[4] = replace(segs[4], payload=b"world")
    trace = Trace(tuple(segs), {A: "client", B: "server"}, {"client": (), "server": ()})
    assert [p.kind for p in Ladder(trace).phases()] == ["tcp", "data", "close"]


def test_time_scale_is_proportional_and_shortens_long_gaps() -> None:
    ladder = Ladder(http_trace(), scale="time")
    root = _parse(ladder.svg())
    assert root.get("data-scale") == "time"
    lines = {int(g.get("data-segment", "0")): g.find(f"{SVG}line") for g in _segments(root)}
    y = {n: float(line.get("y1", "nan")) for n, line in lines.items() if line is not None}
    # one round trip (50 ms) is RTT_PX high: SYN at 0 ms, the request at 50.01 ms (times a
    # hair apart, like the ACK and the request, are kept 3 px apart so both arrows show)
    assert abs((y[4] - y[1]) - RTT_PX) <= 3.5
    # the 41 ms delayed ACK is drawn to scale: later than the response by 123 px
    assert abs((y[6] - y[5]) - RTT_PX * 65 / 50) < 1
    # the 1.2 s of silence before the close is shortened, and says how long it was
    gaps = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "netlab-gap"]
    assert gaps == ["idle 1.23 s"]
    assert y[7] - y[6] < RTT_PX * 1234 / 50 / 4
    assert "Drawn to time scale" in ladder.mode()
    assert "not to time scale" in Ladder(http_trace()).mode()


@pytest.mark.parametrize("scale", ["order", "time"])
def test_labels_never_overlap(scale: Scale) -> None:
    """Each label block (a rect behind its two lines), kernel state and phase name has a box
    of its own: no two intersect, however crowded the arrows."""
    trace = http_trace()
    states = [StatesAt(moment=Moment.of("connected"), client=TcpState.ESTABLISHED,
                       server=c, timestamp_ns=t)
              for c, t in ((TcpState.SYN_RECV, 50 * MS), (TcpState.ESTABLISHED, 75 * MS))]
    root = _parse(Ladder(trace, states=states, scale=scale).svg())
    boxes = _boxes(root, "netlab-label") + _boxes(root, "state")
    assert len(boxes) == len(trace) + 3
    assert _overlapping(boxes) == []


def test_overlap_check_can_fail() -> None:
    assert _overlapping([(0, 0, 10, 10), (5, 5, 15, 15), (20, 0, 30, 10)]) == [(0, 1)]


def test_legend_names_the_colours_used() -> None:
    root = _parse(Ladder(http_trace()).svg())
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "netlab-legend")
    words = [t.text for t in legend.iter(f"{SVG}text")]
    assert words == ["Legend", "SYN", "FIN", "data", "ACK only", "round trip the client waited for"]


def test_every_word_of_the_figure_is_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    ladder = Ladder(http_trace(), scale="time")
    assert ladder.title == "客户端与服务器之间：TCP 握手、HTTP 请求与响应、连接关闭"
    root = _parse(ladder.svg())
    words = {t.text for g in root.iter(f"{SVG}g")
             if g.get("class") in ("netlab-legend", "netlab-phase", "netlab-rtt")
             for t in g.iter(f"{SVG}text")}
    words |= {t.text for t in root.iter(f"{SVG}text") if t.get("class") == "netlab-gap"}
    english = {w for w in words if w and re.search(r"[a-z]{3,}", w.replace(" ms", ""))}
    assert not english, english
    assert "按时间比例" in ladder.mode()


def test_scale_must_be_known() -> None:
    with pytest.raises(ValueError, match="scale"):
        Ladder(http_trace(), scale="log")  # type: ignore[arg-type]
