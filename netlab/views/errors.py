"""An error a page shows on purpose: its type and message, never a traceback.

A cell that demonstrates a refusal (a frame too long, a TLS version too old) runs its code
inside :func:`shows`; the page (and its notebook and script downloads, which run from top to
bottom) then prints one line such as ``FramingError: ...``, and the build fails if nothing
was raised.

>>> with shows(ValueError):
...     int("x")
ValueError: invalid literal for int() with base 10: 'x'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["shows"]


@contextmanager
def shows(kind: type[BaseException]) -> Iterator[None]:
    """Run the block, print the ``kind`` error it raises as ``Type: message``; fail if none."""
    try:
        yield
    except kind as error:
        print(f"{type(error).__name__}: {error}")
        return
    raise AssertionError(f"expected {kind.__name__}, nothing was raised")
