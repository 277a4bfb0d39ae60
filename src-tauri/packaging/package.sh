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
# cannot drift from it), the app's page, the copyright and a changelog: what Debian's
# policy (and lintian) asks of a package. Man pages and the changelog are gzipped
# without a timestamp.
share="$root/target/$profile/share"
build_share() {
  local cli="$root/target/$profile/coffer"
  rm -rf "$share" && mkdir -p "$share/completions" "$share/man1" "$share/doc"
  "$cli" completions bash >"$share/completions/coffer.bash"
  "$cli" completions zsh >"$share/completions/_coffer"
  "$cli" completions fish >"$share/completions/coffer.fish"
  "$cli" man --out "$share/man1"
  cp src-tauri/packaging/coffer-app.1 "$share/man1/"
  gzip -9n "$share"/man1/*.1
  cp src-tauri/packaging/copyright "$share/doc/copyright"
  # A native package's changelog, one entry for this version, dated by its commit.
  local date maintainer
  date="$(git log -1 --format=%aD 2>/dev/null || date -R)"
  maintainer="The Coffer maintainers <maintainers@example.invalid>"
  printf 'coffer (%s) unstable; urgency=medium\n\n  * Release %s: see README.md for what it does.\n\n -- %s  %s\n' \
    "$version" "$version" "$maintainer" "$date" | gzip -9n >"$share/doc/changelog.gz"
}
# The C library the two binaries were linked against, at the newest symbol version
# they use (the bundler lists the GTK and WebKit libraries, not libc).
libc_depends() {
  local v
  v="$(objdump -T "$root/target/$profile/coffer" "$root/target/$profile/coffer-app" 2>/dev/null |
    grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)"
  echo "libc6 (>= ${v:-2.34})"
}
config() {
  node -e '
    const [cli, share, signed, libc] = process.argv.slice(1);
    const files = {
      "/usr/bin/coffer": cli,
      "/usr/share/bash-completion/completions/coffer": `${share}/completions/coffer.bash`,
      "/usr/share/zsh/vendor-completions/_coffer": `${share}/completions/_coffer`,
      "/usr/share/fish/vendor_completions.d/coffer.fish": `${share}/completions/coffer.fish`,
      "/usr/share/man/man1": `${share}/man1`,
      "/usr/share/doc/coffer": `${share}/doc`,
    };
    const bundle = { linux: { deb: { files, depends: [libc] } } };
    if (signed) bundle.createUpdaterArtifacts = true;
    console.log(JSON.stringify({ bundle }));
  ' "$root/target/$profile/coffer" "$share" "$signed" "$(libc_depends)"
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
