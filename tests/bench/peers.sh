#!/usr/bin/env bash
# Coffer side by side with the tools users would pick instead: age (one .age file per
# secret) and pass (one .gpg file per secret, a passphrase-less GPG key), at N secrets
# each (default 1,000 10,000 100,000; PEERS_N="1000 10000" to choose), timed in one
# hyperfine run per N so the machine's noise hits all three alike. Coffer runs with an
# unlocked session (`coffer unlock --for`), its store made by `import`.
#
# Five commands, each the same shape for the three tools:
#   read    age -d FILE · pass show NAME · coffer reveal NAME
#   inject  sh -c 'X=$(…read…) exec /bin/true' · coffer run --only NAME -- /bin/true
#   add     sh -c 'printf VALUE | …' into a new name (removed again before each run)
#   rotate  the same into an existing name
#   list    ls -1 STORE · pass ls · coffer ls
# The age and pass stores hold one ciphertext copied under N names: reading one file or
# listing them costs the same as with N different ones, and the store builds in seconds.
#
# Prints hyperfine's medians and the ratio Coffer/age for each command. Not run in CI
# (too slow for 2 cores). Usage: bash tests/bench/peers.sh [path/to/coffer]
set -euo pipefail
COFFER=$(realpath "${1:-target/release/coffer}")
[ -x "$COFFER" ] || { echo "build it first: cargo build --release --bin coffer" >&2; exit 2; }
missing=()
for tool in age pass hyperfine gpg jq; do command -v $tool >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
    pkgs=${missing[*]}; pkgs=${pkgs//gpg/gnupg}
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get install -y --no-install-recommends $pkgs
fi
RUNS=${RUNS:-30}
T=$(mktemp -d)
export HOME=$T/home GNUPGHOME=$T/gnupg PASSWORD_STORE_DIR=$T/pass XDG_RUNTIME_DIR=$T/run \
    COFFER_VAULT=$T/coffer/vault.db COFFER_MEMBER=bench
mkdir -p "$HOME" "$GNUPGHOME" "$XDG_RUNTIME_DIR" "$T/coffer" && chmod 700 "$GNUPGHOME" "$XDG_RUNTIME_DIR"
trap '"$COFFER" lock >/dev/null 2>&1 || true; gpgconf --kill gpg-agent 2>/dev/null || true; rm -rf "$T"' EXIT

gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key bench@coffer.invalid ed25519 cert,sign never 2>/dev/null
FPR=$(gpg --list-keys --with-colons bench@coffer.invalid | awk -F: '/^fpr/{print $10; exit}')
gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-add-key "$FPR" cv25519 encr never 2>/dev/null
pass init "$FPR" >/dev/null
age-keygen -o "$T/age.key" 2>/dev/null
AGE_R=$(age-keygen -y "$T/age.key")
VALUE=one-value-of-32-characters-abcde

printf '| N | command | age | pass | Coffer | Coffer/age |\n|---|---|---|---|---|---|\n' > "$T/table.md"
for N in ${PEERS_N:-1000 10000 100000}; do
    rm -rf "$T/age" "$PASSWORD_STORE_DIR"/secret_* "$T/coffer"/* && mkdir -p "$T/age" "$T/coffer"
    printf %s "$VALUE" | age -r "$AGE_R" -o "$T/one.age"
    printf '%s\n' "$VALUE" | gpg --batch --quiet --yes -e -r "$FPR" -o "$T/one.gpg"
    python3 - "$N" "$T" <<'PY'
import os, secrets, shutil, sys
n, t = int(sys.argv[1]), sys.argv[2]
store = os.environ["PASSWORD_STORE_DIR"]
with open(f"{t}/values.env", "w") as env:
    for i in range(n):
        name = f"SECRET_{i:06}"
        shutil.copyfile(f"{t}/one.age", f"{t}/age/{name}.age")
        shutil.copyfile(f"{t}/one.gpg", f"{store}/{name}.gpg")
        env.write(f"{name}={secrets.token_urlsafe(24)}\n")
PY
    "$COFFER" lock >/dev/null 2>&1 || true
    COFFER_PASSPHRASE='bench pass phrase' "$COFFER" init --owner bench --no-recovery-key >/dev/null
    "$COFFER" snapshots --keep-daily 0 --keep-weekly 0 >/dev/null
    COFFER_PASSPHRASE='bench pass phrase' "$COFFER" import "$T/values.env" --env development >/dev/null
    COFFER_PASSPHRASE='bench pass phrase' "$COFFER" unlock --for 60m >/dev/null
    ONE=SECRET_$(printf %06d $((N / 2)))
    C="$COFFER"
    # name, what to run untimed before each run, the command.
    cases=(
        "age read" true "age -d -i $T/age.key $T/age/$ONE.age"
        "pass read" true "pass show $ONE"
        "coffer read" true "$C reveal $ONE --env development"
        "age inject" true "sh -c 'X=\$(age -d -i $T/age.key $T/age/$ONE.age) exec /bin/true'"
        "pass inject" true "sh -c 'X=\$(pass show $ONE) exec /bin/true'"
        "coffer inject" true "$C run --env development --only $ONE -- /bin/true"
        "age add" "rm -f $T/age/NEW.age" "sh -c 'printf %s $VALUE | age -r $AGE_R -o $T/age/NEW.age'"
        "pass add" "rm -f $PASSWORD_STORE_DIR/NEW.gpg" "sh -c 'printf %s $VALUE | pass insert -e NEW'"
        "coffer add" "sh -c '$C rm NEW >/dev/null 2>&1; $C purge NEW >/dev/null 2>&1; true'" "sh -c 'printf %s $VALUE | $C set NEW --env development --value-stdin'"
        "age rotate" true "sh -c 'printf %s $VALUE | age -r $AGE_R -o $T/age/$ONE.age'"
        "pass rotate" true "sh -c 'printf %s $VALUE | pass insert -f -e $ONE'"
        "coffer rotate" true "sh -c 'printf %s $VALUE | $C set $ONE --env development --value-stdin'"
        "age list" true "ls -1 $T/age"
        "pass list" true "pass ls"
        "coffer list" true "$C ls --env development"
    )
    args=()
    for ((i = 0; i < ${#cases[@]}; i += 3)); do
        args+=(-n "${cases[i]}" --prepare "${cases[i + 1]}" "${cases[i + 2]}")
    done
    hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$T/n$N.json" "${args[@]}" >/dev/null
    jq -r --arg n "$N" '
        [.results[] | {key: .command, value: (.median * 1000)}] | from_entries as $m
        | ["read", "inject", "add", "rotate", "list"][]
        | . as $c
        | "| \($n) | \($c) | \($m["age " + $c] | . * 10 | round / 10) ms | \($m["pass " + $c] | . * 10 | round / 10) ms | \($m["coffer " + $c] | . * 10 | round / 10) ms | \($m["coffer " + $c] / $m["age " + $c] | . * 100 | round / 100) |"
    ' "$T/n$N.json" >> "$T/table.md"
done
cat "$T/table.md"
