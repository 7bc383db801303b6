"""The few words netlab's views print, in the language of the page being built.

The docs build exports ``NETLAB_DOCS_LANG`` (``en`` or ``zh_CN``) to the kernels that run the
pages, so a table on a Chinese page has Chinese column headings. Protocol words (SYN, seq,
ESTABLISHED) stay in English in both languages, as Chinese engineers write them. Anything
without an entry here is printed as it is.

A heading that reads differently in one table has an entry keyed ``(context, text)``: the
"len" of a UDP packet table is 长度, while a TCP segment table keeps len beside seq, ack and
win (:func:`tr` with ``context=``).

>>> from netlab.i18n import tr
>>> tr("direction", "zh_CN"), tr("direction", "en"), tr("SYN", "zh_CN")
('方向', 'direction', 'SYN')
"""

from __future__ import annotations

import os

__all__ = ["tr", "language"]

ZH_CN: dict[str | tuple[str, str], str] = {
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
    "Answer": "答案",  # netlab.views.exercise
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
    # the lab's measured round trips (netlab.experiments.lab.tour)
    "configured RTT (ms)": "配置的 RTT (ms)",
    "connect() (ms)": "connect() 耗时 (ms)",
    "echo (ms)": "回显 (ms)",
    "connect / RTT": "connect / RTT 之比",
    "echo / RTT": "回显 / RTT 之比",
    # closing a connection (netlab.experiments.tcp.teardown, netlab.analysis.timeline)
    "request and response exchanged": "交换了一次请求和响应",
    "connection established": "连接已建立",
    "server reads EOF, then sends 3 chunks; client reads them":
        "服务器读到 EOF，随后又发送 3 段数据；客户端把它们都读走",
    "the wire loses the client's ACK": "线路把客户端的 ACK 丢掉了",
    "client sets SO_LINGER to {on, 0 s}": "客户端把 SO_LINGER 设为 {开启, 0 秒}",
    "server sends data; client never reads it": "服务器发来数据，客户端始终不读",
    "old listener had SO_REUSEADDR": "旧的监听套接字设了 SO_REUSEADDR",
    "new listener sets SO_REUSEADDR": "新的监听套接字设了 SO_REUSEADDR",
    "bind() of the restarted server": "重启后服务器的 bind()",
    "old connection": "旧连接",
    "succeeds": "成功",
    "event": "事件",
    "RFC 9293 rule": "RFC 9293 规则",
    "state": "状态",
    "event / action": "事件 / 动作",
    "next state": "下一状态",
    "where": "出处",
    "seen here": "本页观察到",
    "local": "本端",
    "remote": "对端",
    "timer": "定时器",
    "left (s)": "剩余 (秒)",
    "off": "无",
    "before the first segment": "第一个报文段之前",
    "Orderly close: the passive side closes later (four segments)":
        "正常关闭：被动关闭方稍后才关闭（四个报文段）",
    "Half-close: data still flows after the client's FIN":
        "半关闭：客户端发出 FIN 之后，数据仍在流动",
    "The server closes on EOF: its FIN rides on the ACK (three segments)":
        "服务器一读到 EOF 就关闭：FIN 搭上了 ACK 的便车（三个报文段）",
    "Simultaneous close: both sides pass through CLOSING":
        "同时关闭：双方都经过 CLOSING 状态",
    "The last ACK is lost: TIME_WAIT answers the repeated FIN":
        "最后一个 ACK 丢失：处于 TIME_WAIT 的一方应答重发的 FIN",
    "A server that never closes: CLOSE_WAIT": "从不调用 close() 的服务器：CLOSE_WAIT",
    "Abortive close: SO_LINGER 0 sends RST": "异常关闭：SO_LINGER 为 0 时发送 RST",
    "close() with unread data sends RST": "带着未读数据调用 close()，发出的是 RST",
    # packets of any protocol (netlab.analysis.ip_packets)
    "protocol": "协议",
    ("packet table", "len"): "长度",
    "info": "说明",
    "port unreachable": "端口不可达",
    # what a socket is (netlab.experiments.sockets.socket_api)
    "side": "端",
    "system call": "系统调用",
    "listening": "监听套接字",
    "connected": "已连接套接字",
    "segments": "报文段",
    "packets": "数据包",
    "family": "地址族",
    "type": "类型",
    "address": "地址",
    "what each recv() returned": "每次 recv() 的返回值",
    "packets captured": "抓到的数据包",
    # the site: packet inspector, text alternatives, page downloads (netlab.views.inspector,
    # netlab.views.ladder, docs/conf.py)
    "Packet inspector: {n} segments, decoded headers and bytes":
        "数据包查看器：{n} 个报文段的首部解码和原始字节",
    "Decoded headers": "首部解码",
    "{n} bytes captured": "抓到的 {n} 字节",
    "… {n} more bytes (in the pcap download)": "……其余 {n} 字节见抓包文件下载",
    "padding": "填充",  # and "payload": 载荷, in the long-lived connections block
    "length": "长度",
    "{src} to {dst}: ": "{src} → {dst}：",
    "; ": "；",
    ".": "。",
    "Run this page yourself: download it as a notebook ({notebook}) or as a Python script "
    "({script}); like the experiments on it, they need root.":
        "自己运行本页：下载为 Jupyter 笔记本（{notebook}）或 Python 脚本（{script}）；"
        "和页面上的实验一样，需要 root 权限。",
    # the footer of each chapter: which run it shows (netlab.model.run)
    "This page shows {run}. The English and Chinese pages show this same run, and so do the "
    "downloads.":
        "本页展示的是{run}。英文页面和中文页面展示的是同一次运行，下载的文件也来自这次运行。",
    "run {run}, {date} UTC, Linux {kernel}, netlab {netlab}":
        "运行 {run}（{date} UTC，Linux {kernel}，netlab {netlab}）",
    # the site: "predict, then check" exercises at the end of each chapter
    "listen(): {listen} segments; connect(): {connect} segments":
        "listen()：{listen} 个报文段；connect()：{connect} 个报文段",
    "listen() only marks the socket, inside the kernel, as willing to accept connections; "
    "connect() makes the kernel run the three-way handshake.":
        "listen() 只是在内核里把套接字标记为愿意接受连接；connect() 则让内核完成三次握手。",
    "{n} recv() call; it returned {first}": "{n} 次 recv() 调用，返回了 {first}",
    "TCP is a byte stream: recv() returns the bytes that have arrived, with no trace of the "
    "three send() calls that wrote them.":
        "TCP 是字节流：recv() 返回已经到达的字节，看不出它们是由三次 send() 分别写入的。",
    "ICMP type {type}, code {code} (port unreachable); the next recv() raised {error}":
        "ICMP 类型 {type}、代码 {code}（端口不可达）；下一次 recv() 抛出了 {error}",
    "UDP has no connection to refuse: the receiving host's kernel answers with an ICMP "
    "message, and only a connected UDP socket is told of it.":
        "UDP 没有连接可以拒绝：接收方主机的内核用一条 ICMP 消息作答，而只有已连接的 UDP 套接字"
        "才会收到这个错误。",
    "relative ack = {rel}; raw ack = {raw} = j + 1":
        "相对确认号 = {rel}；原始确认号 = {raw} = j + 1",
    "The SYN occupies one sequence number, so the next byte the server expects is number "
    "j + 1.": "SYN 本身占用一个序列号，所以服务器期待的下一个字节是第 j + 1 号。",
    "{n} segments": "{n} 个报文段",
    "The kernel finished the handshake before accept() was called; accept() only hands over "
    "the connection waiting in the accept queue.":
        "调用 accept() 之前，内核就已完成了握手；accept() 只是把在全连接队列（accept 队列）"
        "里等待的连接交给程序。",
    "after {s:.3f} s": "{s:.3f} 秒之后",
    "The initial retransmission timeout is one second (RFC 6298, section 2.1); each later "
    "retry waits twice as long as the one before.":
        "初始重传超时为 1 秒（RFC 6298 第 2.1 节）；之后每次重试的等待时间都是上一次的两倍。",
    "ack = {ack} (relative)": "ack = {ack}（相对值）",
    "A FIN, like a SYN, occupies one sequence number: acknowledging it moves the "
    "acknowledgment number on by one.":
        "FIN 和 SYN 一样占用一个序列号：确认它，确认号就要加一。",
    "the {side}, for {s:.2f} s": "{side}，还要停留 {s:.2f} 秒",
    "TIME_WAIT falls on the side that closes first (the active close); Linux keeps it for "
    "60 s.": "TIME_WAIT 落在先关闭的一方（主动关闭方）；Linux 让它保持 60 秒。",
    "The server's FIN rides on its ACK of the client's FIN: four steps, three segments.":
        "服务器的 FIN 搭上了它对客户端 FIN 的 ACK：四个步骤，三个报文段。",
    # the HTTP chapter (netlab.experiments.http_*)
    "way": "方式",
    "h11 event": "h11 事件",
    "fields": "字段",
    "sent": "发送",
    "received": "接收",
    "One HTTP request over TCP, captured on client and server":
        "TCP 上的一个 HTTP 请求（在 client 和 server 上同时抓包）",
    "TCP handshakes": "TCP 握手次数",
    "round trips": "往返次数",
    "predicted (ms)": "预测 (ms)",
    "measured (ms)": "实测 (ms)",
    "measured / predicted": "实测 / 预测",
    "measured": "实测",
    "predicted": "预测",
    "pipelined": "管线化",
    "{n} requests over a {rtt} ms round trip": "往返时延 {rtt} ms 下的 {n} 个请求",
    "TCP connections": "TCP 连接数",
    "/fast arrived (ms)": "/fast 到达 (ms)",
    "/slow arrived (ms)": "/slow 到达 (ms)",
    "first complete": "先完成的",
    "two connections": "两条连接",
    "Head-of-line blocking in an HTTP/1.1 pipeline": "HTTP/1.1 管线中的队头阻塞",
    "input": "输入",
    "server's answer": "服务器的应答",
    "closed after (ms)": "关闭用时 (ms)",
    "next good request": "下一个正常请求",
    "connections left open": "仍打开的连接",
    "malformed request line": "请求行格式错误",
    "headers too large": "首部过大",
    "unknown method": "未知方法",
    "body too large": "消息体过大",
    "a partial request, then silence": "只发部分请求，然后再无动静",
    "the {side}, in segment {n}": "{side}，在第 {n} 个报文段",
    "the client closes as soon as it has read the whole response":
        "客户端一读完整个响应就关闭连接",
    "{rtts} round trips: {ms} ms measured": "{rtts} 个往返：实测 {ms} ms",
    "one for the handshake, then one per request": "握手一个，之后每个请求一个",
    "after {ms} ms": "{ms} ms 之后",
    "one round trip plus the slow response's 300 ms: it waited at the head of the line":
        "一个往返，再加上慢响应的 300 ms：它被堵在了队头后面",
    "median (ms)": "中位数 (ms)",
    "source": "源",
    "destination": "目的",
    # the HTTPS chapter (netlab.experiments.https_*, tls_certs): keyed ("https", text)
    ("https", 'time (ms)'): '时间 (ms)',
    ("https", 'direction'): '方向',
    ("https", 'client → server'): '客户端 → 服务器',
    ("https", 'server → client'): '服务器 → 客户端',
    ("https", 'record type on the wire'): '线路上的记录类型',
    ("https", 'length'): '长度',
    ("https", 'carries (decrypted)'): '实际内容（解密后）',
    ("https", 'content'): '内容',
    ("https", '(ciphertext)'): '（密文）',
    ("https", "client's TLS library"): '客户端的 TLS 库',
    ("https", 'bytes'): '字节数',
    ("https", 'decrypted capture'): '解密后的抓包',
    ("https", 'same bytes'): '字节相同',
    ("https", 'write'): '发送',
    ("https", 'read'): '接收',
    ("https", 'yes'): '是',
    ("https", 'no'): '否',
    ("https", 'message'): '消息',
    ("https", 'field'): '字段',
    ("https", 'value'): '取值',
    ("https", 'cipher suites'): '密码套件',
    ("https", 'cipher suite'): '密码套件',
    ("https", 'server name (SNI)'): '服务器名称 (SNI)',
    ("https", 'supported versions'): '支持的版本',
    ("https", 'selected version'): '选定的版本',
    ("https", 'key share'): '密钥交换组 (key share)',
    ("https", 'certificate'): '证书',
    ("https", 'subject'): '主体 (subject)',
    ("https", 'issuer'): '签发者 (issuer)',
    ("https", 'names (SAN)'): '名称 (SAN)',
    ("https", 'valid from'): '生效日期',
    ("https", 'valid until'): '到期日期',
    ("https", 'key'): '公钥',
    ("https", 'CA'): 'CA',
    ("https", 'server (leaf)'): '服务器证书（叶子）',
    ("https", 'intermediate CA'): '中间 CA',
    ("https", 'root CA'): '根 CA',
    ("https", "root CA (client's store)"): '根 CA（客户端信任库中）',
    ("https", 'case'): '情形',
    ("https", 'trusted'): '受信任',
    ("https", 'unknown CA'): '未知 CA',
    ("https", 'wrong host name'): '主机名不符',
    ("https", 'expired'): '证书已过期',
    ("https", 'NSS key log of the TLS connection'): '该 TLS 连接的 NSS 密钥日志文件',
    ("https", 'One HTTPS request: TCP handshake, TLS 1.3 handshake, encrypted HTTP, close'):
        '一次 HTTPS 请求：TCP 握手、TLS 1.3 握手、加密的 HTTP、关闭',
    ("https", 'way'): '方式',
    ("https", 'round trips'): '往返次数',
    ("https", 'predicted (ms)'): '预测 (ms)',
    ("https", 'measured (ms)'): '实测 (ms)',
    ("https", 'measured / predicted'): '实测 / 预测',
    ("https", 'certificate sent'): '是否发送证书',
    ("https", 'TLS handshake bytes'): 'TLS 握手字节数',
    ("https", 'measured'): '实测',
    ("https", 'fastest'): '最快',
    ("https", 'fastest (ms)'): '最快一次 (ms)',
    ("https", 'median (ms)'): '中位数 (ms)',
    ("https", 'predicted'): '预测',
    ("https", 'TLS 1.3 resumed'): 'TLS 1.3 会话恢复',
    ("https", 'TLS 1.2 resumed'): 'TLS 1.2 会话恢复',
    ("https", 'Time to the first response byte over a {rtt} ms round trip'):
        'RTT 为 {rtt} ms 时，到收到响应第一个字节的时间',
    ("https", '1 byte for the hidden content type, 16 for the AEAD tag (RFC 8446 §5.2)'):
        '1 字节是隐藏的内容类型，16 字节是 AEAD 认证标签（RFC 8446 §5.2）',
    ("https", 'measured here: {a} and {b} round trips of {rtt} ms'):
        '本次构建实测：分别为 {a} 个和 {b} 个 {rtt} ms 的 RTT',
    ("https", 'no Certificate and no CertificateVerify; a pre-shared key instead'):
        '不再发送 Certificate 和 CertificateVerify，改用预共享密钥 (PSK)',
    # long-lived connections (netlab.experiments.longlived_*)
    "transmission": "发送",
    "time (s)": "时间 (秒)",
    "gap (s)": "间隔 (秒)",
    "arrived": "是否到达",
    "original": "首次发送",
    "tail loss probe": "尾部丢包探测 (TLP)",
    "retransmission {n}": "第 {n} 次重传",
    "An idle connection dies in the firewall": "空闲连接在防火墙处悄然断开",
    "The server's application hangs: its kernel still ACKs every ping":
        "服务器应用程序卡死：其内核仍然确认每一个 ping",
    "what happened": "发生了什么",
    "TCP keepalive": "TCP 保活 (keepalive)",
    "heartbeat": "心跳",
    "the server's application hangs": "服务器应用程序卡死",
    "{n} of {m} probes answered: looks alive": "{m} 个探测报文中 {n} 个得到应答：看起来还活着",
    "dead after {s} s": "{s} 秒后判定对端已死",
    " ({n} probes unanswered)": "（{n} 个探测报文无应答）",
    "the server's link is cut": "服务器的链路被切断",
    "the server learns the client is gone": "服务器得知客户端已不在",
    "no: still {state}": "否：仍是 {state}",
    "after {s} s": "{s} 秒后",
    "from": "发送方",
    "opcode": "操作码 (opcode)",
    "masked": "是否掩码",
    "payload": "载荷",
    "payload bytes": "载荷字节数",
    "frame bytes": "帧字节数",
    "A WebSocket connection: upgrade, frames, close": "一条 WebSocket 连接：协议升级、帧、关闭",
    "method": "方式",
    "connections": "连接数",
    "requests": "请求数",
    "empty answers": "空响应",
    "bytes on the wire": "线路上的字节数",
    "median latency (ms)": "时延中位数 (ms)",
    "worst latency (ms)": "最大时延 (ms)",
    "push": "推送",
    "poll": "轮询",
    "poll, new connection each time": "轮询，每次新建连接",
    "median": "中位数",
    "worst": "最大值",
    "Delivery latency of {n} updates": "{n} 条更新的送达时延",
    "Bytes on the wire for {n} updates": "{n} 条更新在线路上的字节数",
    "{n} transmissions; the last wait was {s} s": "共发送 {n} 次；最后一次等待了 {s} 秒",
    "each retransmission timeout doubles the one before (RFC 6298 §5.5)":
        "每次重传超时都是上一次的两倍（RFC 6298 §5.5）",
    "seq = {seq}, answered with ack = {ack}": "seq = {seq}，应答的 ack = {ack}",
    "a probe carries SND.NXT − 1, the last byte already sent; the answer acknowledges SND.NXT":
        "探测报文携带 SND.NXT − 1，即最后一个已发送的字节；应答确认的是 SND.NXT",
    "a poll interval plus a one-way delay, {poll} + {one_way} = {bound} ms; this build "
    "measured {worst} ms at worst, {median} ms in the median":
        "一个轮询间隔加一个单向时延，即 {poll} + {one_way} = {bound} ms；本次构建测得最大 "
        "{worst} ms，中位数 {median} ms",
    "an update made just after a poll reached the server waits for the next poll to arrive "
    "there, one poll interval later, then for the answer's one-way trip back":
        "一条更新若恰好在某次轮询请求到达服务器之后产生，就要等一个轮询间隔，直到下一次轮询"
        "请求到达，再加上响应返回的单向时延",
    "Server-Sent Events": "Server-Sent Events (SSE)",
    "long polling": "长轮询",
    "the firewall": "防火墙",
    "value": "值",
    "connections tracked before the silence (client ports)": "静默之前跟踪的连接（客户端端口）",
    "connections tracked after it": "静默之后跟踪的连接",
    "packets dropped after the silence": "静默之后丢弃的数据包",
    "what it saw": "看到了什么",
    "recv() raised {error} after {s} s": "{s} 秒后 recv() 抛出 {error}",
    "the silent connection is still {state}; it read {data}":
        "静默连接仍是 {state}；读到的是 {data}",
    "the kept connection is {state}": "保活连接是 {state}",
    "setting": "参数",
    "meaning": "含义",
    "idle time before the first probe": "发送第一个探测报文之前的空闲时间",
    "time between unanswered probes": "两次无应答探测之间的间隔",
    "unanswered probes before the connection is dropped": "断开连接之前无应答探测的个数",
    "time + intvl × probes: a dead peer is noticed after":
        "time + intvl × probes：多久才发现对端已死",
    "retransmissions before the connection is dropped": "断开连接之前的重传次数",
    "unacknowledged data is given up after": "多久之后放弃未确认的数据",
    # figures (netlab.views.ladder, netlab.views.state_diagram)
    "{s} s": "{s} 秒",
    "TCP handshake": "TCP 握手",
    "TLS handshake": "TLS 握手",
    "HTTP exchange": "HTTP 请求与响应",
    "data transfer": "数据传输",
    "teardown": "连接关闭",
    "{a} and {b}": "{a}与{b}",
    ("list", ", "): "、",
    "Segments between {ends}": "{ends}之间的报文段",
    "{phases} between {ends}": "{ends}之间：{phases}",
    "idle {t}": "空闲 {t}",
    "data": "数据",
    "ACK only": "纯 ACK",
    "lost on the way": "途中丢失",
    "kernel state": "内核状态",
    "round trip the client waited for": "客户端等待的一个往返",
    "idle time, shortened": "空闲时间（已缩短）",
    "Legend": "图例",
    "Drawn to time scale: one round trip ({rtt}) is {px} px high; an idle gap longer than "
    "{gap} is shortened, on a scale of its own, and marked with its length.":
        "按时间比例绘制：一个往返（{rtt}）高 {px} 像素；超过 {gap} 的空闲间隔按另一比例缩短，"
        "并标出实际时长。",
    "Drawn in order of events, not to time scale: each departure, arrival and state reading "
    "takes one step down.":
        "按事件先后绘制，不按时间比例：每次发出、到达和状态读取各占一格。",
    "Ladder diagram: {title}": "时序图：{title}",
    "Table: {columns}": "表格：{columns}",
    "TCP state diagram (RFC 9293, Figure 5)": "TCP 状态图（RFC 9293 图 5）",
    "RFC 9293's TCP state diagram: {n} states and the arrows between them.":
        "RFC 9293 的 TCP 状态图：{n} 个状态以及它们之间的箭头。",
    "{i}. {side}: {state} to {next} on {label}": "{i}. {side}：{state} → {next}，{label}",
    "{figure} {steps}": "{figure}{steps}",
    "numbered: the {side}'s transitions in this run": "带编号：本次运行中{side}的状态转换",
    "an arrow of the diagram this run did not take": "本次运行没有走过的箭头",
    "State diagram: {title}": "状态图：{title}",
    "Right: that is what this run measured.": "答对了：这正是本次运行测得的值。",
    "Not this run’s value: try again, or open the answer.":
        "和本次运行的值不符：再试一次，或者展开答案。",
    "Give an answer first.": "请先作答。",
    "Check": "核对",
    "Your answer": "你的答案",
    "seconds": "秒",
    ("unit", "segments"): "个报文段",
    ("unit", "round trips"): "个往返",
    "The handshake's state changes on RFC 9293's diagram":
        "三次握手中的状态变化，画在 RFC 9293 的状态图上",
    "This connection's state changes on RFC 9293's diagram":
        "这条连接的状态变化，画在 RFC 9293 的状态图上",
    # what happened before a moment (netlab.model.moments; drawn by netlab.views.moments)
    "{host} calls {detail}": "{host}调用 {detail}",
    "{detail} arrived at {host}": "{detail} 到达{host}",
    "{detail} arrived at {host} again": "{detail} 再次到达{host}",
    # the architecture page (netlab.views.architecture)
    "the netlab command": "netlab 命令行",
    "one folder per chapter; each experiment returns a Result with its facts":
        "每章一个目录；每个实验返回一个带事实核验的 Result",
    "tables, SVG figures, the packet inspector, downloads": "表格、SVG 图、报文查看器、下载文件",
    "hosts, links and captures composed from the kernel's pieces":
        "用内核层的零件拼出主机、链路和抓包",
    "captures read: segments, traces, state timelines, HTTP and TLS":
        "解读抓包：报文段、trace、状态时间线、HTTP 与 TLS",
    "HTTP/1.1, HTTP/2, TLS, WebSocket, heartbeats, framing: over any socket":
        "HTTP/1.1、HTTP/2、TLS、WebSocket、心跳、消息分帧：可跑在任意 socket 上",
    "namespaces, veth, the wire, nftables, AF_PACKET, pcap, sock_diag, TCP_INFO":
        "命名空间、veth、用户态线路、nftables、AF_PACKET、pcap、sock_diag、TCP_INFO",
    "TCP's states and RFC 9293's transitions, as data":
        "TCP 状态与 RFC 9293 的状态转换，以数据表示",
    "the exception hierarchy": "异常层级",
    "the words of the page's language": "页面所用语言的词句",
    "{modules} modules, {lines} lines": "{modules} 个模块，{lines} 行",
    "netlab's layers, read from its source: each imports only from below":
        "netlab 的分层（从源码读出）：每层只导入它下面的层",
    "{layer}: {modules} modules, {lines} lines": "{layer}：{modules} 个模块，{lines} 行",
    "From top to bottom: {layers}.": "从上到下：{layers}。",
    "One experiment's data, from the capture to the page": "一个实验的数据：从抓包到页面",
    "Ethernet frames, with the time each was seen, on each host":
        "每台主机上抓到的以太网帧，以及各自被看到的时刻",
    "TCP segments: flags, sequence numbers, options, payload":
        "TCP 报文段：标志位、序号、选项、载荷",
    "connections, each segment seen leaving one host and reaching the other":
        "按连接归组，每个报文段都能看到它离开一台主机、到达另一台主机",
    "a result: the trace, both kernels' states between segments, its facts":
        "实验结果：trace、报文段之间两端内核的状态、以及事实核验",
    "the ladder diagram and the packet table in the page's language":
        "用页面语言画出的时序图和报文表",
    # facts shown on pages, and the views that show them (issue 14)
    "checked on this run": "已在本次运行中核验",
    "does not hold": "不成立",
    ("https", "part of the exchange"): "交互的内容",
    ("https", "port 80 (HTTP)"): "80 端口 (HTTP)",
    ("https", "port 443 (HTTPS)"): "443 端口 (HTTPS)",
    ("https", "readable"): "可读",
    ("https", "hidden"): "不可见",
    ("https", "site name (Host header on 80, SNI on 443)"):
        "站点名称（80 端口在 Host 首部中，443 端口在 SNI 中）",
    ("https", "path"): "路径",
    ("https", "a request header (the cookie)"): "请求首部（cookie）",
    ("https", "the page (response body)"): "页面（响应体）",
    ("https", "an observer on the path reads the site's name on both ports: the Host header "
              "on 80, the SNI in the ClientHello on 443"):
        "路径上的观察者在两个端口上都能读到站点名称：80 端口读 Host 首部，443 端口读 "
        "ClientHello 里的 SNI",
    ("https", "the path, a request header and the page are readable on port 80; on port 443 "
              "none of them appears in the captured bytes"):
        "路径、请求首部和页面在 80 端口上都能读到；在 443 端口抓到的字节里一样也找不到",
    # errors a page shows on purpose (netlab.views.errors.shows)
    "message of {n} bytes exceeds the limit of {limit}": "消息长 {n} 字节，超过了上限 {limit}",
    "frame announces {n} bytes, more than the limit of {limit}: not this protocol, or a "
    "hostile peer":
        "帧首部声明长度为 {n} 字节，超过了上限 {limit}：要么不是这个协议，要么对端怀有恶意",
    "the stream ended inside a frame: {n} byte(s) of an incomplete message left over":
        "字节流在一帧的中间结束：剩下 {n} 字节不完整的消息",
    "TLS version {version}: netlab speaks '1.2' and '1.3' only (SSL 2.0 and 3.0 are "
    "prohibited, RFC 6176 and RFC 7568; TLS 1.0 and 1.1 are deprecated, RFC 8996)":
        "TLS 版本 {version}：netlab 只支持 '1.2' 和 '1.3'（SSL 2.0 和 3.0 已被禁用，见 RFC 6176 "
        "和 RFC 7568；TLS 1.0 和 1.1 已被废弃，见 RFC 8996）",
    "three send() calls, three data segments on their connection, one recv() of all eleven "
    "bytes: no message boundaries":
        "三次 send() 调用，在这条连接上是三个数据报文段，一次 recv() 读走全部 11 个字节："
        "没有消息边界",
    "on a connection of its own, a length prefix recovers the three messages from 5-byte "
    "recv() chunks":
        "在另一条独立的连接上，长度前缀从每次 5 字节的 recv() 读取结果中还原出三条消息",
    "The FIN reached the server; its ACK left {ms} ms later.":
        "FIN 到达服务器后，过了 {ms} ms 它的 ACK 才发出。",
    "No data before the FIN: its ACK left {ms} ms later.":
        "FIN 之前没有任何数据：它的 ACK 在 {ms} ms 后发出。",
    "the ACK of a FIN waits for the delayed-ACK timer: at least 40 ms after data were "
    "received, one timer tick when none were":
        "FIN 的 ACK 要等延迟确认定时器：收到过数据的连接至少等 40 ms，从未收到数据的连接只等"
        "一个时钟节拍",
    "every method delivered every update, in order": "每种方式都按顺序收到了全部更新",
    "push: one connection; the server sends each update the moment it is made, so it arrives "
    "one one-way delay later":
        "推送：一条连接；每条更新一产生服务器就发出，所以一个单向时延之后就到达",
    "Server-Sent Events: one connection and one request, whose response carries each update "
    "the moment it is made":
        "Server-Sent Events：一条连接、一个请求，它的响应在每条更新产生的那一刻就把它带出去",
    "long polling: one connection, one request per update and no empty answer; the held "
    "request is answered the moment an update is made":
        "长轮询：一条连接，每条更新一个请求，没有空响应；被挂起的请求在更新产生的那一刻得到应答",
    "polling waits for the next poll: an update leaves the server up to a poll interval after "
    "it was made":
        "轮询要等下一次轮询：一条更新最多要在产生一个轮询间隔之后才离开服务器",
    "polls outnumber updates, and many come back empty-handed":
        "轮询次数多于更新条数，很多轮询空手而归",
    "a new connection per poll: one handshake per request, and more than twice the bytes per "
    "request":
        "每次轮询新建连接：每个请求一次握手，每个请求的字节数是原来的两倍多",
    # the experiments' facts, shown on the pages (issue 14)
    'the TCP handshake completes before the first HTTP byte':
        'TCP 握手完成之后才出现第一个 HTTP 字节',
    'the request decoded from the capture is the one the client sent':
        '从抓包中解码出的请求，正是客户端发出的那个请求',
    'the response decoded from the capture is the one the client read':
        '从抓包中解码出的响应，正是客户端读到的那个响应',
    'HTTP/1.1 keeps the connection open by default':
        'HTTP/1.1 默认保持连接不关闭',
    'the server closes an idle connection after its keep-alive timeout':
        '连接空闲超过 keep-alive 超时后，服务器将其关闭',
    'Connection: close makes the server answer, then close first':
        'Connection: close 让服务器先应答，然后由服务器先关闭连接',
    'HTTP/1.0 opens one connection per request, HTTP/1.1 one in all':
        'HTTP/1.0 每个请求建一条连接，HTTP/1.1 总共只建一条',
    '{mode}: the time is what counting round trips predicts':
        '{mode}：耗时与按往返次数算出的预测一致',
    'a pipelining client sends every request before the first response':
        '管线化的客户端在收到第一个响应之前就发出了所有请求',
    'a host on the path reads the password of a login over HTTP':
        '路径上的主机能读到通过 HTTP 登录时提交的密码',
    'in a pipeline the fast response waits for the slow one':
        '在管线中，快的响应要等慢的响应',
    '{way}: the fast response comes first, after one RTT':
        '{way}：快的响应先到，只用一个 RTT',
    '{case}: answered {status}, and the server goes on':
        '{case}：应答 {status}，服务器继续正常服务',
    "with the lab's root, every client verifies the server and gets the page":
        '使用实验环境的根证书，每个客户端都能验证服务器并取回页面',
    "unknown CA: 'unable to get local issuer certificate' (20)":
        "未知 CA：'unable to get local issuer certificate' (20)",
    "wrong host name: 'Hostname mismatch' (62)":
        "主机名不符：'Hostname mismatch' (62)",
    "expired: 'certificate has expired' (10)":
        "证书过期：'certificate has expired' (10)",
    'curl and openssl refuse the same three cases, with a non-zero exit':
        'curl 和 openssl 拒绝同样的三种情况，退出码非零',
    'bad input on the TLS port is closed cleanly, and the server goes on':
        'TLS 端口上的错误输入被干净地关闭，服务器继续正常服务',
    'each way waits for the round trips its protocol needs':
        '每种方式都要等它的协议所需的往返次数',
    'measured / predicted within {low}–{high} for every way':
        '每种方式的实测值与预测值之比都在 {low}–{high} 之间',
    'resumed sessions skip the certificate':
        '会话恢复时不再发送证书',
    'over HTTP the router reads the password':
        '走 HTTP 时，路由器能读到密码',
    'over HTTPS neither the password nor the session cookie is in any byte the router captured':
        '走 HTTPS 时，路由器抓到的字节里既没有密码，也没有会话 cookie',
    'with the key log, the same capture shows the form in clear':
        '有了密钥日志，同一份抓包就能以明文显示表单',
    'the same page comes back over port 80 and over port 443':
        '80 端口和 443 端口返回的是同一个页面',
    'TLS 1.3 with a certificate the client verified':
        '使用 TLS 1.3，证书经客户端验证通过',
    'without the keys only ClientHello, ServerHello and ChangeCipherSpec can be read; every other'
    ' record is ciphertext':
        '没有密钥时只能读出 ClientHello、ServerHello 和 ChangeCipherSpec；其余记录都是密文',
    'the decrypted capture carries the very messages the client logged':
        '解密后的抓包里，正是客户端记录下的那些握手消息',
    'HTTP: 2 round trips to the first response byte; TLS 1.3: 3':
        'HTTP 到响应的第一个字节要 2 个往返；TLS 1.3 要 3 个',
    'From 50 ms on, connect() and a one-byte echo take the configured RTT '
    '(median within {low}-{high}'
    ' of it)':
        '从 50 ms 起，connect() 和单字节回显所用时间就是配置的 RTT（中位数在其 {low}-{high} '
        '倍之间）',
    'No round trip is shorter than the configured RTT: the wire only adds time':
        '没有哪个往返比配置的 RTT 更短：线路只会增加时间',
    'The first connect() of a lab takes one round trip (no ARP exchange first)':
        '实验环境的第一次 connect() 只用一个往返（事先没有 ARP 交换）',
    'The client (inside) connects through the firewall':
        '客户端（内侧）可以穿过防火墙建立连接',
    'The server (outside) cannot connect in: its SYNs are dropped silently, so connect() times'
    ' out instead of being refused':
        '服务器（外侧）无法连进来：它的 SYN 被悄悄丢弃，所以 connect() 以超时告终，而不是被拒'
        '绝',
    "The firewall's drop counter counts exactly the SYNs the server sent":
        '防火墙的丢包计数恰好等于服务器发出的 SYN 数',
    'pings and keepalive probes keep both connections through the firewall':
        'ping 和 keepalive 探测让两条连接都能保持穿过防火墙',
    "a hung application's kernel still acknowledges every ping":
        '应用程序卡死了，它的内核仍然确认每一个 ping',
    'keepalive probes are answered while the application hangs':
        '应用程序卡死期间，keepalive 探测照样得到应答',
    'the heartbeat client declares the hung server dead within its deadline':
        '心跳客户端在截止时间内判定卡死的服务器已失效',
    'after the cut, the heartbeat client notices within its deadline':
        '链路中断后，心跳客户端在截止时间内发现了',
    'the server drops the silent client after its own deadline':
        '服务器在自己的截止时间过后断开沉默的客户端',
    'keepalive notices the cut only after its unanswered probes':
        'keepalive 要等若干探测都得不到应答后才发现链路中断',
    'without keepalive of its own, the server still thinks the client is there':
        '服务器自己没有开启 keepalive，仍以为客户端还在',
    'the firewall forgot the idle connections it did not hear from':
        '防火墙忘掉了那些一直没有动静的空闲连接',
    "after the idle period, the firewall drops the silent connection's data":
        '空闲期过后，防火墙丢弃了那条沉默连接上的数据',
    'the client resends the same bytes: a tail loss probe, then retransmissions, each timeout'
    ' double the one before':
        '客户端重发同样的字节：先是一次尾部丢包探测 (TLP)，然后是重传，每次超时都是上一次的两'
        '倍',
    'the client gives up with ETIMEDOUT after its TCP_USER_TIMEOUT':
        '客户端在 TCP_USER_TIMEOUT 到期后以 ETIMEDOUT 放弃',
    'the server never learns: nothing arrives, its socket stays ESTABLISHED':
        '服务器始终不知情：什么也没收到，它的套接字一直处于 ESTABLISHED',
    'keepalive probes carry no data and the sequence number SND.NXT − 1':
        'keepalive 探测不带数据，序列号为 SND.NXT − 1',
    "the server's kernel answers each probe with an ACK":
        '服务器内核对每个探测都回一个 ACK',
    'the kept connection still works after the idle period':
        '被保活的连接在空闲期过后仍然可用',
    'the connection starts as an HTTP/1.1 GET asking to upgrade':
        '连接以一个请求协议升级的 HTTP/1.1 GET 开始',
    "the server answers 101 with the key's SHA-1 + GUID, base64":
        '服务器应答 101，带上密钥加 GUID 的 SHA-1 的 base64 编码',
    'every client frame is masked, no server frame is (RFC 6455 §5.1)':
        '客户端的每一帧都做了掩码，服务器的帧都没有（RFC 6455 §5.1）',
    'each ping is answered by a pong with the same payload':
        '每个 ping 都得到一个载荷相同的 pong',
    "the server's application answered over the same connection":
        '服务器的应用程序在同一条连接上作了应答',
    'the closing handshake: a close frame each way, code 1000':
        '关闭握手：双方各发一个关闭帧，状态码 1000',
    "socket() returns a file descriptor, a small integer like open()'s":
        'socket() 返回一个文件描述符，和 open() 返回的一样是个小整数',
    'accept() returns a new descriptor; the listening one stays in LISTEN':
        'accept() 返回一个新的描述符；监听套接字仍处于 LISTEN',
    'socket(), bind(), listen(), accept() and recv() put nothing on the wire':
        'socket()、bind()、listen()、accept() 和 recv() 不会往线路上发送任何东西',
    'connect() causes the three-way handshake (RFC 9293 §3.5)':
        'connect() 引发三次握手（RFC 9293 §3.5）',
    "send() causes a data segment, and the peer's kernel acknowledges it":
        'send() 引发一个数据报文段，对端内核对它作出确认',
    "close() sends FIN; the peer's recv() then returns b'' (end of stream)":
        "close() 发送 FIN；随后对端的 recv() 返回 b''（流结束）",
    'UDP: no handshake, no teardown; only datagrams cross the wire':
        'UDP：没有握手，没有挥手；线路上只有数据报',
    'UDP keeps message boundaries: three sendto(), three recvfrom()':
        'UDP 保留消息边界：三次 sendto()，三次 recvfrom()',
    'a datagram to a closed port gets ICMP port unreachable (RFC 792, 1122)':
        '发往未监听端口的数据报会收到 ICMP 端口不可达（RFC 792、1122）',
    'on a connected UDP socket, the next call raises ConnectionRefusedError':
        '在已连接的 UDP 套接字上，下一次调用抛出 ConnectionRefusedError',
    'one API: the same calls work over TCP and UDP, IPv4 and IPv6, and Unix domain sockets':
        '同一套 API：同样的调用适用于 TCP 和 UDP、IPv4 和 IPv6，以及 Unix 域套接字',
    'IP sockets cross an interface; Unix domain sockets never do':
        'IP 套接字要经过网络接口；Unix 域套接字从不经过',
    'when the passive side closes later, closing takes four segments: FIN → ACK, then FIN → ACK':
        '被动关闭方稍后才关闭时，关闭连接需要四个报文段：FIN → ACK，然后 FIN → ACK',
    'active closer: ESTABLISHED → FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT; passive closer: ESTABLISHED'
    ' → CLOSE_WAIT → LAST_ACK → CLOSED':
        '主动关闭方：ESTABLISHED → FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT；被动关闭方：ESTABLISHED'
        ' → CLOSE_WAIT → LAST_ACK → CLOSED',
    'after shutdown(SHUT_WR) the server reads EOF, yet still sends data, which the client (in'
    ' FIN_WAIT_2) receives':
        'shutdown(SHUT_WR) 之后，服务器读到 EOF，却仍在发送数据，处于 FIN_WAIT_2 的客户端照样'
        '收到',
    'a server that closes as soon as it reads EOF puts its FIN on the ACK: three segments, and'
    ' the client skips FIN_WAIT_2':
        '服务器一读到 EOF 就关闭，它的 FIN 搭上了 ACK：只有三个报文段，客户端跳过了 FIN_WAIT_2',
    'when both close at once, both pass through CLOSING and both end in TIME_WAIT':
        '双方同时关闭时，两边都经过 CLOSING，最后都进入 TIME_WAIT',
    'the active closer stays in TIME_WAIT for 60 s on Linux, not 2 × MSL (240 s by RFC 9293)':
        '在 Linux 上，主动关闭方在 TIME_WAIT 停留 60 秒，而不是 2 × MSL（按 RFC 9293 为 240 '
        '秒）',
    'when the last ACK is lost, the FIN comes again and the TIME_WAIT side answers it (restarting'
    ' its timer)':
        '最后一个 ACK 丢失时，FIN 会再来一次，处于 TIME_WAIT 的一方再次应答（并重启计时器）',
    'a restarted server binds its port while its old connections are in TIME_WAIT only if the'
    ' old and the new listener set SO_REUSEADDR':
        '旧连接还处于 TIME_WAIT 时，重启的服务器只有在新旧监听套接字都设置了 SO_REUSEADDR 时'
        '才能绑定端口',
    "a server that never calls close() keeps CLOSE_WAIT with no timer, "
    "while the client's FIN_WAIT_2"
    ' times out':
        '从不调用 close() 的服务器一直停在 CLOSE_WAIT，没有任何计时器；而客户端的 FIN_WAIT_2 '
        '会超时',
    'close() with SO_LINGER {on, 0 s} sends RST, not FIN; the peer gets ConnectionResetError '
    'and neither side keeps TIME_WAIT':
        '设置 SO_LINGER {on, 0 s} 后，close() 发送的是 RST 而不是 FIN；'
        '对端得到 ConnectionResetError'
        '，双方都不留 TIME_WAIT',
    'close() with received data left unread sends RST too':
        '还有收到的数据没读完就 close()，同样会发送 RST',
    "every state change follows RFC 9293's state diagram":
        '每一次状态转换都符合 RFC 9293 的状态图',
    'connect() is what starts the handshake':
        '握手是由 connect() 发起的',
    "the SYN-ACK acknowledges the client's ISN + 1":
        'SYN-ACK 确认的是客户端的 ISN + 1',
    "the final ACK acknowledges the server's ISN + 1":
        '最后的 ACK 确认的是服务器的 ISN + 1',
    'the handshake carries no data':
        '握手不携带数据',
    'the kernel completes the handshake before accept() is called':
        '在调用 accept() 之前，内核就已完成握手',
    'client: CLOSED → SYN_SENT → ESTABLISHED; server: LISTEN → SYN_RECV → ESTABLISHED':
        '客户端：CLOSED → SYN_SENT → ESTABLISHED；服务器：LISTEN → SYN_RECV → ESTABLISHED',
    'a SYN to a port with no listener is answered by RST (ConnectionRefusedError)':
        '发往无人监听端口的 SYN 得到 RST 应答（ConnectionRefusedError）',
    'a SYN that gets no answer leaves the client in SYN_SENT, retransmitting':
        '得不到应答的 SYN 让客户端停在 SYN_SENT，不断重传',
}

_CATALOGS = {"zh_CN": ZH_CN}


def language() -> str:
    """The page language of this process: ``NETLAB_DOCS_LANG``, English by default."""
    return os.environ.get("NETLAB_DOCS_LANG", "en").replace("-", "_")


def tr(text: str, lang: str | None = None, *, context: str | None = None) -> str:
    """``text`` in ``lang`` (the page language by default), or unchanged.

    Args:
        context: where the text is shown (``"packet table"``); an entry for
            ``(context, text)`` wins over one for ``text`` alone.

    >>> tr("len", "zh_CN"), tr("len", "zh_CN", context="packet table")
    ('len', '长度')
    """
    catalog = _CATALOGS.get(lang or language(), {})
    if context is not None and (context, text) in catalog:
        return catalog[(context, text)]
    return catalog.get(text, text)
