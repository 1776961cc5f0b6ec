#!/bin/sh
# Build the independent Go verifier (c2sp_verify.go) fully offline.
#
#   tests/external/build.sh OUTPUT_BINARY
#
# Needs Debian's Go toolchain and the golang.org/x/mod sources (no network, no go.mod):
#   apt-get install -y --no-install-recommends golang-go golang-golang-x-mod-dev
# GOPATH mode (GO111MODULE=off) resolves golang.org/x/mod/sumdb/{note,tlog} from
# /usr/share/gocode/src, where the Debian package puts them. Exit 127 if Go is missing.
set -eu
out=${1:?usage: build.sh OUTPUT_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
gopath=/usr/share/gocode
if ! command -v go >/dev/null 2>&1 || [ ! -d "$gopath/src/golang.org/x/mod/sumdb/tlog" ]; then
    echo "build.sh: need golang-go and golang-golang-x-mod-dev (apt-get install -y" \
         "--no-install-recommends golang-go golang-golang-x-mod-dev)" >&2
    exit 127
fi
GOCACHE=${GOCACHE:-${TMPDIR:-/tmp}/c2sp_verify-gocache-$(id -u)}
export GO111MODULE=off GOPATH="$gopath" GOFLAGS= GOPROXY=off GOTOOLCHAIN=local GOCACHE
exec go build -o "$out" "$here/c2sp_verify.go"
