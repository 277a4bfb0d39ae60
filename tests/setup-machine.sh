#!/usr/bin/env bash
# Installs what building, running and testing Coffer needs on a Debian/Ubuntu machine:
# system packages (build tools, WebKitGTK for the app, Xvfb and WebKitWebDriver for
# its end-to-end tests (xclip reads the clipboard the app sets), D-Bus and gnome-keyring for the OS keyring,
# PostgreSQL 15 and openssl for the team vault's server tests), the npm packages,
# and the cargo tools. Idempotent: only what is missing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential pkg-config libdbus-1-dev libwebkit2gtk-4.1-dev
  dbus dbus-x11 gnome-keyring sqlite3 python3 jq
  xvfb xauth webkit2gtk-driver imagemagick x11-utils xclip desktop-file-utils lintian
  postgresql-15 openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing system packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "error: Rust (cargo) is required: https://rustup.rs" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: Node.js 20+ with npm is required" >&2; exit 1; }
if ! command -v cargo-nextest >/dev/null; then
  echo "installing cargo-nextest"
  cargo install cargo-nextest --locked --quiet
fi
if ! command -v tauri-driver >/dev/null; then
  echo "installing tauri-driver"
  cargo install tauri-driver --version 2.1.0 --locked --quiet
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# A plain user for the tests that need /proc and file permissions to mean something
# (root bypasses them).
if [ "$(id -u)" = 0 ] && ! id coffer-test >/dev/null 2>&1; then
  useradd --no-create-home --shell /usr/sbin/nologin coffer-test
fi
