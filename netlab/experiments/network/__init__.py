"""When the network misbehaves: a bottleneck with a queue, loss, reordering and duplication;
Nagle's algorithm against delayed ACKs."""
