#!/usr/bin/env bash
# Runs every test Enumera has. This is the README's test command and the only
# thing .ci/run calls. It installs what the tests need (pyxform, the ODK
# engine, the Kotlin compiler, ...) into .cache/ when missing; tests that need
# a tool the machine cannot have say so in their output and skip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ENUMERA_CACHE="${ENUMERA_CACHE:-$PWD/.cache}"
mkdir -p "$ENUMERA_CACHE"

echo "== export readers (PSPP, R with haven and readxl, Chromium), when missing" >&2
bash scripts/export-tools.sh

echo "== cargo test (workspace)" >&2
cargo test --workspace --locked

echo "== mobile bindings (Python, Kotlin on the JVM, library size)" >&2
bash scripts/test-bindings.sh

echo "== web app (WebAssembly build, browser tests in Chromium)" >&2
bash scripts/test-web.sh
