"""The site's budgets: page weight and requests per page, and how long the site takes to build.

Prints, for this machine:

* **Build time** of both languages with ``scripts/build-site.sh``, the command a writer and CI
  run (its own per-phase timings are read from its output): clean (every page read again,
  every experiment run once for both languages: the other language replays it), and its ratio
  to the English build alone (``NETLAB_LANGUAGES=en``, a clean build too: the "html" phases
  are compared, the same work but for the Chinese site); then, with ``NETLAB_INCREMENTAL=1``,
  after a one-line prose edit of one page (only that page is read again, and a chapter
  replays its recorded run) and after a one-line edit of a chapter's first code cell (that
  page, and only it, runs its experiments again: counted as the recordings the build adds to
  docs/_build/runs/). The prose edit is a MyST comment line, so the Chinese catalogs stay
  complete and the translation gate passes; the code edit is a Python comment. Pages are
  restored afterwards. An edit's time is the "html (both)" phase: the English build, and
  beside it the translation gate (which reads every page without running it) and the Chinese
  build.
* **Page weight and requests** of every page that runs experiments, in both languages, as
  headless Chromium loads it from a local server with an empty cache: every response's
  bytes (the HTML and every stylesheet, script, font and image it loads) and the number of
  requests. The pcap downloads are embedded in the HTML as ``data:`` URLs; their bytes are
  shown apart and left out of the weight, as are the notebook and script downloads, which
  load only when clicked. The packet inspector's share of the HTML is shown too, and each
  chapter's HTML alone without its pcaps (the budget the test command checks too:
  tests/test_site_runs.py).

Run it as root from the repository (the experiments need it)::

    sudo .venv/bin/python benchmarks/budgets.py [--repeat 3] [--no-build] [--check]

``--no-build`` measures the pages of the site already built. ``--check`` exits with status
1 if a figure is over its budget (BUDGETS below). Other builds running on the machine at the
same time slow the build figures down: the medians of ``--repeat`` runs are printed, and the
load average before and after.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "docs" / "_build" / "html"
LANGS = ("en", "zh_CN")
EDITED = ("handshake.md", "glossary.md")  # a chapter with experiments, a page without
CODE_EDITED = "handshake.md"  # its first code cell gets a comment line
RUNS = ROOT / "docs" / "_build" / "runs"  # docs/conf.py's run cache, one .json per recording

BUDGETS = {
    "page weight (KiB)": 1024,  # per chapter page, pcaps excluded
    "chapter HTML (kB)": 300,  # the HTML file alone, pcaps excluded
    "requests per page": 25,
    "clean build (s)": 180,  # both languages, scripts/build-site.sh
    "bilingual / English": 1.25,  # clean html phases: both languages (with the gate) / English
    "prose edit (s)": 10,  # one chapter, both languages' html phase, NETLAB_INCREMENTAL=1
    "pages run by a code edit": 1,  # recordings added after editing one page's code
}

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def build_site(incremental: bool, english_only: bool = False) -> dict[str, float]:
    """Run scripts/build-site.sh; its phases' wall times, in seconds, and the total."""
    env = {**os.environ, "NETLAB_SKIP_APT": "1"}
    if incremental:
        env["NETLAB_INCREMENTAL"] = "1"
    if english_only:
        env["NETLAB_LANGUAGES"] = "en"
    start = time.perf_counter()
    done = subprocess.run(["bash", "scripts/build-site.sh"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    total = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"budgets: scripts/build-site.sh failed:\n{done.stdout[-3000:]}{done.stderr}")
    phases = {m[1]: float(m[2]) for m in re.finditer(r"^== (.+?): ([\d.]+) s$", done.stdout,
                                                     re.MULTILINE)}
    phases.setdefault("html (both)", phases["html (en)"])  # English only
    phases["total"] = total
    return phases


@contextmanager
def edited(page: str, code: bool = False) -> Iterator[None]:
    """One page of docs/ with a comment line added (to its prose, or to its first code cell),
    restored afterwards whatever happens."""
    path = ROOT / "docs" / page
    original = path.read_bytes()
    cell = b"```{jupyter-execute}\n"
    try:
        if code:
            assert cell in original, f"{page} has no code cell"
            path.write_bytes(original.replace(cell, cell + b"# edited by benchmarks/budgets.py\n",
                                              1))
        else:
            path.write_bytes(original + b"\n% edited by benchmarks/budgets.py\n")
        yield
    finally:
        path.write_bytes(original)


@dataclass(frozen=True)
class PageWeight:
    page: str
    html: int
    html_gzip: int
    pcap: int
    inspector: int
    assets: int
    requests: int

    @property
    def weight(self) -> int:
        return self.html - self.pcap + self.assets


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def chapter_pages() -> list[str]:
    return sorted(str(p.relative_to(SITE)) for lang in LANGS for p in (SITE / lang).glob("*.html")
                  if '<p class="netlab-page-downloads"' in p.read_text(encoding="utf-8"))


def measure_pages(pages: list[str]) -> list[PageWeight]:
    from playwright.sync_api import Response, sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    out = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for page_path in pages:
                context = browser.new_context()  # an empty cache for each page
                responses: list[Response] = []
                page = context.new_page()
                page.on("response", lambda r, seen=responses: seen.append(r))
                page.goto(f"{origin}/{page_path}", wait_until="networkidle")
                page.wait_for_timeout(300)  # the icon, fetched after the load event
                sizes = {r.url: len(r.body()) for r in responses}
                pcap = page.evaluate("""() => [...document.querySelectorAll(
                    'p.netlab-download a[download]')].reduce((n, a) => n + a.href.length, 0)""")
                inspector = page.evaluate("""() => [...document.querySelectorAll(
                    'details.netlab-inspector')].reduce((n, d) => n + d.outerHTML.length, 0)""")
                context.close()
                file = SITE / page_path
                html = file.stat().st_size
                assets = sum(n for url, n in sizes.items() if not url.endswith("/" + page_path))
                local = all(url.startswith(origin) for url in sizes)
                if not local:
                    sys.exit(f"budgets: {page_path} loaded from another host: {list(sizes)}")
                out.append(PageWeight(page_path, html, len(gzip.compress(file.read_bytes())),
                                      pcap, inspector, assets, len(sizes)))
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return out


def kib(n: float) -> str:
    return f"{n / 1024:,.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="build runs (medians printed)")
    parser.add_argument("--no-build", action="store_true", help="measure the built site only")
    parser.add_argument("--check", action="store_true", help="exit 1 if over a budget")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not args.no_build and os.geteuid() != 0:
        sys.exit("budgets: building the site runs its experiments, which needs root: use sudo "
                 "(or --no-build to measure the site already built)")

    figures: dict[str, float] = {}
    load_before = os.getloadavg()[0]
    if not args.no_build:
        runs: dict[str, list[dict[str, float]]] = {"English only, clean": [], "clean": []}
        runs.update({page: [] for page in EDITED})
        runs["code"] = []
        code_runs = []
        for _ in range(args.repeat):
            runs["English only, clean"].append(build_site(incremental=False, english_only=True))
            runs["clean"].append(build_site(incremental=False))
            for page in EDITED:
                with edited(page):
                    runs[page].append(build_site(incremental=True))
                build_site(incremental=True)  # read the restored page again, untimed
            before = set(RUNS.glob("*.json"))
            with edited(CODE_EDITED, code=True):
                runs["code"].append(build_site(incremental=True))
            code_runs.append(len(set(RUNS.glob("*.json")) - before))
            build_site(incremental=True)  # the restored page replays its first recording
        print("Build time (scripts/build-site.sh; seconds, median of "
              f"{args.repeat}; html (en), the gate and html (zh_CN) run side by side)")
        print(f"{'build':<34}{'html (en)':>11}{'gate':>8}{'html (zh_CN)':>14}{'html (both)':>13}"
              f"{'total':>9}")
        medians = {}
        for name, results in runs.items():
            med = {k: statistics.median(r.get(k, 0.0) for r in results) for k in results[0]}
            medians[name] = med
            label = (name if "clean" in name else
                     f"after editing {CODE_EDITED}'s code" if name == "code" else
                     f"after editing {name}")
            print(f"{label:<34}{med['html (en)']:>11.1f}{med.get('translation gate', 0):>8.1f}"
                  f"{med.get('html (zh_CN)', 0):>14.1f}{med['html (both)']:>13.1f}"
                  f"{med['total']:>9.1f}")
            if name in EDITED:
                figures["prose edit (s)"] = max(figures.get("prose edit (s)", 0.0),
                                                med["html (both)"])
        figures["clean build (s)"] = medians["clean"]["total"]
        figures["bilingual / English"] = (medians["clean"]["html (both)"]
                                          / medians["English only, clean"]["html (en)"])
        figures["pages run by a code edit"] = max(code_runs)
        print(f"pages whose experiments ran again after the code edit: {code_runs}")
        print(f"load average: {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
        print()

    pages = chapter_pages()
    if not pages:
        sys.exit(f"budgets: no chapter pages in {SITE}: build the site first")
    weights = measure_pages(pages)
    print("Page weight per chapter page (KiB; Chromium, empty cache; pcaps left out)")
    print(f"{'page':<22}{'HTML':>9}{'gzip':>8}{'pcaps':>8}{'inspector':>11}{'assets':>9}"
          f"{'weight':>9}{'requests':>10}")
    for w in weights:
        print(f"{w.page:<22}{kib(w.html):>9}{kib(w.html_gzip):>8}{kib(w.pcap):>8}"
              f"{kib(w.inspector):>11}{kib(w.assets):>9}{kib(w.weight):>9}{w.requests:>10}")
    figures["page weight (KiB)"] = max(w.weight for w in weights) / 1024
    figures["chapter HTML (kB)"] = max(w.html - w.pcap for w in weights) / 1000
    figures["requests per page"] = max(w.requests for w in weights)

    print("\nBudgets (the largest figure of each kind)")
    over = []
    for name, limit in BUDGETS.items():
        if name in figures:
            ok = figures[name] <= limit
            verdict = "ok" if ok else "OVER"
            print(f"  {name:<24} {figures[name]:>8.2f}  budget {limit:>5}  {verdict}")
            if not ok:
                over.append(name)
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())
