//! "Remember on this device" against the real Secret Service: a private D-Bus session
//! with gnome-keyring-daemon in a temporary HOME, as on a desktop.

use std::process::{Command, Stdio};

use super::support::coffer_bin;

const PASS: &str = "owner pass phrase 1";

fn in_keyring_session(
    home: &std::path::Path,
    vault: &std::path::Path,
    script: &str,
) -> std::process::Output {
    let wrapped = format!(
        "printf '\\n' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; {script}"
    );
    Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &wrapped])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("COFFER_BIN", coffer_bin())
        .env("COFFER_VAULT", vault)
        .env("COFFER_MEMBER", "alice")
        .env("PASS", PASS)
        .stdin(Stdio::null())
        .output()
        .expect("dbus-run-session runs (tests/setup-machine.sh installs dbus and gnome-keyring)")
}

#[test]
fn remembered_device_unlocks_without_a_passphrase_and_forget_revokes_it() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault.db");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = in_keyring_session(
        &home,
        &vault,
        r#"set -e
COFFER_PASSPHRASE="$PASS" "$COFFER_BIN" init --owner alice >/dev/null
printf 'keyring-held-value-7d1e' | COFFER_PASSPHRASE="$PASS" "$COFFER_BIN" set K --value-stdin >/dev/null
COFFER_PASSPHRASE="$PASS" "$COFFER_BIN" device remember >/dev/null
echo "reveal:$("$COFFER_BIN" reveal K)"
"$COFFER_BIN" device status
"$COFFER_BIN" device forget >/dev/null
set +e
"$COFFER_BIN" ls >/dev/null 2>&1
echo "after-forget:$?"
"#,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains("reveal:keyring-held-value-7d1e"),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("remembered on this device"), "{stdout}");
    assert!(stdout.contains("after-forget:6"), "{stdout}");
    // The device key lives in the keyring, not in the vault.
    let raw = std::fs::read(&vault).unwrap();
    assert!(!raw.windows(23).any(|w| w == b"keyring-held-value-7d1e"));
}

#[test]
fn without_a_keyring_service_the_cli_says_so_in_one_line_and_asks_for_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault.db");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = in_keyring_session(
        &home,
        &vault,
        r#"COFFER_PASSPHRASE="$PASS" "$COFFER_BIN" init --owner alice >/dev/null && COFFER_PASSPHRASE="$PASS" "$COFFER_BIN" device remember >/dev/null"#,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Outside the session no bus answers: one note, then the passphrase path.
    let run = |pass: Option<&str>| {
        let mut c = Command::new(coffer_bin());
        c.args(["ls"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("COFFER_VAULT", &vault)
            .env("COFFER_MEMBER", "alice")
            .stdin(Stdio::null());
        if let Some(p) = pass {
            c.env("COFFER_PASSPHRASE", p);
        }
        c.output().unwrap()
    };
    let out = run(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    let notes: Vec<&str> = stderr.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(notes.len(), 1, "{stderr}");
    assert!(
        notes[0].contains("keyring") && notes[0].contains("using the passphrase"),
        "{stderr}"
    );
    assert!(stderr.contains("set COFFER_PASSPHRASE"), "{stderr}");
    assert!(run(Some(PASS)).status.success());
}
