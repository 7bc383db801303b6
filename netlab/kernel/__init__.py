"""Everything that talks to Linux, one job per module.

- :mod:`~netlab.kernel.netns`: anonymous network namespaces, entered one thread at a time.
- :mod:`~netlab.kernel.link`: veth pairs, addresses, checksum offload.
- :mod:`~netlab.kernel.wire`: the userspace wire between two veth ends (delay, loss, rate,
  stepping).
- :mod:`~netlab.kernel.firewall`: nftables with connection tracking, in a namespace.
- :mod:`~netlab.kernel.capture`: AF_PACKET capture and pcap files.
- :mod:`~netlab.kernel.tcp_info`: TCP states from ``/proc/net/tcp`` and ``TCP_INFO``, and a
  sender's congestion window and round trip from ``TCP_INFO``.
- :mod:`~netlab.kernel.sockdiag`: one socket's state through ``sock_diag`` netlink.
- :mod:`~netlab.kernel.units`: durations and rates as people write them (``"25ms"``).
"""
