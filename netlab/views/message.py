"""Bytes as a reader should see them: protocol text with its line ends, and hex dumps.

>>> from netlab.views.message import WireText, hexdump
>>> print(WireText(b"GET / HTTP/1.1\\r\\nhost: x\\r\\n\\r\\nhi\\n\\x00"))
GET / HTTP/1.1␍␊
host: x␍␊
␍␊
hi␊
\\x00
>>> print(hexdump(b"password=secret", mark=b"secret"))
0000  70 61 73 73 77 6f 72 64 3d 73 65 63 72 65 74     password=secret
                                 ^^ ^^ ^^ ^^ ^^ ^^
"""

from __future__ import annotations

import html

__all__ = ["WireText", "hexdump", "HexDump", "ProgramOutput"]

CRLF_MARK = "␍␊"  # U+240D U+240A: CR and LF shown, since they are part of the protocol
LF_MARK = "␊"


def _printable(data: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 else "." for b in data)


class WireText:
    """Bytes of a text protocol (HTTP/1.x), each line with its CR LF made visible.

    Bytes that are not printable ASCII (a binary body, say) are shown as ``\\xNN``.
    """

    def __init__(self, raw: bytes, *, title: str = "") -> None:
        self.raw = raw
        self.title = title

    def lines(self) -> list[str]:
        """The text, one line per CR LF (shown as ␍␊) or bare LF (shown as ␊)."""
        out: list[str] = []
        line: list[str] = []
        i = 0
        while i < len(self.raw):
            b = self.raw[i]
            if self.raw.startswith(b"\r\n", i):
                out.append("".join(line) + CRLF_MARK)
                line, i = [], i + 2
                continue
            if b == 10:
                out.append("".join(line) + LF_MARK)
                line = []
            else:
                line.append(chr(b) if 32 <= b < 127 or b == 9 else f"\\x{b:02x}")
            i += 1
        if line:
            out.append("".join(line))
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        def mark(line: str) -> str:
            for end in (CRLF_MARK, LF_MARK):
                if line.endswith(end):
                    return f'{html.escape(line[:-len(end)])}<span class="crlf">{end}</span>'
            return html.escape(line)

        body = "\n".join(mark(line) for line in self.lines())
        title = (f'<div class="netlab-wire-title">{html.escape(self.title)}</div>'
                 if self.title else "")
        return f'<div class="netlab-wire">{title}<pre>{body}</pre></div>'


class HexDump:
    """A hex dump (16 bytes a line, like ``tcpdump -X``) with one byte string marked."""

    def __init__(self, data: bytes, *, mark: bytes = b"", width: int = 16) -> None:
        self.data = data
        self.mark = mark
        self.width = width

    def _marked(self) -> set[int]:
        if not self.mark:
            return set()
        at = self.data.find(self.mark)
        return set(range(at, at + len(self.mark))) if at >= 0 else set()

    def rows(self) -> list[tuple[str, str, str, str]]:
        """Per line: offset, hex, text, and a line of ``^^`` under the marked bytes."""
        marked, out = self._marked(), []
        for off in range(0, len(self.data), self.width):
            chunk = self.data[off:off + self.width]
            hexes = " ".join(f"{b:02x}" for b in chunk)
            under = " ".join("^^" if off + i in marked else "  " for i in range(len(chunk)))
            out.append((f"{off:04x}", hexes, _printable(chunk), under.rstrip()))
        return out

    def __str__(self) -> str:
        lines = []
        pad = self.width * 3 - 1
        for off, hexes, text, under in self.rows():
            lines.append(f"{off}  {hexes.ljust(pad)}  {text}")
            if under:
                lines.append(f"{' ' * len(off)}  {under}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        marked = self._marked()
        lines = []
        for off in range(0, len(self.data), self.width):
            chunk = self.data[off:off + self.width]

            def cell(at: int, s: str) -> str:
                s = html.escape(s)
                return f"<mark>{s}</mark>" if at in marked else s

            hexes = " ".join(cell(off + i, f"{b:02x}") for i, b in enumerate(chunk))
            hexes += "   " * (self.width - len(chunk))
            text = "".join(cell(off + i, _printable(bytes([b]))) for i, b in enumerate(chunk))
            lines.append(f"{off:04x}  {hexes}  {text}")
        return f'<div class="netlab-wire"><pre>{chr(10).join(lines)}</pre></div>'


def hexdump(data: bytes, *, mark: bytes = b"") -> HexDump:
    """A :class:`HexDump` of ``data``, with ``mark`` (its first occurrence) underlined."""
    return HexDump(data, mark=mark)


class ProgramOutput:
    """What another program printed (curl's error, openssl's report), as it printed it.

    On a page it is marked as English (``lang="en"``): a Chinese page quotes the program's own
    words, as a reader would see them in a terminal, and its prose says what they mean.

    >>> print(ProgramOutput("curl: (60) SSL certificate problem", "verify return:1"))
    curl: (60) SSL certificate problem
    verify return:1
    """

    def __init__(self, *lines: str) -> None:
        self.text = "\n".join(line.rstrip("\n") for line in lines)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return (f'<div class="netlab-program-output" lang="en"><pre>{html.escape(self.text)}'
                "</pre></div>")
