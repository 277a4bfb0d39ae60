#!/usr/bin/env bash
# Issue 4 figures, whole processes on the release binary:
#  1. `coffer run -- true` injecting 50 secrets with an unlocked session (`coffer unlock
#     --for`), median of 50 runs (target < 15 ms);
#  2. masking throughput: a 1 GiB stream (256 MiB of base64 text, 4 times) through
#     `coffer run` with 100 secrets injected, against plain `cat` (target >= 500 MB/s);
#  3. `coffer check` over 10,000 definition files of ~1 KB (target < 2 s).
# Usage: bash tests/bench/use.sh [path/to/coffer]   (default: target/release/coffer)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-target/release/coffer}
[ -x "$B" ] || cargo build --release --bin coffer
B=$(realpath "$B")
T=$(mktemp -d)
export XDG_RUNTIME_DIR=$T/run COFFER_VAULT=$T/v.db COFFER_MEMBER=bench
mkdir -m 700 "$XDG_RUNTIME_DIR"
trap '"$B" lock >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
COFFER_PASSPHRASE='bench pass phrase' "$B" init --owner bench >/dev/null
python3 - "$T" <<'PY'
import sys, secrets, os
t = sys.argv[1]
with open(f"{t}/fifty.env", "w") as f:
    for i in range(50):
        f.write(f"SECRET_{i:03}={secrets.token_urlsafe(24)}\n")
with open(f"{t}/more.env", "w") as f:
    for i in range(50, 100):
        f.write(f"SECRET_{i:03}={secrets.token_urlsafe(24)}\n")
PY
COFFER_PASSPHRASE='bench pass phrase' "$B" import "$T/fifty.env" >/dev/null
COFFER_PASSPHRASE='bench pass phrase' "$B" project create hundred >/dev/null
COFFER_PASSPHRASE='bench pass phrase' "$B" --project hundred import "$T/fifty.env" >/dev/null
COFFER_PASSPHRASE='bench pass phrase' "$B" --project hundred import "$T/more.env" >/dev/null
COFFER_PASSPHRASE='bench pass phrase' "$B" unlock --for 30m >/dev/null

echo "== coffer run -- true, 50 secrets, unlocked session"
python3 - "$B" <<'PY'
import statistics, subprocess, sys, time
b = sys.argv[1]
def times(cmd, n=50):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, check=True)
        out.append((time.perf_counter() - t) * 1000)
    return out
base = times(["true"])
run = times([b, "run", "--", "true"])
print(f"coffer run -- true: median {statistics.median(run):.1f} ms (min {min(run):.1f}, max {max(run):.1f}); "
      f"bare `true` {statistics.median(base):.1f} ms")
PY

echo "== masking: 1 GiB through coffer run with 100 secrets"
python3 - "$T/stream.txt" <<'PY'
import base64, os, sys
with open(sys.argv[1], "wb") as f:
    for _ in range(256):
        f.write(base64.encodebytes(os.urandom(768 * 1024)))
PY
S=$T/stream.txt
python3 - "$B" "$S" <<'PY'
import os, subprocess, sys, time
b, s = sys.argv[1], sys.argv[2]
size = os.path.getsize(s) * 4
def mbps(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return size / (time.perf_counter() - t) / 1e6
plain = max(mbps(["cat", s, s, s, s]) for _ in range(2))
masked = max(mbps([b, "--project", "hundred", "run", "--", "cat", s, s, s, s]) for _ in range(2))
print(f"{size / 2**30:.2f} GiB: through coffer run {masked:.0f} MB/s; plain cat {plain:.0f} MB/s")
PY

echo "== coffer check over 10,000 definition files"
python3 - "$T/defs" <<'PY'
import os, sys, random, secrets
root = sys.argv[1]
for i in range(10000):
    d = os.path.join(root, f"svc{i % 100:02}")
    os.makedirs(d, exist_ok=True)
    n = random.randrange(50)
    with open(os.path.join(d, f"flow{i:05}.yaml"), "w") as f:
        f.write(f"name: flow {i}\nsteps:\n")
        for k in range(8):
            f.write(f"  - fetch:\n      url: https://api.example.com/v1/items/{k}?page=2\n")
            f.write(f"      headers:\n        Authorization: \"Bearer {{{{ secrets.SECRET_{(n + k) % 50:03} }}}}\"\n")
        f.write("      retries: 3\n      timeout: 30s\n")
PY
python3 - "$B" "$T/defs" <<'PY'
import statistics, subprocess, sys, time
b, d = sys.argv[1], sys.argv[2]
runs = []
for _ in range(5):
    t = time.perf_counter()
    r = subprocess.run([b, "check", "--env", "development", d], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    runs.append(time.perf_counter() - t)
last = r.stdout.decode().strip().splitlines()[-1]
print(f"coffer check: median {statistics.median(runs):.2f} s over 5 runs ({last}; exit {r.returncode})")
PY
