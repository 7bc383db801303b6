"""The sockets chapter: :mod:`~netlab.experiments.sockets.socket_api`, system call by system
call."""
