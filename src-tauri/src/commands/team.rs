//! Settings → Team: the team server's state as the watcher sees it, a sync on demand,
//! inviting and admitting members, and settling conflicts. Everything that reaches the
//! server runs off the main thread.

use std::time::Duration;

use coffer_core::access::Role;
use coffer_core::crypto::KdfParams;
use coffer_core::team::{JoinProgress, Keep};
use coffer_core::value::Passphrase;
use coffer_core::Vault;
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

/// What a check of the team server covered (Settings → Team → Verify server).
#[derive(Debug, Serialize, specta::Type)]
pub struct VerifiedDto {
    /// The vault and workspaces compared.
    pub scopes: u32,
    /// Records found on the server as this machine exchanged them.
    pub records: u32,
    /// Audit events whose links were followed.
    pub events: u32,
    /// This machine's own events found there, in their order.
    pub own_events: u32,
    /// Workspaces held here that the server no longer shows this member: not compared.
    pub unchecked: Vec<String>,
}

/// Checks that the team server still holds what this machine exchanged with it; an
/// `integrity` error names what differs (a record deleted or rolled back, events
/// missing or reordered).
#[tauri::command]
#[specta::specta]
pub async fn team_verify(state: State<'_, AppState>) -> IpcResult<VerifiedDto> {
    state.require_unlocked()?;
    state.touch();
    let done = blocking(|| state.with(|s| s.team_verify()))?;
    let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    Ok(VerifiedDto {
        scopes: n(done.scopes),
        records: n(done.records),
        events: n(done.events),
        own_events: n(done.own_events),
        unchecked: done.unchecked,
    })
}

/// The whole team's trail in `workspace`, read from the server and checked event by
/// event (the Audit screen's **Whole team**); an `integrity` error names what does not
/// check, a `denied` one says this member may not audit there.
#[tauri::command]
#[specta::specta]
pub async fn team_audit(
    state: State<'_, AppState>,
    workspace: String,
    filter: crate::commands::audit::AuditFilterDto,
) -> IpcResult<coffer_core::team::TeamTrail> {
    state.require_unlocked()?;
    state.touch();
    let filter = filter.into();
    blocking(|| state.with(|s| s.team_audit(&workspace, &filter)))
}

/// Where joining a team vault from this machine stands (the first-run screen's
/// **Join a team vault**).
#[derive(Debug, Serialize, specta::Type)]
pub struct JoinDto {
    /// Admitted, and the vault taken into this machine's file: unlock as `name`.
    pub joined: bool,
    /// The member name the invitation gives.
    pub name: String,
    /// The fingerprint of the keys made here, to read out to the owner (empty once
    /// joined).
    pub fingerprint: String,
    /// The server, without login or password.
    pub server: String,
    /// The role the invitation gives (empty when resumed or joined).
    pub role: String,
}

/// Asks to join the team vault an invitation code names: this member's keys are made
/// here, sealed under `passphrase` in the new vault file, and their public halves
/// sent. Returns the fingerprint the owner must hear before admitting.
#[tauri::command]
#[specta::specta]
pub async fn team_join_start(
    state: State<'_, AppState>,
    code: String,
    passphrase: String,
) -> IpcResult<JoinDto> {
    let started = blocking(|| {
        Vault::team_join(
            &state.vault_path,
            code.trim(),
            None,
            &Passphrase::new(passphrase),
            KdfParams::RECOMMENDED,
        )
    })?;
    Ok(JoinDto {
        joined: false,
        name: started.name,
        fingerprint: started.fingerprint,
        server: started.server,
        role: started.role,
    })
}

/// Whether the owner has admitted this member yet; once they have, the vault is
/// pulled into this machine's file (then unlock as the member named).
#[tauri::command]
#[specta::specta]
pub async fn team_join_finish(
    state: State<'_, AppState>,
    passphrase: String,
) -> IpcResult<JoinDto> {
    // One finish at a time (the core re-checks inside its transaction as well).
    static FINISHING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let progress = blocking(|| {
        let _one = FINISHING.lock().unwrap_or_else(|e| e.into_inner());
        Vault::team_join_finish(&state.vault_path, &Passphrase::new(passphrase))
    })?;
    Ok(match progress {
        JoinProgress::Waiting { name, fingerprint } => JoinDto {
            joined: false,
            name,
            fingerprint,
            server: String::new(),
            role: String::new(),
        },
        JoinProgress::Joined(done) => JoinDto {
            joined: true,
            name: done.name,
            fingerprint: String::new(),
            server: done.server,
            role: String::new(),
        },
    })
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
/// owner types the one on the invitee's screen, and the backend compares. Settings →
/// Team asks again by itself while someone has not joined: not counted as activity.
#[tauri::command]
#[specta::specta]
pub async fn team_invitations(state: State<'_, AppState>) -> IpcResult<Vec<InvitationDto>> {
    let all = blocking(|| state.quietly(|s| s.team_invitations()))?;
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
