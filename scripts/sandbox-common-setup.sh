#!/usr/bin/env bash
# Build openclaw-sandbox-common:bookworm-slim (sandbox image + Node, Go, Rust, build tools)
# from Dockerfile.sandbox-common. Builds the base sandbox image first when it is missing.
# Skips the build when the image already exists (FORCE=1 rebuilds).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${OPENCLAW_SANDBOX_COMMON_IMAGE:-openclaw-sandbox-common:bookworm-slim}"
BASE_IMAGE="${BASE_IMAGE:-openclaw-sandbox:bookworm-slim}"

if [ "${FORCE:-0}" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "[sandbox-common-setup] $IMAGE exists, skipping (FORCE=1 to rebuild)"
  exit 0
fi
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "[sandbox-common-setup] base $BASE_IMAGE missing; running scripts/sandbox-setup.sh"
  OPENCLAW_SANDBOX_IMAGE="$BASE_IMAGE" FORCE=0 scripts/sandbox-setup.sh
fi
# No build context is sent (the Dockerfile has no COPY; the repo holds target/).
echo "[sandbox-common-setup] building $IMAGE from Dockerfile.sandbox-common (base $BASE_IMAGE)"
DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-0}" docker build \
  --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  -t "$IMAGE" - < Dockerfile.sandbox-common
echo "[sandbox-common-setup] built $IMAGE"
