"""No English sentences on the built Chinese site, outside code (tests/zh_english.py says what
counts): prose, cell output, SVG text and tooltips, title/aria-label/alt attributes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from zh_english import english_sentences, sentences

SITE = Path(__file__).resolve().parent.parent / "docs" / "_build" / "html" / "zh_CN"
PAGES = sorted(SITE.glob("*.html"))


def test_sentences_are_found() -> None:
    """The detector can fail: the kinds of English the Chinese site used to show."""
    assert sentences("server: ESTABLISHED — ACK delivered, accept() not yet called")
    assert sentences("The FIN reached the server; its ACK left 42 ms later.")
    assert sentences("packets dropped by the firewall: 1")
    html = ('<svg><title>client: CLOSE_WAIT — FIN, ACK arrived at server</title></svg>'
            '<a aria-label="Toggle table of contents sidebar"></a>'
            '<div class="cell_output"><pre>8 connections captured in 1.36 s</pre></div>')
    assert [where for where, _ in english_sentences(html)] == ["title", "a[aria-label]",
                                                               "output"]


def test_what_is_not_an_english_sentence() -> None:
    assert not sentences("SYN, ACK")
    assert not sentences("client → server")
    assert not sentences("rcv ACK of FIN / snd ACK")
    assert not sentences("TCP 保活 (keepalive) 与 HTTP Keep-Alive 是两回事")
    # an RFC quoted in English with its Chinese gloss; a program's message glossed
    assert not sentences("RFC 9293 §3.6：“an operation meaning 'I have no more data to send'”"
                         "（意思是“我没有数据要发了”）")
    assert not sentences("unable to get local issuer certificate（无法取得本地签发者证书）")
    html = ('<pre>print("not in a cell output, so code")</pre>'
            '<p>用 <code>the code is not prose</code> 读</p>'
            '<div class="cell_output"><pre>data=b\'Hello from the lab server\'</pre></div>')
    assert english_sentences(html) == []


@pytest.mark.skipif(not PAGES and os.environ.get("CI") != "true",
                    reason="the site is not built: run `sudo bash scripts/build-site.sh` first")
def test_site_was_built() -> None:
    assert len(PAGES) >= 10


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_no_english_sentences_on_a_chinese_page(page: Path) -> None:
    found = english_sentences(page.read_text(encoding="utf-8"))
    assert found == [], "\n".join(f"[{where}] {sentence}" for where, sentence in found)


# The theme's own words around every page: too short to count as sentences above.
THEME_ENGLISH = ("Skip to content", "Copyright ", "</a>'s", "Made with")


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_the_theme_speaks_chinese(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert [w for w in THEME_ENGLISH if w in html] == []
