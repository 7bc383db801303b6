#!/usr/bin/env bash
# setup.sh: install everything netlab needs, on Debian/Ubuntu, as root. Safe to run again.
#   1. system tools from apt: python3-venv python3-pip tshark tcpdump iproute2 nftables gettext,
#      ethtool (the lab tests' witness of checksum offload), curl and openssl (real HTTP/TLS clients for the tests), chromium (real-browser tests)
#      (skipped only when NETLAB_SKIP_APT=1 AND every tool is already there);
#   2. a project venv in .venv with netlab installed editable plus its docs and test extras,
#      every package pinned by requirements.lock (skipped when the lock and pyproject.toml
#      are unchanged since the last install).
set -euo pipefail
cd "$(dirname "$0")/.."

tools_present() {
    command -v tshark && command -v tcpdump && command -v ip && command -v nft \
        && command -v ethtool && command -v curl && command -v openssl && command -v chromium \
        && command -v msgfmt && python3 -c 'import ensurepip, venv' && python3 -m pip --version
} >/dev/null 2>&1

if [[ "${NETLAB_SKIP_APT:-}" == 1 ]] && tools_present; then
    echo "setup: NETLAB_SKIP_APT=1 and the system tools are present: skipping apt"
else
    if [[ $EUID -ne 0 ]]; then
        echo "setup: installing system packages needs root: run it with sudo" >&2
        exit 2
    fi
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture; answer "no" so it never prompts.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -q
    apt-get install -y -q python3-venv python3-pip tshark tcpdump iproute2 nftables gettext \
        ethtool curl openssl chromium
fi

stamp=.venv/.netlab-installed
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ -x .venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    echo "setup: .venv is up to date with requirements.lock"
else
    [[ -x .venv/bin/python ]] || python3 -m venv .venv
    .venv/bin/python -m pip install -q -c requirements.lock -e '.[docs,test]'
    echo "$want" > "$stamp"
    echo "setup: .venv installed from requirements.lock"
fi
