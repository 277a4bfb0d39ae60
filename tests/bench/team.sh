#!/usr/bin/env bash
# The team vault's figures against a local PostgreSQL 15 (tests/pg/with-postgres.sh
# starts a throw-away one): moving a vault of N secrets × 3 environments onto the
# server (the first transfer), a sync with nothing to exchange, the two syncs that
# carry one change from one home to another, and reading the team's whole trail back
# (`team audit`: each of at least N events checked; a `run` of the N values adds them). Not run by .ci/run (minutes on 2 cores).
#
#   bash tests/bench/team.sh [target/release/coffer]     TEAM_N="1000 10000" to choose N
set -euo pipefail
cd "$(dirname "$0")/../.."
COFFER=$(realpath "${1:-target/release/coffer}")
[ -x "$COFFER" ] || { echo "build it first: cargo build --release --bin coffer" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
[ -n "${COFFER_TEST_PG:-}" ] || exec bash tests/pg/with-postgres.sh bash "$0" "$COFFER"

T=$(mktemp -d /tmp/coffer-team-bench.XXXXXX)
trap 'h1 lock >/dev/null 2>&1; h2 lock >/dev/null 2>&1; rm -rf "$T"' EXIT
export COFFER_PASSPHRASE='bench pass phrase' COFFER_MEMBER=bench
h1() { HOME=$T/h1 COFFER_VAULT=$T/h1/v.db "$COFFER" "$@"; }
h2() { HOME=$T/h2 COFFER_VAULT=$T/h2/v.db "$COFFER" "$@"; }
ms() { python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['results'][0]['median']*1000, 1))" "$1"; }

printf '| N × 3 envs | team create | sync, nothing new | push one change | pull one change | team verify | team audit (events) |\n|---|---|---|---|---|---|---|\n'
for N in ${TEAM_N:-1000 10000}; do
    rm -rf "$T/h1" "$T/h2" && mkdir -p "$T/h1" "$T/h2"
    python3 - "$N" "$T" <<'PY'
import secrets, sys
n, t = int(sys.argv[1]), sys.argv[2]
with open(f"{t}/values.env", "w") as env:
    for i in range(n):
        env.write(f"SECRET_{i:06}={secrets.token_urlsafe(24)}\n")
PY
    h1 init --owner bench --no-recovery-key >/dev/null 2>&1
    h1 snapshots --keep-daily 0 --keep-weekly 0 >/dev/null
    for env in development staging production; do
        h1 import "$T/values.env" --env "$env" >/dev/null
    done
    db="bench_$N"
    psql "$COFFER_TEST_PG" -qc "CREATE DATABASE $db"
    url=${COFFER_TEST_PG/\/postgres\?/\/$db\?}
    start=$(date +%s.%N)
    h1 team create "$url" >/dev/null
    create=$(python3 -c "print(round(($(date +%s.%N) - $start) * 1000))")
    cp "$T/h1/v.db" "$T/h2/v.db"
    # Timed with an agent on each home (`coffer unlock --for`), as the other figures.
    h1 unlock --for 30m >/dev/null
    h2 unlock --for 30m >/dev/null
    hyperfine -N -w 2 -r 10 --export-json "$T/idle.json" \
        "env HOME=$T/h1 COFFER_VAULT=$T/h1/v.db $COFFER team sync" >/dev/null
    ONE=SECRET_$(printf %06d $((N / 2)))
    hyperfine -N -r 10 --export-json "$T/push.json" \
        --prepare "sh -c 'head -c 24 /dev/urandom | base64 | env HOME=$T/h1 COFFER_VAULT=$T/h1/v.db $COFFER set $ONE --value-stdin >/dev/null'" \
        "env HOME=$T/h1 COFFER_VAULT=$T/h1/v.db $COFFER team sync" >/dev/null
    # One change pulled: each run takes the change the prepare step pushed from home 1.
    hyperfine -N -r 10 --export-json "$T/pull.json" \
        --prepare "sh -c 'head -c 24 /dev/urandom | base64 | env HOME=$T/h1 COFFER_VAULT=$T/h1/v.db $COFFER set $ONE --value-stdin >/dev/null && env HOME=$T/h1 COFFER_VAULT=$T/h1/v.db $COFFER team sync >/dev/null'" \
        "env HOME=$T/h2 COFFER_VAULT=$T/h2/v.db $COFFER team sync" >/dev/null
    # The whole comparison with the server (every record, every trail followed).
    hyperfine -N -w 1 -r 5 --export-json "$T/verify.json" \
        "env HOME=$T/h1 COFFER_VAULT=$T/h1/v.db $COFFER team verify" >/dev/null
    # The team's trail read back and checked: N `use` events of one run (one commit,
    # one signature at its end) and every event before them.
    h1 run -- true >/dev/null
    h1 team sync >/dev/null
    events=$(h1 --json team audit --limit 1 | python3 -c "import json,sys; print(json.load(sys.stdin)['checked'])")
    hyperfine -N -w 1 -r 5 --export-json "$T/audit.json" \
        "env HOME=$T/h2 COFFER_VAULT=$T/h2/v.db $COFFER team audit --limit 20" >/dev/null
    h1 lock >/dev/null; h2 lock >/dev/null
    printf '| %s | %s ms | %s ms | %s ms | %s ms | %s ms | %s ms (%s) |\n' "$N" "$create" "$(ms "$T/idle.json")" "$(ms "$T/push.json")" "$(ms "$T/pull.json")" "$(ms "$T/verify.json")" "$(ms "$T/audit.json")" "$events"
done

# The figures that need two clients at once (a change seen by a listening client, p50
# and p99; 1,000 offline edits replayed; a member added and removed among 500).
cargo build -q --release --example team_figures -p coffer-core --features coffer-core/team
target/release/examples/team_figures "${TEAM_ROUNDS:-200}"
