//! The app's IPC commands: each takes state and a DTO, calls one core function, and
//! maps the error. Grouped by screen.

pub mod audit;
pub mod backups;
pub mod clipboard;
pub mod health;
pub mod members;
pub mod recovery;
pub mod secrets;
pub mod team;
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

#[cfg(test)]
mod tests {
    use super::{recovery, secrets, using, vault};

    const PLAIN: &str = "sk_live_plaintext-4242";

    fn assert_redacted(what: &str, debug: String) {
        assert!(
            !debug.contains(PLAIN) && !debug.contains("plaintext-4242"),
            "{what} Debug shows the value: {debug}"
        );
    }

    #[test]
    fn ipc_dtos_holding_values_redact_their_debug() {
        let input: secrets::SetSecretInput = serde_json::from_value(serde_json::json!({
            "name": "API_KEY", "environment": "development", "value": PLAIN,
        }))
        .unwrap();
        let debug = format!("{input:?}");
        assert!(debug.contains("API_KEY"), "names stay visible: {debug}");
        assert_redacted("SetSecretInput", debug);

        let revealed = secrets::Revealed::new(PLAIN);
        assert_redacted("Revealed", format!("{revealed:?}"));
        // The app's copy of a revealed value is wiped when dropped.
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        wiped_on_drop(&revealed.value);
        assert_eq!(revealed.value.capacity(), PLAIN.len(), "no spare copy");

        // An upgrade's one-time passphrases cross once, for the owner to read.
        let handed = vault::OneTimePassphrase {
            member: "bob".into(),
            passphrase: PLAIN.into(),
        };
        let debug = format!("{handed:?}");
        assert!(debug.contains("bob"), "members stay visible: {debug}");
        assert_redacted("OneTimePassphrase", debug);

        // A test request's texts usually hold references, but a user may type a key.
        let request: using::TestRequestInput = serde_json::from_value(serde_json::json!({
            "environment": "development", "method": "POST", "url": "https://api.example/x",
            "headers": [format!("Authorization: Bearer {PLAIN}")],
            "query": [format!("key={PLAIN}")],
            "basic": format!("user:{PLAIN}"),
            "hmacHeader": "X-Sig", "hmacKey": PLAIN,
            "body": format!("{{\"token\":\"{PLAIN}\"}}"),
        }))
        .unwrap();
        let debug = format!("{request:?}");
        assert!(
            debug.contains("Authorization"),
            "header names stay: {debug}"
        );
        assert_redacted("TestRequestInput", debug);

        // A recovery key opens its owner's keys as fully as their passphrase: its words
        // cross once, inside the new vault's answer, and never show in `Debug`.
        let phrase = format!("{} art", ["abandon"; 23].join(" "));
        let key = coffer_core::recovery::RecoveryKey::parse(&phrase).unwrap();
        let words = recovery::RecoveryWords::from(&key);
        assert_eq!(words.words.len(), 24);
        for (what, debug) in [
            ("RecoveryKey", format!("{key:?}")),
            ("RecoveryWords", format!("{words:?}")),
        ] {
            assert!(
                !debug.contains("abandon") && !debug.contains("art"),
                "{what} Debug shows the words: {debug}"
            );
        }
        let created = vault::CreatedVault {
            unlocked: vault::UnlockResult {
                member: "alice".into(),
                keyring_note: None,
                change: 1.0,
                must_change_passphrase: false,
                one_time_passphrases: vec![handed],
                trail_warning: None,
            },
            recovery_key: words,
        };
        let debug = format!("{created:?}");
        assert!(debug.contains("alice"), "members stay visible: {debug}");
        assert!(
            !debug.contains("abandon"),
            "CreatedVault shows the words: {debug}"
        );
        assert_redacted("CreatedVault", debug);
    }
}
