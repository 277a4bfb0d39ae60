//! Workspace settings: the rollback window, how many versions keep their ciphertext,
//! the recovery window for deleted secrets, and the auto-lock delay.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::time_fmt::{format_duration_ms, parse_duration_ms};

const DAY_MS: i64 = 86_400_000;

/// The shortest auto-lock a workspace may ask for, and what the app falls back to when
/// it cannot read the setting: failing to know how long to wait must lock sooner, not
/// later.
pub const AUTO_LOCK_SHORTEST_MS: i64 = 60_000;
/// The longest auto-lock a workspace may ask for.
pub const AUTO_LOCK_LONGEST_MS: i64 = 7 * DAY_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingKey {
    RollbackWindow,
    MaxVersions,
    RecoveryWindow,
    AutoLock,
}

impl SettingKey {
    pub const ALL: [SettingKey; 4] = [
        SettingKey::RollbackWindow,
        SettingKey::MaxVersions,
        SettingKey::RecoveryWindow,
        SettingKey::AutoLock,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SettingKey::RollbackWindow => "rollback-window",
            SettingKey::MaxVersions => "max-versions",
            SettingKey::RecoveryWindow => "recovery-window",
            SettingKey::AutoLock => "auto-lock",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw).ok_or_else(|| {
            Error::invalid(format!(
                "unknown setting '{raw}': choose rollback-window, max-versions, recovery-window or auto-lock"
            ))
        })
    }

    /// The stored default, as an integer (milliseconds, or a count).
    pub fn default_value(self) -> i64 {
        match self {
            SettingKey::RollbackWindow | SettingKey::RecoveryWindow => 7 * DAY_MS,
            SettingKey::MaxVersions => 10,
            SettingKey::AutoLock => 15 * 60_000,
        }
    }

    /// Parses what a user typed into the stored integer, within sane bounds.
    pub fn parse_value(self, raw: &str) -> Result<i64> {
        match self {
            SettingKey::MaxVersions => {
                let n: i64 = raw.trim().parse().map_err(|_| {
                    Error::invalid(format!("max-versions must be a whole number, not '{raw}'"))
                })?;
                if !(1..=1000).contains(&n) {
                    return Err(Error::invalid("max-versions must be between 1 and 1000"));
                }
                Ok(n)
            }
            SettingKey::AutoLock => {
                let ms = parse_duration_ms(raw)?;
                if !(AUTO_LOCK_SHORTEST_MS..=AUTO_LOCK_LONGEST_MS).contains(&ms) {
                    return Err(Error::invalid("auto-lock must be between 1m and 7d"));
                }
                Ok(ms)
            }
            SettingKey::RollbackWindow | SettingKey::RecoveryWindow => {
                let ms = parse_duration_ms(raw)?;
                if ms > 3650 * DAY_MS {
                    return Err(Error::invalid(format!(
                        "{} may not exceed 3650d",
                        self.as_str()
                    )));
                }
                Ok(ms)
            }
        }
    }

    pub fn display(self, value: i64) -> String {
        match self {
            SettingKey::MaxVersions => value.to_string(),
            _ => format_duration_ms(value),
        }
    }
}

/// One setting as shown to a user.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Setting {
    pub key: &'static str,
    pub value: String,
    /// Milliseconds for durations, a count for max-versions.
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub raw: i64,
    pub is_default: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_within_bounds() {
        assert_eq!(
            SettingKey::parse("rollback-window").unwrap(),
            SettingKey::RollbackWindow
        );
        assert!(SettingKey::parse("colour").is_err());
        assert_eq!(SettingKey::MaxVersions.parse_value("3").unwrap(), 3);
        assert!(SettingKey::MaxVersions.parse_value("0").is_err());
        assert!(SettingKey::MaxVersions.parse_value("lots").is_err());
        assert_eq!(
            SettingKey::RollbackWindow.parse_value("2d").unwrap(),
            2 * DAY_MS
        );
        assert!(SettingKey::AutoLock.parse_value("5s").is_err());
        assert_eq!(SettingKey::RecoveryWindow.display(7 * DAY_MS), "7d");
    }
}
