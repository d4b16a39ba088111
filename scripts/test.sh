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

echo "== a throwaway PostgreSQL cluster for central's conformance suite (installed when missing)" >&2
# cargo test runs the suite against it (ENUMERA_TEST_POSTGRES); stopped on exit.
if pg_env=$(bash scripts/postgres-cluster.sh start); then
  eval "$pg_env"
  export ENUMERA_REQUIRE_POSTGRES=1
  trap 'bash scripts/postgres-cluster.sh stop "$ENUMERA_PG_DIR"' EXIT
else
  echo "skipped: PostgreSQL could not be installed or started; its conformance tests say so" >&2
fi

echo "== cargo test (workspace)" >&2
cargo test --workspace --locked
bash scripts/test-data-api.sh  # the data API from Python, R and schemathesis (issue 19)

echo "== mobile bindings (Python, Kotlin on the JVM, library size)" >&2
bash scripts/test-bindings.sh

echo "== web app (WebAssembly build, browser tests in Chromium)" >&2
bash scripts/test-web.sh
