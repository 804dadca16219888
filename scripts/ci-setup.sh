#!/usr/bin/env bash
# Install what the test suite needs on a bare Debian machine: Debian packages and the
# offline test images (no registry is reachable from CI, so images are built locally).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[[ -x /bin/busybox ]] || need+=(busybox-static)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if ((${#need[@]})); then
  echo "== apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "== test images: busybox (fast sandbox tests), debian:bookworm-slim (debootstrap), openclaw-sandbox:bookworm-slim"
scripts/test-images.sh
scripts/offline-base-image.sh
scripts/sandbox-setup.sh
