//! First run, unlock, lock, and what the UI needs to know about the vault.

use coffer_core::crypto::KdfParams;
use coffer_core::device::OsKeyring;
use coffer_core::value::Passphrase;
use coffer_core::{ProjectInfo, Session, UpgradeReport, Vault, WorkspaceInfo};
use serde::Serialize;
use tauri::State;

use super::recovery::RecoveryWords;
use super::ScopeDto;
use crate::error::IpcResult;
use crate::state::AppState;

#[derive(Debug, Serialize, specta::Type)]
pub struct VaultStatus {
    pub path: String,
    pub exists: bool,
    pub unlocked: bool,
    /// The file waits for its member's admission to a team vault (a join started on
    /// the first-run screen): the app carries on with the join, not an unlock.
    pub joining: bool,
    pub member: Option<String>,
    /// Bumps with every change in the member's workspaces, from this app or another
    /// process (never with another tenant's activity).
    #[specta(type = i32)]
    pub change: f64,
    /// The unlocked member still uses a passphrase someone else chose (as in
    /// [`UnlockResult`]), so a window reloaded mid-session asks again.
    pub must_change_passphrase: bool,
    /// As in [`UnlockResult`], so a window reloaded mid-session still warns.
    pub trail_warning: Option<String>,
}

#[derive(Debug, Serialize, specta::Type)]
pub struct UnlockResult {
    pub member: String,
    /// Set when "remember on this device" was asked but no keyring could hold the key.
    pub keyring_note: Option<String>,
    /// The vault's change number (as `vault_status` gives it), so that the UI mounts its
    /// screens with the right one instead of asking first or loading everything twice.
    #[specta(type = i32)]
    pub change: f64,
    /// The member still uses a passphrase someone else chose (given when they were
    /// added, or made by an upgrade): the UI asks them to set their own.
    pub must_change_passphrase: bool,
    /// Only at the owner's unlock that upgraded a vault made by an earlier Coffer: each
    /// re-created member with their one-time passphrase, for the owner to hand out.
    /// The one time these passphrases cross to the webview, on purpose; empty otherwise.
    pub one_time_passphrases: Vec<OneTimePassphrase>,
    /// Set when the vault's audit trail no longer holds an event this machine saw (a
    /// deleted tail, a wiped trail, an older copy of the file put back), checked as the
    /// session opened. One sentence saying what is wrong; the UI says where to look.
    pub trail_warning: Option<String>,
}

/// A member re-created by the upgrade, with the passphrase to hand them.
// `Debug` by hand: it must never show the passphrase.
#[derive(Serialize, specta::Type)]
pub struct OneTimePassphrase {
    pub member: String,
    pub passphrase: String,
}

impl std::fmt::Debug for OneTimePassphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneTimePassphrase")
            .field("member", &self.member)
            .field("passphrase", &"<redacted>")
            .finish()
    }
}

/// An upgrade's re-created members with their one-time passphrases, for the webview
/// (at the owner's unlock, or after restoring a snapshot from before members' keys).
pub(crate) fn one_time_passphrases(report: UpgradeReport) -> Vec<OneTimePassphrase> {
    report
        .members
        .into_iter()
        .map(|(member, passphrase)| OneTimePassphrase {
            member,
            passphrase: passphrase.expose().to_string(),
        })
        .collect()
}

impl UnlockResult {
    /// Keeps `session` as the app's, and says who came in and what they must see first.
    pub(crate) fn enter(
        state: &AppState,
        mut session: Session,
        member: String,
        keyring_note: Option<String>,
    ) -> IpcResult<UnlockResult> {
        let change = session.last_change()? as f64;
        let must_change_passphrase = session.must_change_passphrase();
        let trail_warning = trail_warning(&session);
        let one_time_passphrases = session
            .take_upgrade_report()
            .map(one_time_passphrases)
            .unwrap_or_default();
        state.set(session);
        Ok(UnlockResult {
            member,
            keyring_note,
            change,
            must_change_passphrase,
            one_time_passphrases,
            trail_warning,
        })
    }
}

/// The core's trail warning in the app's words. The core words it for a terminal:
/// "warning: …" and a command to run; the banner is the warning, and the app points at
/// its own Audit screen instead.
fn trail_warning(session: &Session) -> Option<String> {
    session.trail_warning().map(for_the_app)
}

fn for_the_app(warning: &str) -> String {
    let text = warning.trim();
    let text = text.strip_prefix("warning:").unwrap_or(text).trim_start();
    let text = match text.rfind(" (run `") {
        Some(hint) if text.ends_with(')') => &text[..hint],
        _ => text,
    };
    let mut chars = text.chars();
    let mut sentence: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !sentence.ends_with('.') {
        sentence.push('.');
    }
    sentence
}

#[derive(Debug, Serialize, specta::Type)]
pub struct Access {
    pub role: coffer_core::access::Role,
    pub capabilities: Vec<coffer_core::access::Capability>,
}

#[tauri::command]
#[specta::specta]
pub fn vault_status(state: State<'_, AppState>) -> VaultStatus {
    // A sync that took changes from the team server moves it too.
    let change =
        state.peek(|s| s.last_change()).unwrap_or(0) as f64 + state.team.current().revision;
    VaultStatus {
        path: state.vault_path.display().to_string(),
        exists: state.vault_path.exists(),
        unlocked: state.is_unlocked(),
        joining: !state.is_unlocked()
            && state.vault_path.exists()
            && Vault::is_joining(&state.vault_path).unwrap_or(false),
        member: state.member(),
        change,
        must_change_passphrase: state
            .peek(|s| Ok(s.must_change_passphrase()))
            .unwrap_or(false),
        trail_warning: state.peek(|s| Ok(trail_warning(s))).flatten(),
    }
}

/// A new vault: its owner is unlocked, and their recovery key is shown once.
#[derive(Debug, Serialize, specta::Type)]
pub struct CreatedVault {
    pub unlocked: UnlockResult,
    /// The only time these words cross to the webview: the first-run screen shows them
    /// and asks three back, then drops them.
    pub recovery_key: RecoveryWords,
}

#[tauri::command]
#[specta::specta]
pub fn create_vault(
    state: State<'_, AppState>,
    owner: String,
    passphrase: String,
) -> IpcResult<CreatedVault> {
    let clock = std::sync::Arc::new(coffer_core::clock::SystemClock);
    let mut session = Vault::create(
        &state.vault_path,
        &owner,
        &Passphrase::new(passphrase),
        KdfParams::RECOMMENDED,
        clock,
    )?;
    // The passphrase was just given, so the owner's recovery key is made at once.
    let recovery_key = RecoveryWords::from(&session.rotate_recovery_key()?);
    Ok(CreatedVault {
        unlocked: UnlockResult::enter(&state, session, owner, None)?,
        recovery_key,
    })
}

#[tauri::command]
#[specta::specta]
pub fn unlock(
    state: State<'_, AppState>,
    member: String,
    passphrase: String,
    remember: bool,
) -> IpcResult<UnlockResult> {
    let mut session =
        Vault::open(&state.vault_path)?.unlock(&member, &Passphrase::new(passphrase))?;
    let keyring_note = if remember {
        session
            .remember_device(&OsKeyring)
            .err()
            .map(|e| e.to_string())
    } else {
        None
    };
    UnlockResult::enter(&state, session, member, keyring_note)
}

/// Whether this device's keyring holds a key for `member` (asked before unlock, so it
/// reads the keyring only and tells nothing about who is a member).
#[tauri::command]
#[specta::specta]
pub fn device_remembered(state: State<'_, AppState>, member: String) -> IpcResult<bool> {
    Ok(Vault::open(&state.vault_path)?.device_key_present(&member, &OsKeyring)?)
}

#[tauri::command]
#[specta::specta]
pub fn unlock_with_device(state: State<'_, AppState>, member: String) -> IpcResult<UnlockResult> {
    let session = Vault::open(&state.vault_path)?.unlock_with_device(&member, &OsKeyring)?;
    UnlockResult::enter(&state, session, member, None)
}

#[tauri::command]
#[specta::specta]
pub fn set_remember_device(state: State<'_, AppState>, remember: bool) -> IpcResult<bool> {
    state.with(|s| {
        if remember {
            s.remember_device(&OsKeyring).map(|_| true)
        } else {
            s.forget_device(&OsKeyring).map(|_| false)
        }
    })
}

#[tauri::command]
#[specta::specta]
pub fn device_status(state: State<'_, AppState>) -> IpcResult<Option<String>> {
    state.with(|s| s.device_store())
}

#[tauri::command]
#[specta::specta]
pub fn lock(state: State<'_, AppState>) {
    state.lock();
}

/// Sets the member's own passphrase: their keys are sealed again under it, and one
/// chosen by someone else stops working.
#[tauri::command]
#[specta::specta]
pub fn change_passphrase(
    state: State<'_, AppState>,
    current: String,
    // Not `new`: the generated TypeScript may not name a parameter so.
    new_passphrase: String,
) -> IpcResult<()> {
    state.with(|s| s.change_passphrase(&Passphrase::new(current), &Passphrase::new(new_passphrase)))
}

/// Confirms the passphrase again before a change to a protected environment.
#[tauri::command]
#[specta::specta]
pub fn confirm_passphrase(state: State<'_, AppState>, passphrase: String) -> IpcResult<()> {
    state.with(|s| s.confirm_passphrase(&Passphrase::new(passphrase)))
}

#[tauri::command]
#[specta::specta]
pub fn list_workspaces(state: State<'_, AppState>) -> IpcResult<Vec<WorkspaceInfo>> {
    state.with(|s| s.list_workspaces())
}

#[tauri::command]
#[specta::specta]
pub fn list_projects(state: State<'_, AppState>, workspace: String) -> IpcResult<Vec<ProjectInfo>> {
    state.with(|s| s.list_projects(&workspace))
}

#[tauri::command]
#[specta::specta]
pub fn list_environments(
    state: State<'_, AppState>,
    scope: ScopeDto,
) -> IpcResult<Vec<coffer_core::EnvironmentInfo>> {
    state.with(|s| s.list_environments(&scope.into()))
}

#[tauri::command]
#[specta::specta]
pub fn my_access(state: State<'_, AppState>, scope: ScopeDto) -> IpcResult<Access> {
    state.with(|s| s.role_in(&scope.into())).map(|role| Access {
        role,
        capabilities: role.capabilities(),
    })
}

#[tauri::command]
#[specta::specta]
pub fn get_settings(
    state: State<'_, AppState>,
    workspace: String,
) -> IpcResult<Vec<coffer_core::settings::Setting>> {
    state.with(|s| s.settings(&workspace))
}

#[tauri::command]
#[specta::specta]
pub fn set_setting(
    state: State<'_, AppState>,
    workspace: String,
    key: String,
    value: String,
) -> IpcResult<coffer_core::settings::Setting> {
    state.with(|s| s.set_setting(&workspace, &key, &value))
}

/// Counts user activity seen by the UI (typing, pointer) toward the auto-lock timer,
/// so reading a screen without running commands does not lock the vault.
#[tauri::command]
#[specta::specta]
pub fn note_activity(state: State<'_, AppState>) {
    if state.is_unlocked() {
        state.touch();
    }
}

/// How long the app may stay idle before it locks, in milliseconds: the shortest
/// auto-lock over the member's workspaces, or the shortest allowed when that cannot be
/// read. The UI's idle timer uses it, so the screen locks when the keys are dropped.
#[tauri::command]
#[specta::specta]
pub fn auto_lock_limit(state: State<'_, AppState>) -> IpcResult<u32> {
    state.require_unlocked()?;
    Ok(u32::try_from(state.auto_lock_limit().as_millis()).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::for_the_app;

    /// Both of the core's warnings, as the CLI prints them, lose the terminal's framing
    /// and keep what happened.
    #[test]
    fn the_trail_warning_reads_as_a_sentence_without_the_cli_hint() {
        assert_eq!(
            for_the_app("warning: the audit trail no longer holds event 42, which this machine saw: its tail was deleted or an older copy of the vault put back (run `coffer audit verify`)"),
            "The audit trail no longer holds event 42, which this machine saw: its tail was deleted or an older copy of the vault put back."
        );
        assert_eq!(
            for_the_app("warning: audit event 7, which this machine saw, has changed: this is another or an older copy of the vault (run `coffer audit verify`)"),
            "Audit event 7, which this machine saw, has changed: this is another or an older copy of the vault."
        );
        // Worded otherwise one day, it still reaches the member whole.
        assert_eq!(
            for_the_app("the trail (as seen) was cut"),
            "The trail (as seen) was cut."
        );
    }
}
