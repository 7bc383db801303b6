"""An experiment's facts as a checklist: each claim, in the page's language, and whether it held.

A page shows the claims its prose makes with this view, so a reader sees them checked on the
very run the page shows; the build fails before a false one is shown (the page's hidden cell
calls :func:`netlab.experiments.result.require`).

>>> from types import SimpleNamespace as Claim
>>> print(FactList([Claim(text="three segments", holds=True, evidence="", name="a")]))
✓ three segments
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Protocol

from netlab.i18n import tr

__all__ = ["FactList"]


class _Claim(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def holds(self) -> bool: ...
    @property
    def name(self) -> str: ...


class FactList:
    """Some facts of a result (those called ``names``, in that order; all when none)."""

    def __init__(self, facts: Iterable[_Claim], *names: str) -> None:
        everything = list(facts)
        chosen: Sequence[_Claim] = everything
        if names:
            by_name = {f.name: f for f in everything}
            chosen = [by_name[n] for n in names]
        self.facts = list(chosen)

    def __str__(self) -> str:
        return "\n".join(f"{'✓' if f.holds else '✗'} {f.text}" for f in self.facts)

    def _repr_html_(self) -> str:
        held, failed = tr("checked on this run"), tr("does not hold")
        items = "".join(
            f'<li class="{"holds" if f.holds else "fails"}">'
            f'<span aria-label="{html.escape(held if f.holds else failed)}">'
            f"{'✓' if f.holds else '✗'}</span> {html.escape(f.text)}</li>"
            for f in self.facts)
        return f'<ul class="netlab-facts">{items}</ul>'
