#!/usr/bin/env bash
# Installs what building and testing Coffer needs on a Debian/Ubuntu machine.
# Idempotent: only missing packages are installed, so repeated runs cost nothing.
set -euo pipefail

packages=(build-essential pkg-config libdbus-1-dev dbus gnome-keyring sqlite3 python3)
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
if ! command -v cargo-nextest >/dev/null; then
  echo "installing cargo-nextest"
  cargo install cargo-nextest --locked --quiet
fi
