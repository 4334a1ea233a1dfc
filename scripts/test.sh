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
set +e
$V/pytest -n 2 "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then echo "pytest collected no tests: that is a failure" >&2; exit 1; fi
exit $rc
