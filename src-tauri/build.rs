//! Declares the app's own commands so each gets an `allow-<command>` permission, and
//! the capability file can list exactly those.

const COMMANDS: &[&str] = &[
    "vault_status",
    "create_vault",
    "unlock",
    "device_remembered",
    "unlock_with_device",
    "set_remember_device",
    "device_status",
    "lock",
    "confirm_passphrase",
    "change_passphrase",
    "list_workspaces",
    "list_projects",
    "list_environments",
    "my_access",
    "get_settings",
    "set_setting",
    "note_activity",
    "save_export",
    "recovery_key_status",
    "replace_recovery_key",
    "recover",
    "list_secrets",
    "show_secret",
    "set_secret",
    "reveal_secret",
    "rollback_secret",
    "delete_secret",
    "restore_secret",
    "test_request",
    "secret_usages",
    "audit_events",
    "verify_audit",
    "trail_state",
    "checkpoint_audit",
    "export_audit_trail",
    "archive_audit",
    "list_snapshots",
    "back_up_now",
    "set_snapshot_keep",
    "restore_snapshot",
    "check_health",
    "role_matrix",
    "list_members",
    "add_member",
    "grant_role",
    "remove_member",
    "update_status",
    "set_update_preferences",
    "check_for_updates",
    "install_update",
    "restart_app",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("the Tauri build configuration is valid");
}
