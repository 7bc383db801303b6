"""Every experiment of ``netlab run`` killed by SIGINT, SIGTERM and SIGKILL, shortly after
its lab is up: no traceback, one line and status 130 (or the run's own 0/1 if it had
finished), and nothing left: no file in its ``$TMPDIR`` once the next ``netlab`` has started,
no process, no namespace, link or nft table in the root namespace.

The checks live in ``kill_check.py``, shared with benchmarks/kill_matrix.py, which tries
more moments. The three signals of one experiment run side by side, so that the 29
experiments take minutes, not a quarter of an hour.
"""

from __future__ import annotations

import signal

import pytest
from kill_check import kill_batch
from support import require_namespaces

from netlab.experiments import EXPERIMENTS

pytestmark = pytest.mark.live

MOMENT = 0.3
"""Seconds after the lab's first thread: its namespaces and links are being made or up."""


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_killed_run_leaves_nothing_and_prints_no_traceback(name: str) -> None:
    require_namespaces()
    outcomes = kill_batch([(name, sig, MOMENT)
                           for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)])
    failed = [f"{o.row()}\n    exit {o.returncode}, stderr: {o.stderr!r}"
              for o in outcomes if not o.ok]
    assert not failed, "\n".join(failed)
    # the checks can fail: the SIGKILL case really died of its signal. A short experiment
    # can end before the moment comes (websocket's did once, on a quiet machine): then it is
    # killed again, sooner, until the signal lands.
    killed, moment = outcomes[2].returncode, MOMENT
    while killed != -signal.SIGKILL and moment > 0.01:
        moment /= 3
        (again,) = kill_batch([(name, signal.SIGKILL, moment)])
        assert again.ok, f"{again.row()}\n    exit {again.returncode}"
        killed = again.returncode
    assert killed == -signal.SIGKILL
