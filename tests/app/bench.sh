#!/usr/bin/env bash
# App benchmark (issue 3 figures) on the release build: see tests/app/bench.mjs.
set -euo pipefail
cd "$(dirname "$0")/../.."
CI=true npx --no-install tauri build --no-bundle
cargo build --release --bin coffer --quiet
COFFER_APP_BIN="$PWD/target/release/coffer-app" E2E_TEST=tests/app/bench.mjs SKIP_BUILD=1 \
  COFFER_CLI_BIN="$PWD/target/release/coffer" bash tests/app/run.sh
