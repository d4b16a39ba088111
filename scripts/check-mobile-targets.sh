#!/usr/bin/env bash
# Type-checks enumera-ffi (and so all of core) for the phones' targets:
# aarch64-linux-android and aarch64-apple-ios. A real build needs the
# Android NDK or Xcode; `cargo check` needs only the Rust standard library
# for the target, plus a C compiler for SQLite's build script, for which
# Debian's aarch64 GCC stands in. Each target is skipped, saying why, when
# rustup cannot install it.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v rustup >/dev/null; then
    echo "SKIP mobile target checks: rustup is not installed" >&2
    exit 0
fi
if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
    echo "== installing gcc-aarch64-linux-gnu (a C compiler for SQLite's build script)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu; } >&2 \
        || echo "could not install gcc-aarch64-linux-gnu" >&2
fi

status=0
for target in aarch64-linux-android aarch64-apple-ios; do
    if ! rustup target list --installed | grep -qx "$target"; then
        if ! rustup target add "$target" >&2; then
            echo "SKIP cargo check --target $target: rustup cannot install the target here" >&2
            continue
        fi
    fi
    env_name="CC_${target//-/_}"
    echo "== cargo check -p enumera-ffi --target $target" >&2
    # SQLite's C is compiled by aarch64 GCC for both: enough for a check,
    # never for a library that ships (that needs the NDK's or Xcode's clang).
    # CRATE_CC_NO_DEFAULTS keeps cc-rs from asking xcrun for an iOS SDK.
    if env "$env_name=aarch64-linux-gnu-gcc" "AR_${target//-/_}=aarch64-linux-gnu-ar" \
        CRATE_CC_NO_DEFAULTS=1 cargo check --locked -q -p enumera-ffi --target "$target" >&2; then
        echo "ok: enumera-ffi type-checks for $target"
    else
        echo "FAILED: cargo check -p enumera-ffi --target $target" >&2
        status=1
    fi
done
exit "$status"
