//! `coffer doctor` on the real binary: a healthy vault passes; a vault readable by
//! others, a broken trail or a file that is not a vault each get a FIX line with the
//! command that fixes it (exit 1); a missing keyring is said, and fails only a vault
//! remembered on this device.

use super::support::Vault;

fn line<'a>(out: &'a str, check: &str) -> Vec<&'a str> {
    out.lines()
        .filter(|l| l.split_whitespace().nth(1) == Some(check))
        .collect()
}

#[test]
fn a_healthy_vault_passes_and_each_check_says_what_it_found() {
    let vault = Vault::new();
    vault.set("API_KEY", "a-value-doctor-must-not-print", &[]);
    let run = vault.run(&["doctor"]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    for check in [
        "permissions",
        "integrity",
        "schema",
        "anchor",
        "directory",
        "audit",
        "snapshots",
        "recovery",
    ] {
        let found = line(&run.stdout, check);
        assert!(
            found.first().is_some_and(|l| l.starts_with("ok")),
            "{check}: {}",
            run.describe()
        );
    }
    // No keyring in the test's environment: said, with what still works.
    assert!(
        line(&run.stdout, "keyring")[0].starts_with("note"),
        "{}",
        run.describe()
    );
    assert!(!run.stdout.contains("a-value-doctor-must-not-print"));
    let json = vault.run(&["--json", "doctor"]).ok().json();
    assert!(json.as_array().unwrap().iter().all(|f| f["level"] != "fix"));
}

#[cfg(unix)]
#[test]
fn a_vault_readable_by_others_gets_the_chmod_that_fixes_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let vault = Vault::new();
    std::fs::set_permissions(&vault.path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = vault.run(&["doctor"]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    let fix = line(&run.stdout, "permissions");
    assert!(
        fix[0].starts_with("FIX") && fix[0].contains("chmod 600"),
        "{}",
        run.describe()
    );
}

#[test]
fn a_broken_trail_and_a_file_that_is_not_a_vault_need_action() {
    let vault = Vault::new();
    vault.set("API_KEY", "v1", &[]);
    vault.set("API_KEY", "v2", &[]);
    vault
        .db()
        .execute("DELETE FROM audit_events WHERE id = 2", [])
        .unwrap();
    let run = vault.run(&["doctor"]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert!(
        line(&run.stdout, "audit")[0].starts_with("FIX"),
        "{}",
        run.describe()
    );

    std::fs::write(&vault.path, b"this is not a vault").unwrap();
    let run = vault.run(&["doctor"]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    let fix = line(&run.stdout, "integrity")[0];
    // The fix names the newest snapshot to restore (the day's first write took one).
    assert!(
        fix.starts_with("FIX") && fix.contains("coffer restore '") && fix.contains(".snapshots/"),
        "{}",
        run.describe()
    );
}
