"""The Chinese catalogs follow one typography rule (docs/locale/zh_CN/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from zh_typography import CATALOGS, fix, problems


def test_the_rule_can_fail() -> None:
    assert problems("往返时延 (RTT) 为 20 ms") == [
        "half-width brackets in Chinese text: '(RTT)'"]
    assert problems("调用close()之后")  # no space between Chinese and Latin
    assert problems("的 ACK ，然后")  # a space before full-width punctuation
    assert fix("往返时延 (RTT) 为 20 ms，时间 (秒)") == "往返时延（RTT）为 20 ms，时间（秒）"


def test_what_the_rule_allows() -> None:
    assert problems("`client` (192.0.2.1) 和 `server` (192.0.2.2)") == []
    assert problems("调用 ``accept()`` 之后，见《TCP/IP详解》（卷 1）") == []
    assert problems("HTTP/2 (h2) 在一条连接上多路复用") == []
    assert problems("plain English (no Chinese) is not checked") == []


@pytest.mark.parametrize("catalog", CATALOGS, ids=[c.name for c in CATALOGS])
def test_catalog_follows_the_rule(catalog: Path) -> None:
    with catalog.open("rb") as f:
        messages = list(read_po(f))
    found = [f"{m.id!r}: {p}" for m in messages if m.id
             for s in (m.string if isinstance(m.string, tuple) else (m.string,))
             for p in problems(s or "")]
    assert found == []
