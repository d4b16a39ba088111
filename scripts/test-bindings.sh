#!/usr/bin/env bash
# Tests the mobile bindings from the languages the apps use, through the
# generated code and the real library:
#   - Python (pytest): bindings/tests/python
#   - Kotlin on the JVM (kotlinc + JNA): bindings/tests/kotlin, together with
#     the Android module's portable classes
#   - the size of the release library (target: under 4.5 MiB)
#   - `cargo check` for aarch64-linux-android and aarch64-apple-ios
# Installs what is missing into $ENUMERA_CACHE (pytest in a venv, kotlinc
# from npm) and JNA from Debian; skips a part, saying why, only when the
# machine truly lacks python3, java or npm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ENUMERA_CACHE="${ENUMERA_CACHE:-$PWD/.cache}"
mkdir -p "$ENUMERA_CACHE"

scripts/bindings.sh --size
# The sync tests drive a real central through the CLI.
cargo build --locked -q -p enumera-cli
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
export ENUMERA_BIN="$target_dir/debug/enumera"
status=0

# -- Python ------------------------------------------------------------------
if command -v python3 >/dev/null; then
    venv="$ENUMERA_CACHE/bindings-venv"
    if ! "$venv/bin/python" -c 'import pytest' 2>/dev/null; then
        echo "== installing pytest into $venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q pytest
    fi
    echo "== Python bindings tests" >&2
    "$venv/bin/python" -m pytest -q -p no:cacheprovider bindings/tests/python || status=1
else
    echo "SKIP Python bindings tests: python3 is not installed" >&2
fi

# -- the phones' targets -------------------------------------------------------
scripts/check-mobile-targets.sh || status=1

# -- Kotlin on the JVM (last: its summary line closes the output) -------------
if ! command -v java >/dev/null; then
    echo "SKIP Kotlin bindings tests: java is not installed" >&2
    exit "$status"
fi
kotlin_home="$ENUMERA_CACHE/kotlin/node_modules/kotlin-compiler"
if [ ! -x "$kotlin_home/bin/kotlinc" ]; then
    if ! command -v npm >/dev/null; then
        echo "SKIP Kotlin bindings tests: no kotlinc in $ENUMERA_CACHE and npm is not installed" >&2
        exit "$status"
    fi
    echo "== installing kotlinc (npm kotlin-compiler) into $ENUMERA_CACHE/kotlin" >&2
    mkdir -p "$ENUMERA_CACHE/kotlin"
    npm install --prefix "$ENUMERA_CACHE/kotlin" --no-audit --no-fund --silent kotlin-compiler@2.4.20 >&2
fi
jna=/usr/share/java/jna.jar
if [ ! -f "$jna" ]; then
    echo "== installing JNA (Debian libjna-java)" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjna-java >&2
fi

android_src=android/enumera-android/src/main/kotlin/org/enumera/android
sources=(
    build/bindings/kotlin/org/enumera/ffi/enumera_ffi.kt
    "$android_src/UrlConnectionTransport.kt"
    "$android_src/InterviewModel.kt"
    bindings/tests/kotlin/BindingsTest.kt
    bindings/tests/kotlin/AuditTest.kt
    bindings/tests/kotlin/AssignmentsTest.kt
    bindings/tests/kotlin/MediaTest.kt
    bindings/tests/kotlin/FormMediaTest.kt
)
# kotlinc is slow: reuse the jar while its sources are unchanged.
key="$(cat "${sources[@]}" | sha256sum | cut -c1-16)"
jar="$ENUMERA_CACHE/kotlin-tests/$key.jar"
if [ ! -f "$jar" ]; then
    echo "== compiling the Kotlin bindings and tests" >&2
    mkdir -p "$ENUMERA_CACHE/kotlin-tests"
    rm -f "$ENUMERA_CACHE"/kotlin-tests/*.jar
    "$kotlin_home/bin/kotlinc" -nowarn -cp "$jna" -d "$jar.tmp.jar" "${sources[@]}"
    mv "$jar.tmp.jar" "$jar"
fi
echo "== Kotlin bindings tests (JVM)" >&2
java -Djna.library.path="$PWD/build/bindings/lib" -Denumera.repo="$PWD" \
    -cp "$jar:$kotlin_home/lib/kotlin-stdlib.jar:$jna" BindingsTestKt || status=1
exit "$status"
