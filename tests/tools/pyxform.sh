#!/usr/bin/env bash
# Installs pyxform 4.5.0 (and openpyxl, to write XLSForm fixtures) into a venv
# at "$ENUMERA_CACHE/pyxform-venv" when missing, and prints the path of its
# xls2xform. The conformance test calls this; it is idempotent and fast once
# the venv exists.
#   ENUMERA_CACHE  cache folder (default: <repo>/.cache)
# Exit 3 when the machine has no python3 (the caller skips and says so).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${ENUMERA_CACHE:-$REPO/.cache}"
VENV="$CACHE/pyxform-venv"
PYXFORM_VERSION="4.5.0"
OPENPYXL_VERSION="3.1.5"
# Written last, so a venv whose install was cut short is redone.
MARK="$VENV/.pyxform-$PYXFORM_VERSION-ok"

if [ -x "$VENV/bin/xls2xform" ] && [ -f "$MARK" ]; then
  echo "$VENV/bin/xls2xform"
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "python3 not found: cannot install pyxform" >&2
  exit 3
fi
mkdir -p "$CACHE"
# Two test processes may get here at once: one installs, the other waits.
exec 9>"$CACHE/pyxform-venv.lock"
flock 9
if [ ! -f "$MARK" ]; then
  # Other tests share this venv: pin the version into it rather than
  # starting over.
  if [ ! -x "$VENV/bin/python" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV" >&2
  fi
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    "pyxform==$PYXFORM_VERSION" "openpyxl==$OPENPYXL_VERSION" >&2
  touch "$MARK"
fi
echo "$VENV/bin/xls2xform"
