//! Copying a secret value: the backend puts it on the system clipboard and clears it
//! (see [`crate::clipboard`]); the webview only counts down. References
//! (`coffer://project/NAME`) carry nothing secret and are still copied by the webview.

use serde::Serialize;
use tauri::State;
use zeroize::Zeroizing;

use crate::clipboard::CLEAR_AFTER;
use crate::error::IpcResult;
use crate::state::AppState;

/// When the copied value leaves the clipboard.
#[derive(Debug, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Copied {
    pub clear_after_ms: u32,
}

/// Copies a value the member already sees (a revealed value, a one-time passphrase)
/// and clears the clipboard 30 s later, unless the user copied over it.
#[tauri::command]
#[specta::specta]
pub fn copy_value(state: State<'_, AppState>, value: String) -> IpcResult<Copied> {
    let value = Zeroizing::new(value);
    state.require_unlocked()?;
    let copy = state.clipboard.copy(&value)?;
    let clipboard = state.clipboard.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(CLEAR_AFTER).await;
        clipboard.clear_copy(copy);
    });
    Ok(Copied {
        clear_after_ms: CLEAR_AFTER.as_millis() as u32,
    })
}
