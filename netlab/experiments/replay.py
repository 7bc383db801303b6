"""Run a page's experiments once and show them in both languages: record and replay.

The docs build reads every page once per language, and each reading runs the page's cells in
a fresh Jupyter kernel. Without this module each language would run the experiments again: the
site would take twice as long, and the English and Chinese pages would show two different runs
(other ISNs, other timings). With it, the first language's kernel runs each experiment and
records its result; the second language's kernel runs the same cells, gets the recorded
results back instead of running anything, and renders them in its own language.

docs/conf.py decides, before a page's kernel starts, which of the two a kernel does, through
its environment:

``NETLAB_RUN_RECORD=<file>``
    run each experiment and append its result (or the error it raised) to ``file``;
``NETLAB_RUN_REPLAY=<file>``
    run nothing: return the results recorded in ``file``, in the order they were recorded.

With neither (the CLI, the snippets, the tests, a reader's notebook) an experiment just runs.
Only the outermost experiment call is recorded: one that calls others (``http()`` runs the
HTTP chapter's experiments) is one entry. A replay that is asked for another experiment, or
for other arguments, than the recording holds at that point raises :class:`ReplayMismatch`:
the page's code changed without its recording being made again, which the build's cache key
(the page's cells and netlab's own source) is there to prevent.

>>> import os
>>> @replayable
... def answer(x: int = 1) -> int:
...     return 41 + x
>>> answer()  # neither variable set: it runs
42
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from netlab.errors import NetlabError

__all__ = ["RECORD", "REPLAY", "ReplayMismatch", "replayable", "recorded_calls"]

RECORD = "NETLAB_RUN_RECORD"
REPLAY = "NETLAB_RUN_REPLAY"

F = TypeVar("F", bound=Callable[..., Any])

_depth = 0  # experiments running now, in this process: only the outermost one is recorded
_replay: dict[str, list[tuple[str, bool, Any]]] = {}  # file -> the calls not yet replayed


class ReplayMismatch(NetlabError):
    """A replayed page asked for another experiment than its recording holds at that point."""


def _call_key(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The experiment and its arguments, as text: what a replayed call must match."""
    arguments = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in sorted(kwargs.items())]
    return f"{fn.__module__}.{fn.__qualname__}({', '.join(arguments)})"


def recorded_calls(path: str | os.PathLike[str]) -> list[tuple[str, bool, Any]]:
    """Every call recorded in ``path``: ``(key, raised, result or error)``, in order."""
    calls = []
    with open(path, "rb") as f:
        while True:
            try:
                calls.append(pickle.load(f))
            except EOFError:
                return calls


def replayable(fn: F) -> F:
    """Let the docs build record ``fn``'s results in one language and replay them in the other.

    ``fn`` must return a picklable value (netlab's results are frozen dataclasses of plain
    values) and depend only on its arguments and on netlab's code.
    """

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        global _depth
        record, replay = os.environ.get(RECORD), os.environ.get(REPLAY)
        key = _call_key(fn, args, kwargs)
        if _depth == 0 and replay:
            return _replayed(replay, key)
        if _depth > 0 or not record:
            _depth += 1
            try:
                return fn(*args, **kwargs)
            finally:
                _depth -= 1
        _depth += 1
        try:
            result = fn(*args, **kwargs)
        except Exception as error:
            _append(record, (key, True, error))
            raise
        finally:
            _depth -= 1
        _append(record, (key, False, result))
        return result

    return cast(F, run)


def _append(path: str, call: tuple[str, bool, Any]) -> None:
    with open(path, "ab") as f:
        _Pickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(call)


class _Pickler(pickle.Pickler):
    """A pickler for frozen objects with ``__slots__`` (h11's events): pickle restores slots
    with setattr, which a frozen dataclass refuses, so they are rebuilt with
    ``object.__setattr__`` instead."""

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if (isinstance(obj, type) or not dataclasses.is_dataclass(obj)
                or hasattr(cls, "__setstate__")):
            return NotImplemented
        slots = [name for c in cls.__mro__ for name in _slot_names(c)]
        if not slots:
            return NotImplemented
        state = {name: getattr(obj, name) for name in slots if hasattr(obj, name)}
        state.update(getattr(obj, "__dict__", {}))
        return _rebuild, (cls, state)


def _slot_names(cls: type) -> tuple[str, ...]:
    slots = vars(cls).get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)


def _rebuild(cls: type, state: dict[str, Any]) -> Any:
    obj: Any = object.__new__(cls)
    for name, value in state.items():
        object.__setattr__(obj, name, value)
    return obj


def _replayed(path: str, key: str) -> Any:
    if path not in _replay:
        _replay[path] = recorded_calls(path) if Path(path).exists() else []
    pending = _replay[path]
    if not pending or pending[0][0] != key:
        expected = pending[0][0] if pending else "nothing more"
        raise ReplayMismatch(f"replaying {path}: the page asks for {key}, but the recording "
                             f"holds {expected}; build the site afresh (scripts/build-site.sh)")
    _, raised, value = pending.pop(0)
    if raised:
        raise value
    return value
