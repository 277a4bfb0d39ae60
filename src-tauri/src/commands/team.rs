//! Settings → Team: the team server's state as the watcher sees it, a sync on demand,
//! inviting and admitting members, and settling conflicts. Everything that reaches the
//! server runs off the main thread.

use std::time::Duration;

use coffer_core::access::Role;
use coffer_core::team::Keep;
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::{IpcError, IpcResult};

/// Runs work that talks to the team server: PostgreSQL's client blocks (it runs a
/// runtime of its own), so it runs outside the async runtime's worker.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}
use crate::state::AppState;
use crate::team::TeamState;

/// The team server as the watcher last saw it (no network).
#[tauri::command]
#[specta::specta]
pub fn team_state(state: State<'_, AppState>) -> TeamState {
    state.team.current()
}

/// Waits (up to 25 s) for a state other than version `seen`: the status line's live
/// feed.
#[tauri::command]
#[specta::specta]
pub async fn team_wait(state: State<'_, AppState>, seen: f64) -> IpcResult<TeamState> {
    Ok(state.team.wait(seen, Duration::from_secs(25)).await)
}

/// Syncs now (Settings → Team → Sync now).
#[tauri::command]
#[specta::specta]
pub async fn team_sync_now(state: State<'_, AppState>) -> IpcResult<TeamState> {
    state.require_unlocked()?;
    state.touch();
    blocking(|| crate::team::sync_now(&state)).map_err(IpcError::from)?;
    Ok(state.team.current())
}

#[derive(Debug, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct InviteInput {
    pub workspace: String,
    pub name: String,
    /// One of the roles (`viewer`, `developer`, `admin`, `auditor`, `owner`).
    pub role: String,
    /// How long the code works, in hours (1 to 720).
    pub valid_hours: u32,
}

/// An invitation made: the one-time code the owner hands over.
#[derive(Serialize, specta::Type)]
pub struct InvitedDto {
    pub name: String,
    pub role: String,
    pub workspace: String,
    #[specta(type = i32)]
    pub expires_at: f64,
    pub code: String,
}

impl std::fmt::Debug for InvitedDto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvitedDto")
            .field("name", &self.name)
            .field("code", &"<redacted>")
            .finish()
    }
}

#[tauri::command]
#[specta::specta]
pub async fn team_invite(state: State<'_, AppState>, input: InviteInput) -> IpcResult<InvitedDto> {
    let valid = Duration::from_secs(u64::from(input.valid_hours) * 3600);
    let made = blocking(|| {
        state.with(|s| {
            let role: Role = input.role.parse()?;
            s.team_invite(&input.workspace, &input.name, role, valid)
        })
    })?;
    Ok(InvitedDto {
        name: made.name.clone(),
        role: made.role.clone(),
        workspace: made.workspace.clone(),
        expires_at: made.expires_at as f64,
        code: made.code.clone(),
    })
}

#[derive(Debug, Serialize, specta::Type)]
pub struct InvitationDto {
    pub name: String,
    pub role: String,
    pub workspace: String,
    #[specta(type = i32)]
    pub expires_at: f64,
    pub expired: bool,
    /// Whether they joined (their keys are there to compare).
    pub joined: bool,
}

/// The open invitations. The fingerprint of the keys that joined is not sent: the
/// owner types the one on the invitee's screen, and the backend compares.
#[tauri::command]
#[specta::specta]
pub async fn team_invitations(state: State<'_, AppState>) -> IpcResult<Vec<InvitationDto>> {
    let all = blocking(|| state.with(|s| s.team_invitations()))?;
    Ok(all
        .into_iter()
        .map(|i| InvitationDto {
            joined: i.fingerprint.is_some(),
            name: i.name,
            role: i.role,
            workspace: i.workspace,
            expires_at: i.expires_at as f64,
            expired: i.expired,
        })
        .collect())
}

#[derive(Debug, Serialize, specta::Type)]
pub struct AdmittedDto {
    pub name: String,
    pub role: String,
    pub workspace: String,
}

/// Admits `name` once `fingerprint` (as read from their screen) is the one of the keys
/// that joined; a mismatch admits nothing and is audited.
#[tauri::command]
#[specta::specta]
pub async fn team_admit(
    state: State<'_, AppState>,
    name: String,
    fingerprint: String,
) -> IpcResult<AdmittedDto> {
    let done = blocking(|| {
        let done = state.with(|s| s.team_admit(&name, &fingerprint))?;
        let _ = crate::team::sync_now(&state);
        Ok::<_, IpcError>(done)
    })?;
    Ok(AdmittedDto {
        name: done.name,
        role: done.role,
        workspace: done.workspace,
    })
}

#[tauri::command]
#[specta::specta]
pub async fn team_cancel_invitation(state: State<'_, AppState>, name: String) -> IpcResult<bool> {
    blocking(|| state.with(|s| s.team_cancel_invitation(&name)))
}

#[derive(Debug, Clone, Copy, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum KeepSide {
    Mine,
    Theirs,
}

/// Settles every open conflict by keeping one side; syncs so the choice reaches the
/// server. Returns how many were settled.
#[tauri::command]
#[specta::specta]
pub async fn team_resolve(state: State<'_, AppState>, keep: KeepSide) -> IpcResult<u32> {
    let keep = match keep {
        KeepSide::Mine => Keep::Mine,
        KeepSide::Theirs => Keep::Theirs,
    };
    let done = blocking(|| {
        let done = state.with(|s| s.team_resolve(None, keep))?;
        let _ = crate::team::sync_now(&state);
        Ok::<_, IpcError>(done)
    })?;
    Ok(done.len() as u32)
}
