#!/usr/bin/env bash
# Entrypoint of the sandbox browser image (Dockerfile.sandbox-browser).
#
# Starts Chromium with the DevTools protocol on a loopback port, socat on OPENCLAW_BROWSER_CDP_PORT
# forwarding to it (the port the gateway publishes on the host's 127.0.0.1), and unless headless a
# virtual display with x11vnc and noVNC. When any of them exits the container stops, and the
# gateway recreates it on next use.
#
# Environment (set by the gateway from agents.defaults.sandbox.browser):
#   OPENCLAW_BROWSER_CDP_PORT (9222)  OPENCLAW_BROWSER_VNC_PORT (5900)  OPENCLAW_BROWSER_NOVNC_PORT (6080)
#   OPENCLAW_BROWSER_HEADLESS (0)  OPENCLAW_BROWSER_ENABLE_NOVNC (1)  OPENCLAW_BROWSER_NO_SANDBOX (1)
#   OPENCLAW_BROWSER_CDP_SOURCE_RANGE (unset: any source; e.g. 172.21.0.1/32)
#   OPENCLAW_BROWSER_DISABLE_GRAPHICS_FLAGS (1)  OPENCLAW_BROWSER_DISABLE_EXTENSIONS (1)
#   OPENCLAW_BROWSER_RENDERER_PROCESS_LIMIT (2)
set -euo pipefail

CDP_PORT="${OPENCLAW_BROWSER_CDP_PORT:-9222}"
VNC_PORT="${OPENCLAW_BROWSER_VNC_PORT:-5900}"
NOVNC_PORT="${OPENCLAW_BROWSER_NOVNC_PORT:-6080}"
HEADLESS="${OPENCLAW_BROWSER_HEADLESS:-0}"
ENABLE_NOVNC="${OPENCLAW_BROWSER_ENABLE_NOVNC:-1}"
NO_SANDBOX="${OPENCLAW_BROWSER_NO_SANDBOX:-1}"
CDP_SOURCE_RANGE="${OPENCLAW_BROWSER_CDP_SOURCE_RANGE:-}"
DISABLE_GRAPHICS_FLAGS="${OPENCLAW_BROWSER_DISABLE_GRAPHICS_FLAGS:-1}"
DISABLE_EXTENSIONS="${OPENCLAW_BROWSER_DISABLE_EXTENSIONS:-1}"
RENDERER_PROCESS_LIMIT="${OPENCLAW_BROWSER_RENDERER_PROCESS_LIMIT:-2}"

log() { echo "[sandbox-browser] $*" >&2; }

# The root filesystem is read-only and the user may be any uid: all state goes to the /tmp tmpfs.
export HOME=/tmp/openclaw-browser
export XDG_CONFIG_HOME="$HOME/.config"
export XDG_CACHE_HOME="$HOME/.cache"
mkdir -p "$HOME/.chrome" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"

# Chromium's own debugging port: next to the published one, never published itself.
if ((CDP_PORT >= 65535)); then
  CHROME_CDP_PORT=$((CDP_PORT - 1))
else
  CHROME_CDP_PORT=$((CDP_PORT + 1))
fi

trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
trap 'exit 143' TERM INT

if [[ "$HEADLESS" != 1 ]]; then
  export DISPLAY=:1
  log "starting Xvfb on $DISPLAY"
  Xvfb :1 -screen 0 1280x800x24 -nolisten tcp &
  for _ in $(seq 1 50); do
    [[ -S /tmp/.X11-unix/X1 ]] && break
    sleep 0.1
  done
fi

args=(
  "--remote-debugging-address=127.0.0.1"
  "--remote-debugging-port=${CHROME_CDP_PORT}"
  "--user-data-dir=${HOME}/.chrome"
  --no-first-run
  --no-default-browser-check
  --disable-dev-shm-usage
  --disable-background-networking
  --disable-breakpad
  --disable-crash-reporter
  --metrics-recording-only
  --password-store=basic
  --use-mock-keychain
)
if [[ "$NO_SANDBOX" == 1 ]]; then
  # Chromium's sandbox needs user namespaces or setuid, which the container posture removes.
  args+=(--no-sandbox --disable-setuid-sandbox --no-zygote)
fi
if [[ "$DISABLE_GRAPHICS_FLAGS" != 0 ]]; then
  args+=(--disable-3d-apis --disable-gpu --disable-software-rasterizer)
fi
if [[ "$DISABLE_EXTENSIONS" != 0 ]]; then
  args+=(--disable-extensions)
fi
if [[ -n "$RENDERER_PROCESS_LIMIT" && "$RENDERER_PROCESS_LIMIT" != 0 ]]; then
  args+=("--renderer-process-limit=${RENDERER_PROCESS_LIMIT}")
fi
if [[ "$HEADLESS" == 1 ]]; then
  args+=(--headless=new)
fi

log "starting Chromium (DevTools on 127.0.0.1:${CHROME_CDP_PORT})"
chromium "${args[@]}" about:blank &

for _ in $(seq 1 100); do
  if curl -fsS --max-time 1 "http://127.0.0.1:${CHROME_CDP_PORT}/json/version" >/dev/null 2>&1; then
    break
  fi
  sleep 0.1
done

listen="TCP-LISTEN:${CDP_PORT},fork,reuseaddr,bind=0.0.0.0"
if [[ -n "$CDP_SOURCE_RANGE" ]]; then
  listen="${listen},range=${CDP_SOURCE_RANGE}"
fi
log "forwarding CDP :${CDP_PORT} -> 127.0.0.1:${CHROME_CDP_PORT}${CDP_SOURCE_RANGE:+ (from $CDP_SOURCE_RANGE)}"
socat "$listen" "TCP:127.0.0.1:${CHROME_CDP_PORT}" &

if [[ "$HEADLESS" != 1 && "$ENABLE_NOVNC" == 1 ]]; then
  log "starting x11vnc (127.0.0.1:${VNC_PORT}) and noVNC (:${NOVNC_PORT})"
  x11vnc -display :1 -rfbport "$VNC_PORT" -localhost -shared -forever -nopw -quiet &
  websockify --web /usr/share/novnc/ "$NOVNC_PORT" "127.0.0.1:${VNC_PORT}" &
fi

# Any process ending ends the container; the gateway sees it stopped and recreates it.
set +e
wait -n
status=$?
log "a browser process exited (status $status); stopping"
exit "$status"
