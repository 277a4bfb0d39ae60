//! The Audit screen: filtered events, chain verification, export.

use coffer_core::audit::{AuditEvent, VerifyReport};
use coffer_core::AuditFilter;
use serde::Deserialize;
use tauri::State;

use crate::error::IpcResult;
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
