"""The answer of a "predict, then check" exercise, hidden until the reader opens it.

A chapter asks its question in prose (so it is translated with the page) and prints the answer
from the live data of the build in a cell: the answer a reader checks against is the one this
very build measured, never one typed into the page. On the page the answer is an HTML
``<details>`` element, which every browser opens and closes without any script, and which a
keyboard reaches and opens like a button.

An answer may also be one the reader gives: a number (``number=``, within ``tolerance``) or
one of a few ``choices``. The page then shows a small form above the disclosure, and
``_static/netlab-exercise.js`` checks what the reader typed or picked against this run's value,
offline, and says whether it is right. Without JavaScript the form stays hidden (it carries
the ``hidden`` attribute until the script removes it) and the disclosure works as before.

>>> from netlab.views.exercise import Answer
>>> a = Answer("ack = 1", because="the SYN occupies one sequence number")
>>> print(a)
ack = 1 (the SYN occupies one sequence number)
>>> html = a._repr_html_()
>>> html.startswith('<div class="netlab-exercise">') and '<details class="netlab-answer">' in html
True
>>> 'data-answer="3"' in Answer("3 segments", number=3)._repr_html_()
True
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence

from netlab.i18n import tr

__all__ = ["Answer"]

_ids = itertools.count(1)


class Answer:
    """The answer to an exercise: what the build observed, and why it had to be so.

    Args:
        observed: this run's answer, in words.
        because: why it had to be so.
        number: the value a reader may type, checked within ``tolerance`` (absolute).
        unit: the unit written after the box (``ms``, ``segments``).
        choices: options a reader picks one of; ``correct`` is the right one.
    """

    def __init__(self, observed: str, *, because: str = "", number: float | None = None,
                 tolerance: float = 0.0, unit: str = "", choices: Sequence[str] = (),
                 correct: str | None = None) -> None:
        if choices and correct not in choices:
            raise ValueError(f"the correct answer {correct!r} is not among {list(choices)!r}")
        if number is not None and choices:
            raise ValueError("an exercise asks for a number or a choice, not both")
        self.observed = observed
        self.because = because
        self.number = number
        self.tolerance = tolerance
        self.unit = unit
        self.choices = tuple(choices)
        self.correct = correct

    def __str__(self) -> str:
        return f"{self.observed} ({self.because})" if self.because else self.observed

    def __repr__(self) -> str:
        return str(self)

    def _form(self) -> str:
        """The reader's answer, checked by the page's script; hidden without it."""
        if self.number is None and not self.choices:
            return ""
        uid = next(_ids)
        right = tr("Right: that is what this run measured.")
        wrong = tr("Not this run’s value: try again, or open the answer.")
        empty, check, yours = tr("Give an answer first."), tr("Check"), tr("Your answer")
        verdicts = (f'data-right="{html.escape(right)}" data-wrong="{html.escape(wrong)}" '
                    f'data-empty="{html.escape(empty)}"')
        button = f'<button type="submit">{html.escape(check)}</button>'
        verdict = '<p class="netlab-verdict" role="status" aria-live="polite"></p>'
        if self.number is not None:
            unit = f" {html.escape(self.unit)}" if self.unit else ""
            return (f'<form class="netlab-quiz" data-kind="number" data-answer="{self.number:g}" '
                    f'data-tolerance="{self.tolerance:g}" {verdicts} hidden>'
                    f'<label for="netlab-quiz-{uid}">{html.escape(yours)}</label> '
                    f'<input id="netlab-quiz-{uid}" type="text" inputmode="decimal" size="10" '
                    f'autocomplete="off">{unit} {button}{verdict}</form>')
        options = "".join(
            f'<label><input type="radio" name="netlab-quiz-{uid}" value="{i}"> '
            f"{html.escape(c)}</label>" for i, c in enumerate(self.choices))
        assert self.correct is not None
        return (f'<form class="netlab-quiz" data-kind="choice" '
                f'data-answer="{self.choices.index(self.correct)}" {verdicts} hidden>'
                f'<fieldset><legend>{html.escape(yours)}</legend>{options}'
                f"</fieldset>{button}{verdict}</form>")

    def _repr_html_(self) -> str:
        why = f"<p>{html.escape(self.because)}</p>" if self.because else ""
        answer = tr("Answer")
        return (f'<div class="netlab-exercise">{self._form()}'
                f'<details class="netlab-answer"><summary>{html.escape(answer)}'
                f"</summary><p><strong>{html.escape(self.observed)}</strong></p>{why}</details>"
                f"</div>")
