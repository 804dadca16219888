#!/usr/bin/env bash
# The containerized-gateway smoke test, offline: a release binary packaged with the
# Dockerfile's runtime-prebuilt target on the debootstrap-made debian:bookworm-slim
# (scripts/ci-setup.sh builds it), then docker-setup.sh + docker compose + one agent turn.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== release binary"
cargo build --release --locked -p openclaw-cli
install -D target/release/openclaw target/docker/openclaw

echo "== containerized gateway e2e"
OPENCLAW_OFFLINE=1 scripts/e2e/onboard-docker.sh
