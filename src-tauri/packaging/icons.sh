#!/usr/bin/env bash
# Regenerates every application icon from the one source image, icons/source.png
# (square, at least 512 px, transparent background): `npm run icons`.
#
# `tauri icon` writes the desktop set Tauri bundles (32, 64, 128, 128@2x, 512 px PNGs,
# .ico, .icns) plus Windows Store, Android and iOS sets Coffer does not ship; only the
# desktop set is kept, with a plain 256 px PNG for the freedesktop hicolor theme.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
quiet() { "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }; }
quiet npx --no-install tauri icon icons/source.png -o "$tmp/all"
quiet npx --no-install tauri icon icons/source.png -o "$tmp/extra" -p 256
for f in 32x32.png 64x64.png 128x128.png 128x128@2x.png icon.png icon.ico icon.icns; do
  cp "$tmp/all/$f" "icons/$f"
done
cp "$tmp/extra/256x256.png" icons/256x256.png
echo "icons/ regenerated from icons/source.png"
