#!/usr/bin/env bash
# Builds the web app (web/) into web/dist/app: the Rust core compiled to
# WebAssembly (bindings/wasm), its JavaScript bindings (wasm-bindgen), and
# the TypeScript app (vite). `cargo build -p enumera-cli` afterwards embeds
# it (central/build.rs) and `enumera central serve` serves it under /app/.
#
# Installs what it needs when missing: clang and lld (apt: SQLite's C is
# compiled to wasm32 with clang), the wasm32 target (rustup), wasm-bindgen-
# cli at the version in Cargo.lock (cargo install, into $ENUMERA_CACHE), the
# npm packages in web/package-lock.json (npm ci). Shares the cargo target
# dir with the native build.
#
#   scripts/build-web.sh            release build (what central embeds)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ENUMERA_CACHE="${ENUMERA_CACHE:-$PWD/.cache}"
mkdir -p "$ENUMERA_CACHE"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

say() { echo "== web: $*" >&2; }

for tool in cargo rustup node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "scripts/build-web.sh: $tool is needed and not found" >&2
    exit 1
  fi
done
bash scripts/apt-install.sh clang lld

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target (rustup)"
  rustup target add wasm32-unknown-unknown >&2
fi

# wasm-bindgen's CLI must be the version of the wasm-bindgen crate the
# module is built with: read it from Cargo.lock.
wb_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
wb_root="$ENUMERA_CACHE/wasm-bindgen-$wb_version"
wasm_bindgen="$wb_root/bin/wasm-bindgen"
if [ ! -x "$wasm_bindgen" ]; then
  say "installing wasm-bindgen-cli $wb_version into $wb_root (cargo install, a few minutes once)"
  # Its own lockfile pins a yanked crate; resolve afresh within its ranges.
  # Only the one binary, without TLS (its test runner's downloads, most of
  # its build), unoptimized: it builds in a third of the time (measured:
  # 1.5 against 4.2 CPU minutes) and runs for 3 s a build instead of 0.6,
  # with the same output. In a temporary target dir cargo then removes.
  env -u CARGO_TARGET_DIR CARGO_PROFILE_DEV_DEBUG=0 \
    cargo install wasm-bindgen-cli --version "=$wb_version" --root "$wb_root" \
    --no-default-features --bin wasm-bindgen --debug --quiet >&2
fi

say "compiling the engine to WebAssembly (bindings/wasm)"
# SQLite in the browser has no shared memory for WAL's index: exclusive
# locking keeps it in the one connection's heap (bindings/wasm/src/opfs.rs).
SQLITE_WASM_RS_FLAGS="SQLITE_DEFAULT_LOCKING_MODE=1" \
  cargo build --locked -p enumera-wasm --target wasm32-unknown-unknown --profile wasm-release >&2
wasm="$target_dir/wasm32-unknown-unknown/wasm-release/enumera_wasm.wasm"
rm -rf web/src/wasm
"$wasm_bindgen" --target web --remove-name-section --remove-producers-section --out-dir web/src/wasm "$wasm"

say "installing the app's npm packages (npm ci)"
# npm ci starts from the lockfile; skip it when node_modules was made from
# this very lockfile (a copy is left there).
if ! cmp -s web/package-lock.json web/node_modules/.enumera-package-lock.json 2>/dev/null; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp web/package-lock.json web/node_modules/.enumera-package-lock.json
fi

say "building the app (vite) into web/dist/app"
(cd web && npx --no-install vite build --logLevel warn >&2)
gz=$(stat -c %s web/dist/app/assets/*.wasm.gz 2>/dev/null | head -1)
say "built: web/dist/app ($(du -sh web/dist/app | cut -f1); the .wasm is ${gz:-?} bytes gzipped)"
