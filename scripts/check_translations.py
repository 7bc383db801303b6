#!/usr/bin/env python3
"""Translation gate: fail unless every message of every page, and every word netlab prints
onto a page, has a finished zh_CN translation.

``sphinx-intl stat`` always exits 0, so this is the gate the build runs. Two kinds of catalog:

* the pages' prose: it builds the gettext templates (one ``.pot`` per page,
  ``gettext_compact = False``) and checks each one against the catalog at the same relative
  path under ``docs/locale/zh_CN/LC_MESSAGES/``. No experiment runs here: conf.py skips
  executable cells in gettext builds, so neither root nor a kernel is needed.
* netlab's own words (cell output, table headings, SVG text, tooltips, exercise answers,
  errors shown on pages): Babel extracts them from literal strings in the package and in the
  pages' executed cells (``[tool.babel]`` in pyproject.toml) and checks them against
  ``netlab/locale/zh_CN/LC_MESSAGES/netlab.po``; the compiled ``netlab.mo`` beside it, which
  the package ships, must be the compilation of that ``.po``.

A message fails the gate when it is missing from its ``.po``, untranslated (empty ``msgstr``)
or fuzzy; a ``.pot`` with no ``.po`` fails too, and so does an entry of netlab.po that the code
no longer uses (the catalog is the extraction, not a list kept by hand).

Usage (from the repository root, with the project's venv)::

    python scripts/check_translations.py           # check; exit 1 listing every problem
    python scripts/check_translations.py --update  # first refresh the .po files (and the .mo)
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_keywords
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
POT_DIR = DOCS / "_build" / "gettext"
DOCTREES = DOCS / "_build" / "doctrees" / "gettext"
LANG = "zh_CN"
PO_DIR = DOCS / "locale" / LANG / "LC_MESSAGES"
# The words of our own templates (docs/_templates, domain "sphinx"). Their catalog, sphinx.po,
# is written by hand, since it also translates words of the theme that the gettext builder
# never sees: it is checked against this template but never rewritten by --update.
THEME_POT = POT_DIR.parent / "gettext-theme" / "sphinx.pot"
NETLAB_PO = ROOT / "netlab" / "locale" / LANG / "LC_MESSAGES" / "netlab.po"
NETLAB_MO = NETLAB_PO.with_suffix(".mo")
# netlab.po's header: fixed, so that refreshing an unchanged catalog changes no byte of it.
HEADER = {"copyright_holder": "netlab contributors", "msgid_bugs_address": "",
          "last_translator": "netlab contributors", "language_team": "zh_CN",
          "creation_date": datetime.datetime(2026, 12, 6, tzinfo=datetime.UTC),
          "revision_date": datetime.datetime(2026, 12, 6, tzinfo=datetime.UTC)}


def build_templates() -> None:
    """Extract the messages of every page into .pot files, one per page.

    The gettext builder's doctree cache (DOCTREES) is kept, so only the pages changed since the
    last run are read again, and only their templates are written again: the others are still
    those of the last run, and the template of a page that is gone is removed (a stale one
    would mislead). Without the cache (scripts/build-site.sh empties it for a clean build)
    every page is read and every template written afresh. After a one-page edit the gate
    takes seconds.
    """
    env = dict(os.environ)
    if DOCTREES.is_dir() and POT_DIR.is_dir():
        env["NETLAB_GETTEXT_CHANGED_ONLY"] = "1"
    else:
        shutil.rmtree(POT_DIR, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "gettext", "-q", "-d", str(DOCTREES), str(DOCS),
         str(POT_DIR)],
        check=True, env=env,
    )
    pages = {p.relative_to(DOCS).with_suffix("") for suffix in ("*.md", "*.rst")
             for p in DOCS.rglob(suffix) if not set(p.relative_to(DOCS).parts[:-1]) & EXCLUDED}
    for pot in POT_DIR.rglob("*.pot"):
        relative = pot.relative_to(POT_DIR).with_suffix("")
        if relative not in pages and pot.name != THEME_POT.name:
            pot.unlink()
    THEME_POT.parent.mkdir(parents=True, exist_ok=True)
    THEME_POT.unlink(missing_ok=True)
    if (POT_DIR / THEME_POT.name).exists():
        (POT_DIR / THEME_POT.name).replace(THEME_POT)


EXCLUDED = {"_build", "_generated", "_root", "locale", "_templates", "_static", "_ext"}
"""Folders of docs/ that hold no pages (conf.py's exclude_patterns, and Sphinx's own)."""


def update_catalogs() -> None:
    """Merge the new templates into the .po files (new messages empty, changed ones fuzzy)."""
    options = ["-p", str(POT_DIR), "-d", str(DOCS / "locale"), "-l", LANG]
    subprocess.run([sys.executable, "-m", "sphinx_intl", "update", *options], check=True)


RST_ROLE = re.compile(
    r"(?<![\w`]):(?:py:)?(?:data|class|func|meth|attr|mod|exc|obj|term|doc|ref):`")


def problems(pot_path: Path) -> tuple[int, list[str]]:
    """Return the number of messages in one template and what is wrong with their translation."""
    relative = Path(THEME_POT.name) if pot_path == THEME_POT else pot_path.relative_to(POT_DIR)
    po_path = PO_DIR / relative.with_suffix(".po")
    with pot_path.open("rb") as f:
        template = read_po(f)
    messages = [m for m in template if m.id]  # skip the header entry (msgid "")
    if not po_path.exists():
        return len(messages), [f"{po_path.relative_to(ROOT)}: missing catalog (run with --update)"]
    with po_path.open("rb") as f:
        catalog = read_po(f)
    found = []
    for message in messages:
        translated = catalog.get(message.id, message.context)
        if translated is None:
            why = "missing"
        elif not translated.string:
            why = "untranslated"
        elif translated.fuzzy:
            why = "fuzzy"
        elif isinstance(translated.string, str) and RST_ROLE.search(translated.string):
            # The pages' catalogs are read as MyST: a role is {meth}`x`, and an rST :meth:`x`
            # in a translation drops the reference (Sphinx's inconsistent_references warning).
            why = "an rST role where MyST's {role}`…` form is needed"
        else:
            continue
        found.append(f"{po_path.relative_to(ROOT)}: {why}: {message.id!r}")
    return len(messages), found


def netlab_template() -> Catalog:
    """netlab's messages, extracted afresh by Babel as ``[tool.babel]`` in pyproject.toml says."""
    with (ROOT / "pyproject.toml").open("rb") as f:
        mappings = tomllib.load(f)["tool"]["babel"]["mappings"]
    template = Catalog(domain="netlab", project="netlab", fuzzy=False, **HEADER)
    for mapping in mappings:
        patterns = mapping["pattern"]
        patterns = [patterns] if isinstance(patterns, str) else patterns
        keywords = parse_keywords(mapping["keywords"])
        found = extract_from_dir(str(ROOT), [(p, mapping["method"]) for p in patterns],
                                 {p: {} for p in patterns}, keywords=keywords)
        for filename, lineno, message, comments, context in found:
            template.add(message, None, [(filename, lineno)], auto_comments=comments,
                         context=context)
    return template


def _read_netlab_po() -> Catalog:
    with NETLAB_PO.open("rb") as f:
        return read_po(f, locale=LANG, domain="netlab")


def _compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update_netlab_catalog() -> None:
    """Merge the fresh extraction into netlab.po (new messages empty, changed ones fuzzy,
    unused ones dropped), then compile netlab.mo."""
    template = netlab_template()
    if NETLAB_PO.exists():
        catalog = _read_netlab_po()
    else:
        catalog = Catalog(locale=LANG, domain="netlab", project="netlab", **HEADER)
    catalog.update(template)
    for key, value in HEADER.items():
        setattr(catalog, key, value)
    NETLAB_PO.parent.mkdir(parents=True, exist_ok=True)
    with NETLAB_PO.open("wb") as f:
        write_po(f, catalog, width=100, include_lineno=False, ignore_obsolete=True)
    compile_netlab_catalog()


def compile_netlab_catalog() -> None:
    """Write netlab.mo from netlab.po (after a translator edited the .po by hand)."""
    NETLAB_MO.write_bytes(_compiled(_read_netlab_po()))


def netlab_problems() -> tuple[int, list[str]]:
    """The number of netlab's messages and what is wrong with their catalog."""
    where = NETLAB_PO.relative_to(ROOT)
    template = netlab_template()
    messages = [m for m in template if m.id]
    if not NETLAB_PO.exists():
        return len(messages), [f"{where}: missing catalog (run with --update)"]
    catalog = _read_netlab_po()
    found = []
    for message in messages:
        translated = catalog.get(message.id, message.context)
        strings = translated.string if translated is not None else None
        if translated is None:
            why = "missing"
        elif not all(strings) if isinstance(strings, (list, tuple)) else not strings:
            why = "untranslated"
        elif translated.fuzzy:
            why = "fuzzy"
        else:
            continue
        found.append(f"{where}: {why}: {message.id!r}")
    for entry in catalog:
        if entry.id and template.get(entry.id, entry.context) is None:
            found.append(f"{where}: no longer in the code (run with --update): {entry.id!r}")
    if not NETLAB_MO.exists() or NETLAB_MO.read_bytes() != _compiled(catalog):
        found.append(f"{NETLAB_MO.relative_to(ROOT)}: not the compiled {NETLAB_PO.name} "
                     "(run with --update, or --compile after editing the .po)")
    return len(messages), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="refresh the .po files first")
    parser.add_argument("--compile", action="store_true",
                        help="only compile netlab.po into netlab.mo, then check")
    args = parser.parse_args()

    if args.compile:
        compile_netlab_catalog()
    build_templates()
    if args.update:
        update_catalogs()
        update_netlab_catalog()
    templates = sorted(POT_DIR.rglob("*.pot")) + ([THEME_POT] if THEME_POT.exists() else [])
    total, report = 0, []
    for pot_path in templates:
        count, found = problems(pot_path)
        total += count
        report += found
    count, found = netlab_problems()
    total += count
    report += found
    if report:
        print("\n".join(report))
        print(f"translations incomplete: {len(report)} problem(s); fix docs/locale/{LANG}/ "
              f"or {NETLAB_PO.parent.relative_to(ROOT)}/")
        return 1
    print(f"translations complete: {total} messages in {len(templates) + 1} catalogs "
          f"({count} of them netlab's own)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
