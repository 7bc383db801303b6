"""Sphinx configuration for the netlab site (English source, Simplified Chinese via gettext).

Build one language per output directory, as scripts/build-site.sh does::

    sphinx-build -b html -W --keep-going -n docs docs/_build/html/en
    sphinx-build -b html -W --keep-going -n -D language=zh_CN docs docs/_build/html/zh_CN

Pages run real experiments in Jupyter kernels (jupyter-sphinx). A kernel inherits this process's
environment, so ``NETLAB_DOCS_LANG`` tells experiment code which language the page is built in.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import jupyter_sphinx.execute
import jupyter_sphinx.utils
import sphinx.search
from docutils import nodes
from jupyter_sphinx.ast import JupyterCellNode
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.search.zh import SearchChinese
from sphinx.transforms import SphinxTransform

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # autodoc imports netlab even when it is not installed

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

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "furo"
html_title = "netlab"
html_static_path = ["_static"]
html_css_files = ["netlab.css"]
html_js_files = ["netlab-inspector.js"]  # opens a segment's entry in the packet inspector
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


try:  # jieba segments Chinese words for the zh_CN search index; without it no Chinese is indexed
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it logs two DEBUG lines on stderr per build
except ImportError:
    pass


class _ChineseSearch(SearchChinese):
    """Sphinx 9.0's Chinese search, with the name of its stemmer fixed in the page's script.

    Sphinx 9.0.4 ends the Chinese ``language_data.js`` with ``window.Stemmer =
    ChineseStemmer``, but the stemmer it embeds is the English one (``EnglishStemmer``), so
    every search on the Chinese site stops with "ChineseStemmer is not defined"
    (sphinx-doc/sphinx#14229, fixed by #14416 in Sphinx 9.1, which needs Python 3.12). The
    browser tests (tests/test_browser.py) found it. Same code, right name.
    """

    js_stemmer_rawcode = ""  # no file to copy: the code is given whole, below
    js_stemmer_code = "\n".join((
        *(Path(sphinx.search.__file__).parent.joinpath("minified-js", name).read_text("utf-8")
          for name in ("base-stemmer.js", SearchChinese.js_stemmer_rawcode)),
        "window.Stemmer = EnglishStemmer;",
    ))


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

        name = Path(self.env.docname).name
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
    matches = [name for name in domain.objects if name.startswith("netlab.")
               and name.rsplit(".", 1)[-1] == target]
    if len(matches) != 1:
        return None
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], matches[0],
                               node, contnode)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("missing-reference", _resolve_short_names)
    app.connect("config-inited", _export_language)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("html-page-context", _drop_remote_assets)
    app.add_transform(_PageDownloads)
    app.add_search_language(_ChineseSearch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


os.environ["NETLAB_DOCS_LANG"] = language  # overwritten from the final config by the hook above
