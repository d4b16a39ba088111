#!/usr/bin/env bash
# Builds ios/EnumeraFFI.xcframework (device: ios-arm64; simulator:
# ios-arm64_x86_64-simulator) and the generated Swift for the Enumera Swift
# package (see ios/README.md). Runs on macOS with Xcode and
# `rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(uname -s)" != Darwin ]; then
    echo "build-xcframework.sh needs macOS with Xcode (xcodebuild, lipo)" >&2
    exit 1
fi

export IPHONEOS_DEPLOYMENT_TARGET=15.0
for target in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
    cargo build --locked --release -p enumera-ffi --target "$target"
done
cargo build --locked --release -p enumera-ffi        # the host dylib, for bindgen
cargo build --locked -p enumera-uniffi-bindgen

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
work=build/ios
rm -rf "$work" ios/EnumeraFFI.xcframework ios/Sources/Enumera/Generated
mkdir -p "$work/headers" "$work/swift" "$work/sim" ios/Sources/Enumera/Generated

"$target_dir/debug/uniffi-bindgen" generate --no-format --language swift \
    --out-dir "$work/swift" "$target_dir/release/libenumera_ffi.dylib"
cp "$work/swift/EnumeraFFIFFI.h" "$work/headers/"
# An XCFramework's headers folder holds one module map named module.modulemap.
cp "$work/swift/EnumeraFFIFFI.modulemap" "$work/headers/module.modulemap"
cp "$work/swift/EnumeraFFI.swift" ios/Sources/Enumera/Generated/

lipo -create \
    "$target_dir/aarch64-apple-ios-sim/release/libenumera_ffi.a" \
    "$target_dir/x86_64-apple-ios/release/libenumera_ffi.a" \
    -output "$work/sim/libenumera_ffi.a"

xcodebuild -create-xcframework \
    -library "$target_dir/aarch64-apple-ios/release/libenumera_ffi.a" -headers "$work/headers" \
    -library "$work/sim/libenumera_ffi.a" -headers "$work/headers" \
    -output ios/EnumeraFFI.xcframework
echo "built ios/EnumeraFFI.xcframework and ios/Sources/Enumera/Generated/EnumeraFFI.swift"
