"""Every notebook and script a page offers for download runs from top to bottom.

Each page that runs cells offers itself as a notebook (``page.ipynb``) and as a Python script
(``page.py``), written by jupyter-sphinx while the page was built (docs/conf.py). A reader
runs them with Jupyter's "Run All", ``jupyter nbconvert --execute`` or ``sudo python
page.py``; a cell that raises on purpose, or a name only IPython defines (``display``), would
stop them there. These tests run each download of the built English site as a reader would,
in an empty directory: the notebook in a fresh kernel (nbclient, what nbconvert uses), the
script with this Python. They need the built site and root, like the pages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from support import require_namespaces, skip_or_fail_in_ci

SITE = Path(__file__).resolve().parent.parent / "docs" / "_build" / "html"
DOWNLOADS = sorted((SITE / "en" / "_downloads").glob("*/*.ipynb")) + sorted(
    (SITE / "en" / "_downloads").glob("*/*.py"))
TIMEOUT = 900  # seconds for one page: its experiments, run once, take well under a minute


def _ids() -> list[str]:
    return [p.name for p in DOWNLOADS] or ["none"]


def test_every_page_with_cells_offers_both_downloads() -> None:
    if not DOWNLOADS:
        skip_or_fail_in_ci(f"the site is not built in {SITE}: run scripts/build-site.sh")
    notebooks = {p.stem for p in DOWNLOADS if p.suffix == ".ipynb"}
    scripts = {p.stem for p in DOWNLOADS if p.suffix == ".py"}
    assert notebooks == scripts and {"netlab-sockets", "netlab-http"} <= notebooks
    # named netlab-<page>: `python http.py` would shadow the standard library's http module
    assert all(name.startswith("netlab-") for name in notebooks)


@pytest.mark.live
@pytest.mark.parametrize("path", DOWNLOADS or [None], ids=_ids())
def test_download_runs_from_top_to_bottom(path: Path | None, tmp_path: Path) -> None:
    if path is None:
        skip_or_fail_in_ci(f"the site is not built in {SITE}: run scripts/build-site.sh")
        return
    require_namespaces()
    env = {k: v for k, v in os.environ.items() if k != "NETLAB_DOCS_LANG"}
    if path.suffix == ".py":
        done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr
        return
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError at the first cell that fails
    errors = [o for cell in notebook.cells for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
