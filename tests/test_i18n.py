"""netlab.i18n: the views' few words in the page's language, aligned for a terminal."""

from __future__ import annotations

import pytest
from support import fixture_trace

from netlab.i18n import ZH_CN, language, tr
from netlab.model.moments import Happening, Moment
from netlab.views.moments import moment_text
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
    assert chinese[0] == "#  时间 (ms)  方向                        标志位    seq  ack  len    win"
    # the rows are the same: the headings' width is counted in terminal columns
    assert chinese[1:] == english[1:]


def test_wide_characters_take_two_columns() -> None:
    grid = Grid([["时刻", "n"], ["ab", "1"], ["accept 队列", "22"]], right={"n"})
    assert str(grid) == "时刻          n\nab            1\naccept 队列  22"
