"""The built site in a real browser: Debian's headless Chromium, driven by Playwright.

The pages are found in the built site (docs/_build/html, made by scripts/build-site.sh, which
scripts/test.sh runs before pytest), so a new chapter is covered without touching this file;
what a page should show is read from the page too (a ladder's ``data-segments`` says how many
arrows it draws). The site is served by a local HTTP server on 127.0.0.1 in a thread; every
request the browser makes is recorded, and one to any other host fails the test (Chromium's
resolver is also told to resolve nothing, so a stray request cannot leave the machine).

Screenshots of the chapter pages go to docs/_build/screenshots/ (ignored by git), as the
artifacts of the run.

Without a built site these tests skip, saying how to build it, except in CI (``CI=true``),
where a missing site is a failure.
"""

from __future__ import annotations

import ast
import http.server
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    sync_playwright,
)

SITE = Path(__file__).resolve().parent.parent / "docs" / "_build" / "html"
SHOTS = SITE.parent / "screenshots"
LANGS = {"en": "en", "zh_CN": "zh-CN"}  # build directory -> <html lang>
CHROMIUM = Path("/usr/bin/chromium")

if not all((SITE / lang / "index.html").exists() for lang in LANGS):
    reason = f"the site is not built in {SITE}: run `sudo bash scripts/build-site.sh` first"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {reason} (scripts/test.sh builds it before pytest)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)
if not CHROMIUM.exists():
    reason = f"{CHROMIUM} is missing: install Debian's chromium package (scripts/setup.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)


# Flags that keep a root, headless Chromium quiet and local (without the background-networking
# ones it contacts Google's servers for components, safe browsing and sync).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def _pages(lang: str) -> list[str]:
    """Every HTML page of one language, as a path below the site root (``en/sockets.html``)."""
    root = SITE / lang
    return sorted(
        str(p.relative_to(SITE)) for p in root.rglob("*.html")
        if p.relative_to(root).parts[0] not in ("_static", "_sources", "_downloads")
    )


def _text(page: str) -> str:
    return (SITE / page).read_text(encoding="utf-8")


ALL_PAGES = [p for lang in LANGS for p in _pages(lang)]
CONTENT_PAGES = [p for p in ALL_PAGES if "/_modules/" not in p]
CHAPTERS = [p for p in ALL_PAGES if '<p class="netlab-page-downloads"' in _text(p)]  # cells
LADDER_PAGES = [p for p in ALL_PAGES if '<svg xmlns="http://www.w3.org/2000/svg" '
                'class="netlab-ladder"' in _text(p)]
CODE_PAGES = [p for p in CONTENT_PAGES if '<div class="highlight' in _text(p)]
INSPECT_PAGES = [p for p in CONTENT_PAGES if '<a class="netlab-inspect"' in _text(p)]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    """The site, served on 127.0.0.1 (an ephemeral port) for as long as the module runs."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for every test of the module (Playwright gives it a fresh,
    temporary profile)."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                              timeout=30_000)
        try:
            yield b
        finally:
            b.close()


@dataclass
class _Log:
    """What the browser reported while a test ran."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def request(self, req: Request) -> None:
        self.requests.append(req.url)
        scheme = urlsplit(req.url).scheme
        if scheme in ("data", "blob", "about"):
            return
        if not req.url.startswith(self.origin + "/"):
            self.foreign.append(req.url)

    def console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.console_errors.append(f"{msg.text} ({msg.location.get('url')})")


@pytest.fixture
def context(browser: Browser, origin: str) -> Iterator[tuple[BrowserContext, _Log]]:
    log = _Log(origin)
    ctx = browser.new_context(base_url=origin, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    ctx.on("request", log.request)
    # A request cut short because the test went on to the next page (the icon, fetched after
    # the load event) is not a failure of the site.
    ctx.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"
           and log.failed.append(f"{r.url}: {r.failure}"))
    ctx.on("response", lambda r: r.status >= 400 and log.failed.append(f"{r.url}: {r.status}"))
    ctx.on("console", log.console)
    ctx.on("weberror", lambda e: log.page_errors.append(str(e.error)))
    try:
        yield ctx, log
    finally:
        ctx.close()


def _open(ctx: BrowserContext, page_path: str) -> Page:
    page = ctx.new_page()
    page.goto("/" + page_path, wait_until="load")
    return page


def _assert_clean(log: _Log, what: str) -> None:
    assert not log.foreign, f"{what}: requests to another host: {log.foreign}"
    assert not log.failed, f"{what}: failed requests: {log.failed}"
    assert not log.console_errors, f"{what}: console errors: {log.console_errors}"
    assert not log.page_errors, f"{what}: uncaught errors: {log.page_errors}"


def test_pages_were_found() -> None:
    """The discovery above found the site's pages (so the tests below are not vacuous)."""
    for lang in LANGS:
        assert f"{lang}/index.html" in ALL_PAGES and f"{lang}/search.html" in ALL_PAGES
    assert CHAPTERS and LADDER_PAGES and CODE_PAGES and INSPECT_PAGES
    assert {p.split("/", 1)[0] for p in CHAPTERS} == set(LANGS)


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_loads_with_no_error_and_nothing_remote(
        context: tuple[BrowserContext, _Log], lang: str) -> None:
    ctx, log = context
    page = ctx.new_page()
    root = ["index.html#choose"] if lang == "en" else []  # the site's root page, once
    for path in root + [p for p in ALL_PAGES if p.startswith(lang + "/")]:
        page.goto("/" + path, wait_until="load")
        if path in root:
            assert page.locator('a[href="zh_CN/index.html"]').is_visible()
        else:
            assert page.evaluate("document.documentElement.lang") == LANGS[lang], path
        _assert_clean(log, path)
    assert log.requests  # the log saw the traffic at all


@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_language_switcher_leads_to_the_same_page(
        context: tuple[BrowserContext, _Log], path: str) -> None:
    ctx, log = context
    lang, rest = path.split("/", 1)
    other = next(code for code in LANGS if code != lang)
    page = _open(ctx, path)
    page.locator(f'a.netlab-language[hreflang="{LANGS[other]}"]').first.click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path == f"/{other}/{rest}"
    assert page.evaluate("document.documentElement.lang") == LANGS[other]
    _assert_clean(log, path)


@pytest.mark.parametrize("path", LADDER_PAGES)
def test_ladders_render_every_arrow_the_page_says(
        context: tuple[BrowserContext, _Log], path: str) -> None:
    ctx, log = context
    page = _open(ctx, path)
    ladders = page.locator("svg.netlab-ladder")
    assert ladders.count() > 0
    for i in range(ladders.count()):
        svg = ladders.nth(i)
        box = svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50, (path, i)
        expected = int(svg.get_attribute("data-segments") or "-1")
        arrows = svg.locator("g.segment")
        assert arrows.count() == expected > 0, (path, i)
        drawn = svg.evaluate("""s => [...s.querySelectorAll('g.segment line')]
            .map(l => l.getBBox()).filter(b => b.width > 0 || b.height > 0).length""")
        assert drawn == expected, (path, i)
        # the text alternative names every segment
        assert svg.locator("desc").text_content()
    _assert_clean(log, path)


def _entry_of(page: Page, link_selector: str, index: int) -> tuple[Locator, Locator]:
    link = page.locator(link_selector).nth(index)
    target = (link.get_attribute("href") or "").removeprefix("#")
    entry = page.locator(f"#{target}").locator("xpath=ancestor::details[1]")
    return link, entry


@pytest.mark.parametrize("path", INSPECT_PAGES)
def test_packet_inspector_opens_by_click_and_by_keyboard(
        context: tuple[BrowserContext, _Log], path: str) -> None:
    ctx, log = context
    page = _open(ctx, path)
    arrows = "svg.netlab-ladder a.netlab-inspect"
    rows = "table.netlab-table a.netlab-inspect"
    assert page.locator(arrows).count() + page.locator(rows).count() > 0

    if page.locator(arrows).count():
        link, entry = _entry_of(page, arrows, 0)
        assert not entry.evaluate("d => d.open")
        link.locator("line.netlab-hit").click()  # on the arrow itself, as a reader clicks
        assert entry.evaluate("d => d.open")
        assert entry.locator("table.netlab-fields").is_visible()
        assert "TCP" in entry.locator("table.netlab-fields").inner_text()
        assert re.match(r"0000  [0-9a-f]{2} ", entry.locator("pre.netlab-bytes").inner_text())
        link.locator("line.netlab-hit").click()
        assert not entry.evaluate("d => d.open")
        # keyboard: focus an arrow, press Enter
        link, entry = _entry_of(page, arrows, page.locator(arrows).count() - 1)
        link.focus()
        page.keyboard.press("Enter")
        assert entry.evaluate("d => d.open")
        assert link.get_attribute("aria-expanded") == "true"

    if page.locator(rows).count():  # a table row's number does the same
        link, entry = _entry_of(page, rows, 0)
        link.focus()
        page.keyboard.press("Enter")
        assert entry.evaluate("d => d.open")
        assert entry.locator("pre.netlab-bytes").is_visible()
    _assert_clean(log, path)


@pytest.mark.parametrize("path", CODE_PAGES)
def test_copy_button_on_every_code_block(context: tuple[BrowserContext, _Log], path: str) -> None:
    ctx, log = context
    page = _open(ctx, path)
    blocks = page.locator("div.highlight pre")
    page.wait_for_function("() => document.querySelectorAll('button.copybtn').length > 0")
    assert blocks.count() > 0
    assert page.locator("div.highlight button.copybtn").count() == blocks.count()
    _assert_clean(log, path)


def test_copy_button_copies_the_command_without_its_prompt(
        browser: Browser, origin: str) -> None:
    ctx = browser.new_context(base_url=origin, permissions=["clipboard-read", "clipboard-write"])
    try:
        page = _open(ctx, "en/handshake.html")
        block = page.locator("div.highlight-console", has_text="netlab run handshake").first
        block.hover()
        block.locator("button.copybtn").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == "sudo .venv/bin/netlab run handshake --pcap handshake.pcap"
    finally:
        ctx.close()


@pytest.mark.parametrize(("lang", "query", "expected"), [
    ("zh_CN", "三次握手", "handshake.html"),
    ("en", "retransmission", "handshake.html"),
])
def test_search_finds_a_term(context: tuple[BrowserContext, _Log], lang: str, query: str,
                             expected: str) -> None:
    ctx, log = context
    page = _open(ctx, f"{lang}/search.html?q={query}")
    results = page.locator("ul.search li a")
    # Sphinx lists the results one by one and stops its "searching" pulse when all are shown
    page.wait_for_function("() => document.querySelectorAll('ul.search li').length > 0"
                           " && Search._pulse_status === -1")
    hrefs = [results.nth(i).get_attribute("href") or "" for i in range(results.count())]
    assert any(h.split("?")[0].split("#")[0].endswith(expected) for h in hrefs), hrefs
    _assert_clean(log, f"search {query}")


@pytest.mark.parametrize("path", CHAPTERS)
def test_chapter_downloads_work_offline(context: tuple[BrowserContext, _Log], path: str) -> None:
    """The page's notebook, script and pcaps come from the local site (or the page itself)."""
    ctx, log = context
    page = _open(ctx, path)
    links = page.locator("p.netlab-page-downloads a")
    assert links.count() == 2
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(2)]
    assert hrefs[0].endswith(".ipynb") and hrefs[1].endswith(".py")
    base = page.url.rsplit("/", 1)[0] + "/"
    notebook = ctx.request.get(base + hrefs[0])
    script = ctx.request.get(base + hrefs[1])
    assert notebook.ok and script.ok
    cells = json.loads(notebook.text())["cells"]
    assert cells and all(c["cell_type"] == "code" for c in cells)
    ast.parse(script.text())  # a valid Python script
    pcaps = page.locator("p.netlab-download a[download]")
    for i in range(pcaps.count()):
        assert (pcaps.nth(i).get_attribute("href") or "").startswith("data:")
    _assert_clean(log, path)


@pytest.mark.parametrize("path", CHAPTERS)
def test_screenshot_of_each_chapter(context: tuple[BrowserContext, _Log], path: str) -> None:
    ctx, log = context
    page = _open(ctx, path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / (path.replace("/", "-").removesuffix(".html") + ".png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    _assert_clean(log, path)
