#!/usr/bin/env bash
# Starts the built app; under no display (a server, CI) it runs inside Xvfb.
set -euo pipefail
app="$(cd "$(dirname "$0")/.." && pwd)/target/release/coffer-app"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$app"
fi
echo "no display found: starting Coffer inside Xvfb (screen :99)"
exec xvfb-run -a -s "-screen 0 1280x800x24" "$app"
