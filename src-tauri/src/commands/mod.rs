//! The app's IPC commands: each takes state and a DTO, calls one core function, and
//! maps the error. Grouped by screen.

pub mod audit;
pub mod members;
pub mod secrets;
pub mod updates;
pub mod using;
pub mod vault;

use serde::Deserialize;

/// Where a command acts: a workspace and a project, by name.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct ScopeDto {
    pub workspace: String,
    pub project: String,
}

impl From<ScopeDto> for coffer_core::Scope {
    fn from(s: ScopeDto) -> Self {
        coffer_core::Scope::new(s.workspace, s.project)
    }
}
