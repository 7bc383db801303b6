"""What a capture means: from frames to segments, traces, state timelines, HTTP and TLS.

- :mod:`~netlab.analysis.dissect`: frames to TCP segments (scapy dissects).
- :mod:`~netlab.analysis.trace`: segments merged from several captures into connections.
- :mod:`~netlab.analysis.timeline`: a connection's state changes, replayed through RFC 9293.
- :mod:`~netlab.analysis.ip_packets`: packets of any IP protocol (UDP, ICMP errors).
- :mod:`~netlab.analysis.http_capture`: HTTP exchanges read back from a capture.
- :mod:`~netlab.analysis.tls_decrypt`: TLS records of a capture, decrypted with a key log.
- :mod:`~netlab.analysis.payload`: what segments carry above TCP (TLS and HTTP/1.x), field
  by field, each with its bytes, for the packet inspector.
"""
