#!/usr/bin/env bash
# Build the sandbox browser image (openclaw-sandbox-browser:bookworm-slim) from
# Dockerfile.sandbox-browser and scripts/sandbox-browser-entrypoint.sh.
# Skips the build when the image already exists (FORCE=1 rebuilds).
# Without a registry, create the base image first: scripts/offline-base-image.sh
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${OPENCLAW_SANDBOX_BROWSER_IMAGE:-openclaw-sandbox-browser:bookworm-slim}"
BASE_IMAGE="${BASE_IMAGE:-debian:bookworm-slim}"

if [ "${FORCE:-0}" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "[sandbox-browser-setup] $IMAGE exists, skipping (FORCE=1 to rebuild)"
  exit 0
fi
# A two-file build context: the repo root holds target/, which must not be sent to the daemon.
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/scripts"
cp Dockerfile.sandbox-browser "$ctx/Dockerfile"
cp scripts/sandbox-browser-entrypoint.sh "$ctx/scripts/"
echo "[sandbox-browser-setup] building $IMAGE from Dockerfile.sandbox-browser (base $BASE_IMAGE; Chromium, a few minutes)"
DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-0}" docker build \
  --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  -t "$IMAGE" "$ctx"
echo "[sandbox-browser-setup] built $IMAGE"
echo "[sandbox-browser-setup] enable it with agents.defaults.sandbox.browser.enabled: true (and allow the \"browser\" tool in tools.sandbox.tools)"
