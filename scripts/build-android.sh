#!/usr/bin/env bash
# Builds the Android pieces of enumera-android (see android/README.md):
#   - libenumera_ffi.so for arm64-v8a, armeabi-v7a and x86_64 (cargo-ndk)
#   - the generated Kotlin, from the same library (uniffi library mode)
#   - the sample app's form asset
# Needs: the Android NDK (ANDROID_NDK_HOME), `cargo install cargo-ndk`, and
# `rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

module=android/enumera-android
out="$module/build/generated"
rm -rf "$out/jniLibs" "$out/uniffi"
mkdir -p "$out/jniLibs" "$out/uniffi/kotlin"

cargo ndk --platform 24 -t arm64-v8a -t armeabi-v7a -t x86_64 -o "$out/jniLibs" \
    build --locked --release -p enumera-ffi
cargo build --locked -p enumera-uniffi-bindgen

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
"$target_dir/debug/uniffi-bindgen" generate --no-format --language kotlin \
    --out-dir "$out/uniffi/kotlin" "$out/jniLibs/arm64-v8a/libenumera_ffi.so"

# The phones' library reads instruments (JSON), not workbooks: convert the
# sample's form as central does when it publishes.
mkdir -p android/sample/src/main/assets
cargo run --locked -q -p enumera-cli -- form convert \
    instruments/p2p-sanitation/practice_followup.xlsx \
    -o android/sample/src/main/assets/practice_followup.json
ls -l "$out"/jniLibs/*/libenumera_ffi.so
