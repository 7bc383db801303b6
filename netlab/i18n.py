"""The few words netlab's views print, in the language of the page being built.

The docs build exports ``NETLAB_DOCS_LANG`` (``en`` or ``zh_CN``) to the kernels that run the
pages, so a table on a Chinese page has Chinese column headings. Protocol words (SYN, seq,
ESTABLISHED) stay in English in both languages, as Chinese engineers write them. Anything
without an entry here is printed as it is.

>>> from netlab.i18n import tr
>>> tr("direction", "zh_CN"), tr("direction", "en"), tr("SYN", "zh_CN")
('方向', 'direction', 'SYN')
"""

from __future__ import annotations

import os

__all__ = ["tr", "language"]

ZH_CN = {
    # packet table
    "time (ms)": "时间 (ms)",
    "direction": "方向",
    "flags": "标志位",
    "raw seq": "原始 seq",
    "raw ack": "原始 ack",
    "raw win": "原始 win",
    "options": "选项",
    # kernel states between segments
    "moment": "时刻",
    "client": "客户端",
    "server": "服务器",
    "accept queue": "accept 队列",
    "socket() and bind() done": "socket() 和 bind() 之后",
    "SYN on the wire": "SYN 在线路上",
    "SYN-ACK on the wire": "SYN-ACK 在线路上",
    "ACK on the wire": "ACK 在线路上",
    "ACK delivered, accept() not yet called": "ACK 已送达，尚未调用 accept()",
    "accept() returned": "accept() 返回之后",
    # what the handshake negotiates
    "option": "选项",
    "client (SYN)": "客户端 (SYN)",
    "server (SYN-ACK)": "服务器 (SYN-ACK)",
    "in effect": "是否生效",
    "each side's own value": "双方各用各的值",
    "window scale": "窗口缩放",
    "SACK permitted": "允许 SACK",
    "timestamps": "时间戳",
    "yes": "是",
    "no": "否",
    # figures and downloads
    "TCP three-way handshake, captured on client and server":
        "TCP 三次握手（在 client 和 server 上同时抓包）",
    "{frames} frames captured on {host}": "在 {host} 上抓到的 {frames} 帧",
    "{n} bytes": "{n} 字节",
    # the lab's diagram (netlab.views.topology)
    "Lab topology": "实验环境拓扑",
    "veth pair": "veth 对",
    "userspace wire": "用户态线路",
    "namespace": "命名空间",
    "one-way delay {ms} ms": "单向时延 {ms} ms",
    "loss {percent}%": "丢包率 {percent}%",
    "rate {mbit} Mbit/s": "速率 {mbit} Mbit/s",
    "holds each frame until released (step)": "逐帧扣住，等待放行 (step)",
    "drops every frame (drop)": "丢弃所有帧 (drop)",
    "forwards every frame at once": "立即转发每一帧",
    "firewall (nftables)": "防火墙 (nftables)",
    "idle timeout {s} s": "空闲超时 {s} 秒",
    "inside": "内侧",
    "outside": "外侧",
    "no address": "无地址",
    ", ": "，",
    "{host}: a network namespace; {addresses}.": "{host}：一个网络命名空间；{addresses}。",
    "{a} and {b} are joined by a veth pair on {network}.":
        "{a} 与 {b} 之间由一对 veth 直接相连，网段为 {network}。",
    "{a} and {b} are joined on {network} through a userspace wire in a namespace of its own "
    "({namespace}): {effects}.":
        "{a} 与 {b} 之间经由一条用户态线路相连，网段为 {network}；线路位于独立的命名空间"
        "（{namespace}）中：{effects}。",
    "{host} is a stateful firewall: new connections only from its inside interface {iface} "
    "(towards {inside}); connection tracking forgets a connection idle for {s} s.":
        "{host} 是一台有状态防火墙：只允许从内侧接口 {iface}（朝向 {inside}）发起新连接；"
        "连接跟踪 (conntrack) 会忘掉空闲超过 {s} 秒的连接。",
    # the lab's measured round trips (netlab.experiments.lab_tour)
    "configured RTT (ms)": "配置的 RTT (ms)",
    "connect() (ms)": "connect() 耗时 (ms)",
    "echo (ms)": "回显 (ms)",
    "connect / RTT": "connect / RTT 之比",
    "echo / RTT": "回显 / RTT 之比",
}

_CATALOGS = {"zh_CN": ZH_CN}


def language() -> str:
    """The page language of this process: ``NETLAB_DOCS_LANG``, English by default."""
    return os.environ.get("NETLAB_DOCS_LANG", "en").replace("-", "_")


def tr(text: str, lang: str | None = None) -> str:
    """``text`` in ``lang`` (the page language by default), or unchanged."""
    return _CATALOGS.get(lang or language(), {}).get(text, text)
