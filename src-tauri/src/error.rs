//! Errors as they cross IPC: `{code, message}` with DESIGN.md's stable codes.

use serde::Serialize;

#[derive(Debug, Serialize, specta::Type)]
pub struct IpcError {
    /// One of: invalid, not_found, denied, conflict, auth, integrity, internal, locked,
    /// unavailable (a remote service such as the update endpoint did not answer).
    pub code: String,
    pub message: String,
}

impl IpcError {
    pub fn locked() -> Self {
        IpcError {
            code: "auth".into(),
            message: "the vault is locked".into(),
        }
    }
}

impl From<coffer_core::Error> for IpcError {
    fn from(e: coffer_core::Error) -> Self {
        IpcError {
            code: e.code().as_str().into(),
            message: e.to_string(),
        }
    }
}

pub type IpcResult<T> = Result<T, IpcError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialize_as_code_and_message() {
        let e: IpcError = coffer_core::Error::NotFound {
            what: "secret 'X'".into(),
        }
        .into();
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":"not_found","message":"secret 'X' not found"}"#
        );
    }
}
