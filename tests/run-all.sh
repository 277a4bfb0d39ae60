#!/usr/bin/env bash
# The whole test suite: lints, then every test of every crate, on one dev profile.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup-machine.sh

echo "== rustfmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== build (dev profile, reused by every test)"
cargo build --workspace --bins --locked
echo "== tests"
cargo nextest run --workspace --locked --no-fail-fast
