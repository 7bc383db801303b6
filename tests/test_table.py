"""netlab.views.table: the stable text table (compared exactly) and its HTML form."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from support import fixture_frames, fixture_trace

from netlab.analysis.trace import Trace
from netlab.views.table import Grid, Table

# The committed fixture's trace. Times are those of the recording; everything else would be
# the same on any run, except the raw numbers (random ISNs, RFC 9293 §3.4.1) and options.
ALL_CONNECTIONS = """\
#  time (ms)  direction                   flags     seq  ack  len    win
1      0.000  client:40000 → server:8080  SYN         0    -    0  64240
2      9.452  server:8080 → client:40000  SYN, ACK    0    1    0  65160
3     18.204  client:40000 → server:8080  ACK         1    1    0  64512
4     95.090  client:40001 → server:8081  SYN         0    -    0  64240
5     95.242  server:8081 → client:40001  RST, ACK    1    1    0      0
6     95.610  client:40002 → server:8080  SYN         0    -    0  64240
7   1109.503  client:40002 → server:8080  SYN         0    -    0  64240"""

HANDSHAKE = """\
#  time (ms)  direction        flags     seq  ack  len    win     raw seq     raw ack  raw win  \
options
1      0.000  client → server  SYN         0    -    0  64240  2792422941           -    64240  \
MSS=1460 SACK_PERM TS=1363890214/0 WS=10
2      9.452  server → client  SYN, ACK    0    1    0  65160  1800405286  2792422942    65160  \
MSS=1460 SACK_PERM TS=809438224/1363890214 WS=10
3     18.204  client → server  ACK         1    1    0  64512  2792422942  1800405287       63  \
TS=1363890232/809438224"""


def test_text_table_all_connections() -> None:
    assert str(Table(fixture_trace(), absolute=False, options=False)) == ALL_CONNECTIONS


def test_text_table_one_connection_with_raw_numbers_and_options() -> None:
    trace = fixture_trace()
    assert str(Table(trace.only(trace.connection(port=40000)))) == HANDSHAKE


def test_table_columns() -> None:
    trace = fixture_trace()
    assert Table(trace).columns == ["#", "time (ms)", "direction", "flags", "seq", "ack",
                                     "len", "win", "raw seq", "raw ack", "raw win", "options"]
    assert Table(trace, absolute=False).columns[-1] == "options"
    assert "raw seq" not in Table(trace, absolute=False).columns
    assert len(Table(trace).rows) == len(trace)


def test_time_column_is_relative_to_the_first_segment() -> None:
    trace = fixture_trace()
    first = fixture_frames("client")[0].timestamp_ns
    times = [float(row[1]) for row in Table(trace).rows]
    assert times == [round((s.time_ns - first) / 1e6, 3) for s in trace.segments]


def test_html_table_is_well_formed_and_escaped() -> None:
    names = {"192.0.2.1": "<client & co>", "192.0.2.2": "server"}
    frames = [replace(f, host="<client & co>") for f in fixture_frames("client")]
    trace = Trace.from_frames([frames], names)
    root = ET.fromstring(Table(trace)._repr_html_())
    table = root.find("table")
    assert table is not None
    header = [th.text for th in table.iterfind("thead/tr/th")]
    assert header == Table(trace).columns
    rows = table.findall("tbody/tr")
    assert [r.get("data-segment") for r in rows] == [str(n) for n in range(1, 8)]
    first = [td.text or "" for td in rows[0]]
    assert first[2] == "<client & co>:40000 → server:8080"
    assert [td.get("class") for td in rows[0]][:4] == ["num", "num", "txt", "txt"]


def test_grid() -> None:
    grid = Grid([["name", "n"], ["a", "1"], ["bbb", "22"]], right={"n"})
    assert str(grid) == "name   n\na      1\nbbb   22"
    assert repr(grid) == str(grid)
    assert grid.rows == [["a", "1"], ["bbb", "22"]]
    root = ET.fromstring(grid._repr_html_())
    assert [td.get("class") for td in root.iter("td")] == ["txt", "num", "txt", "num"]


def test_empty_trace_table() -> None:
    table = Table(Trace(()), absolute=False, options=False)
    assert str(table) == "#  time (ms)  direction  flags  seq  ack  len  win"
