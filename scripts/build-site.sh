#!/usr/bin/env bash
# build-site.sh: build the bilingual site, running every experiment on the pages (needs root).
#   docs/_build/html/en/      English (the source language)
#   docs/_build/html/zh_CN/   Simplified Chinese, from docs/locale/zh_CN/LC_MESSAGES/*.po
#   docs/_build/html/index.html + .nojekyll   a static page leading to both (docs/_root/)
# Both builds are strict (-W --keep-going -n): a warning, a broken reference or a failing hidden
# assert cell fails the build. The translation gate runs before the Chinese build.
# NETLAB_JOBS=1 reads pages one at a time (default 2: two pages' experiments run at once).
set -euo pipefail
if [[ $EUID -ne 0 ]]; then
    echo "build-site.sh needs root for its network experiments: run it with sudo" >&2
    exit 2
fi
cd "$(dirname "$0")/.."

timings=()
phase() {  # phase NAME COMMAND...: run COMMAND, print and remember how long it took
    local name=$1 start tenths took
    shift
    echo "== $name"
    start=${EPOCHREALTIME/./}
    "$@"
    tenths=$(( (${EPOCHREALTIME/./} - start) / 100000 ))
    took="$((tenths / 10)).$((tenths % 10)) s"
    echo "== $name: $took"
    timings+=("$(printf '%-18s %8s' "$name" "$took")")
}

# Every page is read afresh (-E) and the recorded runs are dropped (docs/_build/runs/), so every
# experiment runs again in this build: once, in the English build, whose kernels record the
# results; the Chinese build's kernels replay them (docs/conf.py), so both languages show the
# same run. A writer may set NETLAB_INCREMENTAL=1 to rebuild just the changed pages: a page
# whose code and netlab's source are unchanged replays its recorded run instead of running it.
fresh=(-E)
[[ "${NETLAB_INCREMENTAL:-}" == 1 ]] && fresh=()
if [[ ${#fresh[@]} -gt 0 ]]; then rm -rf docs/_build/runs; fi

html() {  # html LANG: one language's build, with its own doctree cache outside the site
    # A clean build starts from an empty output folder: sphinx.ext.viewcode rewrites a source
    # page only when the module changed, so a template or conf.py change would otherwise leave
    # old _modules/ pages behind.
    [[ ${#fresh[@]} -gt 0 ]] && rm -rf "docs/_build/html/$1"
    .venv/bin/python -m sphinx "${fresh[@]}" -b html -W --keep-going -n -j "${NETLAB_JOBS:-2}" -D language="$1" \
        -d "docs/_build/doctrees/$1" docs "docs/_build/html/$1"
}

phase "setup" bash scripts/setup.sh
phase "html (en)" html en
phase "translation gate" .venv/bin/python scripts/check_translations.py
phase "html (zh_CN)" html zh_CN
phase "root page" cp docs/_root/index.html docs/_root/.nojekyll docs/_build/html/

# Under sudo, hand the build and the venv back to the developer who asked for them.
if [[ -n "${SUDO_UID:-}" ]]; then chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" docs/_build .venv; fi

echo "== wall time per phase"
printf '%s\n' "${timings[@]}"
echo "site: docs/_build/html/index.html"
