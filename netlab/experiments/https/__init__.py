"""The HTTPS chapter: :mod:`~netlab.experiments.https.request`, ``certs``, ``eavesdrop`` and
``cost``; ``_lab`` holds what they share (the CA, contexts, flights)."""
