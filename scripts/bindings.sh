#!/usr/bin/env bash
# Builds the enumera-ffi library and generates its Kotlin, Swift and Python
# bindings (uniffi library mode) into build/bindings/. Generated files are
# never committed: this script makes them from the library every time.
#
#   scripts/bindings.sh            debug library (fast, reuses cargo test's build)
#   scripts/bindings.sh --release  release library (opt-level "s", LTO, stripped)
#   scripts/bindings.sh --size     also build the release library and print its size
#
# Output:
#   build/bindings/lib/libenumera_ffi.so     the library the tests load
#   build/bindings/{kotlin,swift,python}/    the generated sources
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile=debug
size=0
for arg in "$@"; do
    case "$arg" in
        --release) profile=release ;;
        --size) size=1 ;;
        *) echo "usage: $0 [--release] [--size]" >&2; exit 2 ;;
    esac
done

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
out=build/bindings

cargo_flags=(--locked -p enumera-ffi)
[ "$profile" = release ] && cargo_flags+=(--release)
echo "== building enumera-ffi ($profile)" >&2
cargo build "${cargo_flags[@]}" >&2
echo "== building uniffi-bindgen" >&2
cargo build --locked -p enumera-uniffi-bindgen >&2

case "$(uname -s)" in
    Darwin) lib_name=libenumera_ffi.dylib ;;
    *) lib_name=libenumera_ffi.so ;;
esac
lib="$target_dir/$profile/$lib_name"

rm -rf "$out"
mkdir -p "$out/lib"
cp "$lib" "$out/lib/"
for lang in kotlin swift python; do
    "$target_dir/debug/uniffi-bindgen" generate --no-format \
        --language "$lang" --out-dir "$out/$lang" "$lib" >&2
done
# The Python module loads the library from its own folder.
ln -s "../lib/$lib_name" "$out/python/$lib_name"
echo "== bindings in $out/{kotlin,swift,python}" >&2

# Size of one Android ABI's worth of library, measured on x86_64-linux.
if [ "$size" = 1 ]; then
    if [ "$profile" != release ]; then
        echo "== building enumera-ffi (release) for its size" >&2
        cargo build --locked -p enumera-ffi --release >&2
    fi
    rel="$target_dir/release/$lib_name"
    stripped="$(mktemp)"
    trap 'rm -f "$stripped"' EXIT
    cp "$rel" "$stripped"
    strip "$stripped" 2>/dev/null || true
    bytes=$(wc -c <"$stripped")
    printf "release %s (stripped): %d bytes (%s MiB); target under 4.5 MiB\n" \
        "$lib_name" "$bytes" "$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }')"
    # Past the target the check fails, so that growth is a decision rather
    # than an accident (bindings/README.md, Size, says where it goes and why
    # the target moved from 4 to 4.5 MiB).
    if [ "$bytes" -ge $((9 * 512 * 1024)) ]; then
        echo "FAILED: the library is over its 4.5 MiB target (see bindings/README.md, Size)" >&2
        exit 1
    fi
fi
