#!/usr/bin/env bash
# The web app's benchmarks (web/bench/bench.mjs), run by
# `cargo bench -p enumera-benches --bench web`, which writes the generated
# forms into FORMS_DIR first. Builds the app and a release `enumera` with it
# embedded, installs ODK's engine (tests/odk/install.sh) and Chromium when
# missing. Prints Markdown tables on stdout.
#
#   scripts/bench-web.sh FORMS_DIR [SIZE...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ENUMERA_CACHE="${ENUMERA_CACHE:-$PWD/.cache}"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
forms="$1"
shift
sizes=$(IFS=,; echo "${*:-500,2000,5000}")
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "(not measured: node and npm are needed)"
  exit 0
fi
bash scripts/build-web.sh >&2
bash scripts/apt-install.sh chromium >&2
cargo build --release --locked -q -p enumera-cli >&2
odk=$(bash tests/odk/install.sh)
pages=$(mktemp -d)
trap 'rm -rf "$pages"' EXIT
(cd web && ENUMERA_ODK_ENGINE="$odk" npx --no-install vite build --config bench/vite.config.ts --outDir "$pages" >&2)
echo "Chromium $(chromium --version 2>/dev/null | awk '{print $2}'); load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo
(cd web && ENUMERA_BIN="$target_dir/release/enumera" node bench/bench.mjs --pages "$pages" --forms "$forms" --sizes "$sizes")
