"""The TCP chapters: :mod:`~netlab.experiments.tcp.handshake` (opening) and
:mod:`~netlab.experiments.tcp.teardown` (closing; its private helpers ``_teardown_bench``
and ``_teardown_results`` serve it alone)."""
