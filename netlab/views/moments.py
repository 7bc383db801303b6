"""Moments in the page's language: what had happened when both kernels' states were read."""

from __future__ import annotations

from netlab.i18n import tr
from netlab.model.moments import TEMPLATES, Happening, Moment

__all__ = ["happening_text", "moment_text"]


def happening_text(h: Happening) -> str:
    """One happening: its kind's template translated, the host too; the detail as it is."""
    if h.kind == "sentence":
        return tr(h.detail)
    return tr(TEMPLATES[h.kind]).format(host=tr(h.host), detail=h.detail)


def moment_text(moment: Moment) -> str:
    """A moment's happenings in time order, in the page's language.

    >>> from netlab.model.moments import Happening, Moment
    >>> from netlab.views.moments import moment_text
    >>> m = Moment((Happening.call("client", "close()"), Happening.arrival("FIN", "server")))
    >>> moment_text(m)
    'client calls close(); FIN arrived at server'
    """
    return tr("; ").join(happening_text(h) for h in moment.happenings)
