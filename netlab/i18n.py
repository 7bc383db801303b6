"""The words netlab prints, in the language of the page being built, from a gettext catalog.

The docs build exports ``NETLAB_DOCS_LANG`` (``en`` or ``zh_CN``) to the kernels that run the
pages, so a table on a Chinese page has Chinese column headings. English is the source
language: an English page prints each text as it is written in the code. Every other language
reads the compiled catalog shipped with the package,
``netlab/locale/<lang>/LC_MESSAGES/netlab.mo``, made from the ``netlab.po`` beside it. Protocol
words (SYN, seq, ESTABLISHED) stay in English in both languages, as Chinese engineers write
them, so they are not messages at all.

The catalog is extracted from literal strings only, by Babel (``pybabel extract`` with the
mapping and keywords of ``[tool.babel]`` in ``pyproject.toml``;
``python scripts/check_translations.py --update`` runs it):

* ``tr("text")`` for a message;
* ``ptr("context", "text")`` where one English text needs two translations: the "len" of a
  UDP packet table is 长度, while a TCP segment table keeps len beside seq, ack and win
  (``tr(text, context=...)`` reads the same entry, but only ``ptr`` is extracted);
* ``ntr("{n} segment", "{n} segments", n)`` for a count;
* ``N_("text")`` marks a text kept in a table or a constant and translated later by
  ``tr(variable)``: it returns the text unchanged.

A text in ``{braces}`` is a :meth:`str.format` template: translate first, then format, so
the catalog holds the template (``tr("{n} bytes").format(n=3)``).

>>> from netlab.i18n import tr
>>> tr("direction", "zh_CN"), tr("direction", "en"), tr("SYN", "zh_CN")
('方向', 'direction', 'SYN')
"""

from __future__ import annotations

import gettext
import io
import os
import re
from collections.abc import Collection, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["DOMAIN", "LOCALE_DIR", "tr", "ptr", "ntr", "labelled", "N_", "language",
           "extract_myst"]

DOMAIN = "netlab"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def language() -> str:
    """The page language of this process: ``NETLAB_DOCS_LANG``, English by default."""
    return os.environ.get("NETLAB_DOCS_LANG", "en").replace("-", "_")


@cache
def _catalog(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang``; English (the source language) has none."""
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def tr(text: str, lang: str | None = None, *, context: str | None = None) -> str:
    """``text`` in ``lang`` (the page language by default), or unchanged.

    Args:
        context: where the text is shown (``"packet table"``); an entry for
            ``(context, text)`` wins over one for ``text`` alone. Write ``ptr(context,
            text)`` in new code, so that Babel extracts the context too.

    >>> tr("len", "zh_CN"), tr("len", "zh_CN", context="packet table")
    ('len', '长度')
    """
    catalog = _catalog(lang or language())
    if context is not None:
        found = catalog.pgettext(context, text)
        if found != text:
            return found
    return catalog.gettext(text)


def ptr(context: str, text: str, lang: str | None = None) -> str:
    """``text`` as translated for ``context`` (gettext's ``pgettext``).

    >>> ptr("packet table", "len", "zh_CN")
    '长度'
    """
    return tr(text, lang, context=context)


def ntr(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    """The form of a message for the count ``n`` (gettext's ``ngettext``); format it after.

    >>> ntr("{n} segment", "{n} segments", 1, "en").format(n=1)
    '1 segment'
    >>> ntr("{n} segment", "{n} segments", 3, "zh_CN").format(n=3)
    '3 个报文段'
    """
    return _catalog(lang or language()).ngettext(singular, plural, n)


def labelled(name: str, value: str, lang: str | None = None) -> str:
    """``name: value`` with the colon of the page's language (``客户端：ESTABLISHED``)."""
    return tr("{name}: {value}", lang).format(name=name, value=value)


def N_(text: str) -> str:
    """Mark ``text`` for extraction and return it unchanged: it is translated where shown."""
    return text


_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{jupyter-execute\}[^\n]*\n",
                    re.MULTILINE)


def _cells(text: str) -> Iterator[tuple[int, str]]:
    """The code of each ``{jupyter-execute}`` cell of a MyST page, with its first line."""
    for m in _FENCE.finditer(text):
        indent, fence = m["indent"], m["fence"]
        close = re.compile(rf"^{re.escape(indent)}{re.escape(fence)}[ \t]*$", re.MULTILINE)
        end = close.search(text, m.end())
        body = text[m.end():end.start() if end else len(text)]
        first = text.count("\n", 0, m.end()) + 1
        lines = [line[len(indent):] if line.startswith(indent) else line.lstrip()
                 for line in body.splitlines()]
        skipped = 0
        while skipped < len(lines) and re.match(r":[\w-]+:", lines[skipped]):
            skipped += 1  # the cell's options (:hide-code:), not Python
        yield first + skipped, "\n".join(lines[skipped:]) + "\n"


def extract_myst(fileobj: BinaryIO, keywords: Mapping[str, Any],
                 comment_tags: Collection[str], options: Any,
                 ) -> Iterator[tuple[Any, ...]]:
    """A Babel extraction method for the executed cells of a MyST page (``docs/*.md``).

    Each ``{jupyter-execute}`` cell is Python: it is handed to Babel's own Python extractor,
    and the line numbers are those of the page.
    """
    from babel.messages.extract import extract_python

    text = fileobj.read().decode("utf-8")
    for first, code in _cells(text):
        cell = io.BytesIO(code.encode("utf-8"))
        for lineno, *found in extract_python(cell, keywords, comment_tags, options):
            yield (lineno + first - 1, *found)

