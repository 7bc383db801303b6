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
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    sync_playwright,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

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
FIGURE_PAGES = [p for p in CONTENT_PAGES if re.search(
    r'<svg xmlns="http://www.w3.org/2000/svg" class="netlab-(?:ladder|states|topology|picture)',
    _text(p))]
STATE_PAGES = [p for p in CONTENT_PAGES if 'class="netlab-states"' in _text(p)]
PICTURE_PAGES = [p for p in CONTENT_PAGES if 'class="netlab-picture' in _text(p)]


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


def _click_arrow(page: Page, link: Locator) -> None:
    """Click an arrow where nothing lies over it: its words may sit on its middle (a click on
    them opens the same entry, but that is the label's business, not the arrow's)."""
    link.scroll_into_view_if_needed()
    point = link.evaluate("""a => { const l = a.querySelector("line.netlab-hit");
      const m = l.getScreenCTM(), p = l.ownerSVGElement.createSVGPoint();
      const [x1, y1, x2, y2] = ["x1", "y1", "x2", "y2"].map(k => l[k].baseVal.value);
      for (let t = 0.1; t < 0.95; t += 0.05) {
        p.x = x1 + (x2 - x1) * t; p.y = y1 + (y2 - y1) * t;
        const q = p.matrixTransform(m), hit = document.elementFromPoint(q.x, q.y);
        if (hit && a.contains(hit)) return [q.x, q.y];
      }
      return null; }""")
    assert point is not None, "every point of the arrow is covered"
    page.mouse.click(*point)


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
        _click_arrow(page, link)  # on the arrow itself, as a reader clicks
        assert entry.evaluate("d => d.open")
        assert entry.locator("table.netlab-fields").is_visible()
        assert "TCP" in entry.locator("table.netlab-fields").inner_text()
        assert re.match(r"0000  [0-9a-f]{2} ", entry.locator("pre.netlab-bytes").inner_text())
        _click_arrow(page, link)
        assert not entry.evaluate("d => d.open")
        # the arrow's words, beside its link, open the same entry
        target = (link.get_attribute("href") or "").removeprefix("#")
        page.locator(f'g.netlab-label[data-for="{target}"] text').first.click()
        assert entry.evaluate("d => d.open")
        page.locator(f'g.netlab-label[data-for="{target}"] text').first.click()
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
    # Sphinx lists the results one by one, fetching each result's page for its summary (the
    # network chapter's is 2 MB), so waiting for all of them took over 15 s once in CI: the
    # test waits for the expected page among them, for up to a minute.
    try:
        page.wait_for_function(
            "page => [...document.querySelectorAll('ul.search li a')].some("
            "a => (a.getAttribute('href') || '').split(/[?#]/)[0].endsWith(page))",
            arg=expected, timeout=60_000)
    except PlaywrightTimeoutError:
        pass  # the assertion below lists what was found
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


# -- accessibility, figures, widths --------------------------------------------------------------

#: What axe-core checks: WCAG 2.1 A and AA, and its best practices. label-content-name-mismatch
#: (a link's name must contain its visible words) is "experimental" in axe 4.12, so not among
#: the tags: it is asked for by name.
AXE_OPTIONS = {
    "runOnly": {"type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "rules": {"label-content-name-mismatch": {"enabled": True}},
}


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.mark.parametrize("path", ALL_PAGES)
def test_axe_finds_no_violation(context: tuple[BrowserContext, _Log], axe: Axe,
                                path: str) -> None:
    ctx, log = context
    page = _open(ctx, path)
    found = axe.run(page, options=AXE_OPTIONS).response
    assert found["testEngine"]["version"].startswith("4.")  # it did run
    assert "label-content-name-mismatch" in {r["id"] for r in found["passes"]
                                             + found["inapplicable"] + found["violations"]}
    problems = [f"{v['id']}: {n['target']} {n['html'][:120]}"
                for v in found["violations"] for n in v["nodes"]]
    assert not problems, "\n".join(problems)
    _assert_clean(log, path)


# For every word of a figure, its colour after opacity against what lies behind it (the box it
# sits in, or the page), and the same for every line and box edge. WCAG 2.1 1.4.3 asks 4.5:1 for
# text, 1.4.11 3:1 for the parts of a graphic that carry meaning. axe skips SVG text.
_CONTRAST_JS = r"""
svgs => {
  const rgb = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const v = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
  const lum = ([r, g, b]) => { const f = x => { x /= 255;
    return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  const blend = (fg, a, bg) => fg.slice(0, 3).map((c, i) => a * c + (1 - a) * bg[i]);
  const pageBg = el => { for (let e = el; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor); if (c && c[3] > 0) return c; }
    return [255, 255, 255, 1]; };
  const alpha = (el, which) => { let a = parseFloat(getComputedStyle(el)[which + "Opacity"]);
    for (let e = el; e && e.tagName.toLowerCase() !== "body"; e = e.parentElement)
      a *= parseFloat(getComputedStyle(e).opacity);
    return a; };
  const out = [];
  for (const svg of svgs) {
    const page = pageBg(svg.parentElement);
    const behind = el => {  // the filled box the word sits in, if any
      const g = el.closest("g.state, g.netlab-state, g.netlab-step, g.netlab-box");
      const shape = g && g.querySelector("rect, circle");
      return shape ? blend(rgb(getComputedStyle(shape).fill), alpha(shape, "fill"), page) : page;
    };
    for (const t of svg.querySelectorAll("text")) {
      const fg = rgb(getComputedStyle(t).fill), bg = behind(t);
      if (!fg || !t.textContent.trim()) continue;
      const r = ratio(blend(fg, fg[3] * alpha(t, "fill"), bg), bg);
      if (r < 4.5) out.push(["text", t.textContent.trim(), r.toFixed(2)]);
    }
    for (const l of svg.querySelectorAll("line, path, rect, polygon")) {
      if (l.closest("g.netlab-phase") && l.tagName === "rect") continue;  // a faint band
      if (l.classList.contains("netlab-hit") || l.closest("defs")) continue;
      const stroke = getComputedStyle(l).stroke;
      const fg = rgb(stroke);
      if (!fg || fg[3] === 0 || getComputedStyle(l).strokeWidth === "0px") continue;
      const r = ratio(blend(fg, fg[3] * alpha(l, "stroke"), page), page);
      if (r < 3) out.push([l.tagName, l.outerHTML.slice(0, 80), r.toFixed(2)]);
    }
  }
  return out;
}
"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_figure_colours_contrast_in_both_themes(browser: Browser, origin: str,
                                                theme: str) -> None:
    ctx = browser.new_context(base_url=origin, viewport={"width": 1280, "height": 900})
    ctx.add_init_script(f"localStorage.setItem('theme', '{theme}')")  # furo's own switch
    try:
        assert FIGURE_PAGES
        for path in FIGURE_PAGES:
            page = _open(ctx, path)
            assert page.evaluate("document.body.dataset.theme") == theme
            svgs = page.locator("svg.netlab-ladder, svg.netlab-states, svg.netlab-topology, "
                                "svg.netlab-picture")
            assert svgs.count() > 0
            low = svgs.first.evaluate(f"(_, all) => ({_CONTRAST_JS})(all)",
                                      svgs.element_handles())
            assert not low, (path, theme, low[:10])
            page.close()
    finally:
        ctx.close()


def test_contrast_check_can_fail(browser: Browser, origin: str) -> None:
    """The check above finds a light grey word and a faint line on white."""
    page = browser.new_page()
    try:
        page.set_content('<body style="background:#fff"><svg><text fill="#aaaaaa">x</text>'
                         '<line x1="0" x2="9" stroke="#000" stroke-opacity="0.2"/></svg></body>')
        svgs = page.locator("svg")
        low = svgs.first.evaluate(f"(_, all) => ({_CONTRAST_JS})(all)", svgs.element_handles())
        assert [kind for kind, *_ in low] == ["text", "line"]
    finally:
        page.close()


_OVERLAPS_JS = r"""
svg => { const boxes = [...svg.querySelectorAll("text")].map(t => [t.textContent,
    t.getBoundingClientRect()]).filter(([, b]) => b.width > 0);
  const out = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [p, a] = boxes[i], [q, b] = boxes[j];
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1
        && b.top < a.bottom - 1) out.push([p, q]); }
  return out; }
"""


@pytest.mark.parametrize("path", sorted(set(LADDER_PAGES) | set(STATE_PAGES)
                                        | set(PICTURE_PAGES)))
def test_figure_words_never_overlap(context: tuple[BrowserContext, _Log], path: str) -> None:
    """Every word of every ladder, state diagram and picture, measured as the browser drew
    it."""
    ctx, log = context
    page = _open(ctx, path)
    figures = page.locator("svg.netlab-ladder, svg.netlab-states, svg.netlab-picture")
    assert figures.count() > 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    for i in range(figures.count()):
        svg = figures.nth(i)
        assert svg.evaluate(_OVERLAPS_JS) == [], (path, i)
        title = svg.locator("title").first.text_content() or ""
        assert title.strip() and title != "Ladder diagram", (path, i)
        name = path.replace("/", "-").removesuffix(".html")
        svg.screenshot(path=str(SHOTS / f"{name}-figure{i + 1}.png"))
    _assert_clean(log, path)


@pytest.mark.parametrize("path", LADDER_PAGES)
def test_every_ladder_says_how_it_is_drawn(context: tuple[BrowserContext, _Log],
                                           path: str) -> None:
    ctx, log = context
    page = _open(ctx, path)
    lang = path.split("/", 1)[0]
    words = {"en": ("Drawn to time scale", "Drawn in order of events"),
             "zh_CN": ("按时间比例绘制", "按事件先后绘制")}[lang]
    figures = page.locator("figure:has(svg.netlab-ladder)")
    for i in range(figures.count()):
        figure = figures.nth(i)
        scale = figure.locator("svg.netlab-ladder").get_attribute("data-scale")
        caption = figure.locator("figcaption .netlab-scale").inner_text()
        assert caption.startswith(words[0] if scale == "time" else words[1]), (path, i)
    _assert_clean(log, path)


@pytest.mark.parametrize("width", [375, 1280])
def test_pages_fit_the_screen(browser: Browser, origin: str, width: int) -> None:
    """At a phone's width and a laptop's, no page scrolls sideways as a whole: a table wider
    than the text scrolls in its own box, which the keyboard can reach, with its first column
    kept in view; a ladder keeps its words at 10 px or more (it scrolls instead of shrinking)."""
    ctx = browser.new_context(base_url=origin, viewport={"width": width, "height": 800})
    try:
        for path in CONTENT_PAGES:
            page = _open(ctx, path)
            wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 1, (path, width, wide)
            for wrap in page.locator(".netlab-table-wrap").all():
                facts = wrap.evaluate("""w => ({scrolls: w.scrollWidth > w.clientWidth + 1,
                    tab: w.tabIndex, sticky: getComputedStyle(
                        w.querySelector('tr > :first-child')).position})""")
                if facts["scrolls"]:
                    assert facts["tab"] == 0 and facts["sticky"] == "sticky", (path, facts)
            for svg in page.locator("svg.netlab-ladder").all():
                scale = svg.evaluate(
                    "s => s.getBoundingClientRect().width / s.viewBox.baseVal.width")
                assert 12 * scale >= 10, (path, width, scale)
            page.close()
    finally:
        ctx.close()


@pytest.mark.parametrize("path", STATE_PAGES)
def test_state_diagram_numbers_this_runs_steps(context: tuple[BrowserContext, _Log],
                                               path: str) -> None:
    ctx, log = context
    page = _open(ctx, path)
    for svg in page.locator("svg.netlab-states").all():
        steps = int(svg.get_attribute("data-steps") or "0")
        assert steps > 0
        numbers = svg.evaluate(
            "s => [...s.querySelectorAll('g.netlab-step text')].map(t => t.textContent)")
        assert sorted(map(int, numbers)) == list(range(1, steps + 1))
        listed = svg.locator("xpath=ancestor::div[contains(@class,'netlab-view')][1]"
                             "//ol[@class='netlab-steps']/li")
        assert listed.count() == steps
    _assert_clean(log, path)


@pytest.mark.parametrize("lang", LANGS)
def test_inspector_field_lights_up_its_bytes(context: tuple[BrowserContext, _Log],
                                             lang: str) -> None:
    ctx, log = context
    page = _open(ctx, f"{lang}/handshake.html")
    link, entry = _entry_of(page, "svg.netlab-ladder a.netlab-inspect", 0)
    link.focus()
    page.keyboard.press("Enter")
    fields = entry.locator("table.netlab-fields [data-bytes]")
    assert fields.count() > 10
    lit = entry.locator("pre.netlab-bytes .netlab-lit")
    for i in range(fields.count()):
        field = fields.nth(i)
        start, end = map(int, (field.get_attribute("data-bytes") or "0-0").split("-"))
        field.hover()
        # each byte is lit twice: in hex and as text
        assert lit.count() == 2 * (min(end, 256) - min(start, 256)), (i, start, end)
    # the hex dump still reads as before, offsets and all
    assert re.match(r"0000  [0-9a-f]{2} ", entry.locator("pre.netlab-bytes").inner_text())
    focusable = entry.locator("table.netlab-fields span[data-bytes]")
    focusable.nth(3).focus()  # the keyboard does the same
    start, end = map(int, (focusable.nth(3).get_attribute("data-bytes") or "0-0").split("-"))
    assert lit.count() == 2 * (end - start)
    # and the other way: a byte of the source address lights up the IP layer's src field
    entry.locator('pre.netlab-bytes [data-i="27"]').first.hover()
    assert entry.locator("table.netlab-fields .netlab-lit").inner_text().startswith("src: ")
    assert lit.count() == 2 * 4
    _assert_clean(log, lang)


OPEN_ENTRY = "d => { d.closest('details.netlab-inspector').open = true; d.open = true; }"


@pytest.mark.parametrize("lang", LANGS)
def test_tls_and_http_fields_light_up_their_bytes(context: tuple[BrowserContext, _Log],
                                                  lang: str) -> None:
    """The ClientHello's fields, decoded above TCP, point at their bytes: the server name's
    bytes read as the name in the dump's text column, and the key share (beyond the first
    256 bytes) has its bytes on the page too. The same for an HTTP request's Host line (on
    the HTTP page)."""
    ctx, log = context
    page = _open(ctx, f"{lang}/https.html")
    entry = page.locator("details.netlab-packet", has=page.locator(
        "th", has_text="TLS ClientHello")).first
    entry.evaluate(OPEN_ENTRY)
    lit = entry.locator("pre.netlab-bytes .netlab-lit")
    sni = entry.locator("table.netlab-fields span[data-bytes]", has_text="server_name: ")
    sni.hover()
    text = "".join(entry.locator("pre.netlab-bytes .netlab-lit").evaluate_all(
        "bytes => bytes.filter(b => b.textContent.length === 1).map(b => b.textContent)"))
    assert "server.netlab.test" in text
    key_share = entry.locator("table.netlab-fields span[data-bytes]", has_text="key_share: ")
    start, end = map(int, (key_share.get_attribute("data-bytes") or "0-0").split("-"))
    assert end > 256
    key_share.focus()
    assert lit.count() == 2 * (end - start)
    SHOTS.mkdir(parents=True, exist_ok=True)
    entry.screenshot(path=str(SHOTS / f"inspector-clienthello-{lang}.png"))
    page = _open(ctx, f"{lang}/http.html")
    request = page.locator("details.netlab-packet", has=page.locator(
        "td", has_text="request-target: ")).first
    request.evaluate(OPEN_ENTRY)
    host = request.locator("table.netlab-fields span[data-bytes]", has_text="host: ")
    host.hover()
    start, end = map(int, (host.get_attribute("data-bytes") or "0-0").split("-"))
    assert request.locator("pre.netlab-bytes .netlab-lit").count() == 2 * (end - start)
    request.screenshot(path=str(SHOTS / f"inspector-http-request-{lang}.png"))
    _assert_clean(log, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_a_deep_link_opens_its_segment(context: tuple[BrowserContext, _Log], lang: str) -> None:
    """page.html#<entry id>, typed or followed from elsewhere, opens that segment's entry."""
    ctx, log = context
    ids = re.findall(r'<div class="netlab-packet-body" tabindex="0" id="([^"]+)"',
                     _text(f"{lang}/handshake.html"))
    assert len(ids) > 3
    target = ids[2]
    page = ctx.new_page()
    page.goto(f"/{lang}/handshake.html#{target}", wait_until="load")
    entry = page.locator(f"details.netlab-packet:has(#{target})")
    assert entry.evaluate("d => d.open && d.closest('details.netlab-inspector').open")
    assert "netlab-current" in (entry.get_attribute("class") or "")
    others = page.locator("details.netlab-packet[open]")
    assert others.count() == 1  # only that one
    # a link followed within the page (the fragment changes) opens the next one too
    page.evaluate(f"location.hash = '#{ids[3]}'")
    page.wait_for_function(f"document.getElementById('{ids[3]}').closest('details').open",
                           timeout=5000)
    _assert_clean(log, lang)
