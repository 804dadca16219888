#!/usr/bin/env bash
# Make `debian:bookworm-slim` available WITHOUT a container registry, for the offline
# gateway image build (`docker-setup.sh --offline`, target `runtime-prebuilt` in the Dockerfile).
#
#   scripts/offline-base-image.sh           create/slim debian:bookworm-slim (idempotent)
#   scripts/offline-base-image.sh --force   redo the slimming even if already done
#
# How: the debootstrap + `docker import` step lives in scripts/test-images.sh (--debian); this script
# reuses it, then slims the result the way Debian's official "slim" images are made (no man pages,
# docs, locales or apt caches; dpkg path-excludes so later `apt-get install` stays slim) and
# re-imports it as one layer tagged debian:bookworm-slim with label org.openclaw.base=slim.
# Needs root (debootstrap) and network access to the Debian mirror (DEBIAN_MIRROR to override).
set -euo pipefail

IMAGE="${DEBIAN_IMAGE:-debian:bookworm-slim}"
HERE="$(cd "$(dirname "$0")" && pwd)"
FORCE_SLIM=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE_SLIM=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "offline-base-image: unknown argument: $arg (accepted: --force)" >&2; exit 2 ;;
  esac
done

log() { echo "[offline-base-image] $*" >&2; }
die() { echo "[offline-base-image] error: $*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 || die "docker not found; install Docker Engine first"
docker info >/dev/null 2>&1 || die "cannot talk to the Docker daemon (is it running? are you in the docker group?)"

label_of() {
  docker image inspect -f '{{ index .Config.Labels "org.openclaw.base" }}' "$1" 2>/dev/null || true
}

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  [ -x "$HERE/test-images.sh" ] || die "$HERE/test-images.sh is missing; it holds the debootstrap step"
  [ "$(id -u)" = 0 ] || die "debootstrap needs root: rerun as root (sudo $0)"
  log "$IMAGE not found; creating it with scripts/test-images.sh --debian (debootstrap, a few minutes)"
  DEBIAN_IMAGE="$IMAGE" "$HERE/test-images.sh" --debian
fi

if [ "$(label_of "$IMAGE")" = slim ] && [ "$FORCE_SLIM" = 0 ]; then
  log "$IMAGE is already slimmed ($(docker image inspect -f '{{.Size}}' "$IMAGE") bytes); nothing to do"
  exit 0
fi

# The same trimming as Debian's docker images (debuerreotype --slimify), done inside a throwaway
# container so no host root filesystem is touched.
SLIM_SCRIPT='set -eu
mkdir -p /etc/dpkg/dpkg.cfg.d /etc/apt/apt.conf.d
cat > /etc/dpkg/dpkg.cfg.d/docker <<EOF
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
EOF
cat > /etc/apt/apt.conf.d/docker-clean <<EOF
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
echo "Acquire::Languages \"none\";" > /etc/apt/apt.conf.d/docker-no-languages
echo "Acquire::GzipIndexes \"true\";" > /etc/apt/apt.conf.d/docker-gzip-indexes
find /usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
find /usr/share/doc -mindepth 1 -type d -empty -delete
rm -rf /usr/share/groff/* /usr/share/info/* /usr/share/linda/* /usr/share/lintian/* /usr/share/man/*
find /usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb /var/cache/debconf/*-old
find /var/log -type f -exec truncate -s 0 {} +'

log "slimming $IMAGE (docs, man pages, locales, apt caches)"
cid="$(docker create --user 0:0 --entrypoint sh "$IMAGE" -c "$SLIM_SCRIPT")"
cleanup() { docker rm -f "$cid" >/dev/null 2>&1 || true; }
trap cleanup EXIT
docker start -a "$cid" || die "slimming step failed inside the container (see output above)"
docker export "$cid" | docker import \
  -c 'CMD ["bash"]' \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'LABEL org.openclaw.base=slim' \
  - "$IMAGE" >/dev/null
log "done: $IMAGE is $(docker image inspect -f '{{.Size}}' "$IMAGE") bytes"
