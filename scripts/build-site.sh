#!/usr/bin/env bash
# build-site.sh: build the bilingual site, running every experiment on the pages (needs root).
#   docs/_build/html/en/      English (the source language)
#   docs/_build/html/zh_CN/   Simplified Chinese, from docs/locale/zh_CN/LC_MESSAGES/*.po
#   docs/_build/html/index.html + .nojekyll   a static page leading to both (docs/_root/)
# Both builds are strict (-W --keep-going -n): a warning, a broken reference or a failing hidden
# assert cell fails the build, and so does the translation gate (every Chinese message
# translated, none fuzzy). The two languages and the gate run at the same time, each page's
# experiments running once for both languages (see below); each build's lines start with [en]
# or [zh_CN].
# NETLAB_JOBS=1 reads pages one at a time (default 2: two pages' experiments run at once).
# NETLAB_LANGUAGES=en builds the English site alone (the benchmarks' reference).
set -euo pipefail
if [[ $EUID -ne 0 ]]; then
    echo "build-site.sh needs root for its network experiments: run it with sudo" >&2
    exit 2
fi
cd "$(dirname "$0")/.."

timings=$(mktemp)
trap 'rm -f "$timings"' EXIT
phase() {  # phase NAME COMMAND...: run COMMAND, print and remember how long it took
    local name=$1 start tenths took status=0
    shift
    echo "== $name"
    start=${EPOCHREALTIME/./}
    "$@" || status=$?
    tenths=$(( (${EPOCHREALTIME/./} - start) / 100000 ))
    took="$((tenths / 10)).$((tenths % 10)) s"
    if [[ $status -ne 0 ]]; then
        echo "== $name: failed (status $status) after $took"
        return "$status"
    fi
    echo "== $name: $took"
    printf '%-22s %8s\n' "$name" "$took" >>"$timings"
}

# Every page is read afresh (-E) and the recorded runs are dropped (docs/_build/runs/), so every
# experiment runs again in this build, once: the two languages are built at the same time, the
# first build to reach a page runs it and records its experiments' results, and the other
# waits for that page and replays them (docs/conf.py), so both languages show the same run and
# the second costs little more than Sphinx's own work. A writer may set NETLAB_INCREMENTAL=1 to
# rebuild just the changed pages: a page whose code and netlab (its source and catalogs) are
# unchanged shows again what its cells showed in that language, kept beside its recorded run,
# without starting a kernel; one whose code changed runs again.
fresh=(-E)
[[ "${NETLAB_INCREMENTAL:-}" == 1 ]] && fresh=()
# The translation gate keeps its own doctree cache too (scripts/check_translations.py).
rm -rf docs/_build/warnings
if [[ ${#fresh[@]} -gt 0 ]]; then rm -rf docs/_build/runs docs/_build/doctrees/gettext; fi

html() {  # html LANG: one language's build, with its own doctree cache outside the site
    # A clean build starts from empty output folders: sphinx.ext.viewcode rewrites a source
    # page only when the module changed, so a template or conf.py change would otherwise leave
    # old _modules/ pages behind; and the notebooks and scripts of a page since renamed or
    # removed would stay among jupyter-sphinx's (docs/conf.py, _notebook_directory).
    [[ ${#fresh[@]} -gt 0 ]] && rm -rf "docs/_build/html/$1" "docs/_build/jupyter_execute/$1"
    mkdir -p docs/_build/warnings
    .venv/bin/python -m sphinx "${fresh[@]}" -b html -W --keep-going -n -j "${NETLAB_JOBS:-2}" -D language="$1" \
        -w "docs/_build/warnings/$1.log" -d "docs/_build/doctrees/$1" docs "docs/_build/html/$1"
}

# The two builds' lines interleave and a failure's cause can scroll far above the last line, so
# a failed build ends by printing again each language's warnings, which is what failed it.
warnings_again() {
    local log
    for log in docs/_build/warnings/*.log; do
        [[ -s $log ]] || continue
        echo "== warnings of $(basename "$log" .log), which failed the build:"
        cat "$log"
    done
}

tagged() {  # tagged TAG COMMAND...: run COMMAND with TAG before each line it prints
    local tag=$1
    shift
    "$@" > >(sed -u "s/^/[$tag] /") 2> >(sed -u "s/^/[$tag] /" >&2)
}
tagged_html() { tagged "$1" html "$1"; }

both() {  # English, the translation gate and Chinese at once; fails if any of them fails
    local en gate status=0
    phase "html (en)" tagged_html en &
    en=$!
    # the gate needs about 12 s of CPU and no experiment, so it runs at the builds' priority:
    # under `nice -n 19` beside two CPU-bound processes it was starved for 773 s, and the
    # whole site waited for it (the Chinese build itself took 146 s)
    phase "translation gate" .venv/bin/python scripts/check_translations.py &
    gate=$!
    phase "html (zh_CN)" tagged_html zh_CN || status=$?
    wait "$gate" || status=$?
    wait "$en" || status=$?
    return "$status"
}

phase "setup" bash scripts/setup.sh
if [[ "${NETLAB_LANGUAGES:-en zh_CN}" == en ]]; then
    phase "html (en)" tagged_html en || { status=$?; warnings_again; exit "$status"; }
else
    phase "html (both)" both || { status=$?; warnings_again; exit "$status"; }
fi
phase "root page" cp docs/_root/index.html docs/_root/.nojekyll docs/_build/html/

# Under sudo, hand the build and the venv back to the developer who asked for them.
if [[ -n "${SUDO_UID:-}" ]]; then chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" docs/_build .venv; fi

echo "== wall time per phase (html (en), the gate and html (zh_CN) run side by side)"
cat "$timings"
echo "site: docs/_build/html/index.html"
