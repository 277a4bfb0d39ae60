#!/usr/bin/env bash
# Whole processes before and after keys enforced roles, side by side in one hyperfine
# run with age: 10,000 secrets, an unlocked session (`coffer unlock --for`) for each
# build, `hyperfine -N` (no shell). Prints hyperfine's table; compare medians as ratios.
# Usage: bash tests/bench/keys.sh OLD_COFFER NEW_COFFER
set -euo pipefail
OLD=$(realpath "$1") NEW=$(realpath "$2")
command -v hyperfine >/dev/null && command -v age >/dev/null && command -v age-keygen >/dev/null || {
    echo "needs hyperfine and age (apt-get install hyperfine age)" >&2; exit 2; }
T=$(mktemp -d)
trap 'for b in old new; do XDG_RUNTIME_DIR=$T/$b/run COFFER_VAULT=$T/$b/v.db COFFER_MEMBER=bench "$T/$b/coffer" lock >/dev/null 2>&1 || true; done; rm -rf "$T"' EXIT
python3 - "$T/values.env" <<'PY'
import secrets, sys
with open(sys.argv[1], "w") as f:
    for i in range(10_000):
        f.write(f"SECRET_{i:05}={secrets.token_urlsafe(24)}\n")
PY
for b in old new; do
    mkdir -p "$T/$b/run" && chmod 700 "$T/$b/run"
    cp "$([ $b = old ] && echo "$OLD" || echo "$NEW")" "$T/$b/coffer"
    env XDG_RUNTIME_DIR="$T/$b/run" COFFER_VAULT="$T/$b/v.db" COFFER_MEMBER=bench \
        COFFER_PASSPHRASE='bench pass phrase' sh -c '
        "$0" init --owner bench >/dev/null
        "$0" import "$1" --env development >/dev/null
        "$0" unlock --for 30m >/dev/null' "$T/$b/coffer" "$T/values.env"
done
age-keygen -o "$T/age.key" 2>/dev/null
printf 'one value of 32 characters......' | age -r "$(age-keygen -y "$T/age.key")" -o "$T/value.age"
cmd() { echo "env XDG_RUNTIME_DIR=$T/$1/run COFFER_VAULT=$T/$1/v.db COFFER_MEMBER=bench $T/$1/coffer ${*:2}"; }
hyperfine -N --warmup 5 --runs ${RUNS:-40} --export-markdown "${OUT:-/dev/stdout}" \
    -n "age -d" "age -d -i $T/age.key $T/value.age" \
    -n "reveal (before)" "$(cmd old reveal SECRET_05000 --env development)" \
    -n "reveal (now)" "$(cmd new reveal SECRET_05000 --env development)" \
    -n "run --only (before)" "$(cmd old run --env development --only SECRET_05000 -- /bin/true)" \
    -n "run --only (now)" "$(cmd new run --env development --only SECRET_05000 -- /bin/true)" \
    -n "set --generate (before)" "$(cmd old set SECRET_00001 --env development --generate)" \
    -n "set --generate (now)" "$(cmd new set SECRET_00001 --env development --generate)" \
    -n "ls (before)" "$(cmd old ls --env development)" \
    -n "ls (now)" "$(cmd new ls --env development)"
