"""The long-lived connections chapter: :mod:`~netlab.experiments.longlived.idle`,
``heartbeat``, ``push`` and ``websocket``."""
