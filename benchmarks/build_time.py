"""Wall time of the clean bilingual build, and where it goes.

Prints, for this machine:

* the clean build of each language (``sphinx-build -E``, every experiment executed), and both;
* how much of that is Jupyter kernel start-up (one kernel per page with executed cells);
* how much is the pages' cells themselves, the experiments (each page's notebook, as
  jupyter-sphinx saved it, executed again and timed, kernel start-up excluded);
* and the rest, Sphinx itself (reading, rendering, writing, search index).

Run it as root from the repository (the experiments need it)::

    sudo .venv/bin/python benchmarks/build_time.py [--repeat 3]

The kernel and experiment shares are measured separately and multiplied by how many pages
start a kernel and how many experiments those pages run; with ``-j 2`` two pages run at once,
so the shares are an upper bound of what they add to the wall time.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
JOBS = os.environ.get("NETLAB_JOBS", "2")


def build(language: str) -> float:
    out = ROOT / "docs" / "_build" / "bench" / language
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sphinx", "-E", "-q", "-b", "html", "-W", "--keep-going", "-n",
         "-j", JOBS, "-D", f"language={language}", "-d", str(out.parent / f"doctrees-{language}"),
         str(DOCS), str(out)],
        check=True,
        env={**os.environ, "NETLAB_DOCS_LANG": language},
    )
    return time.perf_counter() - start


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


def cell_times() -> dict[str, float]:
    """Seconds each page's cells take to run (the notebooks the build saved), no start-up."""
    import nbformat
    from jupyter_client.manager import start_new_kernel
    from nbclient import NotebookClient

    times = {}
    # jupyter-sphinx saves them beside the output folder, one set for all languages
    folder = ROOT / "docs" / "_build" / "bench" / "jupyter_execute"
    for path in sorted(folder.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        manager, kernel = start_new_kernel(kernel_name="python3",
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


def pages_with_cells() -> list[Path]:
    cell = re.compile(r"^```\{jupyter-execute\}", re.M)
    return [p for p in DOCS.glob("**/*.md")
            if "_build" not in p.parts and cell.search(p.read_text())]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="clean builds per language")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run it as root: the pages' experiments create network namespaces", file=sys.stderr)
        return 2
    walls = {lang: statistics.median(build(lang) for _ in range(args.repeat))
             for lang in ("en", "zh_CN")}
    total = sum(walls.values())
    pages = pages_with_cells()
    kernel = statistics.median(kernel_startup() for _ in range(3))
    os.environ["NETLAB_DOCS_LANG"] = "en"
    cells = cell_times()
    # Each page starts one kernel and runs its cells once per language.
    kernels_share = kernel * len(pages) * 2
    experiments_share = sum(cells.values()) * 2
    print(f"machine: {os.cpu_count()} cores, sphinx -j {JOBS}")
    for lang, wall in walls.items():
        print(f"clean build {lang:6s} {wall:6.1f} s")
    print(f"clean build both   {total:6.1f} s")
    print(f"  kernel start-up  {kernels_share:6.1f} s  ({len(pages)} page(s) × 2 languages × "
          f"{kernel:.2f} s)")
    print(f"  experiments      {experiments_share:6.1f} s  (2 languages × cells of "
          + ", ".join(f"{n} {t:.2f} s" for n, t in cells.items()) + ")")
    print(f"  Sphinx itself    {total - kernels_share - experiments_share:6.1f} s  (the rest)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
