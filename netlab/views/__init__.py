"""Ways to show a trace: a text/HTML table and an SVG ladder diagram."""

from netlab.views.ladder import Ladder
from netlab.views.table import Table

__all__ = ["Table", "Ladder"]
