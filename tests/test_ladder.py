"""netlab.views.ladder: the SVG ladder diagram, parsed as XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from support import fixture_trace

from netlab.model.moments import Moment, StatesAt
from netlab.model.tcp_states import TcpState
from netlab.views.ladder import LANE_X, Ladder

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
    assert figure.findtext("figcaption") == "a & b"
    svg = figure.find(f"{SVG}svg")
    assert svg is not None and svg.get("class") == "netlab-ladder"
