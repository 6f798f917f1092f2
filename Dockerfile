# syntax=docker/dockerfile:1
#
# Pecan container image.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t pecan:local .
#   docker run -p 8080:8080 -v pecan-data:/data pecan:local
#
# The binary is static (CGO_ENABLED=0: SQLite is the pure-Go modernc driver),
# so the final stage is distroless/static: no shell, no package manager, runs
# as the distroless "nonroot" user (uid/gid 65532).

############################
# Build stage
############################
FROM golang:1.26-bookworm AS build

WORKDIR /src

ENV CGO_ENABLED=0 \
    GOTOOLCHAIN=local

# Module download in its own layer: it is only redone when go.mod/go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

COPY . .

ARG VERSION=dev
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" \
        -o /out/usr/local/bin/pecan ./cmd/pecan

# Everything the final stage needs, laid out under /out as it will be under /.
# /data is the writable data dir (the default SQLite database lives there);
# it is handed to the nonroot user when copied into the final stage.
RUN mkdir -p /out/etc/pecan /out/data \
    && cp config.example.yaml /out/etc/pecan/config.yaml \
    && chmod 0644 /out/etc/pecan/config.yaml \
    && chmod 0750 /out/data

############################
# Final stage
############################
FROM gcr.io/distroless/static-debian12:nonroot

ARG VERSION=dev
LABEL org.opencontainers.image.title="pecan" \
      org.opencontainers.image.description="Pecan: a federated, pnut-style microblog server" \
      org.opencontainers.image.source="https://github.com/pecan-social/pecan" \
      org.opencontainers.image.version="${VERSION}"

# Binary and config are root-owned and read-only for the service user.
COPY --from=build /out/usr/local/bin/pecan /usr/local/bin/pecan
COPY --from=build /out/etc/pecan/config.yaml /etc/pecan/config.yaml
# The data dir belongs to the service user, so the default SQLite path is
# writable, and a fresh named volume mounted on /data inherits that owner.
COPY --from=build --chown=65532:65532 /out/data /data

# Environment variables override the config file.
ENV PECAN_LISTEN=0.0.0.0:8080 \
    PECAN_DATABASE_URL=sqlite:///data/pecan.db

USER 65532:65532
WORKDIR /data

EXPOSE 8080

# `pecan healthcheck` GETs http://<listen>/healthz (0.0.0.0 becomes 127.0.0.1)
# and exits 0 on a 200; the image has no curl or wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/pecan", "healthcheck", "--config", "/etc/pecan/config.yaml"]

ENTRYPOINT ["/usr/local/bin/pecan"]
CMD ["serve", "--config", "/etc/pecan/config.yaml"]
