#!/bin/sh
# The container image's build step (see ../../Dockerfile): a static,
# reproducible forgehook binary. Inputs: VERSION, COMMIT, OUT (the output
# path), and GOOS/GOARCH as usual. The test suite runs this script as a
# plain go build and checks the binary is static (deploy/deploy_test.go).
set -eu
: "${VERSION:=dev}" "${COMMIT:=unknown}" "${OUT:=forgehook}"
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X github.com/forgehook/forgehook/internal/cli.Version=${VERSION} -X github.com/forgehook/forgehook/internal/cli.Commit=${COMMIT}" \
  -o "${OUT}" ./cmd/forgehook
