#!/usr/bin/env bash
# The web app's tests (issue 14): builds the app (scripts/build-web.sh) and
# the `enumera` binary with it embedded, installs Debian's Chromium when
# missing, and runs web/tests/*.test.mjs (node's test runner, playwright-
# core driving headless Chromium against real `enumera central serve`s):
# the page's test contract, engine parity with the native build on every
# conformance step script, the preview, bad input and bad luck, and a field
# day in three languages. Screenshots land in web/test-results/screens/.
#
#   scripts/test-web.sh                          every web test
#   scripts/test-web.sh tests/media.test.mjs     only these (paths under web/)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ENUMERA_CACHE="${ENUMERA_CACHE:-$PWD/.cache}"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
began=$(date +%s)

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "== web: skipped: node and npm are needed to build and test the web app" >&2
  exit 0
fi

bash scripts/build-web.sh
bash scripts/apt-install.sh chromium
echo "== web: building enumera with the app embedded" >&2
cargo build --locked -q -p enumera-cli

fixtures=$(mktemp -d)
trap 'rm -rf "$fixtures"' EXIT
ENUMERA_WEB_FIXTURES="$fixtures" cargo test --locked -q -p enumera-wasm --test web_fixtures >&2

echo "== web: browser tests (Chromium $(chromium --version 2>/dev/null | awk '{print $2}'))" >&2
tests=(tests/contract.test.mjs tests/parity.test.mjs tests/preview.test.mjs tests/widgets.test.mjs
  tests/trouble.test.mjs tests/field.test.mjs tests/supervision.test.mjs tests/media.test.mjs tests/audit.test.mjs
  tests/label-media.test.mjs tests/drawing.test.mjs)
[ $# -gt 0 ] && tests=("$@")
(cd web && ENUMERA_BIN="$target_dir/debug/enumera" ENUMERA_WEB_FIXTURES="$fixtures" \
  node --test --test-concurrency=1 --test-reporter=spec "${tests[@]}")
echo "== web: done in $(( $(date +%s) - began )) s" >&2
