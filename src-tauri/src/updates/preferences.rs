//! The update preferences: where to look for updates and whether to look at start.
//!
//! They belong to this installation of the app, not to a vault (every member of every
//! vault opened here shares them), so they live in a small JSON file in the app's
//! config directory (`~/.config/dev.coffer.app/updates.json` on Linux).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tauri::Url;

use super::UpdateError;

/// What the file holds. A missing endpoint means "the one shipped in the config", so a
/// new release can move the default without overriding a choice the user made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UpdatePreferences {
    pub endpoint: Option<String>,
    pub check_at_start: bool,
}

/// Off by default: an offline tool does not contact the network at every start until
/// someone who may `manage` turns the check on.
impl Default for UpdatePreferences {
    fn default() -> Self {
        UpdatePreferences {
            endpoint: None,
            check_at_start: false,
        }
    }
}

impl UpdatePreferences {
    /// Reads the file; a missing or unreadable one gives the defaults (a broken
    /// preference file must never stop the app from starting).
    pub fn load(path: &Path) -> UpdatePreferences {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), "update preferences ignored: {e}");
                UpdatePreferences::default()
            }),
            Err(_) => UpdatePreferences::default(),
        }
    }

    /// Writes the file through a temporary sibling, so a crash never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), UpdateError> {
        let failed = |e: std::io::Error| UpdateError::Preferences {
            reason: format!("{}: {e}", path.display()),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let tmp: PathBuf = path.with_extension("json.tmp");
        // Strings and flags only: serializing it cannot fail.
        let json = serde_json::to_vec_pretty(self).expect("preferences serialize");
        std::fs::write(&tmp, json).map_err(failed)?;
        std::fs::rename(&tmp, path).map_err(failed)
    }
}

/// Checks an endpoint typed by a user: an absolute http(s) URL, and https unless the
/// updater configuration allows plain http (only test configurations do; a release
/// build refuses plain http anyway).
pub fn validate_endpoint(raw: &str, allow_insecure: bool) -> Result<Url, UpdateError> {
    let raw = raw.trim();
    let url = Url::parse(raw).map_err(|e| UpdateError::InvalidEndpoint {
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure => {}
        "http" => return Err(UpdateError::InsecureEndpoint),
        other => {
            return Err(UpdateError::InvalidEndpoint {
                reason: format!("'{other}:' is not an http address"),
            })
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UpdateError::InvalidEndpoint {
            reason: "it names no host".into(),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_broken_files_give_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("updates.json");
        assert_eq!(UpdatePreferences::load(&path), UpdatePreferences::default());
        std::fs::write(&path, b"{not json").unwrap();
        assert!(!UpdatePreferences::load(&path).check_at_start);
    }

    #[test]
    fn preferences_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/updates.json");
        let prefs = UpdatePreferences {
            endpoint: Some("https://updates.example.org/coffer.json".into()),
            check_at_start: false,
        };
        prefs.save(&path).unwrap();
        assert_eq!(UpdatePreferences::load(&path), prefs);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"checkAtStart\": false"), "{text}");
    }

    #[test]
    fn endpoints_must_be_https_unless_the_config_allows_http() {
        assert!(validate_endpoint(" https://updates.example.org/latest.json ", false).is_ok());
        assert!(matches!(
            validate_endpoint("http://updates.example.org/latest.json", false),
            Err(UpdateError::InsecureEndpoint)
        ));
        assert!(validate_endpoint("http://127.0.0.1:8080/latest.json", true).is_ok());
        for bad in [
            "",
            "updates.example.org",
            "ftp://example.org/x",
            "file:///etc/passwd",
        ] {
            assert!(
                matches!(
                    validate_endpoint(bad, true),
                    Err(UpdateError::InvalidEndpoint { .. })
                ),
                "{bad}"
            );
        }
    }
}
