#!/usr/bin/env bash
# Refreshes requirements.lock to the newest releases the pyproject ranges allow, then runs the whole
# suite on them (scripts/test.sh). A lock that fails the suite is put back as it was.
#   ./scripts/lock.sh            refresh every package
#   ./scripts/lock.sh NAME ...   refresh only these, keeping the rest as locked
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp requirements.lock "$tmp/previous.lock"
"$PY" -m venv "$tmp/venv"
pip_() { "$tmp/venv/bin/python" -m pip --disable-pip-version-check -q "$@"; }
pip_ install --upgrade pip setuptools wheel
if [ $# -gt 0 ]; then
  # keep every other package at its locked version
  pattern=$(printf '%s\n' "$@" | tr '[:upper:]_' '[:lower:]-' | sed 's/^/^/; s/$/==/')
  grep -viE -f <(echo "$pattern") requirements.lock > "$tmp/keep.txt" || true
  pip_ install -c "$tmp/keep.txt" -e packages/dualsign-verify -e '.[dev,s3]' --upgrade "$@"
else
  pip_ install -e packages/dualsign-verify -e '.[dev,s3]'
fi
{
  echo "# Exact versions of every package DualSign and its tests install (pip constraints)."
  echo "# Written by scripts/lock.sh on $(date -u +%Y-%m-%d); change it only through that script."
  "$tmp/venv/bin/python" -m pip freeze --all --exclude-editable | grep -v '^-e ' | LC_ALL=C sort -f
} > requirements.lock
echo "requirements.lock: $(diff "$tmp/previous.lock" requirements.lock | grep -c '^>' || true) lines changed; running the suite"
if ! ./scripts/test.sh; then
  cp "$tmp/previous.lock" requirements.lock
  echo "the suite failed on the refreshed versions: requirements.lock is back as it was" >&2
  exit 1
fi
