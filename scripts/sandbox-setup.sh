#!/usr/bin/env bash
# Build the default agent sandbox image (openclaw-sandbox:bookworm-slim) from Dockerfile.sandbox.
# Skips the build when the image already exists (FORCE=1 rebuilds).
# Without a registry, create the base image first: scripts/test-images.sh --debian
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${OPENCLAW_SANDBOX_IMAGE:-openclaw-sandbox:bookworm-slim}"
BASE_IMAGE="${BASE_IMAGE:-debian:bookworm-slim}"

if [ "${FORCE:-0}" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "[sandbox-setup] $IMAGE exists, skipping (FORCE=1 to rebuild)"
  exit 0
fi
# No build context is sent (the Dockerfile has no COPY; the repo holds target/).
echo "[sandbox-setup] building $IMAGE from Dockerfile.sandbox (base $BASE_IMAGE)"
DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-0}" docker build \
  --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  -t "$IMAGE" - < Dockerfile.sandbox
echo "[sandbox-setup] built $IMAGE"
