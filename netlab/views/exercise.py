"""The answer of a "predict, then check" exercise, hidden until the reader opens it.

A chapter asks its question in prose (so it is translated with the page) and prints the answer
from the live data of the build in a cell: the answer a reader checks against is the one this
very build measured, never one typed into the page. On the page the answer is an HTML
``<details>`` element, which every browser opens and closes without any script, and which a
keyboard reaches and opens like a button.

>>> from netlab.views.exercise import Answer
>>> a = Answer("ack = 1", because="the SYN occupies one sequence number")
>>> print(a)
ack = 1 (the SYN occupies one sequence number)
>>> html = a._repr_html_()
>>> html.startswith('<details class="netlab-answer">') and "<summary>" in html
True
"""

from __future__ import annotations

import html

from netlab.i18n import tr

__all__ = ["Answer"]


class Answer:
    """The answer to an exercise: what the build observed, and why it had to be so."""

    def __init__(self, observed: str, *, because: str = "") -> None:
        self.observed = observed
        self.because = because

    def __str__(self) -> str:
        return f"{self.observed} ({self.because})" if self.because else self.observed

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        why = f"<p>{html.escape(self.because)}</p>" if self.because else ""
        answer = tr("Answer")
        return (f'<details class="netlab-answer"><summary>{html.escape(answer)}'
                f"</summary><p><strong>{html.escape(self.observed)}</strong></p>{why}</details>")
