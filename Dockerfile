# syntax=docker/dockerfile:1
#
# gokernels container images. Two final targets:
#
#   docker build -t gokernels:latest .                    CPU image (default, last stage):
#                                                          static binary on distroless, ~20 MB
#   docker build --target cuda -t gokernels:cuda .        CUDA image: -tags cuda binary on
#                                                          nvidia/cuda base (needs the NVIDIA
#                                                          Container Toolkit on the host)
#
# Both run `gokernels serve` as the non-root user 65532 with GOKERNELS_ENV=production
# (REST and gRPC-over-h2c on :8080, native gRPC on :50051). The build steps are the
# same make targets CI runs: `make build` and `make build-cuda`.
# Pass --build-arg VERSION=$(git describe --tags --always --dirty) to stamp the version
# (.git is not part of the build context).
# Checked by deploy/dockerfile_test.go (cd deploy && go test ./...).

ARG GO_VERSION=1.26
ARG CUDA_VERSION=12.6.3

# ---- Go toolchain (Debian bookworm; has make, gcc, git) ---------------------
FROM golang:${GO_VERSION}-bookworm AS go-toolchain

# ---- CPU build: CGO_ENABLED=0 static binary -> /src/bin/gokernels -------------
FROM go-toolchain AS build
WORKDIR /src
ENV GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    make build VERSION=${VERSION}
# The runtime images' ring data directory, created here because distroless has
# no shell; copied with the non-root owner so a fresh volume is writable.
RUN mkdir -p /out/data

# ---- CUDA build: cgo + -tags cuda against the toolkit's cuda.h and libcuda stub --
FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04 AS build-cuda
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev make \
 && rm -rf /var/lib/apt/lists/*
COPY --from=go-toolchain /usr/local/go /usr/local/go
ENV PATH=/usr/local/go/bin:/root/go/bin:${PATH} \
    GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
    CUDA_HOME=/usr/local/cuda \
    CGO_CFLAGS=-I/usr/local/cuda/include \
    CGO_LDFLAGS=-L/usr/local/cuda/lib64/stubs
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    make build-cuda VERSION=${VERSION} CUDA_HOME=${CUDA_HOME}

# ---- CUDA runtime image (libcuda.so.1 comes from the host driver at run time) --
FROM nvidia/cuda:${CUDA_VERSION}-base-ubuntu22.04 AS cuda
RUN groupadd --system --gid 65532 nonroot \
 && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin nonroot
COPY --from=build-cuda /src/bin/gokernels-cuda /usr/local/bin/gokernels
COPY --from=build --chown=65532:65532 /out/data /var/lib/gokernels
ENV GOKERNELS_ENV=production \
    GOKERNELS_DATA_DIR=/var/lib/gokernels \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
USER 65532:65532
VOLUME /var/lib/gokernels
EXPOSE 8080 50051
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/gokernels", "health", "--addr", "127.0.0.1:50051"]
ENTRYPOINT ["/usr/local/bin/gokernels"]
CMD ["serve"]

# ---- CPU runtime image (default target) ------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot AS cpu
COPY --from=build /src/bin/gokernels /usr/local/bin/gokernels
COPY --from=build --chown=65532:65532 /out/data /var/lib/gokernels
ENV GOKERNELS_ENV=production GOKERNELS_DATA_DIR=/var/lib/gokernels
USER 65532:65532
# Durable rings' journals and snapshots: mount a volume here (the root
# filesystem may be read-only).
VOLUME /var/lib/gokernels
EXPOSE 8080 50051
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/gokernels", "health", "--addr", "127.0.0.1:50051"]
ENTRYPOINT ["/usr/local/bin/gokernels"]
CMD ["serve"]
