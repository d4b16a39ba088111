#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each (default 240) and
# prints libFuzzer's final stats. Needs a nightly toolchain and cargo-fuzz;
# see docs/RELIABILITY.md. The committed seeds in corpus/<target>/ are the
# starting point; what the run finds goes to corpus-work/<target>/ (not
# committed) and crashes to artifacts/<target>/.
#
#   fuzz/run.sh                  # all targets, 240 s each
#   SECONDS_EACH=60 fuzz/run.sh expr_parse
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
secs="${SECONDS_EACH:-240}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^enumera-fuzz$')
fi
for t in "${targets[@]}"; do
  mkdir -p "corpus-work/$t" "artifacts/$t"
  cp -n corpus/"$t"/* "corpus-work/$t/" 2>/dev/null || true
  echo "== $t ($secs s)"
  # No sanitizer: the targets are safe Rust (debug assertions and overflow
  # checks are on in fuzz/Cargo.toml); ASan would only slow them down.
  cargo +nightly fuzz run -s none "$t" "corpus-work/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 -max_len=65536 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 2>&1 \
    | grep -E '^(stat::|Done|==|.*(ERROR|SUMMARY|Test unit written))' || true
done
