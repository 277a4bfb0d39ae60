#!/usr/bin/env bash
# What `npm start` shows until the desktop app lands: the CLI, ready to use.
set -euo pipefail
bin="$(cd "$(dirname "$0")/.." && pwd)/target/release/coffer"
"$bin" --help
cat <<TXT

The coffer binary is at: $bin
Try it:
  export COFFER_VAULT=\$HOME/coffer-demo.db COFFER_MEMBER=me
  $bin init --owner me                      # asks for a passphrase
  printf 'sk_live_123' | $bin set PAYMENTS_API_KEY --value-stdin --description "Payment processor"
  $bin ls
TXT
