#!/usr/bin/env bash
# Times whole `coffer` processes on a vault of 10,000 secrets x 3 environments:
# `coffer ls` (unlock + list), `coffer reveal`, and `coffer set`, each the median of
# 15 runs. Compare with the unlock bench (cargo bench -p coffer-core --bench vault --
# unlock) to see that a process is dominated by the Argon2id unlock.
# Usage: bash tests/bench/cli.sh [path/to/coffer]   (default: target/release/coffer)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-target/release/coffer}
[ -x "$B" ] || cargo build --release --bin coffer
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export COFFER_VAULT=$T/v.db COFFER_MEMBER=bench COFFER_PASSPHRASE='bench pass phrase'
"$B" init --owner bench >/dev/null
python3 - "$T/seed.env" <<'PY'
import sys, secrets
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        f.write(f"SECRET_{i:05}={secrets.token_urlsafe(24)}\n")
PY
for env in development staging production; do "$B" import "$T/seed.env" --env "$env" >/dev/null; done
median() {
  python3 - "$@" <<'PY'
import statistics, subprocess, sys, time
cmd = sys.argv[1:]
runs = []
for _ in range(15):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, check=True)
    runs.append((time.perf_counter() - t) * 1000)
print(f"median {statistics.median(runs):7.1f} ms  (min {min(runs):.1f}, max {max(runs):.1f})  {' '.join(cmd[1:])}")
PY
}
median "$B" ls
median "$B" ls --json
median "$B" reveal SECRET_04242
median "$B" role list
printf 'rotated-value-123' > "$T/v"
median sh -c "\"$B\" set SECRET_00042 --value-stdin < \"$T/v\""
