#!/usr/bin/env bash
# preview.sh [en|zh_CN] [PORT]: a writer's live preview of one language of the site.
#   sudo bash scripts/preview.sh            # English, on http://127.0.0.1:8000/
#   sudo bash scripts/preview.sh zh_CN 8001 # Chinese (edit docs/locale/zh_CN/LC_MESSAGES/*.po)
# sphinx-autobuild rebuilds the pages you change and reloads them in the browser (it adds a
# reload script to every page). It writes to docs/_build/preview/, so the real build in
# docs/_build/html/ never carries that script, and it starts from a copy of the real build's
# doctree cache: after one full build only the edited page is read again, in a second or two.
# A chapter replays the run the build recorded (docs/_build/runs/, shared with build-site.sh)
# as long as its code cells and netlab's source are unchanged; a change to either runs its
# experiments again (a change to netlab/ reads every chapter again), which is why this needs
# root like the build does. The preview keeps going on warnings (no -W) so you
# can see the page while you fix them; build-site.sh is the strict check. It serves on
# 127.0.0.1 only. The language links lead out of the one language it serves: use the full
# build to try them. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

lang=${1:-en}
port=${2:-8000}
case "$lang" in
    en|zh_CN) ;;
    *) echo "preview.sh: language must be en or zh_CN, not '$lang'" >&2; exit 2 ;;
esac
if [[ ! "$port" =~ ^[0-9]+$ ]]; then
    echo "preview.sh: the port must be a number, not '$port'" >&2
    exit 2
fi
if [[ $EUID -ne 0 ]]; then
    echo "preview.sh runs the experiments of the pages you edit, which needs root: run it with sudo" >&2
    exit 2
fi
[[ -x .venv/bin/sphinx-autobuild ]] || NETLAB_SKIP_APT=1 bash scripts/setup.sh

# Under sudo, hand what the preview wrote back to the writer when it stops.
if [[ -n "${SUDO_UID:-}" ]]; then
    trap 'chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" docs/_build' EXIT
fi
preview=docs/_build/preview
# Start from the real build's cache whenever it is newer than the preview's own (after a full
# build): otherwise the notebooks that build rewrote would make every chapter run again.
if [[ "docs/_build/doctrees/$lang/environment.pickle" -nt "$preview/doctrees/$lang/environment.pickle" ]]; then
    rm -rf "$preview/doctrees/$lang"
    mkdir -p "$preview/doctrees"
    cp -a "docs/_build/doctrees/$lang" "$preview/doctrees/$lang"
fi
# Ignored: the build's own outputs (docs/_build: the notebooks jupyter-sphinx writes while a
# page runs would otherwise start a new build, forever) and compiled catalogs.
.venv/bin/sphinx-autobuild -b html -n -j "${NETLAB_JOBS:-2}" -D language="$lang" \
    -d "$preview/doctrees/$lang" --host 127.0.0.1 --port "$port" \
    --re-ignore '(^|/)docs/_build/' --ignore '*.mo' --ignore '*.pot' --watch netlab \
    docs "$preview/$lang"
