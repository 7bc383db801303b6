"""Ways to show what an experiment observed; a trace holds data, a view draws it.

:mod:`~netlab.views.table` (packet tables, grids), :mod:`~netlab.views.ladder` (SVG ladder
diagrams), :mod:`~netlab.views.inspector` (the packet inspector), :mod:`~netlab.views.message`
(bytes on the wire), :mod:`~netlab.views.chart`, :mod:`~netlab.views.series` (quantities over
time, time–sequence graphs), :mod:`~netlab.views.download`,
:mod:`~netlab.views.exercise`, :mod:`~netlab.views.topology` (the lab),
:mod:`~netlab.views.timeline` (state changes), :mod:`~netlab.views.packets` (any IP packet),
:mod:`~netlab.views.architecture` (this package), :mod:`~netlab.views.pictures` (the queues,
a certificate chain, TLS flows, the layers around a socket, drawn from a run).
"""

from netlab.views.ladder import Ladder
from netlab.views.table import Table

__all__ = ["Table", "Ladder"]
