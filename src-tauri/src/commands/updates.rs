//! The Settings screen's "Updates" section: preferences, check, download and install
//! with progress, restart. The work is in [`crate::updates`].

use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{IpcError, IpcResult};
use crate::state::AppState;
use crate::updates::{AvailableUpdate, Updates};

#[derive(Debug, Serialize, specta::Type)]
pub struct UpdateStatus {
    pub current_version: String,
    /// The endpoint checks go to (the user's, else the shipped default).
    pub endpoint: String,
    pub default_endpoint: String,
    pub check_at_start: bool,
    /// A check (the one at start, say) is running now.
    pub checking: bool,
    pub last_check: Option<LastCheck>,
}

#[derive(Debug, Serialize, specta::Type)]
pub struct LastCheck {
    #[specta(type = i32)]
    pub at_ms: f64,
    /// Set when a newer release was found; neither this nor `error`: up to date.
    pub available: Option<AvailableUpdate>,
    pub error: Option<IpcError>,
}

/// Bytes downloaded so far, and the total when the server announced it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DownloadProgress {
    #[specta(type = i32)]
    pub downloaded: f64,
    #[specta(type = Option<i32>)]
    pub total: Option<f64>,
}

fn status(updates: &Updates) -> UpdateStatus {
    let prefs = updates.preferences();
    UpdateStatus {
        current_version: updates.current_version().to_string(),
        endpoint: updates.endpoint(),
        default_endpoint: updates.default_endpoint().to_string(),
        check_at_start: prefs.check_at_start,
        checking: updates.is_checking(),
        last_check: updates.last_check().map(|r| {
            let (available, error) = match r.outcome {
                Ok(a) => (a, None),
                Err((code, message)) => (None, Some(IpcError { code, message })),
            };
            LastCheck {
                at_ms: r.at_ms,
                available,
                error,
            }
        }),
    }
}

#[tauri::command]
#[specta::specta]
pub fn update_status(updates: State<'_, Updates>) -> UpdateStatus {
    status(&updates)
}

/// An empty endpoint goes back to the default one. Where the app fetches the code it
/// will run from is the installation's, not one tenant's: only the vault's root owner
/// may change it (a refusal is audited as `settings.updates`).
#[tauri::command]
#[specta::specta]
pub fn set_update_preferences(
    state: State<'_, AppState>,
    updates: State<'_, Updates>,
    endpoint: String,
    check_at_start: bool,
) -> IpcResult<UpdateStatus> {
    state.with(|s| s.require_root_owner("settings.updates", "change the update settings"))?;
    updates.set_preferences(&endpoint, check_at_start)?;
    // Where the app fetches the code it runs from is worth a line in the trail.
    state.with(|s| {
        s.audit_installation_change(
            "settings.updates",
            serde_json::json!({ "endpoint": endpoint, "check_at_start": check_at_start }),
        )
    })?;
    Ok(status(&updates))
}

/// `null` when Coffer is up to date; an `unavailable` error when the endpoint could not
/// be reached, `integrity` or `invalid` when what it served was refused. Needs an
/// unlocked member, as installing does.
#[tauri::command]
#[specta::specta]
pub async fn check_for_updates(
    state: State<'_, AppState>,
    updates: State<'_, Updates>,
) -> IpcResult<Option<AvailableUpdate>> {
    state.require_unlocked()?;
    Ok(updates.check().await?)
}

/// Downloads the offered update, verifies its signature, installs it; returns the
/// version installed. The app runs it after `restart_app`.
#[tauri::command]
#[specta::specta]
pub async fn install_update(
    state: State<'_, AppState>,
    updates: State<'_, Updates>,
    on_progress: Channel<DownloadProgress>,
) -> IpcResult<String> {
    state.require_unlocked()?;
    let mut last_percent = None;
    let report = |downloaded: u64, total: Option<u64>| {
        // One message per percent (or per 256 KiB without a total), not per chunk.
        let step = match total {
            Some(t) if t > 0 => downloaded * 100 / t,
            _ => downloaded >> 18,
        };
        if last_percent != Some(step) {
            last_percent = Some(step);
            let _ = on_progress.send(DownloadProgress {
                downloaded: downloaded as f64,
                total: total.map(|t| t as f64),
            });
        }
    };
    Ok(updates.download_and_install(report).await?)
}

/// Restarts into the installed update. On the main thread Tauri restarts without
/// `RunEvent::Exit`, so a copied value is cleared here first.
#[tauri::command]
#[specta::specta]
pub fn restart_app(state: State<'_, AppState>, updates: State<'_, Updates>) {
    state.clipboard.clear_now();
    updates.restart();
}
