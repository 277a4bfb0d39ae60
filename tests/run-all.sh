#!/usr/bin/env bash
# The whole test suite, on one dev profile: lints, every Rust test (core, CLI end to
# end, shell commands, binding drift), the UI's component tests, and the real app
# driven through WebDriver under Xvfb, then packaged as a .deb and inspected.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup-machine.sh

echo "== front end: typecheck and build (the app embeds ui/dist)"
npm run build:ui --silent
echo "== rustfmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== build (dev profile, reused by every test)"
cargo build --workspace --bins --locked
echo "== Rust tests (beside a throw-away PostgreSQL 15 for the team vault's)"
bash tests/pg/with-postgres.sh cargo nextest run --workspace --locked --no-fail-fast
echo "== UI component tests"
npm run test:ui --silent
if [ -f tests/app/run.sh ]; then
  echo "== the app end to end (WebDriver under Xvfb, beside a throw-away PostgreSQL for Settings → Team)"
  bash tests/pg/with-postgres.sh bash tests/app/run.sh
fi
if [ -f tests/package/check.sh ]; then
  echo "== the Debian package (packaged from the debug app built above)"
  SKIP_BUILD=1 bash tests/package/check.sh
fi
