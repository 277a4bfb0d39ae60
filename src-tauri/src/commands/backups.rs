//! Settings → Backups: the snapshots kept beside the vault, a backup now, how many
//! daily ones rotate, and a restore from one of them.
//!
//! The webview names a snapshot only by a path from this vault's own list: it can
//! never make the app restore from (or read) any other file. A restore replaces the
//! file under the open session, whose cached keys and rows belong to the vault it
//! replaced, so the app locks once it is done.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use coffer_core::clock::SystemClock;
use coffer_core::restore::Restored;
use coffer_core::snapshots::{self, Keep, Kind, Snapshot};
use coffer_core::value::Passphrase;
use coffer_core::Error;
use serde::Serialize;
use tauri::State;

use super::vault::{one_time_passphrases, OneTimePassphrase};
use crate::error::IpcResult;
use crate::state::AppState;

/// What the Backups section shows.
#[derive(Debug, Serialize, specta::Type)]
pub struct Backups {
    /// The directory the snapshots are kept in.
    pub directory: String,
    pub keep: Keep,
    /// Newest first.
    pub snapshots: Vec<Snapshot>,
}

/// The snapshots beside the vault (newest first), where they are, and how many rotate.
#[tauri::command]
#[specta::specta]
pub fn list_snapshots(state: State<'_, AppState>) -> IpcResult<Backups> {
    let vault = &state.vault_path;
    state.with(|_| {
        Ok(Backups {
            directory: snapshots::dir_of(vault).display().to_string(),
            keep: snapshots::keep(vault),
            snapshots: snapshots::list(vault)?,
        })
    })
}

/// Takes a snapshot now (audited; any unlocked member: it holds what the file does).
/// Async, as the restore is, so that copying a large vault runs off the main thread.
#[tauri::command]
#[specta::specta]
pub async fn back_up_now(state: State<'_, AppState>) -> IpcResult<Snapshot> {
    state.with(|s| s.backup(None))
}

/// Sets how many daily snapshots rotate (0 and 0: none are taken); needs `manage`.
#[tauri::command]
#[specta::specta]
pub fn set_snapshot_keep(state: State<'_, AppState>, daily: u32, weekly: u32) -> IpcResult<Keep> {
    let vault = &state.vault_path;
    state.with(|s| {
        s.require_manage_anywhere("change how many snapshots are kept")?;
        snapshots::set_keep(vault, Keep { daily, weekly })
    })
}

/// What a restore did, and (only when the snapshot predates members' own keys) each
/// re-created member's one-time passphrase, which crosses to the webview this once.
#[derive(Debug, Serialize, specta::Type)]
pub struct RestoreOutcome {
    pub restored: Restored,
    pub one_time_passphrases: Vec<OneTimePassphrase>,
}

/// Restores the vault from one of its snapshots, as the unlocked member, who gives
/// their passphrase as it was when the snapshot was taken. Every check runs before
/// anything changes (the core's); on success the app locks. Async: the checks (an
/// Argon2 unlock, SQLite's integrity check, every signature) take seconds on a large
/// vault, which the main thread spends presenting the window instead.
#[tauri::command]
#[specta::specta]
pub async fn restore_snapshot(
    state: State<'_, AppState>,
    path: String,
    passphrase: String,
) -> IpcResult<RestoreOutcome> {
    let vault = &state.vault_path;
    let passphrase = Passphrase::new(passphrase);
    let (restored, upgrade) = state.with(|s| {
        let from = listed_snapshot(vault, Path::new(&path))?;
        let member = s.member().to_string();
        coffer_core::restore::restore(
            vault,
            &from,
            &member,
            &passphrase,
            false,
            Arc::new(SystemClock),
        )
    })?;
    state.lock();
    Ok(RestoreOutcome {
        restored,
        one_time_passphrases: upgrade.map(one_time_passphrases).unwrap_or_default(),
    })
}

/// `path` when it is one of this vault's snapshots that can be restored; the webview
/// may name nothing else.
fn listed_snapshot(vault: &Path, path: &Path) -> coffer_core::Result<PathBuf> {
    let wanted = std::fs::canonicalize(path).ok();
    let found = snapshots::list(vault)?.into_iter().find(|s| {
        s.path == path || wanted.is_some() && std::fs::canonicalize(&s.path).ok() == wanted
    });
    match found {
        None => Err(Error::not_found(format!(
            "snapshot {} of this vault",
            path.display()
        ))),
        Some(s) if s.kind == Kind::Damaged => Err(Error::invalid(
            "a damaged vault file cannot be restored: it is kept only so nothing of it is lost",
        )),
        Some(s) => Ok(s.path),
    }
}
