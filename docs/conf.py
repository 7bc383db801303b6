"""Sphinx configuration for the netlab site (English source, Simplified Chinese via gettext).

Build one language per output directory, as scripts/build-site.sh does::

    sphinx-build -b html -W --keep-going -n docs docs/_build/html/en
    sphinx-build -b html -W --keep-going -n -D language=zh_CN docs docs/_build/html/zh_CN

Pages run real experiments in Jupyter kernels (jupyter-sphinx). A kernel inherits this process's
environment, so ``NETLAB_DOCS_LANG`` tells experiment code which language the page is built in.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import jupyter_sphinx.execute
import jupyter_sphinx.utils
import sphinx.ext.viewcode
import sphinx.search
from docutils import nodes
from jupyter_sphinx.ast import JupyterCellNode
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.transforms import SphinxTransform

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # autodoc imports netlab even when it is not installed
sys.path.insert(0, str(ROOT / "docs" / "_ext"))  # the site's own extensions

project = "netlab"
author = "netlab contributors"
copyright = "netlab contributors"

extensions = [
    "myst_parser",
    "jupyter_sphinx",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
    "netlab_a11y",  # names and levels axe-core asks of furo's markup (docs/_ext/netlab_a11y.py)
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated", "_root", "locale", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
nitpicky = True

# -- Markdown ---------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]

# -- Languages: English is the source, zh_CN comes from docs/locale/zh_CN/LC_MESSAGES/*.po ----
language = "en"
locale_dirs = ["locale/"]
gettext_compact = False  # one catalog per page
gettext_uuid = False

# -- Python API ---------------------------------------------------------------------------------
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_member_order = "bysource"
# No network at build time, so no intersphinx: the standard library's types stay plain text.
nitpick_ignore_regex = [
    ("py:class", r"(collections\.abc|os|pathlib|socket|subprocess|typing|threading|queue)\.\w+"),
    ("py:class", r"netlab\.[\w.]+\.T"),  # TypeVars
]

# -- Executed cells -----------------------------------------------------------------------------
# A cell that raises fails the build unless the cell declares it with ``:raises:``
# (jupyter-sphinx raises ExtensionError); output on stderr is a warning, so an error under -W.
jupyter_execute_default_kernel = "python3"
jupyter_execute_kwargs = {
    "allow_errors": True,  # jupyter-sphinx's default: it then checks each error against :raises:
    "store_widget_state": True,
    "timeout": 300,  # seconds per cell: a hung experiment fails the build instead of hanging CI
    # The kernel warns on stderr, once per page, that its loopback TCP is unencrypted.
    "extra_arguments": ["--IPKernelApp.log_level=ERROR"],
}
# ipywidgets support would load require.js and the widget embedder from CDNs: the site is offline.
jupyter_sphinx_require_url = ""


def _notebook_directory(env: Any) -> Path:
    """Where jupyter-sphinx writes each page's notebook and script: one folder per language.

    jupyter-sphinx 0.5.3 writes them to ``<outdir>/../jupyter_execute``, one folder that the
    English and the Chinese build share, so the file a page offered for download would be
    whichever language was built last (an incremental build copies it again). Each language
    gets its own folder under docs/_build instead; Sphinx copies each page's files into that
    language's ``_downloads/``, so the published site carries them and they work offline.
    """
    return Path(env.app.srcdir) / "_build" / "jupyter_execute" / (env.config.language or "en")


# jupyter-sphinx has no setting for this folder: replace its helper where it is looked up.
jupyter_sphinx.utils.output_directory = _notebook_directory
jupyter_sphinx.execute.output_directory = _notebook_directory  # imported there by name

# -- One run per page, shown in both languages -----------------------------------------------
# Each language's build runs a page's cells in its own kernel (jupyter-sphinx stays the executor),
# but the experiments run only in the first: their results are recorded in a cache and the
# second language's kernel replays them (netlab.experiments.replay), so both languages show the
# same run, rendered each in its own words. A recording is keyed by the page's cells, netlab's
# own source and the kernel spec; scripts/build-site.sh empties the cache at the start of a
# clean build, and the preview and NETLAB_INCREMENTAL=1 reuse it until one of those changes.
RUN_CACHE = Path(os.environ.get("NETLAB_RUN_CACHE") or ROOT / "docs" / "_build" / "runs")
_page_runs: list[Any] = []  # the runs of the page being read (this process reads one at a time)
_pending: list[tuple[Path, Path, Any]] = []  # recordings to keep once the page has read cleanly


def _netlab_source_hash() -> str:
    """A digest of every file of the netlab package: a change anywhere makes pages run again."""
    digest = hashlib.sha256()
    package = ROOT / "netlab"
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _kernel_spec(kernel_name: str) -> dict[str, Any]:
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(kernel_name).to_dict()
    return {key: spec.get(key) for key in ("argv", "language", "env")}


def _run_key(kernel_name: str, cells: list[Any]) -> str:
    text = json.dumps({"kernel": kernel_name, "spec": _kernel_spec(kernel_name),
                       "netlab": _netlab_source_hash(), "cells": [c.source for c in cells]},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


CLAIM_TIMEOUT = 900.0
"""Seconds a build waits for another to finish running a page (both languages may be built at
once, scripts/build-site.sh): longer than any page takes; after it, this build runs it too."""


def _claim(key: str) -> bool:
    """Whether this process runs (and records) the page of ``key``; False when it is recorded.

    The English and Chinese builds may read the same page at the same time: the first to get
    ``<key>.lock`` runs it, the other waits until its recording is kept, then replays it. A
    lock whose process is gone (a build stopped, a page that failed) is taken over.
    """
    RUN_CACHE.mkdir(parents=True, exist_ok=True)
    lock = RUN_CACHE / f"{key}.lock"
    deadline = time.monotonic() + CLAIM_TIMEOUT
    while True:
        if (RUN_CACHE / f"{key}.json").exists() and (RUN_CACHE / f"{key}.pickle").exists():
            return False
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                owner = int(lock.read_text() or 0)
            except (OSError, ValueError):
                owner = 0
            if owner and not _alive(owner) or time.monotonic() > deadline:
                lock.unlink(missing_ok=True)
            time.sleep(0.2)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        _locks.append(lock)
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _release_locks(*args: Any) -> None:
    """Let the other language's build have the pages this process claimed (kept or failed)."""
    while _locks:
        _locks.pop().unlink(missing_ok=True)


_locks: list[Path] = []  # the pages this process claimed and has not yet kept
_run_cells = jupyter_sphinx.execute.execute_cells


def _shown_path(key: str) -> Path:
    """Where this language's executed notebook of the page recorded under ``key`` is kept:
    what its cells showed, in this language, with netlab's catalogs as they are now."""
    digest = hashlib.sha256(key.encode())
    for path in sorted((ROOT / "netlab" / "locale").rglob("*.mo")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    language = os.environ.get("NETLAB_DOCS_LANG", "en")
    return RUN_CACHE / f"{key}.{language}.{digest.hexdigest()[:12]}.ipynb"


def _shown_before(key: str, cells: list[Any]) -> Any:
    """The notebook this language's build executed for these cells before, if it is kept and
    its recording too; else None."""
    import nbformat

    shown, about = _shown_path(key), RUN_CACHE / f"{key}.json"
    if not (shown.exists() and about.exists() and (RUN_CACHE / f"{key}.pickle").exists()):
        return None
    try:
        notebook = nbformat.reads(shown.read_text("utf-8"), as_version=4)
    except (OSError, ValueError):
        return None
    if [c.source for c in notebook.cells] != [c.source for c in cells]:
        return None
    return notebook


def _execute_cells_once(kernel_name: str, cells: list[Any], execute_kwargs: dict[str, Any]) -> Any:
    """jupyter-sphinx's execute_cells, recording the experiments' results or replaying them.

    An incremental build (the preview, NETLAB_INCREMENTAL=1) that reads a page again whose
    cells, netlab (its source and its catalogs) and language are those of a notebook this
    language's build already executed and kept shows that notebook's outputs again, without
    starting a kernel: a prose edit costs only Sphinx's own work. A clean build starts from an
    empty cache (scripts/build-site.sh), so there every page's cells run.
    """
    import nbformat

    from netlab.model.run import ENV, RunInfo, new_run

    key = _run_key(kernel_name, cells)
    recording, about = RUN_CACHE / f"{key}.pickle", RUN_CACHE / f"{key}.json"
    notebook = _shown_before(key, cells)
    if notebook is not None:
        run = RunInfo.from_json(about.read_text())
        notebook.metadata["netlab"] = {"run": json.loads(run.to_json())}
        _page_runs.append(run)
        return notebook
    # imported only now: netlab.experiments imports every experiment (scapy too), seconds
    from netlab.experiments.replay import RECORD, REPLAY

    if not _claim(key):
        run, variables = RunInfo.from_json(about.read_text()), {REPLAY: str(recording)}
    else:
        partial = RUN_CACHE / f"{key}.{os.getpid()}.partial"
        partial.unlink(missing_ok=True)
        partial.touch()  # a page without experiments still has a (empty) recording
        run, variables = new_run(), {RECORD: str(partial)}
        _pending.append((partial, recording, run))
    variables[ENV] = run.to_json()
    saved = {name: os.environ.pop(name, None) for name in (RECORD, REPLAY, ENV)}
    os.environ.update(variables)  # the kernel inherits this process's environment
    try:
        notebook = _run_cells(kernel_name, cells, execute_kwargs)
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
    _pending_shown.append((_shown_path(key), nbformat.writes(notebook)))
    notebook.metadata["netlab"] = {"run": json.loads(run.to_json())}
    _page_runs.append(run)
    return notebook


_pending_shown: list[tuple[Path, str]] = []  # executed notebooks to keep once the page read cleanly

DOWNLOAD_PREFIX = "netlab-"
"""Each page's notebook and script are offered as ``netlab-<page>.ipynb`` and ``.py``: a
script saved as ``http.py`` and run with ``python http.py`` would shadow the standard
library's ``http`` module (the script's folder comes first on ``sys.path``), and netlab's own
``import http`` would load the script instead (tests/test_downloads.py runs every download)."""
_write_outputs = jupyter_sphinx.execute.write_notebook_output


def _write_notebook_output(notebook: Any, output_dir: str, notebook_name: str,
                           location: Any = None) -> None:
    """jupyter-sphinx's writer, under the download's name (``DOWNLOAD_PREFIX``), and the run
    named at the top of the script download too."""
    notebook_name = DOWNLOAD_PREFIX + notebook_name
    _write_outputs(notebook, output_dir, notebook_name, location)
    about = notebook.metadata.get("netlab", {}).get("run")
    script = Path(output_dir) / f"{notebook_name}.py"
    if about and script.exists():
        from netlab.model.run import RunInfo

        lines = script.read_text("utf-8").splitlines(keepends=True)
        at = next((i for i, line in enumerate(lines) if not line.startswith("#!")
                   and not line.startswith("# coding")), len(lines))
        lines.insert(at, f"# netlab {RunInfo(**about).describe('en')}\n")
        script.write_text("".join(lines), "utf-8")


jupyter_sphinx.execute.execute_cells = _execute_cells_once
jupyter_sphinx.execute.write_notebook_output = _write_notebook_output


class _ForgetPageRuns(SphinxTransform):
    """Before a page's cells run (priority 400): no run of another page is taken for its own."""

    default_priority = 399

    def apply(self, **kwargs: Any) -> None:
        _page_runs.clear()
        _pending.clear()  # a page that failed: its recording is never kept
        _pending_shown.clear()
        _release_locks()


class _KeepRecordings(SphinxTransform):
    """After a page's cells ran without an error it did not declare: keep its recordings.

    jupyter-sphinx raises after the cells ran when one raised unexpectedly, and the transforms
    after it never run, so a failed page leaves no recording and runs again next time.
    """

    default_priority = 405

    def apply(self, **kwargs: Any) -> None:
        _keep_pending()
        if _page_runs:
            self.env.netlab_cell_pages = getattr(self.env, "netlab_cell_pages", set())
            self.env.netlab_cell_pages.add(self.env.docname)


def _keep_pending() -> None:
    """Keep the recordings and the executed notebooks of the page just read."""
    for partial, recording, run in _pending:
        partial.replace(recording)
        recording.with_suffix(".json").write_text(run.to_json())
    _pending.clear()
    for shown, text in _pending_shown:
        partial_shown = shown.with_name(f"{shown.name}.{os.getpid()}.partial")
        partial_shown.write_text(text, "utf-8")
        partial_shown.replace(shown)
    _pending_shown.clear()
    _release_locks()


class _RunFooter(SphinxTransform):
    """A small footer under each page that ran cells: which run the page shows, in its language."""

    default_priority = 411

    def apply(self, **kwargs: Any) -> None:
        if not _page_runs or self.app.builder.name == "gettext":
            return
        from netlab.i18n import tr

        run, lang = _page_runs[-1], self.config.language or "en"
        sentence = tr("This page shows {run}. The English and Chinese pages show this same "
                      "run, and so do the downloads.", lang).format(run=run.describe(lang))
        self.document += nodes.raw(
            "", f'<footer class="netlab-run" data-netlab-run="{html.escape(run.run_id)}"><p>'
                f"{html.escape(sentence)}</p></footer>", format="html")


def _pages_to_run_again(app: Sphinx, env: Any, added: set[str], changed: set[str],
                        removed: set[str]) -> list[str]:
    """When netlab's source changed since the pages were read, read again those with cells."""
    current = _netlab_source_hash()
    if getattr(env, "netlab_source_hash", current) == current:
        env.netlab_source_hash = current
        return []
    env.netlab_source_hash = current
    return sorted(getattr(env, "netlab_cell_pages", set()) - removed - added - changed)


def _merge_cell_pages(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    env.netlab_cell_pages = (getattr(env, "netlab_cell_pages", set())
                             | getattr(other, "netlab_cell_pages", set()))


def _purge_cell_page(app: Sphinx, env: Any, docname: str) -> None:
    getattr(env, "netlab_cell_pages", set()).discard(docname)


# -- Highlighted source (sphinx.ext.viewcode) --------------------------------------------------
_module_filename = sphinx.ext.viewcode.get_module_filename


def _source_file(app: Sphinx, modname: str) -> Any:
    """The file of a netlab module, found from its name without importing it.

    After each build viewcode compares every highlighted module's file with its page, to
    write again only the pages of changed modules; to find the file it imports the module, and
    importing all of netlab (scapy with it) took about 3 s of a one-page incremental build in
    each language. netlab's modules are where their names say (this tree); others as before.
    """
    if modname == "netlab" or modname.startswith("netlab."):
        base = ROOT.joinpath(*modname.split("."))
        for path in (base.with_suffix(".py"), base / "__init__.py"):
            if path.is_file():
                return path
    return _module_filename(app, modname)


sphinx.ext.viewcode.get_module_filename = _source_file


def _only_netlab_sources(app: Sphinx) -> list[tuple[str, dict[str, Any], str]]:
    """Publish the highlighted source of netlab's modules only.

    viewcode looks up the module of every documented object, following imports, and keeps
    each module it opened, with or without an object found in it: the site carried pages of
    Python's own ``typing``, ``pathlib``, ``functools`` and ``collections.abc``, linked from
    nothing but the module index, and the largest pages of the site to build and to check.
    """
    modules = getattr(app.env, "_viewcode_modules", {})
    for name in [m for m in modules if m != "netlab" and not m.startswith("netlab.")]:
        del modules[name]
    return []  # an html-collect-pages handler lists pages to write: none of its own

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "furo"
html_title = "netlab"
html_static_path = ["_static"]
html_css_files = ["netlab.css"]
html_js_files = [
    "netlab-inspector.js",  # opens a segment's entry in the packet inspector
    "netlab-exercise.js",  # checks a reader's answer against this build's value, offline
]
html_favicon = "_static/netlab-icon.svg"  # else every browser asks for /favicon.ico, a 404
html_sidebars = {
    "**": [
        "sidebar/brand.html",
        "sidebar/search.html",
        "sidebar/language-switcher.html",
        "sidebar/scroll-start.html",
        "sidebar/navigation.html",
        "sidebar/ethical-ads.html",
        "sidebar/scroll-end.html",
        "sidebar/variant-selector.html",
    ]
}

# Copy only the commands: drop ">>> ", "... " and "$ " prompts and the output lines after them.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
copybutton_remove_prompts = True


def _chinese_search() -> Any:
    """Sphinx 9.0's Chinese search, with the name of its stemmer fixed in the page's script.

    Sphinx 9.0.4 ends the Chinese ``language_data.js`` with ``window.Stemmer =
    ChineseStemmer``, but the stemmer it embeds is the English one (``EnglishStemmer``), so
    every search on the Chinese site stops with "ChineseStemmer is not defined"
    (sphinx-doc/sphinx#14229, fixed by #14416 in Sphinx 9.1, which needs Python 3.12). The
    browser tests (tests/test_browser.py) found it. Same code, right name.

    Made only by the Chinese build: importing the Chinese search imports jieba, which segments
    Chinese words for its index, and that takes most of a second that the English build and
    the translation gate need not spend.
    """
    from sphinx.search.zh import SearchChinese

    try:
        import jieba

        jieba.setLogLevel(logging.WARNING)  # it logs two DEBUG lines on stderr per build
    except ImportError:  # without it no Chinese is indexed
        pass

    class _ChineseSearch(SearchChinese):
        js_stemmer_rawcode = ""  # no file to copy: the code is given whole, below
        js_stemmer_code = "\n".join((
            *(Path(sphinx.search.__file__).parent.joinpath("minified-js", name).read_text("utf-8")
              for name in ("base-stemmer.js", SearchChinese.js_stemmer_rawcode)),
            "window.Stemmer = EnglishStemmer;",
        ))

    return _ChineseSearch


def _export_language(app: Sphinx, config: Config) -> None:
    """Tell experiment kernels the page language; ``-D language=zh_CN`` is only seen here."""
    os.environ["NETLAB_DOCS_LANG"] = config.language or "en"


def _drop_remote_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Keep pages offline: remove any script or stylesheet an extension points at another host.

    jupyter-sphinx always adds the ipywidgets embedder from a CDN, and references the thebelab
    helper files, which it only copies when thebelab is configured (it is not).
    """

    def local(asset: Any) -> bool:
        name = os.fspath(getattr(asset, "filename", asset))
        return "://" not in name and not name.startswith("//") and "thebelab" not in name

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if local(asset)]


NAVIGATION_DEPTH = 2
"""How deep the site's navigation tree is copied while only the home page has toctrees."""


def _shallow_navigation(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Let furo's navigation tree copy only the levels it shows.

    furo asks every page for the whole site's toctree with page titles only and no depth
    limit; Sphinx copies every page's full table of contents before dropping all but the
    titles, and the API page's has an entry per documented object: about 0.7 s per page
    written, most of a one-page rebuild. While only the home page has toctrees, the titles
    are the same tree at depth 2. Runs before furo's own handler (priority 400 < 500).
    """
    toctree = context.get("toctree")
    if toctree is None or set(app.env.toctree_includes) - {app.config.root_doc}:
        return  # a page with a toctree of its own: nested titles need the whole depth

    def shallow(**kwargs: Any) -> Any:
        if kwargs.get("titles_only") and kwargs.get("maxdepth", -1) <= 0:
            kwargs["maxdepth"] = NAVIGATION_DEPTH
        return toctree(**kwargs)

    context["toctree"] = shallow


class _SkipCellsForGettext(SphinxTransform):
    """Drop executable cells before jupyter-sphinx runs them (priority 400) in a gettext build.

    Cell sources and outputs are never translated, so extracting messages needs no kernel: the
    translation gate then runs in seconds, without root, and without repeating the experiments.
    """

    default_priority = 390

    def apply(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(JupyterCellNode)):
            node.parent.remove(node)


class _PageDownloads(SphinxTransform):
    """Offer every page that runs cells as a notebook and as a script, under its title.

    The files are the ones jupyter-sphinx wrote while it ran the page (the same cells, hidden
    asserts included, with this build's outputs), linked the way its ``jupyter-download-notebook``
    and ``jupyter-download-script`` roles link them, so no page needs to ask for them and a new
    chapter gets them too. Runs after the cells (priority 400); in a gettext build there are no
    cells left, so no message to translate either: the sentence comes from netlab.i18n.
    """

    default_priority = 410

    def apply(self, **kwargs: Any) -> None:
        if next(self.document.findall(JupyterCellNode), None) is None:
            return
        title = next(self.document.findall(nodes.title), None)
        if title is None:
            return
        from netlab.i18n import tr

        name = DOWNLOAD_PREFIX + Path(self.env.docname).name
        sentence = tr("Run this page yourself: download it as a notebook ({notebook}) or as a "
                      "Python script ({script}); like the experiments on it, they need root.",
                      self.config.language or "en")
        para = nodes.paragraph(classes=["netlab-page-downloads"])
        before_script, after_script = sentence.split("{script}")
        before_nb, between = before_script.split("{notebook}")
        para += nodes.Text("⤓ " + before_nb)
        for ext, text in ((".ipynb", between), (".py", after_script)):
            ref = addnodes.download_reference(
                "", "", refdoc=self.env.docname, refexplicit=True,
                reftarget=jupyter_sphinx.utils.sphinx_abs_dir(self.env, name + ext))
            ref += nodes.literal("", name + ext, classes=["xref", "download"])
            para += ref
            para += nodes.Text(text)
        title.parent.insert(title.parent.index(title) + 1, para)


def _on_builder_inited(app: Sphinx) -> None:
    # accessible-pygments (a furo dependency) sets the root logger to INFO when it is imported,
    # which makes nbclient print two log lines per page; keep its warnings and errors only.
    logging.getLogger("traitlets").setLevel(logging.WARNING)
    if app.builder.name == "gettext":
        app.add_transform(_SkipCellsForGettext)
        if os.environ.get("NETLAB_GETTEXT_CHANGED_ONLY") == "1":
            # The translation gate keeps the templates of the pages that were not read again
            # (scripts/check_translations.py): write only those of the pages read.
            app.builder.get_outdated_docs = lambda: []  # type: ignore[method-assign]


_short_index: dict[int, dict[str, list[str]]] = {}


def _short_names(domain: Any) -> dict[str, list[str]]:
    """netlab's documented objects by their last name (``Trace`` → its full names), made once
    per set of objects: a page's writing asks for it once per unresolved name."""
    objects = domain.objects
    key = len(objects)
    if key not in _short_index:
        index: dict[str, list[str]] = {}
        for name in objects:
            if name.startswith("netlab."):
                index.setdefault(name.rsplit(".", 1)[-1], []).append(name)
        _short_index.clear()
        _short_index[key] = index
    return _short_index[key]


def _resolve_short_names(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a bare class name in a signature (``Trace``) to the one netlab class of that name.

    With ``from __future__ import annotations``, a name imported only for type checking stays a
    bare string in the signature; if exactly one documented netlab object has that name, it is
    the one meant.
    """
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or "." in target:
        return None
    domain = env.get_domain("py")
    matches = _short_names(domain).get(target, [])
    if len(matches) != 1:
        return None
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], matches[0],
                               node, contnode)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("missing-reference", _resolve_short_names)
    app.connect("config-inited", _export_language)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("html-page-context", _drop_remote_assets)
    app.connect("html-page-context", _shallow_navigation, priority=400)
    app.connect("html-collect-pages", _only_netlab_sources, priority=400)  # before viewcode
    app.add_transform(_PageDownloads)
    app.add_transform(_ForgetPageRuns)
    app.add_transform(_KeepRecordings)
    app.add_transform(_RunFooter)
    app.connect("env-get-outdated", _pages_to_run_again)
    app.connect("env-merge-info", _merge_cell_pages)
    app.connect("env-purge-doc", _purge_cell_page)
    app.connect("env-updated", _release_locks)
    app.connect("build-finished", _release_locks)
    if (app.config.language or "en").startswith("zh"):
        app.add_search_language(_chinese_search())
    return {"parallel_read_safe": True, "parallel_write_safe": True}


os.environ["NETLAB_DOCS_LANG"] = language  # overwritten from the final config by the hook above
