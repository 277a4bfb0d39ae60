//! The Secrets and History screens: list, show, add and update values, reveal,
//! roll back, delete and restore.

use coffer_core::time_fmt::parse_duration_ms;
use coffer_core::value::SecretValue;
use coffer_core::{SecretDetail, SecretKind, SecretScope, SetOutcome, SetRequest, ValueSource};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;

use super::ScopeDto;
use crate::error::IpcResult;
use crate::secret_list::{in_pieces, SecretList};
use crate::state::AppState;

/// A new value for one environment: typed (sent once, never returned) or generated.
/// `Debug` by hand: it must never show the typed value.
#[derive(Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SetSecretInput {
    pub name: String,
    pub environment: String,
    pub value: Option<String>,
    pub generate_length: Option<u32>,
    pub generate_alphabet: Option<String>,
    pub description: Option<String>,
    pub kind: Option<String>,
    pub scope: Option<String>,
    pub expires_in: Option<String>,
    pub rotate_every: Option<String>,
    pub if_version: Option<i32>,
    /// Hosts a test request may send the secret to: absent keeps the list, empty
    /// clears it.
    pub allowed_hosts: Option<Vec<String>>,
}

impl std::fmt::Debug for SetSecretInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetSecretInput")
            .field("name", &self.name)
            .field("environment", &self.environment)
            .field("value", &self.value.as_ref().map(|_| "<redacted>"))
            .field("generate_length", &self.generate_length)
            .field("generate_alphabet", &self.generate_alphabet)
            .field("description", &self.description)
            .field("kind", &self.kind)
            .field("scope", &self.scope)
            .field("expires_in", &self.expires_in)
            .field("rotate_every", &self.rotate_every)
            .field("if_version", &self.if_version)
            .field("allowed_hosts", &self.allowed_hosts)
            .finish()
    }
}

impl SetSecretInput {
    fn into_request(self) -> coffer_core::Result<SetRequest> {
        let value = match (self.value, self.generate_length) {
            (Some(v), _) => ValueSource::Given(SecretValue::from_string(v)?),
            (None, Some(length)) => ValueSource::Generate {
                length: length as usize,
                alphabet: self.generate_alphabet.unwrap_or_else(|| "alnum".into()),
            },
            (None, None) => {
                return Err(coffer_core::Error::Invalid(
                    "type a value or generate one".into(),
                ))
            }
        };
        let opt_duration = |d: Option<String>| {
            d.filter(|d| !d.is_empty())
                .map(|d| parse_duration_ms(&d))
                .transpose()
        };
        Ok(SetRequest {
            name: self.name,
            environment: Some(self.environment),
            value,
            description: self.description,
            kind: self.kind.map(|k| SecretKind::parse(&k)).transpose()?,
            scope: self.scope.map(|s| SecretScope::parse(&s)).transpose()?,
            expires_in_ms: opt_duration(self.expires_in)?,
            rotate_every_ms: opt_duration(self.rotate_every)?,
            if_version: self.if_version.map(i64::from),
            allowed_hosts: self.allowed_hosts,
        })
    }
}

#[derive(Debug, Serialize, specta::Type)]
pub struct Purge {
    /// When the deleted secret is purged, in ms since the epoch.
    #[specta(type = i32)]
    pub at_ms: i64,
}

/// The one DTO that carries a value to the webview; its `Debug` never shows it, and
/// its copy of the value is wiped when it is dropped (after IPC has serialised it).
#[derive(Serialize, specta::Type)]
pub struct Revealed {
    #[specta(type = String)]
    pub value: zeroize::Zeroizing<String>,
}

impl Revealed {
    /// Copies `value` into a wiped-on-drop buffer of exactly its size (a growing
    /// buffer would leave copies behind in freed memory).
    pub fn new(value: &str) -> Revealed {
        let mut copy = zeroize::Zeroizing::new(String::with_capacity(value.len()));
        copy.push_str(value);
        Revealed { value: copy }
    }
}

impl std::fmt::Debug for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Revealed(<redacted>)")
    }
}

/// The key list, compact (see [`SecretList`]): at 10,000 secrets it is what the
/// first paint after unlock waits for. Async so that it runs off the main thread,
/// which meanwhile keeps presenting the window's frames.
#[tauri::command]
#[specta::specta]
pub async fn list_secrets(
    state: State<'_, AppState>,
    scope: ScopeDto,
    include_deleted: bool,
) -> IpcResult<SecretList> {
    state
        .with(|s| s.list_secrets(&scope.into(), include_deleted))
        .map(SecretList::from)
}

/// The key list in pieces, as it is read (see [`crate::secret_list::in_pieces`]):
/// the first screenful at once, so that the first paint after unlock does not wait
/// for 100,000 secrets to be read, sent and parsed; then the rest in large pieces.
/// Returns how many secrets were sent, so the screen knows when it has them all.
#[tauri::command]
#[specta::specta]
pub async fn stream_secrets(
    state: State<'_, AppState>,
    scope: ScopeDto,
    include_deleted: bool,
    on_piece: Channel<SecretList>,
) -> IpcResult<u32> {
    state.with(|s| {
        let sent = in_pieces(s, &scope.into(), include_deleted, &mut |piece| {
            on_piece
                .send(piece)
                .map_err(|e| coffer_core::Error::Io(format!("the key list was not delivered: {e}")))
        })?;
        Ok(u32::try_from(sent).unwrap_or(u32::MAX))
    })
}

#[tauri::command]
#[specta::specta]
pub fn show_secret(
    state: State<'_, AppState>,
    scope: ScopeDto,
    name: String,
) -> IpcResult<SecretDetail> {
    state.with(|s| s.show_secret(&scope.into(), &name))
}

#[tauri::command]
#[specta::specta]
pub fn set_secret(
    state: State<'_, AppState>,
    scope: ScopeDto,
    input: SetSecretInput,
) -> IpcResult<SetOutcome> {
    state.with(|s| s.set_secret(&scope.into(), input.into_request()?))
}

/// The one command that returns a value: the `reveal` capability only, audited with
/// the reason given. The UI masks it again after a few seconds.
#[tauri::command]
#[specta::specta]
pub fn reveal_secret(
    state: State<'_, AppState>,
    scope: ScopeDto,
    name: String,
    environment: String,
    reason: Option<String>,
) -> IpcResult<Revealed> {
    let v = state.with(|s| {
        s.reveal(
            &scope.into(),
            &name,
            Some(&environment),
            None,
            reason.as_deref(),
        )
    })?;
    Ok(Revealed::new(v.expose()))
}

#[tauri::command]
#[specta::specta]
pub fn rollback_secret(
    state: State<'_, AppState>,
    scope: ScopeDto,
    name: String,
    environment: String,
    to: i32,
) -> IpcResult<SetOutcome> {
    state.with(|s| s.rollback(&scope.into(), &name, &environment, i64::from(to)))
}

/// Soft delete; returns when the secret will be purged (ms since the epoch).
#[tauri::command]
#[specta::specta]
pub fn delete_secret(
    state: State<'_, AppState>,
    scope: ScopeDto,
    name: String,
) -> IpcResult<Purge> {
    state
        .with(|s| s.delete_secret(&scope.into(), &name))
        .map(|at_ms| Purge { at_ms })
}

#[tauri::command]
#[specta::specta]
pub fn restore_secret(state: State<'_, AppState>, scope: ScopeDto, name: String) -> IpcResult<()> {
    state.with(|s| s.restore_secret(&scope.into(), &name))
}
