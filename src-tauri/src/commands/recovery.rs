//! The recovery key in the app: its 24 words cross to the webview exactly twice in a
//! vault's life per key — when `create_vault` or `replace_recovery_key` makes it, for
//! the one screen that shows them — and from the webview once, typed back into
//! `recover`. They are never in an error, a log line or `Debug` output; the app keeps
//! no copy after the command returns.

use coffer_core::recovery::RecoveryKey;
use coffer_core::value::Passphrase;
use coffer_core::Vault;
use serde::Serialize;
use tauri::State;
use zeroize::Zeroizing;

use super::vault::UnlockResult;
use crate::error::IpcResult;
use crate::state::AppState;

/// A recovery key's words, in order, for the one screen that shows them.
// `Debug` by hand: it must never show the words.
#[derive(Serialize, specta::Type)]
pub struct RecoveryWords {
    pub words: Vec<String>,
}

impl std::fmt::Debug for RecoveryWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryWords(<{} words redacted>)", self.words.len())
    }
}

impl From<&RecoveryKey> for RecoveryWords {
    fn from(key: &RecoveryKey) -> Self {
        RecoveryWords {
            words: key.words().into_iter().map(String::from).collect(),
        }
    }
}

/// What Settings says about the member's recovery key.
#[derive(Debug, Serialize, specta::Type)]
pub struct RecoveryKeyStatus {
    /// The member has a recovery key.
    pub exists: bool,
    /// The member owns a workspace: only owners may hold a recovery key.
    pub may_hold: bool,
}

#[tauri::command]
#[specta::specta]
pub fn recovery_key_status(state: State<'_, AppState>) -> IpcResult<RecoveryKeyStatus> {
    state.with(|s| {
        Ok(RecoveryKeyStatus {
            exists: s.has_recovery_key()?,
            may_hold: s.may_hold_recovery_key()?,
        })
    })
}

/// Makes a new recovery key, replacing the old one, and hands its words over once.
/// Owners only, with the passphrase confirmed in the last few minutes
/// (`confirm_passphrase`).
#[tauri::command]
#[specta::specta]
pub fn replace_recovery_key(state: State<'_, AppState>) -> IpcResult<RecoveryWords> {
    state.with(|s| s.rotate_recovery_key().map(|key| RecoveryWords::from(&key)))
}

/// Removes the member's recovery key: first run's "I will make one later", where the
/// key made with the vault was never written down. Settings then says there is none
/// and offers to make one, on every start, not only in this window. `false` when
/// there was none.
#[tauri::command]
#[specta::specta]
pub fn remove_recovery_key(state: State<'_, AppState>) -> IpcResult<bool> {
    state.with(|s| s.remove_recovery_key())
}

/// Sets a new passphrase for `member` with their recovery key (typed as a person types
/// it: any spacing, case or numbering) and unlocks the app as them.
#[tauri::command]
#[specta::specta]
pub fn recover(
    state: State<'_, AppState>,
    member: String,
    recovery_key: String,
    new_passphrase: String,
) -> IpcResult<UnlockResult> {
    let typed = Zeroizing::new(recovery_key);
    let key = RecoveryKey::parse(&typed)?;
    let new = Passphrase::new(new_passphrase);
    // A session held for someone else ends first: the app opens as the recovered member.
    state.lock();
    let session = Vault::open(&state.vault_path)?.recover(member.trim(), &key, &new)?;
    UnlockResult::enter(&state, session, member.trim().to_string(), None)
}
