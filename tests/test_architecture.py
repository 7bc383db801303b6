"""The architecture figure: layers read from the contract, modules and imports from source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from netlab.views.architecture import Architecture, DataStep, data_path

REPO = Path(__file__).resolve().parent.parent

CONTRACT = """
[tool.importlinter]
root_package = "netlab"
[[tool.importlinter.contracts]]
name = "layers"
type = "layers"
containers = ["netlab"]
layers = ["top", "middle", "low | side"]
"""


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "netlab"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (tmp_path / "pyproject.toml").write_text(CONTRACT)
    return root


def test_the_package_keeps_its_contract() -> None:
    arch = Architecture.from_source()
    assert arch.upward() == []
    assert [" | ".join(layer.names) for layer in arch.layers][:3] == [
        "__main__", "cli", "experiments"]
    # every module of the package sits in exactly one layer
    files = [p for p in (REPO / "netlab").rglob("*.py") if p != REPO / "netlab" / "__init__.py"]
    assert sum(len(layer.modules) for layer in arch.layers) == len(files)


def test_an_upward_import_and_a_sibling_import_are_caught(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "top.py": "from netlab.middle import x\n",
        "middle/__init__.py": "",
        "middle/x.py": "from netlab import top\nfrom netlab.middle import y\n",
        "middle/y.py": "from . import x\n",
        "low.py": "from netlab.side import s\n",
        "side.py": "",
    })
    arch = Architecture.from_source(root, tmp_path / "pyproject.toml")
    assert sorted(arch.upward()) == [("netlab.low", "netlab.side"),
                                     ("netlab.middle.x", "netlab.top")]
    assert arch.edges()[(0, 1)] == 1


def test_lint_imports_agrees() -> None:
    """import-linter, an independent reader of the same contract, finds it kept too."""
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_svg_names_every_layer_and_the_data_path_checks_its_modules() -> None:
    arch = Architecture.from_source()
    svg = arch.svg()
    for layer in arch.layers:
        assert f">{' | '.join(layer.names)}<" in svg
    step = DataStep(module="netlab.analysis.trace", name="Trace", makes="connections")
    assert "analysis.trace.Trace" in data_path([step], arch)
    with pytest.raises(LookupError):
        data_path([DataStep(module="netlab.nowhere", name="x", makes="y")], arch)
