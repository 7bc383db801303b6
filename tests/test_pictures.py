"""netlab.views.pictures: the queues, a certificate chain, TLS flows and socket layers."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest

from netlab.proto.tls import CertificateInfo
from netlab.views.pictures import (
    KINDS,
    PALETTES,
    ChainPicture,
    Flow,
    FlowArrow,
    FlowsPicture,
    HostLayers,
    LayersPicture,
    ListenerQueues,
    QueuesPicture,
)
from netlab.views.table import text_width

SVG = "{http://www.w3.org/2000/svg}"
LIGHT, DARK = "#ffffff", "#131416"  # furo's page backgrounds


def _luminance(colour: str) -> float:
    def channel(c: int) -> float:
        x = c / 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    x, y = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (x + 0.05) / (y + 0.05)


def test_contrast_is_the_wcag_ratio() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#e8590c", "#ffffff") == pytest.approx(3.58, abs=0.01)  # issue 17's number


def queues() -> QueuesPicture:
    return QueuesPicture([
        ListenerQueues(label="tcp_abort_on_overflow = 0", backlog=4, syn_queue=2,
                       accept_queue=5, overflow=("2 ACKs ignored", "ListenOverflows +6")),
        ListenerQueues(label="tcp_abort_on_overflow = 1", backlog=4, syn_queue=0,
                       accept_queue=5, overflow=("2 ACKs answered with RST",))])


def _cert(subject: str, issuer: str, ca: bool, names: tuple[str, ...] = ()) -> CertificateInfo:
    return CertificateInfo(subject=subject, issuer=issuer, names=names,
                           not_before=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
                           not_after=datetime.datetime(2027, 3, 1, tzinfo=datetime.UTC),
                           key="ECDSA P-256", is_ca=ca, der=b"")


LEAF = _cert("CN=server.netlab.test", "OU=intermediate CA", False, ("server.netlab.test",))
INTER = _cert("OU=intermediate CA", "OU=root CA", True)
ROOT = _cert("OU=root CA", "OU=root CA", True)


def chain() -> ChainPicture:
    return ChainPicture([LEAF, INTER, ROOT], sent=2)


MS = 1_000_000


def flows() -> FlowsPicture:
    def arrows(*items: tuple[bool, int, tuple[str, ...], str]) -> tuple[FlowArrow, ...]:
        return tuple(FlowArrow(from_client=c, at_ns=t * MS, words=w, kind=k)
                     for c, t, w, k in items)
    tls12 = Flow(name="TLS 1.2", round_trips=4, arrows=arrows(
        (True, 0, ("SYN",), "tcp"), (False, 50, ("SYN, ACK",), "tcp"), (True, 50, ("ACK",), "tcp"),
        (True, 51, ("ClientHello",), "clear"),
        (False, 101, ("ServerHello", "Certificate", "ServerKeyExchange", "ServerHelloDone"),
         "clear"),
        (True, 102, ("ClientKeyExchange", "ChangeCipherSpec", "[Finished]"), "clear"),
        (False, 152, ("NewSessionTicket", "ChangeCipherSpec", "[Finished]"), "clear"),
        (True, 153, ("[HTTP request]",), "data"), (False, 203, ("[HTTP response]",), "data")))
    tls13 = Flow(name="TLS 1.3", round_trips=3, arrows=arrows(
        (True, 0, ("SYN",), "tcp"), (False, 50, ("SYN, ACK",), "tcp"), (True, 50, ("ACK",), "tcp"),
        (True, 51, ("ClientHello",), "clear"),
        (False, 101, ("ServerHello", "ChangeCipherSpec", "[EncryptedExtensions]",
                      "[Certificate]", "[CertificateVerify]", "[Finished]"), "clear"),
        (True, 102, ("ChangeCipherSpec", "[Finished]", "[HTTP request]"), "data"),
        (False, 152, ("[NewSessionTicket]", "[HTTP response]"), "data")))
    return FlowsPicture([tls12, tls13], one_way_ns=25 * MS)


CLIENT_CALLS = ("socket(AF_INET, SOCK_STREAM) = 18", "bind(18, 192.0.2.1:40000)",
                "connect(18, 192.0.2.2:8080)", "close(18)")
SERVER_CALLS = ("socket(AF_INET, SOCK_STREAM) = 17", "listen(17, 8)", "accept(17) = 19",
                "close(19)", "close(17)")


def layers() -> LayersPicture:
    return LayersPicture([
        HostLayers(name="client", calls=CLIENT_CALLS,
                   states=("socket 18: CLOSED → ESTABLISHED → TIME_WAIT",),
                   address="192.0.2.1", interface="eth0"),
        HostLayers(name="server", calls=SERVER_CALLS,
                   states=("listening socket 17: CLOSED → LISTEN",
                           "connected socket 19: ESTABLISHED → CLOSE_WAIT"),
                   address="192.0.2.2", interface="eth0")], frames=11)


ALL = {"queues": queues, "chain": chain, "flows": flows, "layers": layers}


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def _boxes(root: ET.Element) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each word's box, from its position, its size and how wide the font draws it."""
    out = []
    for t in root.iter(f"{SVG}text"):
        words, size = t.text or "", float(t.get("font-size", "12"))
        w = text_width(words, size)
        x, y = float(t.get("x", "0")), float(t.get("y", "0"))
        left = {"start": x, "middle": x - w / 2, "end": x - w}[t.get("text-anchor", "start")]
        out.append((words, (left, y - size * 0.8, left + w, y + size * 0.2)))
    return out


@pytest.mark.parametrize("name", ALL)
def test_words_do_not_overlap_and_stay_inside(name: str) -> None:
    svg = ALL[name]().svg()
    root = ET.fromstring(svg)
    boxes = _boxes(root)
    assert len(boxes) > 5
    clash = [(p, q) for i, (p, a) in enumerate(boxes) for q, b in boxes[i + 1:]
             if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
    assert clash == []
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    outside = [words for words, (x1, y1, x2, y2) in boxes
               if x1 < 0 or y1 < 0 or x2 > width or y2 > height]
    assert outside == []


@pytest.mark.parametrize("name", ALL)
def test_colours_contrast(name: str) -> None:
    """Words in a box against its fill, 4.5:1; words elsewhere follow the page's colour;
    every border and arrow 3:1 against a light and a dark page."""
    root = ET.fromstring(ALL[name]().svg())
    inside = set()
    for g in root.iter(f"{SVG}g"):
        if "netlab-box" in (g.get("class") or "").split():
            rect = g.find(f"{SVG}rect")
            assert rect is not None
            for t in g.iter(f"{SVG}text"):
                inside.add(id(t))
                assert contrast(t.get("fill", ""), rect.get("fill", "")) >= 4.5, t.text
    for t in root.iter(f"{SVG}text"):
        if id(t) not in inside:
            assert t.get("fill") in (None, "currentColor"), t.text
    strokes = {e.get("stroke") for e in root.iter() if e.get("stroke")} - {"currentColor"}
    assert strokes
    for colour in strokes:
        assert colour is not None
        assert min(contrast(colour, LIGHT), contrast(colour, DARK)) >= 3, colour


def test_every_palette_and_kind_keeps_its_contrast() -> None:
    for fill, border, ink in PALETTES.values():
        assert contrast(ink, fill) >= 4.5
        assert min(contrast(border, LIGHT), contrast(border, DARK)) >= 3
    for colour in KINDS.values():
        assert min(contrast(colour, LIGHT), contrast(colour, DARK)) >= 3


@pytest.mark.parametrize("name", ALL)
def test_a_text_alternative(name: str) -> None:
    picture = ALL[name]()
    root = ET.fromstring(picture.svg())
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == picture.title and desc.text == picture.describe()
    page = picture._repr_html_()
    assert 'tabindex="0"' in page and "<figcaption>" in page and 'aria-label="Picture: ' in page


def test_queues_show_the_runs_counts() -> None:
    root = ET.fromstring(queues().svg())
    runs = [g for g in root.iter(f"{SVG}g") if g.get("class") == "netlab-run"]
    assert [(g.get("data-syn"), g.get("data-accept")) for g in runs] == [("2", "5"), ("0", "5")]

    def slots(g: ET.Element, queue: str, kind: str) -> int:
        return sum(1 for r in g.iter(f"{SVG}rect") if r.get("data-queue") == queue
                   and kind in (r.get("class") or ""))
    assert [(slots(g, "syn", "full"), slots(g, "syn", "free"), slots(g, "accept", "full"),
             slots(g, "accept", "free")) for g in runs] == [(2, 2, 5, 0), (0, 4, 5, 0)]
    words = _texts(root)
    assert "SYN queue (SYN_RECV): 2 of 4" in words and "accept queue (Recv-Q): 5 of 5" in words
    assert "2 ACKs answered with RST" in words
    assert queues().describe().startswith(
        "tcp_abort_on_overflow = 0: SYN queue 2 of 4 places, accept queue 5 of 5 places")


def test_the_chain_reads_each_certificate() -> None:
    root = ET.fromstring(chain().svg())
    boxes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "netlab-box"]
    assert [g.get("data-subject") for g in boxes] == [c.subject for c in (LEAF, INTER, ROOT)]
    lines = [[t.text for t in g.iter(f"{SVG}text")] for g in boxes]
    assert lines[0] == ["the server's certificate, sent by the server",
                        "subject: CN=server.netlab.test", "issuer: OU=intermediate CA",
                        "valid from 2026-12-01 to 2027-03-01",
                        "key: ECDSA P-256; may sign certificates: no",
                        "names: server.netlab.test"]
    assert lines[1][0] == "intermediate CA, sent by the server"
    assert lines[2][:3] == ["root CA, in the client's trust store, not sent",
                            "subject: OU=root CA", "issuer: OU=root CA"]
    # the arrow says who signed: the issuer of the box above it
    arrows = [e.findtext(f"{SVG}title") for e in root.iter(f"{SVG}line")]
    assert arrows == ["signed by OU=intermediate CA", "signed by OU=root CA"]


def test_flows_are_drawn_to_scale_and_in_direction() -> None:
    picture = flows()
    root = ET.fromstring(picture.svg())
    panels = [g for g in root.iter(f"{SVG}g") if g.get("class") == "netlab-flow"]
    assert [(g.get("data-name"), g.get("data-arrows")) for g in panels] == [
        ("TLS 1.2", "9"), ("TLS 1.3", "7")]
    for g, flow in zip(panels, picture.flows, strict=True):
        lines = [e for e in g.iter(f"{SVG}line") if "netlab-arrow" in (e.get("class") or "")]
        assert len(lines) == len(flow.arrows)
        for line, a in zip(lines, flow.arrows, strict=True):
            x1, y1, x2, y2 = (float(line.get(k, "0")) for k in ("x1", "y1", "x2", "y2"))
            assert (x1 < x2) == a.from_client
            assert y2 - y1 == pytest.approx(25 * MS * picture.scale, abs=0.1)  # one way
            seen = y1 if a.from_client else y2
            assert seen == pytest.approx(picture.TOP + a.at_ns * picture.scale, abs=0.1)
            assert line.get("stroke") == KINDS[a.kind]
            assert line.findtext(f"{SVG}title") == ", ".join(a.words)
    words = _texts(root)
    assert "TLS 1.2: 4 round trips" in words and "TLS 1.3: 3 round trips" in words
    assert "[HTTP response]" in words


def test_layers_list_the_calls_in_order() -> None:
    root = ET.fromstring(layers().svg())
    hosts = [g for g in root.iter(f"{SVG}g") if g.get("class") == "netlab-host"]
    assert [g.get("data-host") for g in hosts] == ["client", "server"]
    for g, calls in zip(hosts, (CLIENT_CALLS, SERVER_CALLS), strict=True):
        bands = [b for b in g.iter(f"{SVG}g") if b.get("data-layer")]
        assert [b.get("data-layer") for b in bands] == ["app", "api", "tcp", "ip", "link"]
        api = [t.text for t in bands[1].iter(f"{SVG}text")]
        assert api[1:] == list(calls)
    # the same layer lines up on both hosts
    ys = [[float(r.get("y", "0")) for b in g.iter(f"{SVG}g") if b.get("data-layer")
           for r in b.iter(f"{SVG}rect")] for g in hosts]
    assert ys[0] == ys[1]
    assert "the wire between the two links forwarded 11 frames" in _texts(root)


def test_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    english = {name: (make().title, _texts(ET.fromstring(make().svg())))
               for name, make in ALL.items()}
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    for name, make in ALL.items():
        picture = make()
        title, words = english[name]
        assert picture.title != title and picture.describe().endswith("。")
        chinese = _texts(ET.fromstring(picture.svg()))
        assert len(chinese) == len(words) and chinese != words
    assert "半连接队列（SYN_RECV）：2/4" in _texts(ET.fromstring(queues().svg()))
    assert chain()._lines(2)[0] == ("根 CA，在客户端的信任库中，不发送", True)
    assert "TLS 1.2：4 个往返" in _texts(ET.fromstring(flows().svg()))
