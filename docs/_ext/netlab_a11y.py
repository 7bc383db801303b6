"""Accessibility fixes to the HTML that Sphinx and furo write, made once the build is done.

axe-core (run on every page by tests/test_browser.py) finds these in the theme's markup,
which no page source controls:

- toctree captions (``<p class="caption" role="heading">``) name a heading without its
  level (``aria-level`` is required with ``role="heading"``): they are level 2, under the
  page's title;
- code blocks that scroll sideways cannot be reached by the keyboard: each ``<pre>`` gets
  ``tabindex="0"``;
- furo's two ``<aside>`` landmarks (the site navigation and the page's contents) have no
  name, so a screen reader cannot tell them apart;
- the "view this page" icon sits outside every landmark: its container becomes a named
  region;
- the index of highlighted modules (``_modules/index.html``, sphinx.ext.viewcode) puts a
  package's list of modules straight inside the list, after the package's item: it moves
  into that item (a list may hold only items).

Each fix is a plain substitution that leaves an already fixed page as it is, so an
incremental build may run it again.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

# The names, in each language the site is built in.
NAMES = {
    "en": {"nav": "Site navigation", "toc": "On this page", "tools": "Page tools"},
    "zh_CN": {"nav": "站点导航", "toc": "本页目录", "tools": "页面工具"},
}


def fix(page: str, lang: str) -> str:
    """``page`` with the fixes above."""
    names = NAMES.get(lang, NAMES["en"])
    page = re.sub(r'role="heading"(?! aria-level)', 'role="heading" aria-level="2"', page)
    page = re.sub(r"<pre(?![^>]*tabindex)(?=[\s>])", '<pre tabindex="0"', page)
    page = page.replace('<aside class="sidebar-drawer">',
                        f'<aside class="sidebar-drawer" aria-label="{names["nav"]}">')
    page = re.sub(r'<aside class="toc-drawer([^"]*)">',
                  rf'<aside class="toc-drawer\1" aria-label="{names["toc"]}">', page)
    page = page.replace('<div class="content-icon-container">',
                        f'<div class="content-icon-container" role="region" '
                        f'aria-label="{names["tools"]}">')
    return page


def nest_lists(page: str) -> str:
    r"""Move each ``<ul>`` that follows a ``</li>`` into that item.

    >>> nest_lists("<ul><li>a</li>\n<ul><li>b</li>\n</ul>\n<li>c</li></ul>")
    '<ul><li>a\n<ul><li>b</li>\n</ul></li>\n<li>c</li></ul>'
    """
    out, stack, pos = [], [], 0
    for m in re.finditer(r"</li>(\s*)<ul>|<ul[\s>]|</ul>", page):
        out.append(page[pos:m.start()])
        pos = m.end()
        tag = m.group(0)
        if tag.startswith("</li>"):
            out.append(f"{m.group(1)}<ul>")
            stack.append(True)
        elif tag.startswith("<ul"):
            out.append(tag)
            stack.append(False)
        else:
            out.append("</ul></li>" if stack and stack.pop() else "</ul>")
    out.append(page[pos:])
    return "".join(out)


def _fix_pages(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    lang = app.config.language or "en"
    for path in Path(app.outdir).rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        fixed = fix(text, lang)
        if path.name == "index.html" and path.parent.name == "_modules":
            fixed = nest_lists(fixed)
        if fixed != text:
            path.write_text(fixed, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("build-finished", _fix_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
