#!/usr/bin/env bash
# Installs, when missing, what the export tests read the exported files back
# with: PSPP, R with haven and readxl, and Chromium for the checks report
# (Debian packages). The Python readers (pandas, pyreadstat, openpyxl) are
# installed by the tests themselves into $ENUMERA_CACHE/venv-export.
# Without root or apt-get this only says what is missing: the tests that
# need a tool then say so and skip.
set -uo pipefail
need=()
command -v pspp >/dev/null 2>&1 || need+=(pspp)
if ! Rscript -e 'library(haven); library(readxl)' >/dev/null 2>&1; then
  need+=(r-base-core r-cran-haven r-cran-readxl)
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  need+=(chromium)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "export readers missing: ${need[*]} (not root or no apt-get); their tests will skip" >&2
  exit 0
fi
echo "== installing ${need[*]} (apt-get, for the export tests)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
  echo "could not install ${need[*]}; their tests will skip" >&2
fi
exit 0
