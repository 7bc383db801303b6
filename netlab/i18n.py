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
    "about 150 + 50 = 200 ms; this build measured {worst} ms at worst, {median} ms in the "
    "median": "约 150 + 50 = 200 ms；本次构建测得最大 {worst} ms，中位数 {median} ms",
    "an update made just after a poll waits for the next one, then a round trip":
        "一条更新若恰好在某次轮询之后产生，就要等下一次轮询，再加一个往返时间",
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
    # the queues chapter: losses, the two queues, SYN floods
    'SYN intervals (s)': 'SYN 间隔 (s)',
    'SYN-ACK intervals (s)': 'SYN-ACK 间隔 (s)',
    'SYN queue (SYN_RECV)': '半连接队列 (SYN_RECV)',
    'SYN queue': '半连接队列',
    'SYN-ACK options before the flood': '泛洪前 SYN-ACK 的选项',
    'accept queue (Recv-Q)': '全连接队列 (Recv-Q)',
    'backlog (Send-Q)': 'backlog 值 (Send-Q)',
    'clients': '客户端',
    'connect() (s)': 'connect() 耗时 (s)',
    'flood': '泛洪',
    'legitimate client': '正常客户端',
    'lost on the wire': '线路上丢失的报文',
    'no: connect() failed with {error}': '不能：connect() 失败，抛出 {error}',
    'retries of the SYN at a constant 1 s before the timeout doubles':
        '超时翻倍之前，以固定 1 s 间隔重传 SYN 的次数',
    'then accept() (s)': '之后 accept() 耗时 (s)',
    'times the client sends its SYN again before connect() fails':
        'connect() 失败之前，客户端重传 SYN 的次数',
    'times the server sends its SYN-ACK again before it forgets the connection':
        '服务器放弃这个连接之前，重传 SYN-ACK 的次数',
    '{n} SYN-ACK': '{n} 个 SYN-ACK',
    '{n} connections': '{n} 个连接',
    'the first two SYNs': '前两个 SYN',
    'the SYN-ACK': 'SYN-ACK（第二个报文段）',
    'the ACK, client silent': '第三个 ACK，客户端随后不发数据',
    'the ACK, client sends data': '第三个 ACK，客户端随即发送数据',
    'SYN-ACK to the old SYN on the wire': '回应旧 SYN 的 SYN-ACK 在线路上',
    "the client's RST on the wire": '客户端的 RST 在线路上',
    'RST delivered': 'RST 已送达',
    ('The data segment carries the acknowledgment the lost ACK carried, so it '
     'completes the handshake itself.'):
        '数据报文段携带着丢失的 ACK 所携带的同一个确认号，它自己就完成了握手。',
    ('Linux refuses a connection only when the queue already holds more than the '
     'backlog, so it holds backlog + 1.'):
        'Linux 只有在队列中的连接已经多于 backlog 时才拒绝新连接，所以它能容纳 backlog + 1 个。',
    ('The forged SYNs fill the SYN queue and stay there while the server retransmits '
     'its SYN-ACKs; every other SYN is dropped.'):
        '伪造的 SYN 占满了半连接队列，并在服务器重传 SYN-ACK 期间一直占着；其余的 SYN 全被丢弃。',
    'none': '无',
    'connect() succeeded': 'connect() 成功',
    'connection': '连接',
    'SYN carries': 'SYN 携带',
    'SYN-ACK carries': 'SYN-ACK 携带',
    'answer after (ms)': '收到响应用时 (ms)',
    'a cookie': '一个 cookie',
    'a cookie request': 'cookie 请求',
    '{n} bytes of data': '{n} 字节数据',
    'the new SYN was sent again {ms:.1f} ms after the first':
        '新的 SYN 在首次发出后 {ms:.1f} ms 就重传了',
    'after': '之后',
    # the network chapter (netlab.experiments.network)
    "quantity": "指标",
    "configured": "配置值",
    "link rate (Mbit/s)": "链路速率 (Mbit/s)",
    "queue limit (frames)": "队列上限（帧）",
    "frames dropped by the queue": "被队列丢弃的帧",
    "one-way delay, empty queue (ms)": "单向时延，队列为空 (ms)",
    "one-way delay, full queue (ms)": "单向时延，队列已满 (ms)",
    "median one-way delay (ms)": "单向时延中位数 (ms)",
    "misdeed": "故障",
    "the wire counted": "线路计数",
    "the captures show": "抓包所见",
    "chosen segment lost": "丢弃指定报文段",
    "seq {seq} never arrived": "seq {seq} 始终未到达",
    "it arrived": "已到达",
    "random loss": "随机丢包",
    "lost: {n}": "丢失：{n}",
    "held back {ms} ms": "延后 {ms} ms",
    "overtaken: {n}": "被超越：{n}",
    "sent twice": "发送两次",
    "duplicates: {n}": "重复：{n}",
    "segment lost": "丢失的报文段",
    "lost": "丢失",
    "sent again after (ms)": "多久后重发 (ms)",
    "by": "重发方式",
    "in the middle of a flight": "一批报文段的中间",
    "at the tail of a flight": "一批报文段的末尾",
    "alone, again and again": "单个报文段，接连丢失",
    "fast retransmit, after {n} ACKs with SACK ({d} duplicate ACKs)":
        "快速重传，收到 {n} 个带 SACK 的 ACK 之后（其中 {d} 个是重复确认）",
    "the SACK that answers the probe": "探测报文换回的 SACK",
    "a probe, then timeouts that double": "先是探测，然后是逐次翻倍的超时重传",
    "defaults (Nagle on)": "默认设置（Nagle 开启）",
    "segment": "报文段",
    "window (bytes)": "窗口（字节）",
    "window update": "窗口更新",
    "zero window": "零窗口",
    "zero-window probe (client)": "零窗口探测（客户端）",
    "no zero window": "没有出现零窗口",
    "TCP_QUICKACK on the server": "服务器端设置 TCP_QUICKACK",
    "request (ms)": "请求耗时 (ms)",
    "body waits (ms)": "请求体等待 (ms)",
    "server's ACK after (ms)": "服务器多久后 ACK (ms)",
    "about 10 + 10 × 6.06 = 70.6 ms; this build measured {ms} ms":
        "约 10 + 10 × 6.06 = 70.6 ms；本次构建实测 {ms} ms",
    "a segment behind a full queue waits for every frame ahead of it to be sent":
        "排在满队列后面的报文段，要等前面每一帧都发送完",
    "at {left}: the 4th segment, 3 × 1448 + 1": "从 {left} 开始：第 4 个报文段，3 × 1448 + 1",
    "the block names the bytes that arrived beyond the hole": "SACK 块标出的是空洞之后已收到的字节",
    "about 40 ms more than two round trips with the defaults ({slow} ms here), about one round "
    "trip with TCP_NODELAY ({fast} ms here)":
        "默认设置下约为两个往返再加 40 ms（本次 {slow} ms），设置 TCP_NODELAY 后约一个往返"
        "（本次 {fast} ms）",
    "the body waits for the header's ACK, which the server delays":
        "请求体要等请求头的 ACK，而服务器推迟了这个 ACK",
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
