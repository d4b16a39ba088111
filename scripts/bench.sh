#!/usr/bin/env bash
# Runs Enumera's benchmarks (release build) and appends their tables to
# docs/BENCHMARKS.md under a heading with the machine, date and commit, so
# the history stays. Never part of the test command: numbers measure, they
# do not gate.
#
#   scripts/bench.sh                 every benchmark
#   scripts/bench.sh session engines only these (names of benches/benches/*.rs)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ENUMERA_CACHE="${ENUMERA_CACHE:-$PWD/.cache}"
benches=("$@")
if [ ${#benches[@]} -eq 0 ]; then
  benches=(expr import session engines store sync export load media)
fi
# The load and media benches run against PostgreSQL too: a throwaway
# cluster that syncs as a production one does (--durable), stopped on exit.
if [[ " ${benches[*]} " == *" load "* || " ${benches[*]} " == *" media "* ]] \
  && [ -z "${ENUMERA_TEST_POSTGRES:-}" ]; then
  if pg_env=$(bash scripts/postgres-cluster.sh start --durable); then
    eval "$pg_env"
    trap 'bash scripts/postgres-cluster.sh stop "$ENUMERA_PG_DIR"' EXIT
  fi
fi
out=docs/BENCHMARKS.md
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)
{
  echo
  echo "## $(date -u +%Y-%m-%d) — commit $commit"
  echo
  echo "Machine: $(nproc) cores ($cpu), $(free -g | awk '/Mem:/{print $2}') GiB, load average $(cut -d' ' -f1-3 /proc/loadavg)."
} >> "$out"
for b in "${benches[@]}"; do
  echo "== bench $b" >&2
  {
    echo
    echo "### $b"
    echo
    # Tables as they are; every other run of lines in a code block, so
    # Markdown keeps their columns.
    if out_b=$(cargo bench -q -p enumera-benches --bench "$b" 2>/tmp/enumera-bench-$$.err); then
        printf '%s\n' "$out_b" | awk '
            /^\|/ { if (code) { print "```"; code = 0 } print; next }
            /^[[:space:]]*$/ { next }
            { if (!code) { print "```"; code = 1 } print }
            END { if (code) print "```" }'
    else
        echo "(failed to run: $(grep -m1 -E 'panicked|error' /tmp/enumera-bench-$$.err || echo unknown))"
    fi
    rm -f /tmp/enumera-bench-$$.err
  } >> "$out"
done
echo "appended to $out" >&2
