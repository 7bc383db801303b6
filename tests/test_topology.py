"""netlab.views.topology: the lab's diagram, drawn from hand-made data (no lab, no root)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from netlab.views.topology import FirewallInfo, HostInfo, LinkInfo, Topology, WireInfo

SVG = "{http://www.w3.org/2000/svg}"


def client_firewall_server() -> Topology:
    """The lab of the lab page, listed out of order: the diagram finds the chain itself."""
    return Topology(
        hosts=[
            HostInfo(name="firewall", interfaces=(("eth0", "192.0.2.2"), ("eth1", "198.51.100.1")),
                     firewall=FirewallInfo(inside="eth0", idle_timeout=3.0)),
            HostInfo(name="server", interfaces=(("eth0", "198.51.100.2"),)),
            HostInfo(name="client", interfaces=(("eth0", "192.0.2.1"),)),
        ],
        links=[
            LinkInfo(a="client", a_iface="eth0", b="firewall", b_iface="eth0",
                     network="192.0.2.0/24",
                     wire=WireInfo(namespace="wire-client-firewall", delay=0.025, loss=0.01,
                                   rate=100e6)),
            LinkInfo(a="firewall", a_iface="eth1", b="server", b_iface="eth0",
                     network="198.51.100.0/24"),
        ],
        title="client, firewall, server",
    )


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


def test_svg_is_an_accessible_image_in_the_theme_colour() -> None:
    topology = client_firewall_server()
    figure = topology._repr_html_()
    assert figure.startswith('<figure class="netlab-figure"><svg')
    assert "<figcaption>client, firewall, server</figcaption>" in figure
    svg = ET.fromstring(topology.svg())
    assert svg.get("role") == "img" and svg.get("fill") == "currentColor"
    ids = svg.get("aria-labelledby", "").split()
    title, desc = (svg.find(f"{SVG}{tag}") for tag in ("title", "desc"))
    assert title is not None and desc is not None
    assert [title.get("id"), desc.get("id")] == ids
    assert title.text == "client, firewall, server"
    assert desc.text == topology.describe()
    # no hard-coded black or white: text and lines follow the page (light or dark theme)
    assert not re.search(r'(fill|stroke)="(#000|#fff|black|white)', topology.svg(), re.I)


def test_hosts_links_wire_and_firewall_are_drawn() -> None:
    topology = client_firewall_server()
    assert [h.name for h in topology.order()] == ["client", "firewall", "server"]
    svg = ET.fromstring(topology.svg())
    hosts = {g.get("data-host"): g for g in svg.iter(f"{SVG}g") if g.get("data-host")}
    assert list(hosts) == ["client", "firewall", "server"]
    assert "eth1  198.51.100.1" in texts(hosts["firewall"])
    assert {"firewall (nftables)", "idle timeout 3 s"} <= set(texts(hosts["firewall"]))
    assert not {"firewall (nftables)"} & set(texts(hosts["client"]))
    # boxes from left to right, without overlapping
    rects = [h.find(f"{SVG}rect") for h in hosts.values()]
    edges = [(float(r.get("x", 0)), float(r.get("x", 0)) + float(r.get("width", 0)))
             for r in rects if r is not None]
    assert all(right < left for (_, right), (left, _) in zip(edges, edges[1:], strict=False))
    wires = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "wire"]
    assert [w.get("data-namespace") for w in wires] == ["wire-client-firewall"]
    links = {g.get("data-network"): texts(g) for g in svg.iter(f"{SVG}g")
             if g.get("class") == "link"}
    assert {"one-way delay 25 ms", "loss 1%", "rate 100 Mbit/s", "userspace wire",
            "inside"} <= set(links["192.0.2.0/24"])
    assert {"veth pair", "outside"} <= set(links["198.51.100.0/24"])
    assert "veth pair" not in links["192.0.2.0/24"]
    assert str(topology).splitlines()[-1] == (
        "firewall is a stateful firewall: new connections only from its inside interface eth0 "
        "(towards client); connection tracking forgets a connection idle for 3 s.")


def test_chinese_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    topology = client_firewall_server()
    words = set(texts(ET.fromstring(topology.svg())))
    assert {"命名空间", "用户态线路", "单向时延 25 ms", "丢包率 1%", "速率 100 Mbit/s",
            "防火墙（nftables）", "空闲超时 3 秒", "内侧", "外侧", "veth 对"} <= words
    assert "连接跟踪（conntrack）会忘掉空闲超过 3 秒的连接" in topology.describe()


def test_wire_modes_and_links_between_non_neighbours() -> None:
    assert WireInfo(namespace="w", mode="step").effects() == [
        "holds each frame until released (step)"]
    assert WireInfo(namespace="w", mode="drop", delay=1.0).effects() == ["drops every frame (drop)"]
    star = Topology(
        hosts=[HostInfo(name=n) for n in ("hub", "a", "b", "c")],
        links=[LinkInfo(a="hub", a_iface=f"eth{i}", b=n, b_iface="eth0", network=f"net{i}")
               for i, n in enumerate("abc")])
    assert [h.name for h in star.order()] == ["a", "hub", "b", "c"]
    svg = ET.fromstring(star.svg())
    assert len(list(svg.iter(f"{SVG}path"))) == 1  # hub — c arcs over b
    with pytest.raises(ValueError, match="'d'"):
        Topology(hosts=[HostInfo(name="a")],
                 links=[LinkInfo(a="a", a_iface="eth0", b="d", b_iface="eth0", network="n")])
