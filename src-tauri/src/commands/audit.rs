//! The Audit screen: filtered events, chain verification, checkpoints, and the trail's
//! copies outside the vault (a verifiable export, an archive of old events), which go
//! into the Downloads folder like the screen's other exports.

use coffer_core::audit::{AuditEvent, VerifyReport};
use coffer_core::time_fmt::{format_timestamp_ms, parse_since_ms};
use coffer_core::{AuditFilter, EventsFormat, TrailCopy, TrailState};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::IpcResult;
use crate::export_file;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, specta::Type)]
pub struct AuditFilterDto {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub secret: Option<String>,
    pub since: Option<String>,
}

impl From<AuditFilterDto> for AuditFilter {
    fn from(f: AuditFilterDto) -> Self {
        let keep = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        AuditFilter {
            actor: keep(f.actor),
            action: keep(f.action),
            secret: keep(f.secret),
            since: keep(f.since),
            limit: Some(5000),
        }
    }
}

#[tauri::command]
#[specta::specta]
pub fn audit_events(
    state: State<'_, AppState>,
    workspace: String,
    filter: AuditFilterDto,
) -> IpcResult<Vec<AuditEvent>> {
    state.with(|s| s.audit_events(&workspace, &filter.into()))
}

#[tauri::command]
#[specta::specta]
pub fn verify_audit(state: State<'_, AppState>, workspace: String) -> IpcResult<VerifyReport> {
    state.with(|s| s.verify_audit(&workspace))
}

/// This machine's anchor, the newest checkpoint and archive, and the root key's
/// fingerprint.
#[tauri::command]
#[specta::specta]
pub fn trail_state(state: State<'_, AppState>, workspace: String) -> IpcResult<TrailState> {
    state.with(|s| s.trail_state(&workspace))
}

/// A checkpoint's outcome: the verification it rests on, and the checkpoint event
/// signed (none when the chain does not verify, so nothing was signed).
#[derive(Debug, Serialize, specta::Type)]
pub struct Checkpoint {
    pub report: VerifyReport,
    #[specta(type = Option<i32>)]
    pub event: Option<i64>,
}

/// Verifies the chain, then signs a checkpoint of its head.
#[tauri::command]
#[specta::specta]
pub fn checkpoint_audit(state: State<'_, AppState>, workspace: String) -> IpcResult<Checkpoint> {
    let (report, event) = state.with(|s| s.audit_checkpoint(&workspace))?;
    Ok(Checkpoint { report, event })
}

/// A copy of the trail written to a file: where, and what it holds.
#[derive(Debug, Serialize, specta::Type)]
pub struct SavedTrail {
    pub path: String,
    pub copy: TrailCopy,
}

/// Writes the whole trail to `coffer-audit-<date>.jsonl` in Downloads, a file that
/// `coffer audit verify --file` checks offline.
#[tauri::command]
#[specta::specta]
pub fn export_audit_trail(state: State<'_, AppState>, workspace: String) -> IpcResult<SavedTrail> {
    let name = format!("coffer-audit-{}.jsonl", date_of(now_ms()));
    let (path, copy) = state.with(|s| {
        export_file::save_with(&state.downloads, &name, |out| {
            s.export_audit(&workspace, out)
        })
    })?;
    Ok(SavedTrail { path, copy })
}

/// The Audit screen's Save file: the events of `workspace` matching `filter`, written
/// by the backend as CSV or JSON into Downloads (`coffer-audit-<workspace>-<date>.csv`)
/// and audited as `audit.export`. Needs `audit`; nothing the webview sends is written.
#[tauri::command]
#[specta::specta]
pub fn save_audit_events(
    state: State<'_, AppState>,
    workspace: String,
    filter: AuditFilterDto,
    format: EventsFormat,
) -> IpcResult<SavedEvents> {
    let filter: AuditFilter = filter.into();
    let name = format!(
        "coffer-audit-{}-{}.{}",
        file_safe(&workspace),
        date_of(now_ms()),
        format.extension()
    );
    let (path, events) = state.with(|s| {
        // Refused before a file is made.
        s.check_audit_access(&workspace, &filter)?;
        export_file::save_with(&state.downloads, &name, |out| {
            s.export_audit_events(&workspace, &filter, format, out)
        })
    })?;
    Ok(SavedEvents { path, events })
}

/// Where the events went, and how many.
#[derive(Debug, Serialize, specta::Type)]
pub struct SavedEvents {
    pub path: String,
    #[specta(type = i32)]
    pub events: i64,
}

/// A workspace name as a file name part: its letters, digits, `-`, `_` and `.`.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Moves the events before `before` (`365d`, `2026-11-01`) out of the vault into
/// `coffer-audit-archive-until-<date>.jsonl` in Downloads.
#[tauri::command]
#[specta::specta]
pub fn archive_audit(
    state: State<'_, AppState>,
    workspace: String,
    before: String,
) -> IpcResult<SavedTrail> {
    state.with(|s| {
        let until = date_of(parse_since_ms(before.trim(), now_ms())?);
        let to = export_file::unused_path(
            &state.downloads,
            &format!("coffer-audit-archive-until-{until}.jsonl"),
        )?;
        let copy = s.archive_audit(&workspace, before.trim(), &to)?;
        Ok(SavedTrail {
            path: to.display().to_string(),
            copy,
        })
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `YYYY-MM-DD` (UTC), for file names.
fn date_of(ms: i64) -> String {
    format_timestamp_ms(ms)[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::date_of;

    #[test]
    fn file_names_carry_the_utc_date() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(1_793_491_200_000 - 1), "2026-10-31");
        assert_eq!(date_of(1_793_491_200_000), "2026-11-01");
    }
}
