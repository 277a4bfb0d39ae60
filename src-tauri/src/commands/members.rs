//! Members & roles: add, change a role, remove; the capability matrix.

use coffer_core::access::{Capability, Role};
use coffer_core::value::Passphrase;
use coffer_core::MemberInfo;
use serde::Serialize;
use tauri::State;

use crate::error::IpcResult;
use crate::state::AppState;

#[derive(Debug, Serialize, specta::Type)]
pub struct RoleRow {
    pub role: Role,
    pub capabilities: Vec<Capability>,
}

#[tauri::command]
#[specta::specta]
pub fn role_matrix() -> Vec<RoleRow> {
    Role::ALL
        .into_iter()
        .map(|role| RoleRow {
            role,
            capabilities: role.capabilities(),
        })
        .collect()
}

#[tauri::command]
#[specta::specta]
pub fn list_members(state: State<'_, AppState>, workspace: String) -> IpcResult<Vec<MemberInfo>> {
    state.with(|s| s.list_members(&workspace))
}

#[tauri::command]
#[specta::specta]
pub fn add_member(
    state: State<'_, AppState>,
    workspace: String,
    name: String,
    role: String,
    passphrase: String,
) -> IpcResult<()> {
    state.with(|s| {
        s.add_member(
            &workspace,
            &name,
            role.parse()?,
            &Passphrase::new(passphrase),
        )
    })
}

#[tauri::command]
#[specta::specta]
pub fn grant_role(
    state: State<'_, AppState>,
    workspace: String,
    name: String,
    role: String,
) -> IpcResult<()> {
    state.with(|s| s.grant_role(&workspace, &name, role.parse()?, None))
}

#[tauri::command]
#[specta::specta]
pub fn remove_member(state: State<'_, AppState>, workspace: String, name: String) -> IpcResult<()> {
    state.with(|s| s.remove_member(&workspace, &name))
}
