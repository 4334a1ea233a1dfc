#!/usr/bin/env bash
# Installs what the tests need and runs every check: ruff, mypy (strict), import-linter contracts and
# the full pytest suite (storage and API tests run on SQLite and on the PostgreSQL at 127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
bash scripts/services.sh
V=.venv/bin
$V/ruff check .
$V/ruff format --check .
$V/mypy
$V/lint-imports
# The suite in two runs: everything else on 2 workers, then the real-browser sessions alone (a browser,
# Whisper and dlib in real time need the machine's cores to themselves). Exit 5 (no tests) is a failure.
run() {
  set +e
  "$@"
  local rc=$?
  set -e
  if [ $rc -eq 5 ]; then echo "pytest collected no tests: that is a failure" >&2; exit 1; fi
  [ $rc -eq 0 ] || exit $rc
}
run $V/pytest -n 2 -m "not e2e" "$@"
run $V/pytest -m e2e "$@"
