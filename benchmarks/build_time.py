"""Wall time of the clean bilingual build, and where it goes.

Prints, for this machine:

* the clean build of English alone (``sphinx-build -E``, an empty run cache: its kernels run
  every experiment), then of both languages at once from an empty run cache, as
  scripts/build-site.sh builds them: for each page the first build to reach it runs its
  experiments and records the results, the other replays them (docs/conf.py,
  netlab.experiments.replay); and the ratio of the two, the budget of issue 16 (at most 1.25).
  The translation gate, which build-site.sh runs beside them, is left out: benchmarks/budgets.py
  times the whole script;
* how much of that is Jupyter kernel start-up (one kernel per page with executed cells, in
  each language);
* how much is the pages' cells themselves: each page's notebook, as jupyter-sphinx saved it
  for that language, executed again and timed (kernel start-up excluded), the English ones
  recording (the experiments run), the Chinese ones replaying the run cache's recording of the
  same run (the views only);
* and the rest, Sphinx itself (reading, rendering, writing, search index).

Run it as root from the repository (the experiments need it)::

    sudo .venv/bin/python benchmarks/build_time.py [--repeat 3] [--check]

``--check`` exits with status 1 when the bilingual build takes more than 1.25 × the English one.
The kernel and cell shares are measured apart and multiplied by how many pages start a kernel;
with ``-j 2`` and two languages at once, several pages run at once, so the shares are an upper
bound of what they add to the wall time. Other work on the machine slows everything down: the
load is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
JOBS = os.environ.get("NETLAB_JOBS", "2")
BENCH = ROOT / "docs" / "_build" / "bench"
RUNS = BENCH / "runs"  # this benchmark's own run cache, emptied before each clean build
RATIO_BUDGET = 1.25  # the bilingual clean build against the English one alone


def _command(language: str) -> list[str]:
    out = BENCH / language
    doctrees = out.parent / f"doctrees-{language}"
    return [sys.executable, "-m", "sphinx", "-E", "-q", "-b", "html", "-W", "--keep-going", "-n",
            "-j", JOBS, "-D", f"language={language}", "-d", str(doctrees), str(DOCS), str(out)]


def build(*languages: str) -> float:
    """Seconds to build ``languages`` at once (each its own sphinx-build, one run cache)."""
    start = time.perf_counter()
    builds = [subprocess.Popen(_command(lang), env={**os.environ, "NETLAB_DOCS_LANG": lang,
                                                    "NETLAB_RUN_CACHE": str(RUNS)})
              for lang in languages]
    failed = [lang for lang, b in zip(languages, builds, strict=True) if b.wait() != 0]
    if failed:
        sys.exit(f"build_time: the {', '.join(failed)} build failed")
    return time.perf_counter() - start


def clean_builds() -> dict[str, float]:
    """English alone, then both languages at once, each from an empty run cache."""
    shutil.rmtree(RUNS, ignore_errors=True)
    english = build("en")
    shutil.rmtree(RUNS, ignore_errors=True)
    return {"en": english, "both": build("en", "zh_CN")}


def kernel_startup() -> float:
    """Seconds from starting a python3 kernel to the reply of its first (empty) cell."""
    from jupyter_client.manager import start_new_kernel

    start = time.perf_counter()
    manager, client = start_new_kernel(kernel_name="python3",
                                       extra_arguments=["--IPKernelApp.log_level=ERROR"])
    try:
        client.execute_interactive("pass", timeout=60)
        return time.perf_counter() - start
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def cell_times(language: str, since: float = 0.0) -> dict[str, float]:
    """Seconds each page's cells take to run in ``language`` (the notebooks that build saved),
    no start-up: recording in English (the experiments run), replaying in Chinese."""
    import nbformat
    from jupyter_client.manager import start_new_kernel
    from nbclient import NotebookClient

    from netlab.experiments.replay import RECORD, REPLAY
    from netlab.model.run import ENV

    times = {}
    # jupyter-sphinx saves them under the source folder, one folder per language (docs/conf.py)
    folder = DOCS / "_build" / "jupyter_execute" / language
    scratch = BENCH / "replay-check"
    for path in sorted(folder.glob("*.ipynb")):
        if path.stat().st_mtime < since:
            continue  # left by an older build (an incremental build keeps the folder)
        notebook = nbformat.read(path, as_version=4)
        run = notebook.metadata.get("netlab", {}).get("run")
        recording = _recording_of(run["run_id"]) if run else None
        env = {k: v for k, v in os.environ.items() if k not in (RECORD, REPLAY, ENV)}
        env["NETLAB_DOCS_LANG"] = language
        if language == "en" or recording is None:
            scratch.mkdir(parents=True, exist_ok=True)
            env[RECORD] = str(scratch / f"{path.stem}.pickle")
            Path(env[RECORD]).unlink(missing_ok=True)
        else:
            env[REPLAY] = str(recording)
        manager, kernel = start_new_kernel(kernel_name="python3", env=env,
                                           extra_arguments=["--IPKernelApp.log_level=ERROR"])
        try:
            # allow_errors: some cells fail on purpose (a page shows the error)
            client = NotebookClient(notebook, km=manager, timeout=300, allow_errors=True)
            client.kc = kernel
            start = time.perf_counter()
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
            times[path.stem] = time.perf_counter() - start
        finally:
            kernel.stop_channels()
            manager.shutdown_kernel(now=True)
    return times


def _recording_of(run_id: str) -> Path | None:
    """The recording in this benchmark's run cache of the run named ``run_id``."""
    for about in RUNS.glob("*.json"):
        if json.loads(about.read_text()).get("run_id") == run_id:
            return about.with_suffix(".pickle")
    return None


def pages_with_cells() -> list[Path]:
    cell = re.compile(r"^```\{jupyter-execute\}", re.M)
    return [p for p in DOCS.glob("**/*.md")
            if "_build" not in p.parts and cell.search(p.read_text())]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="clean builds (medians printed)")
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 if both languages take over {RATIO_BUDGET} × English")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run it as root: the pages' experiments create network namespaces", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    started = time.time()
    builds = [clean_builds() for _ in range(args.repeat)]
    walls = {name: statistics.median(b[name] for b in builds) for name in ("en", "both")}
    ratio = walls["both"] / walls["en"]
    pages = pages_with_cells()
    kernel = statistics.median(kernel_startup() for _ in range(3))
    cells = {lang: cell_times(lang, started) for lang in ("en", "zh_CN")}
    # Each page starts one kernel per language; the experiments run in English only.
    kernels_share = kernel * len(pages) * 2
    cells_share = {lang: sum(t.values()) for lang, t in cells.items()}
    print(f"machine: {os.cpu_count()} cores, sphinx -j {JOBS}, load average "
          f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"clean build en      {walls['en']:6.1f} s  (English alone: runs every experiment)")
    print(f"clean build both    {walls['both']:6.1f} s  = {ratio:.2f} × English alone "
          f"(budget {RATIO_BUDGET}: {'ok' if ratio <= RATIO_BUDGET else 'OVER'}; both at once, "
          "one run per page)")
    print(f"  kernel start-up   {kernels_share:6.1f} s  ({len(pages)} page(s) × 2 languages × "
          f"{kernel:.2f} s)")
    for lang, what in (("en", "experiments"), ("zh_CN", "replay")):
        print(f"  cells, {lang:6s}    {cells_share[lang]:6.1f} s  ({what}: "
              + ", ".join(f"{n} {t:.2f} s" for n, t in cells[lang].items()) + ")")
    rest = walls["both"] - kernels_share - sum(cells_share.values())
    print(f"  Sphinx itself     {rest:6.1f} s  (the rest; negative when pages overlap)")
    return 1 if args.check and ratio > RATIO_BUDGET else 0


if __name__ == "__main__":
    sys.exit(main())
