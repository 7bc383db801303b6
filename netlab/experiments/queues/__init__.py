"""The handshake's questions: why three segments, what a lost one costs, the kernel's queues."""
