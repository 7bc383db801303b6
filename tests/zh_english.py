"""English sentences on a built Chinese page, outside code (tests/test_zh_site.py).

What is read: the prose, the cells' output, the text of SVG figures (``<text>``, ``<title>``,
``<desc>``) and the ``title``, ``aria-label`` and ``alt`` attributes. What is not: code (a
cell's input, ``<code>``, ``<pre>`` outside a cell's output, a signature), bytes on the wire
(the packet inspector's hex dump, an HTTP message as sent, ``b'…'``), what is marked as another
language (``lang="en"``: a program's own output, quoted as it printed it), quotations in a block
that also holds Chinese (an RFC sentence quoted in English, with its Chinese gloss beside it),
and a program's own message followed by its gloss in full-width brackets.

A sentence is three or more English words in a row, at least two of them lower-case words
that are not protocol shorthand (seq, ack, rcv …), at least one a function word (the, of, to
…): "ACK delivered, accept() not yet called" is one; "SYN, ACK", "client → server",
"TCP 保活 (keepalive)" and "HTTP/1.1 pipelining" are not.

Run it as a script to count the sentences on each page of a build::

    python tests/zh_english.py docs/_build/html/zh_CN [-v]
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
WORD = r"[A-Za-z][A-Za-z'’-]*"
RUN = re.compile(rf"{WORD}(?:,? {WORD})+")
QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|‘[^’]*’")
GLOSS = re.compile(r"[^\S\n]*[.:'\"”’]*[^\S\n]*（[^）]*[\u3400-\u9fff]")
DATA = re.compile(r"\bb'(?:[^'\\]|\\.)*'|\bb\"(?:[^\"\\]|\\.)*\"")  # bytes on the wire
FUNCTION_WORDS = frozenset("""
a an the of to in on at by for from with and or but not no nor yet is are was were be been
has have had it its this that these those each every one after before than then when while
which who what where how only also still into onto over under between as if so do does did
can cannot will would should may must there their they them you your we our he she his her
""".split())
# lower-case words that are protocol or RFC shorthand, not English prose
SHORTHAND = frozenset("seq ack win len rcv snd mss rtt rto ms http https tcp udp ip".split())
SKIPPED_TAGS = {"script", "style", "head", "code", "kbd", "tt"}
SKIPPED_CLASSES = {"cell_input", "netlab-bytes", "sig", "highlight-ipython3",
                   "highlight-python", "highlight-console", "highlight-text", "highlight-default"}
BLOCKS = {"p", "li", "dt", "dd", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "caption",
          "figcaption", "summary", "pre", "text", "title", "desc", "blockquote", "div",
          "label", "button"}
ATTRIBUTES = ("title", "aria-label", "alt")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "use", "path", "line", "rect", "circle", "polygon", "polyline"}


def sentences(text: str) -> list[str]:
    """The English sentences in ``text``, less quotations and messages glossed in Chinese
    (“…”（…）, or a program's own message followed by its gloss in full-width brackets)."""
    if CJK.search(text):
        text = QUOTED.sub(" ", text)
    found = []
    for m in RUN.finditer(text):
        words = re.findall(WORD, m[0])
        prose = [w for w in words if w.islower() and w not in SHORTHAND]
        if len(words) < 3 or len(prose) < 2 or not any(w in FUNCTION_WORDS for w in prose):
            continue
        if GLOSS.match(text, m.end()):
            continue
        found.append(m[0])
    return found


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool, list[str]]] = []  # tag, skip, output, text
        self.wires: list[bool] = []  # per open element: is it an HTTP message as sent?
        self.found: list[tuple[str, str]] = []  # (where, sentence)

    def _skipping(self) -> bool:
        return any(skip for _, skip, _, _ in self.stack)

    def _in_output(self) -> bool:
        return any(out for _, _, out, _ in self.stack)

    def _in_wire(self) -> bool:
        return any(wire for wire in self.wires)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        classes = set((attr.get("class") or "").split())
        output = "cell_output" in classes
        other_language = tag != "html" and not (attr.get("lang") or "zh").startswith("zh")
        skip = tag in SKIPPED_TAGS or bool(classes & SKIPPED_CLASSES) or other_language or (
            tag == "pre" and (not self._in_output() or self._in_wire()))
        if not (skip or self._skipping()):
            for name in ATTRIBUTES:
                self.found += [(f"{tag}[{name}]", s) for s in sentences(attr.get(name) or "")]
        if tag not in VOID:
            self.stack.append((tag, skip, output, []))
            self.wires.append("netlab-wire" in classes)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for name, skip, _, text in reversed(self.stack[i:]):
                    self._close(name, skip, text)
                del self.stack[i:]
                del self.wires[i:]
                return

    def _close(self, tag: str, skip: bool, text: list[str]) -> None:
        if skip or self._skipping() or not text:
            return
        body = "".join(text)
        where = "output" if self._in_output() or tag == "pre" else tag
        lines = ([DATA.sub(" ", line) for line in body.splitlines()] if where == "output"
                 else [" ".join(body.split())])
        self.found += [(where, s) for line in lines for s in sentences(line)]

    def handle_data(self, data: str) -> None:
        if self._skipping():
            return
        for tag, _, _, text in reversed(self.stack):  # the innermost block holds the text
            if tag in BLOCKS:
                text.append(data)
                return


def english_sentences(html: str) -> list[tuple[str, str]]:
    """(where, sentence) for each English sentence on a page: where is ``output``, a tag
    (``p``, ``text`` of an SVG …) or an attribute (``a[aria-label]``)."""
    page = _Page()
    page.feed(html)
    page.close()
    return page.found


def main(argv: list[str]) -> int:
    root = Path(argv[1])
    total = 0
    for path in sorted(root.glob("*.html")):
        found = english_sentences(path.read_text(encoding="utf-8"))
        total += len(found)
        print(f"{path.name:24} {len(found):4}")
        if "-v" in argv:
            for where, sentence in found:
                print(f"    [{where}] {sentence}")
    print(f"{'total':24} {total:4}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
