#!/usr/bin/env bash
# test.sh: every check, in the order CI runs them (as root: the experiments need it).
#   1. setup.sh; 2. build-site.sh: the strict bilingual build is itself a test, since hidden
#   cells assert what the prose claims; 3. Sphinx doctests; 4. pytest, LAST: its summary is the
#   final output and its exit code is this script's. Extra arguments go to pytest.
#   Lint (ruff), types (mypy --strict on netlab/) and the layers (lint-imports, the contract in
#   pyproject.toml) run first: they take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache  # the layers contract in pyproject.toml
NETLAB_SKIP_APT=1 bash scripts/build-site.sh  # apt already ran just above
# Reuses the English build's doctrees, so the pages' experiments do not run a third time.
.venv/bin/python -m sphinx -b doctest -W --keep-going \
    -d docs/_build/doctrees/en docs docs/_build/doctest
exec .venv/bin/python -m pytest "$@"
