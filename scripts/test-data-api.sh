#!/usr/bin/env bash
# The data API for researchers (issue 19) from outside Rust: starts
# `enumera central serve` on 127.0.0.1 over a demo campaign's central store
# with a researcher token, then reads it from Python (requests + pandas:
# submissions, one submission, export.zip with and without export choices,
# every table of the /rows feed), from R (curl + jsonlite: submissions, one
# submission, the feed's main table) and with schemathesis against
# docs/openapi.yaml (every data route, export.zip's and /rows's parameters
# included), and stops the server. Installs what is missing: a venv under
# $ENUMERA_CACHE/venv-data-api (pip), Debian's r-base-core, r-cran-jsonlite
# and r-cran-curl (apt-get, as root). A tool that cannot be installed is
# reported and its part skipped; a failing check fails the script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ENUMERA_CACHE="${ENUMERA_CACHE:-$PWD/.cache}"
mkdir -p "$ENUMERA_CACHE"

echo "== data API (Python, R, schemathesis against a live central serve)" >&2
cargo build --locked -q -p enumera-cli
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/enumera"

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Data: a small demo campaign (plain and sealed forms, reviews, rounds).
"$bin" demo --dir "$work/demo" --devices 2 --participants 4 >"$work/demo.log" 2>&1 \
  || { cat "$work/demo.log" >&2; exit 1; }
db="$work/demo/central/central.db"
token=$("$bin" central --db "$db" token create --role researcher --name data-api-test)

"$bin" central --db "$db" serve --listen 127.0.0.1:0 2>"$work/serve.log" &
server_pid=$!
base=
for _ in $(seq 1 100); do
  base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/serve.log" | head -n1)
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { cat "$work/serve.log" >&2; echo "central serve did not start" >&2; exit 1; }
echo "data API: $base" >&2

venv="$ENUMERA_CACHE/venv-data-api"
if ! "$venv/bin/python" -c 'import requests, pandas, schemathesis' >/dev/null 2>&1; then
  echo "== installing requests, pandas, schemathesis into $venv (pip)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'requests>=2.31' 'pandas>=2' 'schemathesis>=4,<5'
fi
echo "== Python (requests + pandas)" >&2
"$venv/bin/python" tests/data-api/read_submissions.py "$base" "$token"

r_ready() { Rscript -e 'library(jsonlite); library(curl)' >/dev/null 2>&1; }
if ! r_ready && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing r-base-core r-cran-jsonlite r-cran-curl (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends r-base-core r-cran-jsonlite r-cran-curl >/dev/null || true
fi
if r_ready; then
  echo "== R (curl + jsonlite)" >&2
  Rscript tests/data-api/read_submissions.R "$base" "$token"
else
  echo "skipped: R with jsonlite and curl could not be installed" >&2
fi

echo "== schemathesis against docs/openapi.yaml" >&2
# From the temporary folder: schemathesis keeps a cache where it runs.
repo=$PWD
cd "$work"
"$venv/bin/schemathesis" run "$repo/docs/openapi.yaml" --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks all --max-examples 25 --seed 19
