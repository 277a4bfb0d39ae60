//! "Remember on this device": a random device key kept in the OS keyring wraps the
//! vault key in a key slot of its own, so the member need not type the passphrase.
//!
//! The OS store is behind [`DeviceKeyStore`] so tests use an in-memory store and the
//! real Secret Service is exercised end to end. Where no keyring answers, callers get
//! a one-line [`DeviceStoreError`] and fall back to the passphrase.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use zeroize::Zeroizing;

const SERVICE: &str = "coffer";

/// Why the keyring could not help, in one line fit for a user.
#[derive(Debug, Clone)]
pub struct DeviceStoreError(pub String);

impl fmt::Display for DeviceStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeviceStoreError {}

pub trait DeviceKeyStore {
    /// What this store is, for messages and for the slot's label.
    fn describe(&self) -> String;
    fn get(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, DeviceStoreError>;
    fn set(&self, account: &str, key: &[u8]) -> Result<(), DeviceStoreError>;
    fn delete(&self, account: &str) -> Result<(), DeviceStoreError>;
}

/// The operating system's keyring (Secret Service on Linux, Keychain on macOS,
/// Credential Manager on Windows) through the `keyring` crate.
pub struct OsKeyring;

fn entry(account: &str) -> Result<keyring::Entry, DeviceStoreError> {
    keyring::Entry::new(SERVICE, account).map_err(explain)
}

fn explain(e: keyring::Error) -> DeviceStoreError {
    let text = match &e {
        keyring::Error::PlatformFailure(inner) => {
            format!("the OS keyring is not available ({inner})")
        }
        keyring::Error::NoStorageAccess(inner) => {
            format!("the OS keyring refused access ({inner})")
        }
        other => format!("the OS keyring failed ({other})"),
    };
    // Keep it to one line whatever the platform put in the message.
    DeviceStoreError(text.replace('\n', " "))
}

impl DeviceKeyStore for OsKeyring {
    fn describe(&self) -> String {
        "OS keyring".into()
    }

    fn get(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, DeviceStoreError> {
        match entry(account)?.get_secret() {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(explain(e)),
        }
    }

    fn set(&self, account: &str, key: &[u8]) -> Result<(), DeviceStoreError> {
        entry(account)?.set_secret(key).map_err(explain)
    }

    fn delete(&self, account: &str) -> Result<(), DeviceStoreError> {
        match entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(explain(e)),
        }
    }
}

type Entries = HashMap<String, Zeroizing<Vec<u8>>>;

/// An in-memory store for tests and for machines with no keyring at all.
#[derive(Default)]
pub struct MemoryKeyStore {
    entries: Mutex<Entries>,
    /// When set, every call fails like a machine with no keyring service.
    pub unavailable: bool,
}

impl MemoryKeyStore {
    /// A store that fails like a machine where no keyring service answers.
    pub fn unavailable() -> Self {
        MemoryKeyStore {
            unavailable: true,
            ..Default::default()
        }
    }

    fn guard(&self) -> Result<std::sync::MutexGuard<'_, Entries>, DeviceStoreError> {
        if self.unavailable {
            return Err(DeviceStoreError(
                "the OS keyring is not available (no service answered)".into(),
            ));
        }
        self.entries
            .lock()
            .map_err(|_| DeviceStoreError("the in-memory key store is poisoned".into()))
    }
}

impl DeviceKeyStore for MemoryKeyStore {
    fn describe(&self) -> String {
        "in-memory store".into()
    }

    fn get(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, DeviceStoreError> {
        Ok(self
            .guard()?
            .get(account)
            .map(|v| Zeroizing::new(v.to_vec())))
    }

    fn set(&self, account: &str, key: &[u8]) -> Result<(), DeviceStoreError> {
        self.guard()?
            .insert(account.to_string(), Zeroizing::new(key.to_vec()));
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), DeviceStoreError> {
        self.guard()?.remove(account);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keyring crate's own mock store, behind the same calls the OS store makes.
    #[test]
    fn keyring_mock_round_trip() {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        let e = keyring::Entry::new(SERVICE, "vault-x/alice").unwrap();
        e.set_secret(&[1, 2, 3]).unwrap();
        assert_eq!(e.get_secret().unwrap(), vec![1, 2, 3]);
        e.delete_credential().unwrap();
        assert!(matches!(e.get_secret(), Err(keyring::Error::NoEntry)));
    }

    #[test]
    fn unavailable_store_explains_itself_in_one_line() {
        let s = MemoryKeyStore {
            unavailable: true,
            ..Default::default()
        };
        let e = s.get("a").unwrap_err().to_string();
        assert!(e.contains("not available") && !e.contains('\n'));
    }
}
