"""netlab.i18n: the views' few words in the page's language, aligned for a terminal."""

from __future__ import annotations

import pytest
from support import fixture_trace

from netlab.i18n import ZH_CN, language, tr, tr_moment
from netlab.views.table import Grid, Table


def test_language_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert language() == "en"
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh-CN")
    assert language() == "zh_CN"
    assert tr("direction") == "方向"
    assert tr("SYN") == "SYN"  # protocol words stay as they are


def test_every_entry_is_translated() -> None:
    assert all(zh and zh != en for en, zh in ZH_CN.items())
    assert tr("{frames} frames captured on {host}", "zh_CN").format(frames=7, host="client") \
        == "在 client 上抓到的 7 帧"


def test_moments_item_by_item(monkeypatch: pytest.MonkeyPatch) -> None:
    moment = ("client calls shutdown(SHUT_WR); ACK arrived at client; "
              "the wire loses the client's ACK")
    assert tr_moment(moment) == moment  # English pages print it as it is
    assert tr_moment(moment, "zh_CN") == ("客户端调用 shutdown(SHUT_WR)；ACK 到达客户端；"
                                          "线路把客户端的 ACK 丢掉了")
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    assert tr_moment("FIN, ACK arrived at server again") == "FIN, ACK 再次到达服务器"
    assert tr_moment("socket() and bind() done") == "socket() 和 bind() 之后"
    assert tr_moment("something new; SYN") == "something new；SYN"  # no entry: as it is


def test_chinese_table_headings_and_alignment(monkeypatch: pytest.MonkeyPatch) -> None:
    english = str(Table(fixture_trace(), absolute=False, options=False)).splitlines()
    monkeypatch.setenv("NETLAB_DOCS_LANG", "zh_CN")
    chinese = str(Table(fixture_trace(), absolute=False, options=False)).splitlines()
    assert chinese[0] == "#  时间 (ms)  方向                        标志位    seq  ack  len    win"
    # the rows are the same: the headings' width is counted in terminal columns
    assert chinese[1:] == english[1:]


def test_wide_characters_take_two_columns() -> None:
    grid = Grid([["时刻", "n"], ["ab", "1"], ["accept 队列", "22"]], right={"n"})
    assert str(grid) == "时刻          n\nab            1\naccept 队列  22"
