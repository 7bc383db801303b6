"""netlab.experiments.replay and netlab.model.run: one run of a page's experiments, shown twice.

The docs build's first language records each experiment's result, the second replays them
(docs/conf.py chooses, through the kernel's environment). These tests play both kernels in one
process with functions that count how often they really ran.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from netlab.experiments import replay
from netlab.experiments.replay import RECORD, REPLAY, ReplayMismatch, recorded_calls, replayable
from netlab.model import run as netlab_run

ran: list[str] = []


@replayable
def measure(rtt: float = 0.05, *, samples: int = 3) -> dict[str, object]:
    ran.append(f"measure {rtt} {samples}")
    return {"rtt": rtt, "samples": [rtt * i for i in range(samples)], "isn": len(ran) * 7919}


@replayable
def chapter() -> tuple[dict[str, object], dict[str, object]]:
    ran.append("chapter")
    return measure(0.01), measure(0.2, samples=1)  # inner calls: part of this one entry


@replayable
def refused() -> None:
    ran.append("refused")
    raise ConnectionRefusedError(111, "Connection refused")


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    ran.clear()
    monkeypatch.delenv(RECORD, raising=False)
    monkeypatch.delenv(REPLAY, raising=False)
    monkeypatch.setattr(replay, "_replay", {})


def _page() -> list[object]:
    """The experiment calls of one page, in its order."""
    out: list[object] = [measure(), chapter(), measure(0.05, samples=2)]
    with pytest.raises(ConnectionRefusedError) as error:
        refused()
    out.append(error.value.errno)
    return out


def test_the_second_language_shows_the_first_languages_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recording = tmp_path / "page.pickle"
    monkeypatch.setenv(RECORD, str(recording))
    first = _page()
    assert ran == ["measure 0.05 3", "chapter", "measure 0.01 3", "measure 0.2 1",
                   "measure 0.05 2", "refused"]
    assert [key for key, _, _ in recorded_calls(recording)] == [
        "test_replay.measure()", "test_replay.chapter()", "test_replay.measure(0.05, samples=2)",
        "test_replay.refused()"]  # the outermost calls only
    monkeypatch.delenv(RECORD)
    monkeypatch.setenv(REPLAY, str(recording))
    ran.clear()
    assert _page() == first  # the same values, the same error
    assert ran == []  # and nothing ran again


def test_without_the_build_experiments_just_run() -> None:
    assert measure()["isn"] != measure()["isn"]
    assert ran == ["measure 0.05 3"] * 2


def test_a_replay_that_asks_for_something_else_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recording = tmp_path / "page.pickle"
    monkeypatch.setenv(RECORD, str(recording))
    measure()
    monkeypatch.delenv(RECORD)
    monkeypatch.setenv(REPLAY, str(recording))
    with pytest.raises(ReplayMismatch, match=r"asks for test_replay.measure\(0.1\)"):
        measure(0.1)
    monkeypatch.setattr(replay, "_replay", {})
    measure()
    with pytest.raises(ReplayMismatch, match="holds nothing more"):
        measure()
    assert ran == ["measure 0.05 3"]


def test_the_run_travels_to_the_kernel_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(netlab_run.ENV, raising=False)
    assert netlab_run.current() is None
    made = netlab_run.new_run()
    assert len(made.run_id) == 8 and made.date.endswith("Z") and made.netlab.startswith("0.")
    monkeypatch.setenv(netlab_run.ENV, made.to_json())
    assert netlab_run.current() == made
    monkeypatch.setenv(netlab_run.ENV, "{not json")
    assert netlab_run.current() is None  # a broken variable names no run, and raises nothing
    assert made.run_id in made.describe("zh_CN") and "运行" in made.describe("zh_CN")


def test_frozen_objects_with_slots_come_back(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """h11's events are frozen dataclasses with __slots__, which plain pickle cannot restore."""
    import h11

    @replayable
    def events() -> list[object]:
        return [h11.Request(method="GET", target="/", headers=[("Host", "a")]),
                h11.Response(status_code=200, headers=[]), h11.EndOfMessage()]

    monkeypatch.setenv(RECORD, str(tmp_path / "h11.pickle"))
    first = events()
    monkeypatch.delenv(RECORD)
    monkeypatch.setenv(REPLAY, str(tmp_path / "h11.pickle"))
    again = events()
    assert again == first and again is not first
    assert again[0].method == b"GET"  # type: ignore[attr-defined]


def _conf() -> object:
    """docs/conf.py as a module (importing it patches jupyter-sphinx, as a build does)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "netlab_docs_conf", Path(__file__).resolve().parent.parent / "docs" / "conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_build_runs_a_page_the_other_waits_and_replays(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both languages build at once: the first to claim a page runs it; the other waits for its
    recording (not for ever), and a lock left by a process that is gone is taken over."""
    import threading
    import time

    conf: Any = _conf()
    monkeypatch.setattr(conf, "RUN_CACHE", tmp_path)
    monkeypatch.setattr(conf, "_locks", [])
    assert conf._claim("page") is True  # this process runs it
    assert (tmp_path / "page.lock").read_text() == str(os.getpid())

    def keep() -> None:  # the recording is kept a moment later, then the lock released
        time.sleep(0.5)
        (tmp_path / "page.pickle").write_bytes(b"")
        (tmp_path / "page.json").write_text("{}")
        conf._release_locks()

    keeper = threading.Thread(target=keep)
    keeper.start()
    start = time.monotonic()
    assert conf._claim("page") is False  # the other build: it waited, and replays
    assert time.monotonic() - start >= 0.4
    keeper.join()
    assert not (tmp_path / "page.lock").exists()

    (tmp_path / "other.lock").write_text("99999999")  # above any pid_max: no such process
    assert conf._claim("other") is True
    monkeypatch.setattr(conf, "CLAIM_TIMEOUT", 0.3)
    (tmp_path / "hung.lock").write_text("1")  # pid 1 is alive: waited for, up to the timeout
    assert conf._claim("hung") is True
    conf._release_locks()


def test_a_pages_key_follows_its_code_and_netlab(monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat

    conf: Any = _conf()
    cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("x")]
    key = conf._run_key("python3", cells)
    assert conf._run_key("python3", cells) == key
    assert conf._run_key("python3", [*cells[:1], nbformat.v4.new_code_cell("x  # edited")]) != key
    monkeypatch.setattr(conf, "_netlab_source_hash", lambda: "another netlab")
    assert conf._run_key("python3", cells) != key


def test_a_page_read_again_unchanged_shows_its_kept_notebook(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An incremental build reads a page again after a prose edit: its cells, netlab and the
    language unchanged, the notebook this language executed is shown again and no kernel starts;
    the other language, or edited cells, execute (replaying, or running anew)."""
    import nbformat

    conf: Any = _conf()
    monkeypatch.setattr(conf, "RUN_CACHE", tmp_path)
    monkeypatch.setattr(conf, "_locks", [])
    executed: list[tuple[str | None, str | None]] = []

    def kernel(kernel_name: str, cells: list[Any], kwargs: dict[str, Any]) -> Any:
        executed.append((os.environ.get(RECORD), os.environ.get(REPLAY)))
        notebook = nbformat.v4.new_notebook(cells=cells)
        lang = os.environ["NETLAB_DOCS_LANG"]
        for i, cell in enumerate(notebook.cells):
            cell.outputs = [nbformat.v4.new_output("stream", text=f"{lang} {len(executed)} {i}")]
        return notebook

    monkeypatch.setattr(conf, "_run_cells", kernel)

    def read(lang: str, source: str = "x = 1") -> Any:
        monkeypatch.setenv("NETLAB_DOCS_LANG", lang)
        cells = [nbformat.v4.new_code_cell(source), nbformat.v4.new_code_cell("")]
        notebook = conf._execute_cells_once("python3", cells, {})
        conf._keep_pending()  # the page read cleanly (docs/conf.py's _KeepRecordings)
        return notebook

    first = read("en")
    assert len(executed) == 1 and executed[0][0] is not None  # it ran, recording
    again = read("en")
    assert len(executed) == 1  # no kernel: the kept notebook
    assert [c.outputs for c in again.cells] == [c.outputs for c in first.cells]
    assert again.metadata["netlab"] == first.metadata["netlab"]  # the same run, named
    zh = read("zh_CN")
    assert len(executed) == 2 and executed[1][1] is not None  # it replayed the English run
    assert zh.cells[0].outputs[0]["text"].startswith("zh_CN")
    assert zh.metadata["netlab"] == first.metadata["netlab"]
    read("zh_CN")
    assert len(executed) == 2
    read("en", "x = 2")  # a code edit: a new run
    assert len(executed) == 3 and executed[2][0] is not None
    monkeypatch.setattr(conf, "_netlab_source_hash", lambda: "another netlab")
    read("en")
    assert len(executed) == 4
