#!/usr/bin/env bash
# Installs the ODK engine harness dependencies into "$ENUMERA_CACHE/odk-engine"
# (default <repo>/.cache/odk-engine) when missing, and prints that directory.
# Re-installs when package.json changes. Needs node and npm.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${ENUMERA_CACHE:-$repo/.cache}"
dir="$cache/odk-engine"
mkdir -p "$dir"
if ! cmp -s "$here/package.json" "$dir/package.json" \
   || [ ! -f "$dir/node_modules/@getodk/xforms-engine/package.json" ] \
   || [ ! -f "$dir/node_modules/jsdom/package.json" ]; then
  cp "$here/package.json" "$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >&2)
fi
echo "$dir"
