"""The HTTP chapter: :mod:`~netlab.experiments.http.basics`, ``costs``, ``head_of_line``,
``robustness``, ``eavesdrop``, and :mod:`~netlab.experiments.http.chapter`, which runs them all."""
