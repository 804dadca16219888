#!/usr/bin/env bash
# Build the OFFLINE test images used by `crates/sandbox` integration tests.
#
#   scripts/test-images.sh            -> openclaw-sandbox-test:busybox
#                                        openclaw-sandbox-browser-test:busybox (a fake sandbox
#                                        browser: busybox httpd answers CDP's /json/version)
#   scripts/test-images.sh --debian   -> also debian:bookworm-slim (debootstrap + docker import),
#                                        so scripts/sandbox-setup.sh can build the real image
#                                        without a registry.
#
# No registry is needed: the busybox image is `FROM scratch` plus Debian's static busybox binary.
# Idempotent: an image that already exists is skipped (set FORCE=1 to rebuild).
set -euo pipefail

BUSYBOX_IMAGE="${BUSYBOX_IMAGE:-openclaw-sandbox-test:busybox}"
BROWSER_TEST_IMAGE="${BROWSER_TEST_IMAGE:-openclaw-sandbox-browser-test:busybox}"
DEBIAN_IMAGE="${DEBIAN_IMAGE:-debian:bookworm-slim}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
WANT_DEBIAN=0
for arg in "$@"; do
  case "$arg" in
    --debian) WANT_DEBIAN=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (accepted: --debian)" >&2; exit 2 ;;
  esac
done

log() { echo "[test-images] $*" >&2; }

image_exists() { [ "${FORCE:-0}" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }

apt_install() {
  local pkg="$1"
  if dpkg -s "$pkg" >/dev/null 2>&1; then return 0; fi
  log "installing $pkg with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
}

build_busybox() {
  if image_exists "$BUSYBOX_IMAGE"; then log "$BUSYBOX_IMAGE exists, skipping"; return 0; fi
  apt_install busybox-static
  local bb
  bb="$(command -v busybox || true)"
  [ -x /bin/busybox ] && bb=/bin/busybox
  [ -n "$bb" ] || { echo "busybox binary not found after installing busybox-static" >&2; exit 1; }
  if ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
    # `file` may be missing; ldd is the fallback probe.
    if ldd "$bb" >/dev/null 2>&1; then echo "$bb is not static (install busybox-static)" >&2; exit 1; fi
  fi

  local ctx
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' RETURN
  mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc" "$ctx/rootfs/home/sandbox" "$ctx/rootfs/workspace" "$ctx/rootfs/agent"
  cp "$bb" "$ctx/rootfs/bin/busybox"
  local applet
  for applet in $("$bb" --list); do
    [ "$applet" = busybox ] && continue
    ln -sf busybox "$ctx/rootfs/bin/$applet"
  done
  cat > "$ctx/rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
sandbox:x:1000:1000:sandbox:/home/sandbox:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
  cat > "$ctx/rootfs/etc/group" <<'GROUP'
root:x:0:
sandbox:x:1000:
nogroup:x:65534:
GROUP
  cat > "$ctx/rootfs/etc/profile" <<'PROFILE'
export PATH=/usr/local/bin:/usr/bin:/bin
PROFILE
  cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
RUN chown -R 1000:1000 /home/sandbox && chmod 1777 /tmp 2>/dev/null || true
USER sandbox
WORKDIR /home/sandbox
CMD ["sleep", "infinity"]
DOCKERFILE
  mkdir -p "$ctx/rootfs/tmp"
  log "building $BUSYBOX_IMAGE (FROM scratch + busybox-static)"
  DOCKER_BUILDKIT=0 docker build -t "$BUSYBOX_IMAGE" "$ctx"
}

# The sandbox browser's container contract without Chromium: the entrypoint reads the
# OPENCLAW_BROWSER_* env like scripts/sandbox-browser-entrypoint.sh and serves /json/version on
# the CDP port (and a page on the noVNC port when that is on). OPENCLAW_TEST_BROWSER_HANG=1 makes
# it never answer, for the readiness-timeout test.
build_browser_test() {
  if image_exists "$BROWSER_TEST_IMAGE"; then log "$BROWSER_TEST_IMAGE exists, skipping"; return 0; fi
  local ctx
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' RETURN
  cat > "$ctx/openclaw-sandbox-browser" <<'ENTRYPOINT'
#!/bin/sh
set -eu
cdp="${OPENCLAW_BROWSER_CDP_PORT:-9222}"
novnc="${OPENCLAW_BROWSER_NOVNC_PORT:-6080}"
if [ "${OPENCLAW_TEST_BROWSER_HANG:-0}" = 1 ]; then
  echo "fake browser: not answering (OPENCLAW_TEST_BROWSER_HANG=1)"
  exec sleep infinity
fi
root=/tmp/fake-browser
mkdir -p "$root/json"
printf '{"Browser":"FakeChrome/1.0","Protocol-Version":"1.3","webSocketDebuggerUrl":"ws://127.0.0.1:%s/devtools/browser/fake"}\n' "$cdp" > "$root/json/version"
echo "<title>noVNC</title>" > "$root/vnc.html"
if [ "${OPENCLAW_BROWSER_ENABLE_NOVNC:-1}" = 1 ] && [ "${OPENCLAW_BROWSER_HEADLESS:-0}" != 1 ]; then
  httpd -p "$novnc" -h "$root"
fi
echo "fake browser: CDP /json/version on :$cdp"
exec httpd -f -p "$cdp" -h "$root"
ENTRYPOINT
  chmod 0755 "$ctx/openclaw-sandbox-browser"
  cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM $BUSYBOX_IMAGE
COPY openclaw-sandbox-browser /usr/local/bin/openclaw-sandbox-browser
CMD ["/usr/local/bin/openclaw-sandbox-browser"]
DOCKERFILE
  log "building $BROWSER_TEST_IMAGE (FROM $BUSYBOX_IMAGE + a fake CDP endpoint)"
  DOCKER_BUILDKIT=0 docker build -t "$BROWSER_TEST_IMAGE" "$ctx"
}

build_debian() {
  if image_exists "$DEBIAN_IMAGE"; then log "$DEBIAN_IMAGE exists, skipping"; return 0; fi
  apt_install debootstrap
  local root
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' RETURN
  log "debootstrap --variant=minbase bookworm from $DEBIAN_MIRROR (a few minutes)"
  debootstrap --variant=minbase bookworm "$root" "$DEBIAN_MIRROR"
  # Match the slim image: drop apt lists and caches.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
  log "importing as $DEBIAN_IMAGE"
  tar -C "$root" -c . | docker import -c 'CMD ["bash"]' - "$DEBIAN_IMAGE"
}

build_busybox
build_browser_test
if [ "$WANT_DEBIAN" = 1 ]; then build_debian; fi
log "done"
