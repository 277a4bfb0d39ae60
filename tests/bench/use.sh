#!/usr/bin/env bash
# Issue 4 figures, whole processes on the release binary:
#  1. `coffer run -- true` injecting 50 secrets with an unlocked session (`coffer unlock
#     --for`), median of 50 runs (target < 15 ms);
#  2. masking throughput: 256 MiB of `base64 -w 76` text of random bytes (the worst
#     realistic output), twice, through `coffer run -- cat` with 100 and 1,000 random
#     40-character secrets and with 100 secrets plus a 1.7 KB PEM key, against plain
#     `cat` in the same run (targets: 1 GB/s, 500 MB/s, 500 MB/s);
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

echo "== masking: 2 x 256 MiB of base64 -w 76 text through coffer run -- cat"
python3 - "$T" <<'PY'
import base64, os, secrets, string, sys
t = sys.argv[1]
alnum = string.ascii_letters + string.digits
for name, n in (("m100", 100), ("m1000", 1000)):
    with open(f"{t}/{name}.env", "w") as f:
        for i in range(n):
            f.write(f"MASK_{i:04}={''.join(secrets.choice(alnum) for _ in range(40))}\n")
body = base64.b64encode(os.urandom(1218)).decode()
lines = [body[i:i + 64] for i in range(0, len(body), 64)]
with open(f"{t}/key.pem", "w") as f:
    f.write("-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n")
PY
for p in m100 m1000 pem; do
  COFFER_PASSPHRASE='bench pass phrase' "$B" project create "$p" >/dev/null
done
COFFER_PASSPHRASE='bench pass phrase' "$B" --project m100 import "$T/m100.env" >/dev/null
COFFER_PASSPHRASE='bench pass phrase' "$B" --project m1000 import "$T/m1000.env" >/dev/null
COFFER_PASSPHRASE='bench pass phrase' "$B" --project pem import "$T/m100.env" >/dev/null
COFFER_PASSPHRASE='bench pass phrase' "$B" --project pem set tls-key --type multiline \
  --value-stdin <"$T/key.pem" >/dev/null
S=$T/stream.txt
head -c $((192 << 20)) /dev/urandom | base64 -w 76 >"$S"
python3 - "$B" "$S" <<'PY'
import os, subprocess, sys, time
b, s = sys.argv[1], sys.argv[2]
size = os.path.getsize(s) * 2
def mbps(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return size / (time.perf_counter() - t) / 1e6
plain = max(mbps(["cat", s, s]) for _ in range(3))
piped = max(mbps(["sh", "-c", f"cat '{s}' '{s}' | cat"]) for _ in range(3))
print(f"plain cat: {plain:.0f} MB/s; cat | cat (one pipe, the floor for any wrapper): {piped:.0f} MB/s")
for project, label in (("m100", "100 secrets"), ("m1000", "1,000 secrets"),
                       ("pem", "100 secrets + a 1.7 KB PEM key")):
    masked = max(mbps([b, "--project", project, "run", "--", "cat", s, s]) for _ in range(3))
    print(f"coffer run -- cat, {label}: {masked:.0f} MB/s ({masked / plain:.2f} x cat)")
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
