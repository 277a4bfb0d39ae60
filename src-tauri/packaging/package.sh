#!/usr/bin/env bash
# `npm run package`: the Debian package of Coffer (the desktop app and the `coffer`
# command line), built in release mode:
#
#   target/release/bundle/deb/Coffer_<version>_amd64.deb
#
# With TAURI_SIGNING_PRIVATE_KEY set (and TAURI_SIGNING_PRIVATE_KEY_PASSWORD if the key
# has one) it also signs the package for the updater and writes the manifest to publish
# at the update endpoint:
#
#   target/release/bundle/deb/Coffer_<version>_amd64.deb.sig
#   target/release/bundle/deb/latest.json     (the .deb's URL from COFFER_DOWNLOAD_URL)
#
# Without the key the package is built unsigned: installing it by hand works, offering
# it as an update does not.
#
#   DEBUG=1 npm run package   package the debug build instead (what CI checks)
set -euo pipefail
cd "$(dirname "$0")/../.."

profile=release
flags=()
if [ -n "${DEBUG:-}" ]; then
  profile=debug
  flags+=(--debug)
fi
root="$(pwd)"
version="$(node -p 'require("./package.json").version')"
deb_dir="$root/target/$profile/bundle/deb"

# The CLI rides along in /usr/bin: the app and `coffer` share the same vault. Updater
# artifacts need the private key, so they are asked for only when it is there.
signed="${TAURI_SIGNING_PRIVATE_KEY:+1}"

# Shell completions and manual pages, generated from the CLI's own grammar (so they
# cannot drift from it); man pages gzipped without a timestamp, as Debian wants.
share="$root/target/$profile/share"
build_share() {
  local cli="$root/target/$profile/coffer"
  rm -rf "$share" && mkdir -p "$share/completions" "$share/man1"
  "$cli" completions bash >"$share/completions/coffer.bash"
  "$cli" completions zsh >"$share/completions/_coffer"
  "$cli" completions fish >"$share/completions/coffer.fish"
  "$cli" man --out "$share/man1"
  gzip -9n "$share"/man1/*.1
}
config() {
  node -e '
    const [cli, share, signed] = process.argv.slice(1);
    const files = {
      "/usr/bin/coffer": cli,
      "/usr/share/bash-completion/completions/coffer": `${share}/completions/coffer.bash`,
      "/usr/share/zsh/vendor-completions/_coffer": `${share}/completions/_coffer`,
      "/usr/share/fish/vendor_completions.d/coffer.fish": `${share}/completions/coffer.fish`,
      "/usr/share/man/man1": `${share}/man1`,
    };
    const bundle = { linux: { deb: { files } } };
    if (signed) bundle.createUpdaterArtifacts = true;
    console.log(JSON.stringify({ bundle }));
  ' "$root/target/$profile/coffer" "$share" "$signed"
}

start=$(date +%s)
if [ -z "${SKIP_BUILD:-}" ]; then
  echo "== building the $profile app and CLI"
  release=()
  [ "$profile" = release ] && release=(--release)
  cargo build --locked --bin coffer "${release[@]}"
  build_share
  CI=true npx --no-install tauri build "${flags[@]}" --bundles deb --config "$(config)"
else
  # Package what is already built (CI reuses the debug app of tests/app/run.sh).
  build_share
  CI=true npx --no-install tauri bundle "${flags[@]}" --bundles deb --config "$(config)"
fi

deb="$deb_dir/Coffer_${version}_amd64.deb"
[ -f "$deb" ] || { echo "error: $deb was not built" >&2; exit 1; }
if [ -n "$signed" ]; then
  sig="$deb.sig"
  [ -f "$sig" ] || { echo "error: $sig was not written" >&2; exit 1; }
  url="${COFFER_DOWNLOAD_URL:-https://example.invalid/coffer/releases/Coffer_${version}_amd64.deb}"
  node -e '
    const [version, url, sig, out] = process.argv.slice(1);
    const signature = require("fs").readFileSync(sig, "utf8").trim();
    const entry = { url, signature };
    const manifest = {
      version,
      pub_date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      platforms: { "linux-x86_64-deb": entry, "linux-x86_64": entry },
    };
    require("fs").writeFileSync(out, JSON.stringify(manifest, null, 2) + "\n");
  ' "$version" "$url" "$sig" "$deb_dir/latest.json"
  echo "signed: $sig"
  echo "manifest: $deb_dir/latest.json (publish it at the update endpoint)"
fi
echo "package: $deb ($(du -h "$deb" | cut -f1), $(($(date +%s) - start)) s)"
