"""The lab chapter: :mod:`~netlab.experiments.lab.tour` measures the lab itself."""
