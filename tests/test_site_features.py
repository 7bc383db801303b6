"""The built site's reader features, checked in its HTML: downloads, inspector, exercises, glossary.

Pages are found in the built site (docs/_build/html) and the chapters in the "Chapters" table
of contents of docs/index.md, so a new chapter is checked without a change here. The
browser-side behaviour (clicks, keyboard, rendering) is in tests/test_browser.py.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "docs" / "_build" / "html"
LANGS = ("en", "zh_CN")

if not all((SITE / lang / "index.html").exists() for lang in LANGS):
    reason = f"the site is not built in {SITE}: run `sudo bash scripts/build-site.sh` first"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def _chapters() -> list[str]:
    """The pages of the "Chapters" toctree of docs/index.md."""
    text = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    block = re.search(r"```\{toctree\}\n((?::[^\n]*\n)*):caption: Chapters\n(.*?)```", text,
                      re.DOTALL)
    assert block, "docs/index.md has no toctree captioned Chapters"
    return [line.strip() for line in block[2].splitlines()
            if line.strip() and not line.startswith(":")]


CHAPTERS = _chapters()


class _Elements(HTMLParser):
    """Every start tag of a page, with its attributes, and the text inside given tags."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        self.tags.append((tag, attr))
        if attr.get("id"):
            self.ids.add(str(attr["id"]))

    def having(self, tag: str, cls: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and cls in (a.get("class") or "").split()]


def _page(lang: str, name: str) -> _Elements:
    return _Elements((SITE / lang / name).read_text(encoding="utf-8"))


def _pages(lang: str) -> list[str]:
    root = SITE / lang
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.html")
                  if p.relative_to(root).parts[0] not in ("_static", "_sources", "_modules"))


def test_chapters_were_found() -> None:
    assert {"sockets", "handshake", "teardown"} <= set(CHAPTERS)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_offers_itself_as_notebook_and_script(lang: str, chapter: str) -> None:
    page = _page(lang, f"{chapter}.html")
    links = [a["href"] for t, a in page.tags if t == "a" and a.get("href")
             and "download" in (a.get("class") or "").split()]
    notebook = next(h for h in links if h and h.endswith(f"/netlab-{chapter}.ipynb"))
    script = next(h for h in links if h and h.endswith(f"/netlab-{chapter}.py"))
    assert notebook.startswith("_downloads/") and script.startswith("_downloads/")
    nb = json.loads((SITE / lang / notebook).read_text(encoding="utf-8"))
    source = "".join("".join(c["source"]) for c in nb["cells"])
    assert "from netlab" in source and ("require(" in source or "assert" in source)  # checks too
    outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]], ensure_ascii=False)
    has_chinese = re.search(r"[\u4e00-\u9fff]", outputs) is not None
    assert has_chinese == (lang == "zh_CN"), "the notebook was run in the page's language"
    compile((SITE / lang / script).read_text(encoding="utf-8"), script, "exec")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_offers_the_capture_of_its_experiment(lang: str, chapter: str) -> None:
    """A pcap of this build's capture, inside the page (a data: URL: it works offline)."""
    page = _page(lang, f"{chapter}.html")
    pcaps = [a for t, a in page.tags if t == "a" and "download" in a
             and (a.get("href") or "").startswith("data:application/vnd.tcpdump.pcap;base64,")]
    assert pcaps, f"{chapter}: no pcap download (pcap_download(trace, ...))"
    assert all((a["download"] or "").endswith(".pcap") for a in pcaps)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_ends_with_exercises_closed_until_opened(lang: str, chapter: str) -> None:
    text = (SITE / lang / f"{chapter}.html").read_text(encoding="utf-8")
    answers = _Elements(text).having("details", "netlab-answer")
    assert len(answers) >= 2, f"{chapter}: 2–3 'predict, then check' exercises expected"
    assert all("open" not in a for a in answers)
    # at the end: only the closing sections (the capture to open, how to run it) may follow
    last = text.rindex('class="netlab-answer"')
    assert text[last:].count("<h2") <= 2, f"{chapter}: the exercises are not near the end"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_links_the_glossary(lang: str, chapter: str) -> None:
    page = _page(lang, f"{chapter}.html")
    terms = [a["href"] for t, a in page.tags if t == "a" and (a.get("href") or "").startswith(
        "glossary.html#term-")]
    assert terms, f"{chapter} links no glossary term: use {{term}}`...` on a term's first use"


@pytest.mark.parametrize("lang", LANGS)
def test_every_glossary_link_lands_on_a_term(lang: str) -> None:
    glossary = _page(lang, "glossary.html")
    for name in _pages(lang):
        for tag, attr in _page(lang, name).tags:
            href = attr.get("href") or ""
            if tag == "a" and "glossary.html#" in href:
                anchor = href.rsplit("#", 1)[1]
                assert anchor in glossary.ids, (name, href)


def test_glossary_pairs_every_term_in_both_languages() -> None:
    terms = {}
    for lang in LANGS:
        text = (SITE / lang / "glossary.html").read_text(encoding="utf-8")
        terms[lang] = re.findall(r'<dt id="(term-[^"]+)">(.*?)<a class="headerlink"', text)
    assert len(terms["en"]) >= 30
    assert [i for i, _ in terms["en"]] == [i for i, _ in terms["zh_CN"]]  # same anchors
    for (_, en), (_, zh) in zip(terms["en"], terms["zh_CN"], strict=True):
        assert re.search(r"[\u4e00-\u9fff]", zh), (en, zh)  # the Chinese term on the Chinese page
    en_text = (SITE / "en" / "glossary.html").read_text(encoding="utf-8")
    zh_text = (SITE / "zh_CN" / "glossary.html").read_text(encoding="utf-8")
    assert en_text.count("简体中文：") == zh_text.count("English: ") == len(terms["en"])


@pytest.mark.parametrize("lang", LANGS)
def test_every_view_has_its_inspector_entries(lang: str) -> None:
    """Each ladder and packet table says how many segments it shows and links each one to an
    entry that exists on the page: in the inspector after it, or after the first view of the
    page that shows the same segment (one entry per packet: tests/test_site_runs.py)."""
    views = 0
    for name in _pages(lang):
        text = (SITE / lang / name).read_text(encoding="utf-8")
        page = _Elements(text)
        for tag, attr in page.tags:
            if tag == "a" and "netlab-inspect" in (attr.get("class") or "").split():
                assert (attr.get("href") or "#").lstrip("#") in page.ids, (name, attr)
        declared = [int(n) for n in re.findall(
            r'<(?:svg|table)\b[^>]*\bclass="netlab-(?:ladder|table)"[^>]*\bdata-segments="(\d+)"',
            text)]
        inspectors = [int(n) for n in re.findall(
            r'<details class="netlab-inspector" data-segments="(\d+)"', text)]
        assert 0 < sum(inspectors) <= sum(declared) or not declared, name
        views += len(declared)
    assert views > 0


@pytest.mark.parametrize("lang", LANGS)
def test_highlighted_source_pages_are_netlab_modules_only(lang: str) -> None:
    """The highlighted source pages (viewcode) are netlab's modules and nothing else: Python's
    standard library is not ours to publish (docs/conf.py, ``_only_netlab_sources``)."""
    root = SITE / lang / "_modules"
    pages = {str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.html")} - {"index"}
    assert pages, root
    foreign = sorted(p for p in pages if not p.startswith("netlab/"))
    assert not foreign, foreign
    modules = {str(p.relative_to(REPO).with_suffix("")).removesuffix("/__init__")
               for p in (REPO / "netlab").rglob("*.py")}
    assert pages <= modules, sorted(pages - modules)
