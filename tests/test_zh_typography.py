"""The Chinese catalogs follow one typography rule (docs/locale/zh_CN/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from zh_typography import CATALOGS, avoided, differing, fix, problems


def test_the_rule_can_fail() -> None:
    assert problems("往返时延 (RTT) 为 20 ms") == [
        "half-width brackets in Chinese text: '(RTT)'"]
    assert problems("调用close()之后")  # no space between Chinese and Latin
    assert problems("的 ACK ，然后")  # a space before full-width punctuation
    # a bracket after a role or emphasis that shows Chinese words sits in Chinese text
    assert problems("由{term}`证书颁发机构 <certificate authority>` (CA) 签发") == [
        "half-width brackets in Chinese text: '(CA)'"]
    assert problems("即*线路* (wire)，它转发每一帧") == [
        "half-width brackets in Chinese text: '(wire)'"]
    assert fix("即*线路* (wire)，它") == "即*线路*（wire），它"
    assert fix("往返时延 (RTT) 为 20 ms，时间 (秒)") == "往返时延（RTT）为 20 ms，时间（秒）"


def test_what_the_rule_allows() -> None:
    assert problems("`client` (192.0.2.1) 和 `server` (192.0.2.2)") == []
    assert problems("调用 ``accept()`` 之后，见《TCP/IP详解》（卷 1）") == []
    assert problems("HTTP/2 (h2) 在一条连接上多路复用") == []
    assert problems("用 {term}`TLS <tls>` (RFC 8446) 加密") == []
    assert problems("plain English (no Chinese) is not checked") == []


@pytest.mark.parametrize("catalog", CATALOGS, ids=[c.name for c in CATALOGS])
def test_catalog_follows_the_rule(catalog: Path) -> None:
    with catalog.open("rb") as f:
        messages = list(read_po(f))
    found = [f"{m.id!r}: {p}" for m in messages if m.id
             for s in (m.string if isinstance(m.string, tuple) else (m.string,))
             for p in [*problems(s or ""), *avoided(s or "")]]
    assert found == []


def test_the_wording_check_can_fail() -> None:
    assert avoided("两个请求拿回的是同一个页面。不同的是线路上传过的一切。") == [
        "avoid '线路上传': write 经过线路的……（“线路上传”读成了“上传”）"]
    assert avoided("两个请求拿回的是同一个页面，不同的是经过线路的一切。") == []


PAGES = [c for c in CATALOGS if c.name != "netlab.po"]


def test_the_pages_translate_each_sentence_one_way(tmp_path: Path) -> None:
    """A heading or a sentence that several pages share ("Open it in Wireshark") reads the
    same on each Chinese page; netlab's own catalog is left out, since a word printed in a
    table and the same word in a docstring may rightly differ."""
    assert differing(PAGES) == {}
    two = [tmp_path / "a.po", tmp_path / "b.po"]
    for path, text in zip(two, ["用 Wireshark 打开", "在 Wireshark 中打开"], strict=True):
        path.write_text(f'msgid ""\nmsgstr ""\n\nmsgid "Open it in Wireshark"\nmsgstr "{text}"\n',
                        encoding="utf-8")
    assert differing(two) == {"Open it in Wireshark": {"用 Wireshark 打开", "在 Wireshark 中打开"}}
