"""The kill matrix: every experiment of ``netlab run`` stopped by SIGINT, SIGTERM and SIGKILL.

For each experiment, each signal and each moment (seconds after the run has begun, that is
after its lab's first thread; ``--moments``),
starts ``python -m netlab run NAME`` with a fresh ``$TMPDIR``, sends the signal, and checks:

* the exit status: 130 for SIGINT and SIGTERM (or the run's own 0/1, and nothing on
  standard error, if its work was done when the signal came), death by SIGKILL;
* standard error: no ``Traceback``; one line for SIGINT and SIGTERM;
* what is left: files in ``$TMPDIR`` after the run, then after the next start of ``netlab``
  (which reaps what a killed run left); network namespaces in ``/run/netns``, links in the
  root namespace, nft tables, and processes whose parent was the run.

Prints one row per case and the totals. Run it as root from the repository::

    sudo .venv/bin/python benchmarks/kill_matrix.py [--moments 0.3 1.0] [NAME ...]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from netlab.experiments import EXPERIMENTS  # noqa: E402


def _state() -> tuple[tuple[str, ...], tuple[str, ...], str]:
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    netns = Path("/run/netns")
    nft = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    return (tuple(sorted(line.split(":")[1] for line in links.splitlines())),
            tuple(sorted(os.listdir(netns))) if netns.exists() else (), nft)


def _children(pid: int) -> list[int]:
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


def _files(tmp: Path) -> list[Path]:
    return [p for p in tmp.rglob("*") if p.name != f"netlab-{os.getuid()}"]


def one(name: str, sig: signal.Signals, moment: float, startup: bool) -> tuple[bool, str]:
    before = _state()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        env = {**os.environ, "TMPDIR": t, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([sys.executable, "-m", "netlab", "run", name], env=env,
                                cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        # the moments count from when the run has begun: its first thread besides the main
        # one (the lab's). Before that the interpreter is still importing netlab, which
        # --startup measures separately.
        deadline = time.monotonic() + 30
        while (not startup and proc.poll() is None and time.monotonic() < deadline
               and len(os.listdir(f"/proc/{proc.pid}/task")) < 2):
            time.sleep(0.005)
        time.sleep(moment)
        kids = _children(proc.pid)
        ended_first = proc.poll() is not None
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
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
        if sig != signal.SIGKILL and not (ended_first or finished) and err.count("\n") != 1:
            problems.append(f"{err.count(chr(10))} lines on stderr")
        left_run = _files(tmp)
        if sig != signal.SIGKILL and left_run:
            problems.append(f"{len(left_run)} files left")
        if any("key" in p.name for p in left_run):
            problems.append("a key log on disk")
        subprocess.run([sys.executable, "-m", "netlab", "list"], env=env, cwd="/",
                       capture_output=True, timeout=60)
        if _files(tmp):
            problems.append(f"{len(_files(tmp))} files left after the next start")
        time.sleep(0.2)
        alive = [k for k in kids if Path(f"/proc/{k}").exists()]
        if alive:
            problems.append(f"{len(alive)} child processes alive")
        if _state() != before:
            problems.append("namespaces, links or nft tables left")
    return not problems, ", ".join(problems) or "clean"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=sorted(EXPERIMENTS))
    parser.add_argument("--moments", nargs="+", type=float, default=[0.0, 0.5])
    parser.add_argument("--startup", action="store_true",
                        help="count the moments from the process's start instead (the signal "
                             "may then arrive while Python still imports netlab)")
    args = parser.parse_args()
    held = tried = 0
    for name in args.names:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            for moment in args.moments:
                ok, what = one(name, sig, moment, args.startup)
                tried += 1
                held += ok
                print(f"{name:16} {sig.name:8} {moment:4.1f} s  {'ok  ' if ok else 'FAIL'} {what}",
                      flush=True)
    print(f"\n{tried} cases, {held} held, {tried - held} failed")


if __name__ == "__main__":
    main()
