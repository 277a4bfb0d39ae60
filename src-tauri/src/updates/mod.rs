//! Signed updates of the app, over tauri-plugin-updater.
//!
//! The plugin does the work Tauri documents: it fetches the manifest from the endpoint,
//! offers a release only when its version is higher than the running app's, downloads
//! the artifact and verifies its minisign signature against `plugins.updater.pubkey` in
//! `tauri.conf.json` before anything is installed; with `requireSignedVersion` the
//! signature must also name the version the manifest announces, so an old release
//! cannot be replayed as a new one. This module adds what Coffer needs
//! around it: the endpoint and "check at start" as preferences the user can change
//! (see [`preferences`]), every failure sorted into one line a person can act on (an
//! offline machine says "could not check for updates" and nothing else), a signature
//! made with another key refused at check time rather than after a download, and no
//! install from a copy that was not installed from a package.

pub mod preferences;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde::Serialize;
use tauri::{AppHandle, Runtime, Url};
use tauri_plugin_updater::{Update, UpdaterExt};

pub use preferences::UpdatePreferences;

/// How long a check or a download may stall before it counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an update could not be checked, downloaded or installed. Messages are one line,
/// lower-case (the UI capitalises), and name no secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    #[error("could not check for updates: {reason}")]
    Unreachable { reason: String },
    #[error("the update endpoint is not a valid address: {reason}")]
    InvalidEndpoint { reason: String },
    #[error("the update endpoint must use https")]
    InsecureEndpoint,
    #[error("the update manifest was refused: {reason}")]
    MalformedManifest { reason: String },
    #[error("the update manifest has no build for this computer ({targets})")]
    NoBuildForThisComputer { targets: String },
    #[error("the update was refused: it is signed with a key this app does not trust")]
    UntrustedKey,
    #[error("the update was refused: its signature does not verify ({reason})")]
    BadSignature { reason: String },
    #[error("the update could not be downloaded: {reason}")]
    DownloadFailed { reason: String },
    #[error("there is no update to install: check for updates first")]
    NothingOffered,
    #[error("this copy of Coffer was not installed from a package, so it cannot replace itself; install the new version with your package manager")]
    NotInstalledFromPackage,
    #[error("the update could not be installed: {reason}")]
    InstallFailed { reason: String },
    #[error("the update preferences could not be saved: {reason}")]
    Preferences { reason: String },
    #[error("the updater is not configured: {reason}")]
    Configuration { reason: String },
}

impl UpdateError {
    /// The stable IPC code: `unavailable` for a network that did not answer, `integrity`
    /// for a signature that failed, `invalid` for input or a manifest refused.
    pub fn code(&self) -> &'static str {
        match self {
            UpdateError::Unreachable { .. } | UpdateError::DownloadFailed { .. } => "unavailable",
            UpdateError::UntrustedKey | UpdateError::BadSignature { .. } => "integrity",
            UpdateError::InvalidEndpoint { .. }
            | UpdateError::InsecureEndpoint
            | UpdateError::MalformedManifest { .. }
            | UpdateError::NoBuildForThisComputer { .. }
            | UpdateError::NothingOffered
            | UpdateError::NotInstalledFromPackage => "invalid",
            UpdateError::InstallFailed { .. }
            | UpdateError::Preferences { .. }
            | UpdateError::Configuration { .. } => "internal",
        }
    }
}

impl From<UpdateError> for crate::error::IpcError {
    fn from(e: UpdateError) -> Self {
        crate::error::IpcError {
            code: e.code().into(),
            message: e.to_string(),
        }
    }
}

/// A release the endpoint offers that is newer than the running app.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AvailableUpdate {
    pub version: String,
    pub current_version: String,
    /// Release notes from the manifest, if any.
    pub notes: Option<String>,
    /// The manifest's `pub_date`, as written there (RFC 3339).
    pub date: Option<String>,
}

impl AvailableUpdate {
    fn of(update: &Update) -> AvailableUpdate {
        AvailableUpdate {
            version: update.version.clone(),
            current_version: update.current_version.clone(),
            notes: update.body.clone().filter(|n| !n.trim().is_empty()),
            date: update
                .raw_json
                .get("pub_date")
                .and_then(|d| d.as_str())
                .map(str::to_string),
        }
    }
}

/// The outcome of the latest check, kept so the start check can be shown later.
#[derive(Debug, Clone)]
pub struct CheckRecord {
    pub at_ms: f64,
    pub outcome: Result<Option<AvailableUpdate>, (String, String)>,
}

type CheckFuture = Pin<Box<dyn Future<Output = Result<Option<Update>, UpdateError>> + Send>>;

/// What the app holds for updates: the preferences, the latest check and the update it
/// offered (which "Download and install" acts on). It holds the app handle inside two
/// closures, so commands reach it through `State` alone and run on any runtime (the
/// mock runtime of the tests included).
pub struct Updates {
    check_with: Box<dyn Fn(Url) -> CheckFuture + Send + Sync>,
    restart_with: Box<dyn Fn() + Send + Sync>,
    current_version: String,
    preferences_file: PathBuf,
    default_endpoint: String,
    allow_insecure: bool,
    preferences: Mutex<UpdatePreferences>,
    last_check: Mutex<Option<CheckRecord>>,
    checking: Mutex<u32>,
    offered: Mutex<Option<Update>>,
}

impl Updates {
    /// Reads the preferences file; the default endpoint and whether plain http is
    /// allowed come from the app's `plugins.updater` configuration.
    pub fn new<R: Runtime>(app: &AppHandle<R>, preferences_file: PathBuf) -> Updates {
        let config = updater_config(app);
        let default_endpoint = config
            .get("endpoints")
            .and_then(|e| e.get(0))
            .and_then(|e| e.as_str())
            .unwrap_or_default()
            .to_string();
        let allow_insecure = config
            .get("dangerousInsecureTransportProtocol")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let checker = app.clone();
        let restarter = app.clone();
        Updates {
            check_with: Box::new(move |url| {
                let app = checker.clone();
                Box::pin(async move { check_endpoint(&app, url).await })
            }),
            restart_with: Box::new(move || restarter.request_restart()),
            current_version: app.package_info().version.to_string(),
            preferences: Mutex::new(UpdatePreferences::load(&preferences_file)),
            preferences_file,
            default_endpoint,
            allow_insecure,
            last_check: Mutex::new(None),
            checking: Mutex::new(0),
            offered: Mutex::new(None),
        }
    }

    pub fn preferences(&self) -> UpdatePreferences {
        self.preferences
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    pub fn current_version(&self) -> &str {
        &self.current_version
    }

    pub fn default_endpoint(&self) -> &str {
        &self.default_endpoint
    }

    /// The endpoint checks go to: the user's, else the shipped default.
    pub fn endpoint(&self) -> String {
        self.preferences()
            .endpoint
            .unwrap_or_else(|| self.default_endpoint.clone())
    }

    pub fn last_check(&self) -> Option<CheckRecord> {
        self.last_check.lock().ok().and_then(|l| l.clone())
    }

    pub fn is_checking(&self) -> bool {
        self.checking.lock().map(|n| *n > 0).unwrap_or(false)
    }

    /// Saves new preferences; an empty endpoint (or the default one) means "the
    /// default". Nothing is saved when the endpoint is refused.
    pub fn set_preferences(
        &self,
        endpoint: &str,
        check_at_start: bool,
    ) -> Result<UpdatePreferences, UpdateError> {
        let endpoint = endpoint.trim();
        let endpoint = if endpoint.is_empty() || endpoint == self.default_endpoint {
            None
        } else {
            Some(preferences::validate_endpoint(endpoint, self.allow_insecure)?.to_string())
        };
        let prefs = UpdatePreferences {
            endpoint,
            check_at_start,
        };
        prefs.save(&self.preferences_file)?;
        if let Ok(mut p) = self.preferences.lock() {
            *p = prefs.clone();
        }
        Ok(prefs)
    }

    /// Checks the current endpoint, records the outcome and remembers the update offered.
    pub async fn check(&self) -> Result<Option<AvailableUpdate>, UpdateError> {
        let endpoint = self.endpoint();
        if let Ok(mut n) = self.checking.lock() {
            *n += 1;
        }
        let result = match preferences::validate_endpoint(&endpoint, self.allow_insecure) {
            Ok(url) => (self.check_with)(url).await,
            Err(e) => Err(e),
        };
        if let Ok(mut n) = self.checking.lock() {
            *n = n.saturating_sub(1);
        }
        let outcome = result.as_ref().map(|u| u.as_ref().map(AvailableUpdate::of));
        if let Ok(mut offered) = self.offered.lock() {
            *offered = result.as_ref().ok().cloned().flatten();
        }
        if let Ok(mut last) = self.last_check.lock() {
            *last = Some(CheckRecord {
                at_ms: now_ms(),
                outcome: match &outcome {
                    Ok(a) => Ok(a.clone()),
                    Err(e) => Err((e.code().to_string(), e.to_string())),
                },
            });
        }
        match &result {
            Ok(Some(u)) => tracing::info!(version = %u.version, "update available"),
            Ok(None) => tracing::info!("Coffer is up to date"),
            Err(e) => tracing::warn!("{e}"),
        }
        result.map(|u| u.as_ref().map(AvailableUpdate::of))
    }

    /// Downloads the offered update (reporting `(downloaded, total)` bytes), verifies
    /// its signature and installs it. The app must then restart to run it.
    pub async fn download_and_install(
        &self,
        on_progress: impl FnMut(u64, Option<u64>),
    ) -> Result<String, UpdateError> {
        let update = self
            .offered
            .lock()
            .ok()
            .and_then(|o| o.clone())
            .ok_or(UpdateError::NothingOffered)?;
        let bytes = download_verified(&update, on_progress).await?;
        install(&update, &bytes)?;
        Ok(update.version)
    }

    /// Restarts the app (after an install) once the current command has answered.
    pub fn restart(&self) {
        (self.restart_with)()
    }
}

/// Asks `endpoint` for a release newer than the running app. `Ok(None)` means "Coffer
/// is up to date" (the manifest's version is lower or equal). A release signed with
/// another key than the configured one is refused here, before any download.
pub async fn check_endpoint<R: Runtime>(
    app: &AppHandle<R>,
    endpoint: Url,
) -> Result<Option<Update>, UpdateError> {
    let updater = app
        .updater_builder()
        .endpoints(vec![endpoint.clone()])
        .map_err(|e| sort_check_error(e, &endpoint))?
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| sort_check_error(e, &endpoint))?;
    let update = updater
        .check()
        .await
        .map_err(|e| sort_check_error(e, &endpoint))?;
    if let Some(update) = &update {
        let trusted = configured_key_id(app)?;
        let signed_with = key_id(&update.signature).ok_or_else(|| UpdateError::BadSignature {
            reason: "the manifest's signature is not a minisign signature".into(),
        })?;
        if signed_with != trusted {
            return Err(UpdateError::UntrustedKey);
        }
    }
    Ok(update)
}

/// Downloads the artifact and verifies its signature; the bytes are only returned when
/// the signature holds.
pub async fn download_verified(
    update: &Update,
    mut on_progress: impl FnMut(u64, Option<u64>),
) -> Result<Vec<u8>, UpdateError> {
    let mut downloaded = 0u64;
    let mut update = update.clone();
    update.timeout = Some(REQUEST_TIMEOUT);
    update
        .download(
            |chunk, total| {
                downloaded += chunk as u64;
                on_progress(downloaded, total);
            },
            || {},
        )
        .await
        .map_err(sort_download_error)
}

/// Installs verified bytes (a `.deb` through `pkexec dpkg -i` on Debian). Refused for a
/// binary that was not installed from a package: the plugin would overwrite it in place.
pub fn install(update: &Update, bytes: &[u8]) -> Result<(), UpdateError> {
    if tauri::utils::platform::bundle_type().is_none() {
        return Err(UpdateError::NotInstalledFromPackage);
    }
    update
        .install(bytes)
        .map_err(|e| UpdateError::InstallFailed {
            reason: e.to_string(),
        })
}

fn updater_config<R: Runtime>(app: &AppHandle<R>) -> serde_json::Value {
    app.config()
        .plugins
        .0
        .get("updater")
        .cloned()
        .unwrap_or_default()
}

fn configured_key_id<R: Runtime>(app: &AppHandle<R>) -> Result<[u8; 8], UpdateError> {
    let config = updater_config(app);
    let pubkey = config.get("pubkey").and_then(|k| k.as_str()).unwrap_or("");
    key_id(pubkey).ok_or_else(|| UpdateError::Configuration {
        reason: "plugins.updater.pubkey is not a minisign public key".into(),
    })
}

/// The 8-byte key id of a minisign public key or signature in the form Tauri uses:
/// base64 of the whole file, whose second line is base64 of algorithm (2 bytes), key
/// id (8 bytes) and key or signature.
fn key_id(tauri_form: &str) -> Option<[u8; 8]> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let text = String::from_utf8(b64.decode(tauri_form.trim()).ok()?).ok()?;
    let line = text.lines().nth(1)?;
    let raw = b64.decode(line.trim()).ok()?;
    raw.get(2..10)?.try_into().ok()
}

fn host_of(endpoint: &Url) -> String {
    match (endpoint.host_str(), endpoint.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => endpoint.to_string(),
    }
}

/// The first line of an error, without the URL reqwest likes to repeat.
fn short(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    text.lines().next().unwrap_or_default().to_string()
}

fn sort_check_error(e: tauri_plugin_updater::Error, endpoint: &Url) -> UpdateError {
    use tauri_plugin_updater::Error as E;
    let host = host_of(endpoint);
    match e {
        E::Reqwest(e) if e.is_decode() => UpdateError::MalformedManifest {
            reason: "the endpoint's answer is not JSON".into(),
        },
        E::Reqwest(e) if e.is_timeout() => UpdateError::Unreachable {
            reason: format!("{host} did not answer in time"),
        },
        E::Reqwest(_) => UpdateError::Unreachable {
            reason: format!("{host} could not be reached"),
        },
        E::ReleaseNotFound => UpdateError::Unreachable {
            reason: format!("{host} answered with an error instead of an update manifest"),
        },
        E::Serialization(e) => UpdateError::MalformedManifest { reason: short(&e) },
        E::Semver(e) => UpdateError::MalformedManifest {
            reason: format!("its version is not a semantic version ({})", short(&e)),
        },
        E::TargetNotFound(t) => UpdateError::NoBuildForThisComputer { targets: t },
        E::TargetsNotFound(t) => UpdateError::NoBuildForThisComputer {
            targets: t.join(", "),
        },
        E::UrlParse(e) => UpdateError::InvalidEndpoint { reason: short(&e) },
        E::InsecureTransportProtocol => UpdateError::InsecureEndpoint,
        E::EmptyEndpoints => UpdateError::InvalidEndpoint {
            reason: "no endpoint is set".into(),
        },
        other => UpdateError::Unreachable {
            reason: short(&other),
        },
    }
}

fn sort_download_error(e: tauri_plugin_updater::Error) -> UpdateError {
    use tauri_plugin_updater::Error as E;
    match e {
        E::Minisign(e) => UpdateError::BadSignature { reason: short(&e) },
        E::Base64(_) | E::SignatureUtf8(_) => UpdateError::BadSignature {
            reason: "the signature is not valid base64".into(),
        },
        E::SignedVersionMismatch { signed, announced } => UpdateError::BadSignature {
            reason: format!("it was signed for version {signed}, not {announced}"),
        },
        E::MissingSignedVersion => UpdateError::BadSignature {
            reason: "it does not name the version it was signed for".into(),
        },
        E::Reqwest(e) if e.is_timeout() => UpdateError::DownloadFailed {
            reason: "the server did not answer in time".into(),
        },
        E::Reqwest(e) => UpdateError::DownloadFailed {
            reason: e
                .status()
                .map(|s| format!("the server answered {s}"))
                .unwrap_or_else(|| "the server could not be reached".into()),
        },
        other => UpdateError::DownloadFailed {
            reason: short(&other),
        },
    }
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as f64)
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_read_from_tauri_keys_and_signatures() {
        // Made by `tauri signer generate` and `tauri signer sign` (key 496543DE834C7048).
        let pubkey = "dW50cnVzdGVkIGNvbW1lbnQ6IG1pbmlzaWduIHB1YmxpYyBrZXk6IDQ5NjU0M0RFODM0QzcwNDgKUldSSWNFeUQza05sU2UxYzNFVzgxd2NoUGZxYWdQTElmakdyTXB0WTlSNWtPcGtMalZ0NXpiMzIK";
        let signature = "dW50cnVzdGVkIGNvbW1lbnQ6IHNpZ25hdHVyZSBmcm9tIHRhdXJpIHNlY3JldCBrZXkKUlVSSWNFeUQza05sU2VLR3E0d3R1NmdjL1JvYmdtMTZPcG5XRXNya3NHN3p4WjV4Lzg4MjZqejJ4MWFtK2k4NGdEdUYzWWkxeXRQazZkdWNKTFdNb0JKMy9IbURzOEZ1ZkFBPQp0cnVzdGVkIGNvbW1lbnQ6IHRpbWVzdGFtcDoxNzk1NTQwMzkyCWZpbGU6YS5kZWIKQkdzNnZoZEdZbUpCTnphSVhkVVoySFRMZmxqelJpUEw5WHVmOUlicjFsOG03YmMyb2FvTmswbUFKWEZ4QldnQ3RNa0UrRkx2UkhSRjBVTlhIRTllRGc9PQo=";
        let id = key_id(pubkey).unwrap();
        assert_eq!(key_id(signature), Some(id));
        // minisign prints the id as a little-endian number.
        assert_eq!(u64::from_le_bytes(id), 0x4965_43DE_834C_7048);
        for bad in ["", "not base64!", "aGVsbG8=" /* "hello" */] {
            assert_eq!(key_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn offline_is_one_line_and_unavailable() {
        let e = UpdateError::Unreachable {
            reason: "updates.example.org could not be reached".into(),
        };
        assert_eq!(e.code(), "unavailable");
        assert_eq!(
            e.to_string(),
            "could not check for updates: updates.example.org could not be reached"
        );
        assert_eq!(UpdateError::UntrustedKey.code(), "integrity");
    }
}
