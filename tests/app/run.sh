#!/usr/bin/env bash
# The real desktop app end to end: builds the self-contained debug app, starts
# tauri-driver (WebKitWebDriver underneath) inside Xvfb with a fresh temporary vault,
# and runs tests/app/e2e.test.mjs with node's test runner. Every process started here
# runs in one process group, which is ended on exit, whatever happened.
#
#   bash tests/app/run.sh            build, then test
#   SKIP_BUILD=1 bash tests/app/run.sh   reuse target/debug/coffer-app as it is
#   E2E_TEST=tests/app/bench.mjs COFFER_APP_BIN=... SKIP_BUILD=1 bash tests/app/run.sh
#                                        run another script (the benchmark) the same way
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
port="${TAURI_DRIVER_PORT:-4444}"

if [ -z "${SKIP_BUILD:-}" ]; then
  echo "== building the app (debug, front end embedded) and the CLI"
  start=$(date +%s)
  CI=true npx --no-install tauri build --debug --no-bundle
  cargo build --bin coffer --quiet
  echo "   built in $(($(date +%s) - start)) s"
fi

app="${COFFER_APP_BIN:-$root/target/debug/coffer-app}"
cli="${COFFER_CLI_BIN:-$root/target/debug/coffer}"
[ -x "$app" ] || { echo "error: $app is missing; build it first" >&2; exit 1; }
[ -x "$cli" ] || { echo "error: $cli is missing; build it first" >&2; exit 1; }

driver="$(command -v tauri-driver || true)"
[ -n "$driver" ] || driver="$HOME/.cargo/bin/tauri-driver"
[ -x "$driver" ] || { echo "error: tauri-driver not found (cargo install tauri-driver --version 2.1.0 --locked)" >&2; exit 1; }
command -v WebKitWebDriver >/dev/null || { echo "error: WebKitWebDriver not found (apt install webkit2gtk-driver)" >&2; exit 1; }
command -v xvfb-run >/dev/null || { echo "error: xvfb-run not found (apt install xvfb xauth)" >&2; exit 1; }

for p in "$port" "$((port + 1))"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "error: port $p is already in use (another tauri-driver?); set TAURI_DRIVER_PORT" >&2
    exit 1
  fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/coffer-e2e.XXXXXX")"
mkdir -p "$work/home"
group=""
cleanup() {
  local status=$?
  if [ -n "$group" ]; then
    kill -TERM -- "-$group" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 -- "-$group" 2>/dev/null || break
      sleep 0.3
    done
    kill -KILL -- "-$group" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -s "$work/driver.log" ]; then
    echo "---- tauri-driver log (last 40 lines)"
    tail -n 40 "$work/driver.log"
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM

export COFFER_VAULT="$work/vault.db"
# What this machine saw of each vault's audit trail (its anchors) goes under a fresh
# state directory that the app and the CLI the test runs share, as on one real machine;
# never the user's own.
export XDG_STATE_HOME="$work/state"
mkdir -p "$XDG_STATE_HOME"
echo "== starting tauri-driver on 127.0.0.1:$port under Xvfb (vault $COFFER_VAULT)"
# setsid: the driver, Xvfb, WebKitWebDriver and the app share one new process group,
# ended as a whole by cleanup. A private HOME keeps WebKit's storage and any keyring
# away from the user's own.
# The display and its cookie are written down for the test, which reads the clipboard
# the app sets (xclip) on the same display.
HOME="$work/home" setsid xvfb-run -a -s "-screen 0 1280x800x24" \
  bash -c 'printf "%s\n%s\n" "$DISPLAY" "$XAUTHORITY" >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$work/x11" \
  "$driver" --port "$port" --native-port "$((port + 1))" >"$work/driver.log" 2>&1 &
group=$!

for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$group" 2>/dev/null || { echo "error: tauri-driver exited" >&2; cat "$work/driver.log" >&2; exit 1; }
  sleep 0.1
done

for _ in $(seq 1 50); do [ -s "$work/x11" ] && break; sleep 0.1; done
[ -s "$work/x11" ] || { echo "error: Xvfb did not say which display it runs" >&2; exit 1; }
{ read -r e2e_display; read -r e2e_xauthority; } <"$work/x11"

echo "== end-to-end scenario"
COFFER_E2E_DISPLAY="$e2e_display" COFFER_E2E_XAUTHORITY="$e2e_xauthority" COFFER_APP="$app" COFFER_CLI="$cli" TAURI_DRIVER_PORT="$port" \
  COFFER_SCREENSHOTS="$root/docs/screenshots" COFFER_E2E_FAILURES="$root/target/e2e-failures" \
  node --test --test-reporter=spec --test-concurrency=1 "${E2E_TEST:-tests/app/e2e.test.mjs}"
