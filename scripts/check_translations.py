#!/usr/bin/env python3
"""Translation gate: fail unless every message of every page has a finished zh_CN translation.

``sphinx-intl stat`` always exits 0, so this is the gate the build runs. It builds the gettext
templates (one ``.pot`` per page, ``gettext_compact = False``) and checks each one against the
catalog at the same relative path under ``docs/locale/zh_CN/LC_MESSAGES/``. A message fails the
gate when it is missing from the ``.po``, untranslated (empty ``msgstr``) or fuzzy; a ``.pot``
with no ``.po`` fails too. No experiment runs here: conf.py skips executable cells in gettext
builds, so neither root nor a kernel is needed.

Usage (from the repository root, with the project's venv)::

    python scripts/check_translations.py           # check; exit 1 listing every problem
    python scripts/check_translations.py --update  # first refresh the .po files from the pages
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
POT_DIR = DOCS / "_build" / "gettext"
DOCTREES = DOCS / "_build" / "doctrees" / "gettext"
LANG = "zh_CN"
PO_DIR = DOCS / "locale" / LANG / "LC_MESSAGES"


def build_templates() -> None:
    """Extract the messages of every page into fresh .pot files (stale ones would mislead).

    The gettext builder writes every page's template each time, but its doctree cache
    (DOCTREES) is kept, so only the pages changed since the last run are read again: after a
    one-page edit the gate takes seconds. scripts/build-site.sh empties it for a clean build.
    """
    shutil.rmtree(POT_DIR, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "gettext", "-q", "-d", str(DOCTREES), str(DOCS),
         str(POT_DIR)],
        check=True,
    )


def update_catalogs() -> None:
    """Merge the new templates into the .po files (new messages empty, changed ones fuzzy)."""
    options = ["-p", str(POT_DIR), "-d", str(DOCS / "locale"), "-l", LANG]
    subprocess.run([sys.executable, "-m", "sphinx_intl", "update", *options], check=True)


def problems(pot_path: Path) -> tuple[int, list[str]]:
    """Return the number of messages in one template and what is wrong with their translation."""
    po_path = PO_DIR / pot_path.relative_to(POT_DIR).with_suffix(".po")
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
        else:
            continue
        found.append(f"{po_path.relative_to(ROOT)}: {why}: {message.id!r}")
    return len(messages), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="refresh the .po files first")
    args = parser.parse_args()

    build_templates()
    if args.update:
        update_catalogs()
    templates = sorted(POT_DIR.rglob("*.pot"))
    total, report = 0, []
    for pot_path in templates:
        count, found = problems(pot_path)
        total += count
        report += found
    if report:
        print("\n".join(report))
        print(f"translations incomplete: {len(report)} problem(s); fix docs/locale/{LANG}/")
        return 1
    print(f"translations complete: {total} messages in {len(templates)} catalogs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
