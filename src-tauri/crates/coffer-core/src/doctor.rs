//! `coffer doctor`'s checks of the vault file that need no key: who may read it and
//! its directory, SQLite's own integrity check, the schema version, and whether the
//! trail still holds the head this machine saw. Each finding says how to fix it.

use std::path::Path;

use serde::Serialize;

use crate::clock::Clock as _;
use crate::store::MetaStore;

/// How much a finding matters: all is well, worth knowing, or needs action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Note,
    Fix,
}

/// One line of the report: what was checked, what was found, and the fix when one is
/// needed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Finding {
    pub level: Level,
    pub check: &'static str,
    pub text: String,
}

impl Finding {
    pub fn ok(check: &'static str, text: impl Into<String>) -> Self {
        Finding {
            level: Level::Ok,
            check,
            text: text.into(),
        }
    }
    pub fn note(check: &'static str, text: impl Into<String>) -> Self {
        Finding {
            level: Level::Note,
            check,
            text: text.into(),
        }
    }
    pub fn fix(check: &'static str, text: impl Into<String>) -> Self {
        Finding {
            level: Level::Fix,
            check,
            text: text.into(),
        }
    }
}

/// Whether an owner has a recovery key; `None` for a member who may not hold one.
/// Having none is worth knowing, not a fault: an owner may choose to go without
/// (`coffer init --no-recovery-key`).
pub fn recovery_key(s: &crate::Session) -> Option<Finding> {
    let member = s.member();
    match (s.may_hold_recovery_key(), s.has_recovery_key()) {
        (Ok(false), _) => None,
        (Ok(true), Ok(true)) => Some(Finding::ok(
            "recovery",
            format!("{member} has a recovery key: with its 24 words, `coffer recover` sets a new passphrase"),
        )),
        (Ok(true), Ok(false)) => Some(Finding::note(
            "recovery",
            format!("{member} has no recovery key: a forgotten passphrase would lose their keys; `coffer recovery-key rotate` makes one"),
        )),
        (Err(e), _) | (_, Err(e)) => Some(Finding::fix("recovery", format!("could not be read: {e}"))),
    }
}

/// Checks the vault file at `path` without unlocking it.
pub fn check_file(path: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    if !path.exists() {
        out.push(Finding::fix(
            "vault",
            format!(
                "no vault at {}: create one with `coffer init --owner NAME`, or point COFFER_VAULT at yours",
                path.display()
            ),
        ));
        return out;
    }
    permissions(path, &mut out);
    snapshot_age(path, &mut out);
    let conn = match crate::snapshots::open_read_only(path) {
        Ok(c) => c,
        Err(e) => {
            out.push(Finding::fix(
                "integrity",
                format!("SQLite cannot open the file ({e}): {}", restore_hint(path)),
            ));
            return out;
        }
    };
    match crate::snapshots::integrity(&conn) {
        Ok(()) => out.push(Finding::ok("integrity", "SQLite's integrity check passes")),
        Err(problem) => out.push(Finding::fix(
            "integrity",
            format!(
                "SQLite's integrity check fails ({problem}): {}",
                restore_hint(path)
            ),
        )),
    }
    let found = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .unwrap_or(-1);
    let known = crate::store::known_version() as i64;
    out.push(match found.cmp(&known) {
        std::cmp::Ordering::Equal => Finding::ok("schema", format!("version {found}, this build's")),
        std::cmp::Ordering::Less => Finding::note(
            "schema",
            format!("version {found}; the next unlock upgrades it to {known} (one transaction)"),
        ),
        std::cmp::Ordering::Greater => Finding::fix(
            "schema",
            format!("version {found} was written by a newer Coffer (this one knows {known}): upgrade Coffer"),
        ),
    });
    let vault_id = conn
        .get_meta("vault_id")
        .ok()
        .flatten()
        .and_then(|v| String::from_utf8(v).ok());
    match vault_id {
        None => out.push(Finding::fix(
            "vault",
            "the file has no vault identity: it is not a Coffer vault, or it was damaged",
        )),
        Some(id) => out.push(match crate::anchor::remembered((&id, path)) {
            None => Finding::note(
                "anchor",
                "this machine has not seen the audit trail yet (it remembers its head after a write or `coffer audit verify`)",
            ),
            Some((seq, _)) => match crate::anchor::check(&conn, (&id, path)) {
                Ok(None) => Finding::ok(
                    "anchor",
                    format!("the trail still holds event {seq}, the newest this machine saw"),
                ),
                Ok(Some(warning)) => Finding::fix(
                    "anchor",
                    format!(
                        "{}; if a backup was restored on purpose, check it with `coffer audit verify`",
                        warning.trim_start_matches("warning: ")
                    ),
                ),
                Err(e) => Finding::fix("anchor", format!("could not read the trail: {e}")),
            },
        }),
    }
    out
}

/// The newest snapshot that holds a readable vault.
fn newest_snapshot(path: &Path) -> Option<crate::snapshots::Snapshot> {
    crate::snapshots::list(path)
        .ok()?
        .into_iter()
        .find(|s| s.kind != crate::snapshots::Kind::Damaged)
}

fn ago(taken_at: i64) -> String {
    use crate::clock::Clock as _;
    crate::time_fmt::format_duration_ms(crate::clock::SystemClock.now_ms() - taken_at)
}

/// How to get a damaged vault back: the newest snapshot, by name.
fn restore_hint(path: &Path) -> String {
    match newest_snapshot(path) {
        Some(s) => format!(
            "restore the newest snapshot ({} old): coffer restore '{}'",
            ago(s.taken_at),
            s.path.display()
        ),
        None => "restore it from a backup: coffer restore FILE".into(),
    }
}

/// How old the newest snapshot is, and whether daily ones are taken.
fn snapshot_age(path: &Path, out: &mut Vec<Finding>) {
    let keep = crate::snapshots::keep(path);
    if keep.daily == 0 && keep.weekly == 0 {
        out.push(Finding::note(
            "snapshots",
            "daily snapshots are off: `coffer snapshots --keep-daily 7 --keep-weekly 4` turns them on",
        ));
    }
    out.push(match newest_snapshot(path) {
        None => Finding::note(
            "snapshots",
            "none yet beside the vault: `coffer backup` takes one now (one is taken at each day's first write)",
        ),
        Some(s) if crate::clock::SystemClock.now_ms() - s.taken_at > 8 * 86_400_000 => {
            Finding::note(
                "snapshots",
                format!(
                    "the newest is {} old (none is taken on days without a write): `coffer backup` takes one now",
                    ago(s.taken_at)
                ),
            )
        }
        Some(s) => Finding::ok(
            "snapshots",
            format!(
                "the newest ({}) is {} old, in {}",
                s.kind.as_str(),
                ago(s.taken_at),
                crate::snapshots::dir_of(path).display()
            ),
        ),
    });
}

#[cfg(unix)]
fn permissions(path: &Path, out: &mut Vec<Finding>) {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
    match mode(path) {
        Ok(m) if m & 0o077 == 0 => out.push(Finding::ok(
            "permissions",
            format!("{} is {m:04o}", path.display()),
        )),
        Ok(m) => out.push(Finding::fix(
            "permissions",
            format!(
                "{} is {m:04o}, readable by others: chmod 600 '{}'",
                path.display(),
                path.display()
            ),
        )),
        Err(e) => out.push(Finding::fix(
            "permissions",
            format!("cannot read them: {e}"),
        )),
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match mode(dir) {
        Ok(m) if m & 0o077 == 0 => out.push(Finding::ok(
            "permissions",
            format!("its directory is {m:04o}"),
        )),
        Ok(m) => out.push(Finding::note(
            "permissions",
            format!(
                "its directory {} is {m:04o}: others see the file's name and can watch it change (chmod 700 '{}' if it holds only your files)",
                dir.display(),
                dir.display()
            ),
        )),
        Err(_) => {}
    }
}

#[cfg(not(unix))]
fn permissions(_: &Path, _: &mut Vec<Finding>) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_and_a_file_that_is_not_a_vault_need_action() {
        let dir = tempfile::tempdir().unwrap();
        let f = check_file(&dir.path().join("none.db"));
        assert_eq!(f[0].level, Level::Fix);
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"not a database at all, just text").unwrap();
        let f = check_file(&junk);
        assert!(
            f.iter()
                .any(|x| x.check == "integrity" && x.level == Level::Fix),
            "{f:?}"
        );
    }
}
