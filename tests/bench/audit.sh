#!/usr/bin/env bash
# The audit trail at volume: verifying 1,000,000 events (commits of 100) and 20,000
# single-event commits in-process (criterion), then whole `coffer audit` processes on
# the same 1,000,000-event vault — verify, --jsonl, --json, the table, --since — each
# timed by hyperfine and its peak memory taken by GNU time, with a `coffer unlock` agent.
# Usage: bash tests/bench/audit.sh [DIR]   (DIR keeps the vaults for reruns; default: temporary)
set -euo pipefail
cd "$(dirname "$0")/../.."
D=${1:-$(mktemp -d)}
B=$PWD/target/release/coffer
cargo build --release --bin coffer
COFFER_BENCH_AUDIT_VAULT=$D cargo bench -p coffer-core --bench vault -- "audit/"
export COFFER_VAULT=$D/audit-1m.db COFFER_MEMBER=bench COFFER_PASSPHRASE='bench pass phrase'
export XDG_STATE_HOME=$D/state XDG_RUNTIME_DIR=$D/run
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
# With an agent, as a forwarder or an auditor's shell would run them: each process
# then pays no Argon2id (whose 64 MiB would dominate the peak memory).
"$B" unlock --for 1h >/dev/null
trap '"$B" lock >/dev/null 2>&1 || true' EXIT
unset COFFER_PASSPHRASE
hyperfine -N --warmup 1 --runs 5 \
  "$B audit verify" \
  "$B audit --jsonl" \
  "$B audit --json" \
  "$B audit" \
  "$B audit --since 1d" \
  "$B audit --limit 50"
for args in "audit verify" "audit --jsonl" "audit --json" "audit" "audit --since 1d"; do
  # shellcheck disable=SC2086
  kb=$(/usr/bin/time -f '%M' "$B" $args 2>&1 >/dev/null | tail -1)
  printf 'peak memory %6d KiB  coffer %s\n' "$kb" "$args"
done
