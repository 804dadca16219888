# openclaw-rs gateway image: one native binary on debian:bookworm-slim.
#
#   docker build -t openclaw:local -f Dockerfile .            # compile in a Rust builder stage
#   docker build -t openclaw:local --target runtime-prebuilt \
#     --build-arg OPENCLAW_PREBUILT=1 .                       # offline: use target/docker/openclaw
#
# Works with BuildKit and with the classic builder (no RUN --mount, no heredocs, no COPY --chmod).
# The classic builder builds every stage ABOVE the requested one, so the stage order matters:
#   runtime-base -> runtime-prebuilt -> manifests -> builder -> runtime (the default, last stage)
# `--target runtime-prebuilt` therefore never needs the Rust image (nothing to pull offline).
#
# Build args:
#   RUST_IMAGE                    builder base              (default rust:1-bookworm)
#   RUNTIME_IMAGE                 runtime base              (default debian:bookworm-slim)
#   OPENCLAW_DOCKER_APT_PACKAGES  extra apt packages baked into the runtime (space separated)
#   OPENCLAW_IMAGE_APT_PACKAGES   newer name for the same list (both are installed)
#   OPENCLAW_PREBUILT             1 = fail the runtime-prebuilt stage when the binary is missing
#   GIT_COMMIT                    recorded as the org.opencontainers.image.revision label

ARG RUST_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------
# runtime-base: everything the runtime needs except the binary.
FROM ${RUNTIME_IMAGE} AS runtime-base
ARG RUNTIME_IMAGE
ARG OPENCLAW_DOCKER_APT_PACKAGES=""
ARG OPENCLAW_IMAGE_APT_PACKAGES=""
ARG GIT_COMMIT=unknown
LABEL org.opencontainers.image.title="openclaw-rs gateway" \
      org.opencontainers.image.description="OpenClaw gateway (Rust): HTTP + WebSocket on port 18789" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}" \
      org.opencontainers.image.revision="${GIT_COMMIT}" \
      org.opencontainers.image.licenses="MIT"

# tini reaps zombies and forwards SIGTERM/SIGINT to the gateway (PID 1 semantics).
# ca-certificates: native roots for tools users add (git, curl) and for corporate CAs.
# hadolint ignore=DL3008
RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update; \
    apt-get install -y --no-install-recommends tini ca-certificates \
        ${OPENCLAW_DOCKER_APT_PACKAGES} ${OPENCLAW_IMAGE_APT_PACKAGES}; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# Non-root runtime user `node` (uid/gid 1000, the name kept for OpenClaw compatibility), the state
# dir, the `openclaw` entry on PATH (a symlink to where the binary lands), and a `node` shim so
# commands copied from OpenClaw docs (`node dist/index.js <args>`) keep working: it drops a leading
# dist/index.js or openclaw.mjs and execs openclaw; anything else is refused (there is no Node.js).
RUN set -eux; \
    groupadd --gid 1000 node; \
    useradd --uid 1000 --gid node --create-home --home-dir /home/node --shell /bin/sh node; \
    mkdir -p /home/node/.openclaw/workspace /home/node/.openclaw/identity \
             /home/node/.openclaw/agents/main/agent /home/node/.openclaw/agents/main/sessions \
             /home/node/.config /home/node/.local/bin /app /usr/local/lib/openclaw; \
    chown -R node:node /home/node; \
    chmod 700 /home/node/.openclaw; \
    ln -s /usr/local/lib/openclaw/openclaw /usr/local/bin/openclaw; \
    printf '%s\n' \
      '#!/bin/sh' \
      '# openclaw-rs compatibility shim: there is no Node.js in this image.' \
      '# `node dist/index.js <args>` and `node openclaw.mjs <args>` run `openclaw <args>`.' \
      'case "${1:-}" in' \
      '  dist/index.js|./dist/index.js|/app/dist/index.js|openclaw.mjs|./openclaw.mjs|/app/openclaw.mjs)' \
      '    shift; exec /usr/local/bin/openclaw "$@" ;;' \
      'esac' \
      'echo "node: this image has no Node.js runtime; openclaw-rs is one native binary." >&2' \
      'echo "node: only \"node dist/index.js <args>\" / \"node openclaw.mjs <args>\" are accepted (they run \"openclaw <args>\")." >&2' \
      'echo "node: run \"openclaw <args>\" directly, or bake extra tools in with OPENCLAW_DOCKER_APT_PACKAGES." >&2' \
      'exit 127' \
      > /usr/local/bin/node; \
    chmod 0755 /usr/local/bin/node

ENV HOME=/home/node \
    PATH=/home/node/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TINI_SUBREAPER=1
WORKDIR /app
USER node
EXPOSE 18789 18790
# Same cadence as the compose healthcheck; `openclaw healthcheck` exits 0 iff /healthz answers 200.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
    CMD ["openclaw", "healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# lan bind inside the container (the published port is the boundary); --allow-unconfigured lets a
# fresh container start before onboarding. Override CMD to enforce the gateway.mode=local guard.
CMD ["openclaw", "gateway", "--allow-unconfigured", "--bind", "lan", "--port", "18789"]

# ---------------------------------------------------------------------------------------------
# runtime-prebuilt: the offline path. Takes a host-built binary from the build context:
#   cargo build --release -p openclaw-cli && install -D target/release/openclaw target/docker/openclaw
# Cargo.toml is listed only so the COPY never has zero sources (the classic builder also walks this
# stage during a default build, where the binary is usually absent).
FROM runtime-base AS runtime-prebuilt
ARG OPENCLAW_PREBUILT=0
COPY Cargo.toml target/docker/openclaw* /usr/local/lib/openclaw/
USER root
RUN set -eu; \
    rm -f /usr/local/lib/openclaw/Cargo.toml; \
    if [ ! -f /usr/local/lib/openclaw/openclaw ]; then \
      if [ "${OPENCLAW_PREBUILT}" = 1 ]; then \
        echo "error: target/docker/openclaw is missing from the build context." >&2; \
        echo "build it first: cargo build --release -p openclaw-cli && install -D target/release/openclaw target/docker/openclaw" >&2; \
        exit 1; \
      fi; \
      echo "note: no target/docker/openclaw; runtime-prebuilt gets a stub (fine for a default build)" >&2; \
      printf '%s\n' '#!/bin/sh' \
        'echo "openclaw: this image was built from target runtime-prebuilt without target/docker/openclaw; see docs/docker.md (offline build)" >&2' \
        'exit 70' > /usr/local/lib/openclaw/openclaw; \
    fi; \
    chmod 0755 /usr/local/lib/openclaw/openclaw
USER node

# ---------------------------------------------------------------------------------------------
# manifests: only Cargo.toml/Cargo.lock plus stub target roots. Any source edit reruns this cheap
# stage, but its OUTPUT only changes when a manifest (or the set of targets) changes, so the
# dependency layer in `builder` stays cached across source-only edits.
FROM ${RUST_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN set -eu; \
    mkdir -p /out; \
    cp Cargo.toml Cargo.lock /out/; \
    find . -name Cargo.toml -not -path './target/*' -not -path './Cargo.toml' | while read -r manifest; do \
      dir="$(dirname "$manifest")"; \
      mkdir -p "/out/$dir"; \
      cp "$manifest" "/out/$dir/Cargo.toml"; \
      find "$dir" -path "$dir/target" -prune -o -type f \( \
           -path "$dir/src/main.rs" -o -path "$dir/src/bin/*.rs" -o -path "$dir/build.rs" \
        -o -path "$dir/tests/*.rs" -o -path "$dir/benches/*.rs" -o -path "$dir/examples/*.rs" \) \
        -print | while read -r f; do \
          mkdir -p "/out/$(dirname "$f")"; echo 'fn main() {}' > "/out/$f"; \
        done; \
      if [ -f "$dir/src/lib.rs" ]; then mkdir -p "/out/$dir/src"; : > "/out/$dir/src/lib.rs"; fi; \
    done

# ---------------------------------------------------------------------------------------------
# builder: dependencies first (cached until a Cargo.toml/Cargo.lock changes), then the sources.
FROM ${RUST_IMAGE} AS builder
WORKDIR /src
COPY --from=manifests /out/ ./
RUN cargo build --release --locked -p openclaw-cli
COPY . .
# The stubs above are newer than the real sources' mtimes: touch so cargo rebuilds our crates.
RUN set -eu; \
    find . -path ./target -prune -o -name '*.rs' -exec touch {} +; \
    cargo build --release --locked -p openclaw-cli; \
    install -D -m 0755 target/release/openclaw /out/openclaw

# ---------------------------------------------------------------------------------------------
# runtime (default target): runtime-base + the compiled binary.
FROM runtime-base AS runtime
COPY --from=builder /out/openclaw /usr/local/lib/openclaw/openclaw
