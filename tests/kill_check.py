"""``netlab run NAME`` stopped by a signal, and what it must leave: the checks that
tests/test_kill.py asserts and benchmarks/kill_matrix.py counts (one copy, imported by both).

A case starts ``python -m netlab run NAME`` with a ``$TMPDIR`` of its own, waits until the run
has begun (its first thread besides the main one: the lab's; before that the interpreter is
still importing netlab), waits ``moment`` seconds more, sends the signal, and looks at:

* the exit status: 130 for SIGINT and SIGTERM (or the run's own 0/1, with nothing on
  standard error, if its work was done when the signal came), death by SIGKILL;
* standard error: no ``Traceback``; one line for SIGINT and SIGTERM;
* files in its ``$TMPDIR``: none after SIGINT or SIGTERM, no key log ever, and none after the
  next start of ``netlab`` (``netlab list``, which reaps what a killed run left; run only if
  something was left);
* processes: none of the run's children, and no process at all whose environment names the
  case's ``$TMPDIR`` (a grandchild holding a lab namespace open would have it);

and, around a batch of cases (run side by side), the root namespace: network namespaces
in ``/run/netns``, links, nft tables. The lab's own namespaces have no name; they live as
long as a process holds them, which the process check covers.

Nothing here imports pytest or netlab: the benchmark runs it as a plain script.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

INTERRUPTED = "netlab: interrupted; the lab was taken down\n"
"""The one line a run stopped by SIGINT or SIGTERM prints (tests/test_interrupt.py too)."""


@dataclass(frozen=True)
class Outcome:
    """One case: what the run did and what was wrong with it (nothing, if it held)."""

    name: str
    sig: signal.Signals
    moment: float
    returncode: int | None
    stderr: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def row(self) -> str:
        return (f"{self.name:16} {self.sig.name:8} {self.moment:4.1f} s  "
                f"{'ok  ' if self.ok else 'FAIL'} {', '.join(self.problems) or 'clean'}")


def root_state() -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """Links and named namespaces of the root namespace, and its nft tables."""
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                           timeout=30).stdout
    netns = Path("/run/netns")
    nft = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True,
                         timeout=30).stdout
    return (tuple(sorted(line.split(":")[1].strip() for line in links.splitlines())),
            tuple(sorted(os.listdir(netns))) if netns.exists() else (), nft)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def processes_with_tmpdir(tmp: Path) -> list[int]:
    """Every process whose environment has ``TMPDIR=tmp`` (a run's descendants inherit it)."""
    needle = f"TMPDIR={tmp}".encode()
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                env = (entry / "environ").read_bytes()
            except OSError:
                continue
            if needle in env.split(b"\0"):
                out.append(int(entry.name))
    return out


def files(tmp: Path) -> list[Path]:
    """Everything under ``tmp`` but netlab's own private directory."""
    return sorted(p for p in tmp.rglob("*") if p != tmp / f"netlab-{os.getuid()}")


def _env(tmp: Path) -> dict[str, str]:
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO),
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("NETLAB_DOCS_LANG", None)
    return env


def kill_one(name: str, sig: signal.Signals, moment: float, *,
             startup: bool = False) -> Outcome:
    """Run ``netlab run name``, send ``sig`` ``moment`` s after it has begun, check the rest.

    With ``startup`` the moment counts from the process's start instead (the signal may then
    arrive while Python still imports netlab).
    """
    with tempfile.TemporaryDirectory(prefix="netlab-kill-") as t:
        tmp = Path(t)
        env = _env(tmp)
        proc = subprocess.Popen([sys.executable, "-m", "netlab", "run", name], env=env,
                                cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 30
        while not startup and proc.poll() is None and time.monotonic() < deadline:
            try:
                if len(os.listdir(f"/proc/{proc.pid}/task")) >= 2:
                    break
            except FileNotFoundError:
                break
            time.sleep(0.005)
        time.sleep(moment)
        kids = children(proc.pid)
        ended_first = proc.poll() is not None
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate(timeout=30)
            err += "\n(still running 60 s after the signal)"
        problems = []
        if "Traceback" in err:
            problems.append("traceback")
        expected = {-signal.SIGKILL} if sig == signal.SIGKILL else {130}
        # the run's own status: it had ended, or was ending (the command ignores SIGINT and
        # SIGTERM once its work is done, so that the status stays the run's)
        finished = sig != signal.SIGKILL and proc.returncode in (0, 1) and not err
        if ended_first or finished:
            expected |= {0, 1}
        if proc.returncode not in expected:
            problems.append(f"exit {proc.returncode}")
        if sig != signal.SIGKILL and not (ended_first or finished) and err != INTERRUPTED:
            problems.append(f"{err.count(chr(10))} lines on stderr, not the one line")
        left = files(tmp)
        if sig != signal.SIGKILL and left:
            problems.append(f"{len(left)} files left")
        if any("key" in p.name for p in left):
            problems.append("a key log on disk")
        # the processes the run made end with it (a moment for the kernel to reap them)
        deadline = time.monotonic() + 2
        while True:
            alive = [k for k in kids if Path(f"/proc/{k}").exists()]
            stray = processes_with_tmpdir(tmp)
            if not (alive or stray) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if alive:
            problems.append(f"{len(alive)} child processes alive")
        if stray:
            problems.append(f"{len(stray)} processes of the run alive")
        # the next start of netlab reaps what a killed run left (with nothing left, there is
        # nothing to reap: the start, a second of imports, is skipped)
        if left:
            subprocess.run([sys.executable, "-m", "netlab", "list"], env=env, cwd="/",
                           capture_output=True, timeout=60, check=False)
        if files(tmp):
            problems.append(f"{len(files(tmp))} files left after the next start")
        return Outcome(name, sig, moment, proc.returncode, err, tuple(problems))


def kill_batch(cases: Sequence[tuple[str, signal.Signals, float]], *,
               startup: bool = False, settle: float = 2.0) -> list[Outcome]:
    """:func:`kill_one` for every case at once, one thread each; then the root namespace.

    The root namespace is compared before and after the whole batch (each case cannot be
    told apart there); if it differs, every case of the batch says so.
    """
    before = root_state()
    results: dict[int, Outcome] = {}

    def body(i: int, case: tuple[str, signal.Signals, float]) -> None:
        try:
            results[i] = kill_one(*case, startup=startup)
        except Exception as exc:  # reported as the case's problem
            results[i] = Outcome(case[0], case[1], case[2], None, "",
                                 (f"the check failed: {exc!r}",))

    threads = [threading.Thread(target=body, args=(i, c)) for i, c in enumerate(cases)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(240)
    out = [results.get(i, Outcome(c[0], c[1], c[2], None, "", ("the check did not end",)))
           for i, c in enumerate(cases)]
    deadline = time.monotonic() + settle
    while (now := root_state()) != before and time.monotonic() < deadline:
        time.sleep(0.1)
    if now != before:
        out = [Outcome(o.name, o.sig, o.moment, o.returncode, o.stderr,
                       (*o.problems, "namespaces, links or nft tables left")) for o in out]
    return out
