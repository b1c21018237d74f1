#!/usr/bin/env bash
# Builds Gitea (code.gitea.io/gitea, GITEA_VERSION, default v1.26.0) from
# the Go module proxy into a cache directory outside the repository and
# prints the path of the binary. The end-to-end test of hook management
# (e2e/hooks_gitea_test.go) runs against it.
#
# `go install` refuses the module (its go.mod has replace directives), so
# the module is downloaded with `go mod download -json`, copied, made
# writable, its assets generated (go generate -tags bindata) and built with
# the sqlite and bindata tags. About 4 minutes cold on 2 cores; cached
# afterwards (the binary is reused while it exists). v1.27 does not build
# from the proxy.
#
# Environment: GITEA_VERSION, GITEA_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/forgehook/gitea-<version without v>).
set -euo pipefail
version="${GITEA_VERSION:-v1.26.0}"
cache="${GITEA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/forgehook/gitea-${version#v}}"
bin="$cache/gitea"
if [ -x "$bin" ]; then
  echo "$bin"; exit 0
fi
mkdir -p "$cache"
# One build at a time per cache directory.
exec 9>"$cache/.lock"
flock 9
if [ -x "$bin" ]; then
  echo "$bin"; exit 0
fi
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
dir=$(GOFLAGS=-mod=mod go mod download -json "code.gitea.io/gitea@${version}" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  echo "gitea.sh: go mod download code.gitea.io/gitea@${version} gave no directory" >&2; exit 1
fi
cp -r "$dir" src
chmod -R u+w src
cd src
echo "gitea.sh: generating assets of gitea ${version}" >&2
go generate -tags bindata ./modules/public ./modules/options ./modules/templates ./modules/migration >&2
echo "gitea.sh: building gitea ${version}" >&2
go build -trimpath -tags 'sqlite sqlite_unlock_notify bindata' -o "$work/gitea" . >&2
mv "$work/gitea" "$bin"
echo "$bin"
