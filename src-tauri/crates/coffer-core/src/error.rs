//! Errors of the core, each mapped to one stable code of DESIGN.md.
//!
//! Messages name things (a secret, a workspace, a line of a file) and never carry a
//! value, a key or a passphrase: the types that hold those cannot be formatted.

use std::fmt;

/// The stable error codes shared by the CLI (exit codes) and the app (messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Invalid,
    NotFound,
    Denied,
    Conflict,
    Auth,
    Integrity,
    Internal,
}

impl ErrorCode {
    /// The code [`as_str`](Self::as_str) names; `None` for any other text.
    pub fn parse(text: &str) -> Option<ErrorCode> {
        [
            ErrorCode::Invalid,
            ErrorCode::NotFound,
            ErrorCode::Denied,
            ErrorCode::Conflict,
            ErrorCode::Auth,
            ErrorCode::Integrity,
            ErrorCode::Internal,
        ]
        .into_iter()
        .find(|c| c.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Invalid => "invalid",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Denied => "denied",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Auth => "auth",
            ErrorCode::Integrity => "integrity",
            ErrorCode::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{0}")]
    Invalid(String),
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{what} has expired; set a new value to use it again")]
    Expired { what: String },
    #[error("permission denied: {member} may not {capability} in workspace '{workspace}'")]
    Denied {
        member: String,
        capability: &'static str,
        workspace: String,
    },
    #[error("permission denied: {member} may not {what}")]
    DeniedAction { member: String, what: String },
    #[error("{0}")]
    Conflict(String),
    #[error("the vault is busy in another process; try again")]
    Busy,
    #[error("wrong member name or passphrase")]
    BadCredentials,
    #[error("{0}")]
    Auth(String),
    /// Every failure to open a ciphertext, whatever its cause.
    #[error("integrity check failed: {0} could not be decrypted (tampered or moved data)")]
    Decrypt(String),
    #[error("integrity check failed: {0}")]
    Integrity(String),
    #[error("this vault was written by a newer Coffer (schema {found}, this build knows up to {known}); upgrade Coffer")]
    SchemaTooNew { found: usize, known: usize },
    #[error("storage error: {0}")]
    Storage(String),
    #[error("{0}")]
    Io(String),
    /// An error another Coffer process (the CLI's session agent) met on this one's
    /// behalf: its code and message as it said them.
    #[error("{message}")]
    Relayed { code: ErrorCode, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Invalid(_) => ErrorCode::Invalid,
            Error::NotFound { .. } | Error::Expired { .. } => ErrorCode::NotFound,
            Error::Denied { .. } | Error::DeniedAction { .. } => ErrorCode::Denied,
            Error::Conflict(_) | Error::Busy => ErrorCode::Conflict,
            Error::BadCredentials | Error::Auth(_) => ErrorCode::Auth,
            Error::Decrypt(_) | Error::Integrity(_) => ErrorCode::Integrity,
            Error::SchemaTooNew { .. } => ErrorCode::Integrity,
            Error::Storage(_) | Error::Io(_) => ErrorCode::Internal,
            Error::Relayed { code, .. } => *code,
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode as C;
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.code, C::DatabaseBusy | C::DatabaseLocked) =>
            {
                Error::Busy
            }
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.code, C::DatabaseCorrupt | C::NotADatabase) =>
            {
                Error::Integrity("the vault file is corrupted or is not a Coffer vault (restore a snapshot: `coffer snapshots` and `coffer restore FILE`, or Settings → Backups in the app)".into())
            }
            // SQLite messages name tables and columns, never bound values.
            _ => Error::Storage(e.to_string()),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}
