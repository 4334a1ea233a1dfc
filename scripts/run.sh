#!/usr/bin/env bash
# Installs what DualSign needs and runs it with the embedded defaults: SQLite and local files under
# ./var, a demo tenant whose API key and signer link are printed once. http://127.0.0.1:8000/docs
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export DUALSIGN_DATA_DIR=${DUALSIGN_DATA_DIR:-$(pwd)/var}
exec .venv/bin/dualsign serve --demo "$@"
