#!/usr/bin/env bash
# The Debian package, inspected: builds it from the debug app (what CI already built
# for the end-to-end tests; `tauri bundle` only packages it, in about 2 s) and checks
# its control fields against package.json, its files (app, CLI, desktop entry, icons),
# the desktop entry with desktop-file-validate, that apt can satisfy its dependencies
# here, and that the packaged app starts and opens its window.
#
#   bash tests/package/check.sh              build the debug app and the CLI, then check
#   SKIP_BUILD=1 bash tests/package/check.sh package target/debug as it is (CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"

fail() {
  echo "error: $*" >&2
  exit 1
}

start=$(date +%s)
DEBUG=1 bash src-tauri/packaging/package.sh >"$root/target/package-check.log" 2>&1 ||
  { cat "$root/target/package-check.log" >&2; fail "packaging failed"; }
version="$(node -p 'require("./package.json").version')"
description="$(node -p 'require("./package.json").description')"
deb="$root/target/debug/bundle/deb/Coffer_${version}_amd64.deb"
[ -f "$deb" ] || fail "$deb is missing"
echo "   packaged in $(($(date +%s) - start)) s: $(basename "$deb") ($(du -h "$deb" | cut -f1))"

work="$(mktemp -d "${TMPDIR:-/tmp}/coffer-deb.XXXXXX")"
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill -TERM -- "-$app_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== control fields"
field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = coffer ] || fail "Package is '$(field Package)', not coffer"
[ "$(field Version)" = "$version" ] || fail "Version $(field Version) is not package.json's $version"
[ "$(field Architecture)" = amd64 ] || fail "Architecture is $(field Architecture)"
[ "$(field Description | head -n1)" = "$description" ] ||
  fail "Description '$(field Description | head -n1)' is not package.json's '$description'"
field Depends | grep -q 'libwebkit2gtk-4.1-0' || fail "Depends lacks libwebkit2gtk-4.1-0: $(field Depends)"
field Maintainer | grep -q '<.*@.*>' || fail "Maintainer has no address: $(field Maintainer)"

echo "== files"
dpkg-deb --extract "$deb" "$work/root"
for f in usr/bin/coffer-app usr/bin/coffer usr/share/applications/Coffer.desktop; do
  [ -e "$work/root/$f" ] || fail "the package lacks /$f"
done
[ -x "$work/root/usr/bin/coffer-app" ] || fail "/usr/bin/coffer-app is not executable"
for f in usr/share/bash-completion/completions/coffer usr/share/zsh/vendor-completions/_coffer \
  usr/share/fish/vendor_completions.d/coffer.fish usr/share/man/man1/coffer.1.gz \
  usr/share/man/man1/coffer-run.1.gz usr/share/man/man1/coffer-audit-verify.1.gz; do
  [ -s "$work/root/$f" ] || fail "the package lacks /$f"
done
bash -n "$work/root/usr/share/bash-completion/completions/coffer" || fail "the bash completion does not parse"
zcat "$work/root/usr/share/man/man1/coffer.1.gz" | grep -q '^\.TH' || fail "coffer.1 is not a manual page"
"$work/root/usr/bin/coffer" --version >/dev/null || fail "the packaged CLI does not run"
for size in 32x32 64x64 128x128 256x256 512x512; do
  icon="$work/root/usr/share/icons/hicolor/$size/apps/coffer-app.png"
  [ -f "$icon" ] || fail "no $size icon"
  actual="$(identify -format '%wx%h' "$icon")"
  [ "$actual" = "$size" ] || fail "the $size icon is $actual"
done

echo "== lintian"
# Zero errors and zero warnings. The one tag suppressed: CI packages the debug build
# (the one its end-to-end tests already built), whose binaries keep their symbols on
# purpose; release builds are stripped (Cargo.toml, profile.release.strip).
suppress=()
[ "$(basename "$(dirname "$(dirname "$(dirname "$deb")")")")" = debug ] &&
  suppress=(--suppress-tags unstripped-binary-or-object)
lint="$(lintian --tag-display-limit 0 --fail-on error,warning "${suppress[@]}" "$deb" 2>&1 |
  grep -v 'running with root privileges' || true)"
if [ -n "$lint" ]; then
  echo "$lint" >&2
  fail "lintian has findings"
fi

echo "== desktop entry"
entry="$work/root/usr/share/applications/Coffer.desktop"
desktop-file-validate --no-hints "$entry" || fail "desktop-file-validate refused $entry"
value() { sed -n "s/^$1=//p" "$entry"; }
[ "$(value Name)" = Coffer ] || fail "Name=$(value Name)"
[ "$(value Comment)" = "$description" ] || fail "Comment=$(value Comment)"
[ "$(value Categories)" = "Utility;Security;" ] || fail "Categories=$(value Categories)"
[ "$(value Type)" = Application ] || fail "Type=$(value Type)"
[ -x "$work/root/usr/bin/$(value Exec)" ] || fail "Exec=$(value Exec) is not in /usr/bin"
[ -f "$work/root/usr/share/icons/hicolor/128x128/apps/$(value Icon).png" ] || fail "Icon=$(value Icon) has no icon file"

echo "== dependencies (apt-get --simulate)"
if compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then
  apt-get install --simulate -qq "$deb" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; fail "apt cannot install the package here"; }
else
  echo "   skipped: no apt package lists (run apt-get update)"
fi

echo "== the packaged app starts and opens its window"
# Its own process group, private HOME and vault; ended by cleanup.
mkdir -p "$work/home"
HOME="$work/home" COFFER_VAULT="$work/vault.db" setsid xvfb-run -a -s "-screen 0 1280x800x24" \
  sh -c '"$1" & app=$!; for _ in $(seq 1 60); do
           xwininfo -root -tree 2>/dev/null | grep -q "\"Coffer\": (\"coffer-app\"" && { echo window; break; }
           kill -0 "$app" 2>/dev/null || { echo exited; break; }
           sleep 0.25
         done; sleep 1; kill -0 "$app" 2>/dev/null && echo alive; kill "$app" 2>/dev/null' \
  sh "$work/root/usr/bin/coffer-app" >"$work/launch.log" 2>&1 &
app_pid=$!
wait "$app_pid" || true
app_pid=""
grep -qx window "$work/launch.log" || { cat "$work/launch.log" >&2; fail "no Coffer window appeared"; }
grep -qx alive "$work/launch.log" || { cat "$work/launch.log" >&2; fail "the app exited after opening its window"; }
echo "   ok: the package checks out in $(($(date +%s) - start)) s"
