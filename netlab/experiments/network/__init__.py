"""When the network misbehaves: a bottleneck with a queue, loss, reordering and duplication;
congestion control (reno, cubic, bbr); Nagle's algorithm against delayed ACKs; MSS, MTU and
the path MTU black hole."""
