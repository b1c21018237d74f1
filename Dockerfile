# forgehook container image: a static binary on an empty base.
#
#   docker build -t forgehook .
#   docker run --read-only -v forgehook-data:/var/lib/forgehook \
#     -v $PWD/forgehook.yaml:/etc/forgehook/forgehook.yaml:ro -p 8080:8080 forgehook
#
# The image has no shell and no package manager; it runs as the unprivileged
# user 65532 with a read-only root file system. The only writable place is
# the volume /var/lib/forgehook (data_dir: the embedded store, the lock,
# the indexes). Certificates for calls to forges (hook management, actions)
# come from the build stage.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
# The build step, kept identical to deploy/container/build.sh (which the
# test suite runs as a plain go build where no image builder is available).
RUN VERSION="${VERSION}" COMMIT="${COMMIT}" OUT=/out/forgehook sh deploy/container/build.sh \
 && mkdir -p /out/data /out/etc

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/forgehook /usr/local/bin/forgehook
COPY --from=build --chown=65532:65532 /out/data /var/lib/forgehook
COPY --from=build /out/etc /etc/forgehook
USER 65532:65532
WORKDIR /var/lib/forgehook
VOLUME ["/var/lib/forgehook"]
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/forgehook"]
CMD ["serve", "--config", "/etc/forgehook/forgehook.yaml"]
