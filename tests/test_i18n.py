"""netlab.i18n: netlab's words in the page's language, from its gettext catalog.

The catalog (netlab/locale/zh_CN/LC_MESSAGES/netlab.po) is Babel's extraction of the literal
strings given to ``tr``/``ptr``/``ntr``/``N_``; these tests check that it is complete, fresh
and compiled, and, independently of Babel, that every literal the code translates is in it.
"""

from __future__ import annotations

import ast
import sys
import tomllib
import unicodedata
from fnmatch import fnmatch
from pathlib import Path

import pytest
from support import fixture_trace

from netlab.i18n import LOCALE_DIR, _cells, language, ntr, ptr, tr
from netlab.model.moments import Happening, Moment
from netlab.views.moments import moment_text
from netlab.views.table import Grid, Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import check_translations  # noqa: E402  (a script, not a package)


def test_language_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert language() == "en"
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh-CN")
    assert language() == "zh_CN"
    assert tr("direction") == "方向"
    assert tr("SYN") == "SYN"  # protocol words are not messages: they stay as they are


def test_english_is_the_source_language() -> None:
    assert tr("direction", "en") == "direction"
    assert tr("{frames} frames captured on {host}", "zh_CN").format(frames=7, host="client") \
        == "在 client 上抓到的 7 帧"


def test_context_and_plural_forms() -> None:
    assert tr("len", "zh_CN") == "len"  # beside seq and ack in a TCP table
    assert ptr("packet table", "len", "zh_CN") == "长度"  # in a table of any protocol
    assert tr("len", "zh_CN", context="packet table") == "长度"
    assert [ntr("{n} segment", "{n} segments", n, "en").format(n=n) for n in (1, 2)] \
        == ["1 segment", "2 segments"]
    assert ntr("{n} segment", "{n} segments", 2, "zh_CN").format(n=2) == "2 个报文段"


def test_catalog_is_complete_fresh_and_compiled() -> None:
    """The gate the build runs: every extracted message translated, none fuzzy, none left
    over from code that is gone, and the shipped .mo compiled from the .po."""
    count, problems = check_translations.netlab_problems()
    assert count > 250
    assert problems == []


def test_compiled_catalog_is_package_data() -> None:
    with (ROOT / "pyproject.toml").open("rb") as f:
        globs = tomllib.load(f)["tool"]["setuptools"]["package-data"]["netlab"]
    mo = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "netlab.mo"
    assert mo.exists()
    assert any(fnmatch(str(mo.relative_to(ROOT / "netlab")), g) for g in globs)


# -- every literal the code translates, found with ast (not Babel) -------------------------

def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def translated_literals(source: str) -> list[tuple[str | None, str]]:
    """(context, text) of each call ``tr("…")``, ``ptr("…", "…")``, ``ntr("…", …)`` or
    ``N_("…")`` with literal arguments, inside f-strings too."""
    found: list[tuple[str | None, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
            continue
        name, args = node.func.id, node.args
        if name in ("tr", "N_", "ntr") and (text := _literal(args[0])) is not None:
            context = next((_literal(k.value) for k in node.keywords if k.arg == "context"),
                           None)
            found.append((context, text))
        elif name == "ptr" and len(args) >= 2:
            context, text = _literal(args[0]), _literal(args[1])
            if context is not None and text is not None:
                found.append((context, text))
    return found


def _sources() -> dict[str, str]:
    sources = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
               for p in sorted((ROOT / "netlab").rglob("*.py"))}
    sources["docs/conf.py"] = (ROOT / "docs" / "conf.py").read_text(encoding="utf-8")
    for page in sorted((ROOT / "docs").glob("*.md")):
        for first, code in _cells(page.read_text(encoding="utf-8")):
            sources[f"docs/{page.name}:{first}"] = code
    return sources


def not_in_catalog(sources: dict[str, str]) -> list[str]:
    with check_translations.NETLAB_PO.open("rb") as f:
        catalog = check_translations.read_po(f)
    missing = []
    for where, source in sources.items():
        for context, text in translated_literals(source):
            entry = catalog.get(text, context)
            if entry is None or not entry.string or entry.fuzzy:
                missing.append(f"{where}: {text!r}" + (f" ({context})" if context else ""))
    return missing


def test_every_literal_the_code_translates_is_in_the_catalog() -> None:
    sources = _sources()
    assert sum(len(translated_literals(s)) for s in sources.values()) > 250
    assert not_in_catalog(sources) == []


def test_a_message_missing_from_the_catalog_fails() -> None:
    source = 'x = f"{tr(\'no such message\')}"\ny = tr("len", context="no such context")\n'
    assert sorted(not_in_catalog({"new.py": source})) == [
        "new.py: 'len' (no such context)", "new.py: 'no such message'"]


def test_cells_of_a_page() -> None:
    page = ("text\n\n```{jupyter-execute}\n:hide-code:\nprint(tr('a'))\n```\n\n"
            "::::{dropdown}\n   ```{jupyter-execute}\n   tr('b')\n   ```\n::::\n")
    assert list(_cells(page)) == [(5, "print(tr('a'))\n"), (10, "tr('b')\n")]


# -- moments, tables ------------------------------------------------------------------------

def test_moments_happening_by_happening(monkeypatch: pytest.MonkeyPatch) -> None:
    moment = Moment((Happening.call("client", "shutdown(SHUT_WR)"),
                     Happening.arrival("ACK", "client"),
                     Happening.sentence("the wire loses the client's ACK")))
    assert moment_text(moment) == str(moment)  # English pages print it as it is
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    assert moment_text(moment) == ("客户端调用 shutdown(SHUT_WR)；ACK 到达客户端；"
                                   "线路把客户端的 ACK 丢掉了")
    again = Moment((Happening.arrival("FIN, ACK", "server", again=True),))
    assert moment_text(again) == "FIN, ACK 再次到达服务器"
    assert moment_text(Moment.of("socket() and bind() done")) == "socket() 和 bind() 之后"


def test_chinese_table_headings_and_alignment(monkeypatch: pytest.MonkeyPatch) -> None:
    english = str(Table(fixture_trace(), absolute=False, options=False)).splitlines()
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    chinese = str(Table(fixture_trace(), absolute=False, options=False)).splitlines()
    assert chinese[0] == "#  时间（ms）  方向                        标志位    seq  ack  len    win"
    # the same cells, and each heading starts where its column does: the headings' width is
    # counted in terminal columns (a Chinese character takes two)
    assert [row.split() for row in chinese[1:]] == [row.split() for row in english[1:]]
    wide = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in chinese[0][:chinese[0].index("方向")])
    assert chinese[1].index("client") == wide


def test_wide_characters_take_two_columns() -> None:
    grid = Grid([["时刻", "n"], ["ab", "1"], ["accept 队列", "22"]], right={"n"})
    assert str(grid) == "时刻          n\nab            1\naccept 队列  22"
