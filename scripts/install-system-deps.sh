#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only those that are missing.
#
#   postgresql               server binaries (initdb, pg_ctl) for scripts/pg-cluster.sh
#   chromium                 headless browser for the end-to-end tests
#   golang-go                Go toolchain for the external-verifier test
#   golang-golang-x-mod-dev  golang.org/x/mod sources used by that verifier
#
# Idempotent: when everything is present it does nothing (no apt-get update).
set -euo pipefail

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-system-deps: not root and no sudo; cannot install packages" >&2
    fi
fi

missing=()

if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    missing+=(postgresql)
fi
if [ ! -x /usr/bin/chromium ]; then
    missing+=(chromium)
fi
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/bin/go ]; then
    missing+=(golang-go)
fi
if [ ! -d /usr/share/gocode/src/golang.org/x/mod ]; then
    missing+=(golang-golang-x-mod-dev)
fi

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

for pkg in "${missing[@]}"; do
    echo "install-system-deps: installing $pkg"
done

start=$SECONDS

# We only ever run throwaway clusters (scripts/pg-cluster.sh); don't let the
# postgresql package create (and maybe start) the default "main" cluster.
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    "${SUDO[@]}" mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" |
        "${SUDO[@]}" tee /etc/postgresql-common/createcluster.d/00-timebank-no-main.conf >/dev/null
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq >&2
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

echo "install-system-deps: done in $((SECONDS - start))s"
