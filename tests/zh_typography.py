"""The typography rule of the Chinese catalogs (docs/locale/zh_CN/README.md), as code.

:func:`problems` finds what breaks it in one translated string; :func:`fix` applies the
bracket rule (``python tests/zh_typography.py --fix`` rewrites the .po files in place).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = sorted((ROOT / "docs" / "locale" / "zh_CN" / "LC_MESSAGES").glob("*.po")) + [
    ROOT / "netlab" / "locale" / "zh_CN" / "LC_MESSAGES" / "netlab.po"]

HAN = "\u3400-\u9fff"
FULL_PUNCT = "，。；：？！、“”‘’《》（）【】……—"
CHINESE = re.compile(f"[{HAN}]")
# what the rule does not look into: code, roles and links, book titles, URLs
VERBATIM = re.compile(r"``[^`]*``|\{[\w:-]+\}`[^`]*`|`[^`]*`|《[^》]*》|https?://\S+|<[^>]*>")
# a half-width bracket that is not a call or an index (accept(), a[0]), nor a list number
HALF = re.compile(r"(?<![A-Za-z0-9_.\]\)])\(([^()]*)\)")


def _masked(text: str) -> str:
    """``text`` with what the rule does not look into replaced by a neutral mark."""
    return VERBATIM.sub(lambda m: "\u2063" * len(m[0]), text)


# a role at the end of a text, and the words it shows: {term}`证书颁发机构 <certificate authority>`
ROLE_AT_END = re.compile(r"\{[\w:-]+\}`([^`<]*?)\s*(?:<[^>]*>)?`$")


def _after_chinese(masked: str, start: int, text: str) -> bool:
    """Whether what a reader sees just before ``start`` is Chinese: the text itself, or the
    words a role shows there, emphasis marks aside."""
    before = masked[:start].rstrip(" *")
    if before.endswith("\u2063"):
        role = ROLE_AT_END.search(text[:len(before)])
        before = role[1] if role else ""
    return bool(before) and (CHINESE.match(before[-1]) is not None or before[-1] in FULL_PUNCT)


def problems(text: str) -> list[str]:
    """What breaks the rule in one translated string (empty when it has no Chinese)."""
    if not CHINESE.search(text):
        return []
    masked = _masked(text)
    found = []
    for m in HALF.finditer(masked):
        if CHINESE.search(m[1]) or _after_chinese(masked, m.start(), text):
            found.append(f"half-width brackets in Chinese text: {text[m.start():m.end()]!r}")
    for m in re.finditer(r" (?=[，。；：？！、（）])|(?<=[，。；：？！、（）]) ", masked):
        near = text[max(0, m.start() - 6):m.end() + 6]
        found.append(f"a space beside full-width punctuation: {near!r}")
    for m in re.finditer(rf"[{HAN}][A-Za-z0-9]|[A-Za-z0-9][{HAN}]", masked):
        near = text[max(0, m.start() - 6):m.end() + 6]
        found.append(f"no space between Chinese and Latin: {near!r}")
    return found


# word-for-word renderings readers stumbled on, and what a Chinese engineer writes instead
# (docs/locale/zh_CN/README.md, "Words")
AVOID = {
    "线路上传": "经过线路的……（“线路上传”读成了“上传”）",
    "检出目录": "仓库目录",
    "截止时间": "超时时限（心跳的 deadline，各页一致）",
    "美好时光": "（直译的说法，换成平实的中文）",
    "亲自运行": "自己动手运行（各页的节名一致）",
}


def avoided(text: str) -> list[str]:
    """The words of :data:`AVOID` that ``text`` uses, each with what to write instead."""
    return [f"avoid {word!r}: write {instead}" for word, instead in AVOID.items() if word in text]


def differing(catalogs: list[Path]) -> dict[str, set[str]]:
    """Sentences that the page catalogs translate in more than one way: each English
    sentence (with its context, if any) that has two or more translations, and those."""
    from babel.messages.pofile import read_po

    seen: dict[str, set[str]] = {}
    for path in catalogs:
        with path.open("rb") as f:
            for m in read_po(f):
                if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string:
                    key = m.id if m.context is None else f"{m.context}\x04{m.id}"
                    seen.setdefault(key, set()).add(m.string)
    return {key: found for key, found in seen.items() if len(found) > 1}


def fix(text: str) -> str:
    """``text`` with its half-width brackets in Chinese text made full-width, and the spaces
    beside full-width brackets dropped."""
    if not CHINESE.search(text):
        return text
    masked = _masked(text)
    spans = [m.span() for m in HALF.finditer(masked)
             if CHINESE.search(m[1]) or _after_chinese(masked, m.start(), text)]
    for start, end in reversed(spans):
        text = text[:start] + "（" + text[start + 1:end - 1] + "）" + text[end:]
    text = re.sub(r" +(?=[，。；：？！、（）])", "", text)
    return re.sub(r"(?<=[，。；：？！、（）]) +", "", text)


def fix_file(path: Path) -> int:
    """Rewrite the msgstr entries of one .po file that :func:`fix` changes; their number."""
    from babel.messages.pofile import denormalize, normalize

    width = 100 if path.name == "netlab.po" else 76
    lines = path.read_text(encoding="utf-8").split("\n")
    out: list[str] = []
    changed = i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r'(msgstr(?:\[\d+\])?) (".*")$', line)
        if not m:
            out.append(line)
            i += 1
            continue
        block = [m[2]]
        i += 1
        while i < len(lines) and lines[i].startswith('"'):
            block.append(lines[i])
            i += 1
        old = denormalize("\n".join(block))
        new = fix(old)
        if new == old:
            out += [line, *lines[i - len(block) + 1:i]]
            continue
        changed += 1
        out.append(f"{m[1]} {normalize(new, width=width)}")
    path.write_text("\n".join(out), encoding="utf-8")
    return changed


if __name__ == "__main__":
    if "--fix" in sys.argv:
        for catalog in CATALOGS:
            print(catalog.name, fix_file(catalog))
