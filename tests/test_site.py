"""Checks on the built bilingual site (docs/_build/html, made by scripts/build-site.sh).

Every English page has a Chinese twin, the sidebar language switcher of every page points at
the page itself and at its twin, ``<html lang>`` is right, and no page or stylesheet loads
anything from another host: the site must work offline.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parent.parent / "docs" / "_build" / "html"
LANGS = {"en": "en", "zh_CN": "zh-CN"}  # build directory -> <html lang>

if not all((SITE / lang / "index.html").exists() for lang in LANGS):
    _reason = f"the site is not built in {SITE}: run `sudo bash scripts/build-site.sh` first"
    if os.environ.get("CI") == "true":  # CI builds the site before pytest: never skip there
        pytest.fail(f"CI: {_reason} (scripts/test.sh builds it before pytest)", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
RESOURCE_TAGS = {"script", "link", "img", "iframe", "source", "audio", "video", "embed", "object"}


class _Page(HTMLParser):
    """The parts of a page these tests look at."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.lang: str | None = None
        self.switcher: list[dict[str, str | None]] = []
        self.resources: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "html":
            self.lang = attr.get("lang")
        if tag == "a" and "netlab-language" in (attr.get("class") or "").split():
            self.switcher.append(attr)
        if tag in RESOURCE_TAGS:
            self.resources += [v for k, v in attrs if k in ("src", "href", "data") and v]


def _pages(lang: str) -> list[Path]:
    root = SITE / lang
    return sorted(
        p for p in root.rglob("*.html") if not p.relative_to(root).parts[0].startswith("_static")
    )


def _parse(path: Path) -> _Page:
    return _Page(path.read_text(encoding="utf-8"))


def test_every_english_page_has_a_chinese_twin() -> None:
    missing = [
        str(p.relative_to(SITE / "en"))
        for p in _pages("en")
        if not (SITE / "zh_CN" / p.relative_to(SITE / "en")).exists()
    ]
    assert not missing
    assert len(_pages("en")) == len(_pages("zh_CN"))


@pytest.mark.parametrize("lang", LANGS)
def test_switcher_links_the_same_page_in_both_languages(lang: str) -> None:
    for page in _pages(lang):
        rel = page.relative_to(SITE / lang)
        links = _parse(page).switcher
        assert [a["lang"] for a in links] == list(LANGS.values()), page
        for link, target_lang in zip(links, LANGS, strict=True):
            href = link["href"]
            assert href is not None, page
            target = (page.parent / href).resolve()
            assert target == (SITE / target_lang / rel).resolve(), (page, href)
            assert target.exists(), (page, href)
            current = target_lang == lang
            assert (link.get("aria-current") == "page") is current, (page, link)


@pytest.mark.parametrize("lang", LANGS)
def test_html_lang_attribute(lang: str) -> None:
    for page in _pages(lang):
        assert _parse(page).lang == LANGS[lang], page


def test_root_page_leads_to_both_languages() -> None:
    text = (SITE / "index.html").read_text(encoding="utf-8")
    for lang in LANGS:
        assert f'href="{lang}/index.html"' in text
    assert (SITE / ".nojekyll").exists()  # GitHub Pages would hide _static/ without it


def test_no_page_loads_anything_from_another_host() -> None:
    pages = [SITE / "index.html", *(p for lang in LANGS for p in _pages(lang))]
    remote = [(str(p.relative_to(SITE)), r) for p in pages for r in _parse(p).resources]
    assert not [(p, r) for p, r in remote if REMOTE.match(r)]


def test_no_stylesheet_loads_anything_from_another_host() -> None:
    css_url = re.compile(r"(url\(\s*['\"]?|@import\s+['\"])\s*(https?:)?//", re.IGNORECASE)
    found = [
        str(css.relative_to(SITE))
        for lang in LANGS
        for css in (SITE / lang / "_static").rglob("*.css")
        if css_url.search(css.read_text(encoding="utf-8"))
    ]
    assert not found
