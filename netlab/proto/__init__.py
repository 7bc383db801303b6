"""Application protocols on top of the lab's TCP connections: HTTP/1.1 (h11) and more."""
