//! Settings → Health, the app's `coffer doctor`: the core's checks of the vault file
//! (permissions, integrity, schema, this machine's anchor, snapshots), then what the
//! open session can check (the signed directory of the current workspace and project,
//! the audit chain) and this device's keyring state. The agent and a keyring round
//! trip stay with the CLI: the app runs no agent, and probing the keyring could prompt.
//!
//! The core words its fixes for a terminal; where a fix is a CLI command the app has a
//! button for, the finding names the button instead.

use coffer_core::device::OsKeyring;
use coffer_core::doctor::{check_file, Finding};
use coffer_core::{ErrorCode, Scope, Session, Vault};
use tauri::State;

use super::ScopeDto;
use crate::error::IpcResult;
use crate::state::AppState;

/// Every finding, one line each, in the order `coffer doctor` prints them. Async:
/// SQLite's integrity check reads the whole file, off the main thread.
#[tauri::command]
#[specta::specta]
pub async fn check_health(state: State<'_, AppState>, scope: ScopeDto) -> IpcResult<Vec<Finding>> {
    let vault = &state.vault_path;
    state.with(|s| {
        let mut findings = check_file(vault);
        session_findings(s, &scope.into(), &mut findings);
        findings.push(device(s, vault));
        for f in &mut findings {
            f.text = in_app_words(&f.text);
        }
        Ok(findings)
    })
}

/// The member's certificate chain and the signed rows of the scope (checked as the
/// secrets are listed), and the workspace's audit chain; as `coffer doctor` does.
fn session_findings(s: &mut Session, scope: &Scope, out: &mut Vec<Finding>) {
    let member = s.member().to_string();
    out.push(match s.list_secrets(scope, false) {
        Ok(_) => Finding::ok(
            "directory",
            format!(
                "{member}'s certificate chain and the signed rows of {}/{} verify",
                scope.workspace, scope.project
            ),
        ),
        Err(e) if e.code() == ErrorCode::Integrity => Finding::fix(
            "directory",
            format!("{e}: the file was edited outside Coffer; restore a snapshot from before it (Backups)"),
        ),
        Err(e) => Finding::note("directory", format!("not checked here: {e}")),
    });
    out.extend(coffer_core::doctor::recovery_key(s));
    out.push(match s.verify_audit(&scope.workspace) {
        Ok(r) if r.ok => Finding::ok(
            "audit",
            format!(
                "the chain verifies ({} {} of {} in it)",
                r.events,
                if r.events == 1 { "event" } else { "events" },
                scope.workspace
            ),
        ),
        Ok(r) => Finding::fix(
            "audit",
            format!(
                "the chain of {} is broken at event {}: {} (see Audit → Verify chain)",
                scope.workspace,
                r.first_bad.unwrap_or_default(),
                r.problem.unwrap_or_default()
            ),
        ),
        Err(e) if e.code() == ErrorCode::Denied => Finding::note(
            "audit",
            format!(
                "not checked: {member} may not audit {} (an owner or auditor can)",
                scope.workspace
            ),
        ),
        Err(e) => Finding::fix("audit", format!("could not be checked: {e}")),
    });
}

/// Whether this device unlocks the member without the passphrase, and if it says so,
/// whether the keyring still holds the key (read only when a device key is recorded).
fn device(s: &Session, vault: &std::path::Path) -> Finding {
    let member = s.member();
    let store = match s.device_store() {
        Ok(Some(store)) => store,
        Ok(None) => {
            return Finding::note(
                "keyring",
                format!("this device is not remembered: {member} unlocks with the passphrase (Remember on this device, under General, keeps a key in the system keyring)"),
            )
        }
        Err(e) => return Finding::fix("keyring", format!("could not be read: {e}")),
    };
    match Vault::open(vault).and_then(|v| v.device_key_present(member, &OsKeyring)) {
        Ok(true) => Finding::ok(
            "keyring",
            format!("a device key for {member} is kept in {store}: this device unlocks without the passphrase"),
        ),
        Ok(false) => Finding::fix(
            "keyring",
            format!("the vault says {store} holds a device key for {member}, but it does not: turn Remember on this device off and on again (under General)"),
        ),
        Err(e) => Finding::fix(
            "keyring",
            format!("{store} did not answer ({e}): start the keyring (gnome-keyring, KeePassXC), or turn Remember on this device off (under General)"),
        ),
    }
}

/// The core's fixes name CLI commands; the app names its own buttons where it has one.
/// Text it does not recognise passes unchanged (the CLI command still works).
fn in_app_words(text: &str) -> String {
    const SWAPS: [(&str, &str); 6] = [
        ("`coffer backup` takes one now", "Back up now takes one"),
        (
            "`coffer snapshots --keep-daily 7 --keep-weekly 4` turns them on",
            "set how many to keep under Backups to turn them on",
        ),
        (
            "check it with `coffer audit verify`",
            "check it in Audit → Verify chain",
        ),
        ("or `coffer audit verify`)", "or a chain verified in Audit)"),
        (
            "`coffer recovery-key rotate` makes one",
            "Make a recovery key…, under General, makes one",
        ),
        (
            "`coffer recover` sets a new passphrase",
            "Recover on the unlock screen sets a new passphrase",
        ),
    ];
    let mut text = SWAPS
        .iter()
        .fold(text.to_string(), |t, (cli, app)| t.replace(cli, app));
    // "…: coffer restore '/path/to/snapshot.db'" → the Backups list's Restore… button.
    if let Some(at) = text.find(": coffer restore '") {
        if text.ends_with('\'') {
            text.truncate(at);
            text.push_str(": Restore… it under Backups");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::in_app_words;

    #[test]
    fn cli_fixes_name_the_apps_buttons_and_other_text_passes_unchanged() {
        assert_eq!(
            in_app_words("none yet beside the vault: `coffer backup` takes one now (one is taken at each day's first write)"),
            "none yet beside the vault: Back up now takes one (one is taken at each day's first write)"
        );
        assert_eq!(
            in_app_words("daily snapshots are off: `coffer snapshots --keep-daily 7 --keep-weekly 4` turns them on"),
            "daily snapshots are off: set how many to keep under Backups to turn them on"
        );
        assert_eq!(
            in_app_words("SQLite's integrity check fails (x): restore the newest snapshot (2 days old): coffer restore '/v/vault.db.snapshots/a b.db'"),
            "SQLite's integrity check fails (x): restore the newest snapshot (2 days old): Restore… it under Backups"
        );
        assert_eq!(
            in_app_words("the trail lost event 4; if a backup was restored on purpose, check it with `coffer audit verify`"),
            "the trail lost event 4; if a backup was restored on purpose, check it in Audit → Verify chain"
        );
        assert_eq!(
            in_app_words("/v/vault.db is 0644, readable by others: chmod 600 '/v/vault.db'"),
            "/v/vault.db is 0644, readable by others: chmod 600 '/v/vault.db'"
        );
    }
}
