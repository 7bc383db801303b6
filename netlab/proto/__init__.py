"""Application protocols over any socket in any namespace; none knows the lab.

- :mod:`~netlab.proto.place`: what they need of a place to run (``run``, ``start``, ``address``).
- :mod:`~netlab.proto.server`: a thread per connection, and a stop that ends them all.
- :mod:`~netlab.proto.http`: HTTP/1.1 server and client on h11.
- :mod:`~netlab.proto.http2`: HTTP/2 on h2.
- :mod:`~netlab.proto.tls`: a throwaway CA, contexts, the handshake log.
- :mod:`~netlab.proto.websocket`: WebSocket on wsproto.
- :mod:`~netlab.proto.heartbeat`: a length-prefixed protocol with application heartbeats.
- :mod:`~netlab.proto.framing`: messages over a byte stream (a length prefix).
"""
