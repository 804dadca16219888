#!/usr/bin/env bash
# Docker e2e smoke test for the containerized gateway (docs/docker.md, "E2E smoke test").
#
#   scripts/e2e/onboard-docker.sh                  build openclaw:local with the Rust builder stage
#   OPENCLAW_OFFLINE=1 scripts/e2e/onboard-docker.sh   host cargo build + runtime-prebuilt target
#   OPENCLAW_E2E_SKIP_BUILD=1 ...                  reuse an existing $OPENCLAW_E2E_IMAGE
#
# What it does, all in a throwaway directory with a unique Compose project and free host ports:
#   1. build the image (unless skipped)
#   2. run the real docker-setup.sh non-interactively (onboard, pin config, start, wait healthy)
#   3. check the onboarding result on disk and via `config get`
#   4. health: GET /healthz through the published port, `openclaw health --token` in the container,
#      the OpenClaw-doc form `node dist/index.js health --token`, and a wrong token must fail
#   5. one agent turn against a fake OpenAI-compatible server (scripts/e2e/fake_openai.py) on the
#      Docker host bridge: the reply must contain "pong" and the fake must have been called
#   6. tear down (trap): compose down -v, stop the fake, delete the directory
# Exits non-zero on the first failure. OPENCLAW_E2E_KEEP=1 leaves everything running for debugging.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
IMAGE="${OPENCLAW_E2E_IMAGE:-openclaw:local}"
OFFLINE="${OPENCLAW_OFFLINE:-0}"
TIMEOUT_AGENT="${OPENCLAW_E2E_AGENT_TIMEOUT:-180}"
TOKEN=""

step() { printf '\n[e2e] == %s\n' "$*"; }
info() { printf '[e2e] %s\n' "$*"; }
fail() { printf '[e2e] FAIL: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 || fail "docker not found"
command -v python3 >/dev/null 2>&1 || fail "python3 not found (needed for the fake model server)"
command -v curl >/dev/null 2>&1 || fail "curl not found"
if docker compose version >/dev/null 2>&1; then
  COMPOSE_CMD=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE_CMD=(docker-compose)
else
  fail "Docker Compose not found (docker compose or docker-compose)"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/openclaw-e2e.XXXXXX")"
PROJECT_DIR="$WORK/project"
CONFIG_DIR="$WORK/config"
FAKE_PID=""
export COMPOSE_PROJECT_NAME="openclaw-e2e-$$-$RANDOM"

compose() {
  local files=(-f "$PROJECT_DIR/docker-compose.yml")
  if [ -f "$PROJECT_DIR/docker-compose.extra.yml" ]; then files+=(-f "$PROJECT_DIR/docker-compose.extra.yml"); fi
  (cd "$PROJECT_DIR" && "${COMPOSE_CMD[@]}" "${files[@]}" "$@")
}

cleanup() {
  local status=$?
  set +e
  if [ "$status" -ne 0 ] && [ -f "$PROJECT_DIR/docker-compose.yml" ]; then
    echo "[e2e] --- gateway logs (last 80 lines) ---" >&2
    compose logs --tail 80 openclaw-gateway >&2 2>/dev/null
    if [ -s "$WORK/fake.log" ]; then echo "[e2e] --- fake model server ---" >&2; cat "$WORK/fake.log" >&2; fi
  fi
  if [ "${OPENCLAW_E2E_KEEP:-0}" = 1 ]; then
    info "OPENCLAW_E2E_KEEP=1: leaving project $COMPOSE_PROJECT_NAME and $WORK in place"
    exit "$status"
  fi
  if [ -f "$PROJECT_DIR/docker-compose.yml" ]; then
    compose down -v --remove-orphans >/dev/null 2>&1
  fi
  if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; fi
  # Files written by uid 1000 in the container may not be removable by this user: use a container.
  if ! rm -rf "$WORK" 2>/dev/null; then
    docker run --rm --user 0:0 --entrypoint sh -v "$WORK:/work-e2e" "$IMAGE" -c 'rm -rf /work-e2e/*' >/dev/null 2>&1
    rm -rf "$WORK"
  fi
  if [ "$status" -eq 0 ]; then info "PASS"; else printf '[e2e] FAILED (exit %s)\n' "$status" >&2; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_healthz() {
  local port="$1" deadline=$(( $(date +%s) + ${2:-90} ))
  until curl -fsS --max-time 3 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 1
  done
}

# ---------------------------------------------------------------------------------------------
step "1/6 build $IMAGE"
if [ "${OPENCLAW_E2E_SKIP_BUILD:-0}" = 1 ]; then
  docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "OPENCLAW_E2E_SKIP_BUILD=1 but $IMAGE does not exist"
  info "reusing $IMAGE"
elif [ "$OFFLINE" = 1 ]; then
  bin="${OPENCLAW_PREBUILT_BINARY:-}"
  if [ -z "$bin" ]; then
    (cd "$REPO_DIR" && cargo build --release -p openclaw-cli) || fail "cargo build --release failed"
    bin="${CARGO_TARGET_DIR:-$REPO_DIR/target}/release/openclaw"
  fi
  [ -x "$bin" ] || fail "no binary at $bin"
  mkdir -p "$REPO_DIR/target/docker" && install -m 0755 "$bin" "$REPO_DIR/target/docker/openclaw"
  docker image inspect debian:bookworm-slim >/dev/null 2>&1 || "$REPO_DIR/scripts/offline-base-image.sh" \
    || fail "could not create debian:bookworm-slim offline"
  docker build -q --target runtime-prebuilt --build-arg OPENCLAW_PREBUILT=1 -t "$IMAGE" "$REPO_DIR" >/dev/null \
    || fail "docker build (runtime-prebuilt) failed"
else
  docker build -q -t "$IMAGE" "$REPO_DIR" >/dev/null || fail "docker build failed (offline machines: OPENCLAW_OFFLINE=1)"
fi
size="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
info "image size: $((size / 1000000)) MB"

# ---------------------------------------------------------------------------------------------
step "2/6 docker-setup.sh (non-interactive) in $WORK"
mkdir -p "$PROJECT_DIR"
cp "$REPO_DIR/docker-compose.yml" "$REPO_DIR/docker-setup.sh" "$PROJECT_DIR/"
mkdir -p "$CONFIG_DIR/workspace" "$CONFIG_DIR/identity" "$CONFIG_DIR/agents/main/agent" "$CONFIG_DIR/agents/main/sessions"
uid="$(id -u)"
if [ "$uid" != 0 ] && [ "$uid" != 1000 ]; then
  chmod -R 0777 "$CONFIG_DIR"  # throwaway dir: let the container's uid 1000 write without sudo
fi
GATEWAY_PORT="$(free_port)"
BRIDGE_PORT="$(free_port)"
(
  export OPENCLAW_IMAGE="$IMAGE" OPENCLAW_CONFIG_DIR="$CONFIG_DIR" OPENCLAW_WORKSPACE_DIR="$CONFIG_DIR/workspace" \
    OPENCLAW_GATEWAY_PORT="$GATEWAY_PORT" OPENCLAW_BRIDGE_PORT="$BRIDGE_PORT" OPENCLAW_GATEWAY_BIND=lan \
    OPENCLAW_EXTRA_MOUNTS="" OPENCLAW_HOME_VOLUME="" OPENCLAW_DOCKER_APT_PACKAGES="" \
    OPENCLAW_NONINTERACTIVE=1 OPENCLAW_SKIP_BUILD=1 OPENCLAW_HEALTH_TIMEOUT=120
  unset OPENCLAW_GATEWAY_TOKEN
  "$PROJECT_DIR/docker-setup.sh" </dev/null
) || fail "docker-setup.sh failed"
TOKEN="$(sed -n 's/^OPENCLAW_GATEWAY_TOKEN=//p' "$PROJECT_DIR/.env" | tail -n 1)"
[ -n "$TOKEN" ] || fail "docker-setup.sh wrote no OPENCLAW_GATEWAY_TOKEN to .env"
export OPENCLAW_GATEWAY_TOKEN="$TOKEN"
info "gateway on 127.0.0.1:$GATEWAY_PORT, project $COMPOSE_PROJECT_NAME"

# ---------------------------------------------------------------------------------------------
step "3/6 onboarding result"
[ -f "$CONFIG_DIR/openclaw.json" ] || fail "onboarding wrote no $CONFIG_DIR/openclaw.json"
[ -d "$CONFIG_DIR/agents/main/sessions" ] || fail "missing $CONFIG_DIR/agents/main/sessions"
mode="$(compose run --rm -T openclaw-cli config get gateway.mode </dev/null | tr -d '"\r[:space:]')" \
  || fail "config get gateway.mode failed"
[ "$mode" = local ] || fail "gateway.mode is '$mode', expected local"
bind="$(compose run --rm -T openclaw-cli config get gateway.bind </dev/null | tr -d '"\r[:space:]')" \
  || fail "config get gateway.bind failed"
[ "$bind" = lan ] || fail "gateway.bind is '$bind', expected lan"
info "gateway.mode=local gateway.bind=lan"

# ---------------------------------------------------------------------------------------------
step "4/6 health"
wait_healthz "$GATEWAY_PORT" 60 || fail "GET http://127.0.0.1:$GATEWAY_PORT/healthz did not answer 200"
info "/healthz ok through the published port"
compose exec -T openclaw-gateway openclaw health --token "$TOKEN" </dev/null \
  || fail "openclaw health --token failed inside the gateway container"
compose exec -T openclaw-gateway node dist/index.js health --token "$TOKEN" </dev/null >/dev/null \
  || fail "'node dist/index.js health' (OpenClaw doc form, via the node shim) failed"
if compose exec -T openclaw-gateway openclaw health --token "wrong-$TOKEN" </dev/null >/dev/null 2>&1; then
  fail "openclaw health with a WRONG token succeeded; auth is not enforced"
fi
info "health ok; wrong token rejected"

# Cold start of the gateway container with the image present: `compose up -d` -> /healthz 200.
# (Docker's own health flag flips at the first probe, i.e. after the healthcheck interval.)
compose stop openclaw-gateway >/dev/null 2>&1 || fail "stopping openclaw-gateway failed"
t0=$(date +%s%N)
compose up -d openclaw-gateway >/dev/null 2>&1 || fail "compose up -d openclaw-gateway failed"
t_up=$(date +%s%N)
deadline=$(( $(date +%s) + 60 ))
until curl -fsS --max-time 1 "http://127.0.0.1:$GATEWAY_PORT/healthz" >/dev/null 2>&1; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "gateway did not answer /healthz within 60 s of compose up"
  sleep 0.05
done
t1=$(date +%s%N)
info "compose up -d -> /healthz 200: $(( (t1 - t0) / 1000000 )) ms (compose command itself: $(( (t_up - t0) / 1000000 )) ms; container start -> serving: $(( (t1 - t_up) / 1000000 )) ms)"

# ---------------------------------------------------------------------------------------------
step "5/6 agent turn against the fake model (needs the agent runtime)"
# The fake listens on the address host.docker.internal resolves to (the docker0 bridge gateway).
HOST_IP="$(docker run --rm --entrypoint sh --add-host host.docker.internal:host-gateway "$IMAGE" \
  -c "awk '\$2==\"host.docker.internal\" {print \$1; exit}' /etc/hosts")"
[ -n "$HOST_IP" ] || fail "could not resolve host-gateway"
python3 "$REPO_DIR/scripts/e2e/fake_openai.py" --host "$HOST_IP" --port 0 --port-file "$WORK/fake.port" \
  --log "$WORK/fake-requests.jsonl" --max-seconds 900 >"$WORK/fake.log" 2>&1 &
FAKE_PID=$!
deadline=$(( $(date +%s) + 15 ))
until [ -s "$WORK/fake.port" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "fake model server did not start"
  sleep 0.2
done
FAKE_PORT="$(cat "$WORK/fake.port")"
info "fake model at http://host.docker.internal:$FAKE_PORT/v1 ($HOST_IP)"
provider="{\"baseUrl\":\"http://host.docker.internal:$FAKE_PORT/v1\",\"apiKey\":\"fake-key\",\"api\":\"openai-completions\",\"models\":[{\"id\":\"fake-model\",\"name\":\"Fake Model\"}]}"
compose run --rm -T openclaw-cli config set --batch-json \
  "[{\"path\":\"models.providers.fake\",\"value\":$provider},{\"path\":\"agents.defaults.model.primary\",\"value\":\"fake/fake-model\"}]" \
  </dev/null || fail "config set models.providers.fake failed"
compose restart openclaw-gateway >/dev/null 2>&1 || fail "restarting openclaw-gateway failed"
wait_healthz "$GATEWAY_PORT" 60 || fail "gateway not healthy after restart"
reply="$(cd "$PROJECT_DIR" && timeout "$TIMEOUT_AGENT" "${COMPOSE_CMD[@]}" -f docker-compose.yml \
  run --rm -T openclaw-cli agent -m "ping from e2e" --json </dev/null)" \
  || fail "AGENT TURN FAILED: 'openclaw agent -m ... --json' exited non-zero (agent runtime missing or broken)"
info "agent reply: $(printf '%s' "$reply" | head -c 400)"
printf '%s' "$reply" | grep -q "pong" || fail "AGENT TURN: reply does not contain 'pong'"
grep -q '/chat/completions' "$WORK/fake-requests.jsonl" 2>/dev/null \
  || fail "AGENT TURN: the fake model server never received a chat completion request"

# ---------------------------------------------------------------------------------------------
step "6/6 teardown (trap)"
