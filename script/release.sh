#!/usr/bin/env bash
# Release build: static forgehook binaries (CGO off) for linux and darwin,
# amd64 and arm64, as dist/forgehook_<version>_<os>_<arch>.tar.gz with
# dist/SHA256SUMS. Each binary is built by deploy/container/build.sh, the
# same step as the container image.
#
#   script/release.sh v1.2.3                 # every target
#   TARGETS="darwin/arm64" script/release.sh v1.2.3
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: script/release.sh VERSION}"
commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
targets="${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}"
out="$(realpath -m "${DIST:-dist}")"
rm -rf "$out" && mkdir -p "$out"
for t in $targets; do
  os="${t%/*}" arch="${t#*/}"
  name="forgehook_${version#v}_${os}_${arch}"
  mkdir -p "$out/$name"
  GOOS="$os" GOARCH="$arch" VERSION="$version" COMMIT="$commit" OUT="$out/$name/forgehook" \
    sh deploy/container/build.sh
  cp LICENSE README.md "$out/$name/"
  tar -C "$out" -czf "$out/$name.tar.gz" --owner=0 --group=0 --mtime='2000-01-01' "$name"
  rm -rf "${out:?}/$name"
done
(cd "$out" && sha256sum -- *.tar.gz > SHA256SUMS)
cat "$out/SHA256SUMS"
