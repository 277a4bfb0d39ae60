//! Coffer's core: the encrypted vault and everything that happens to a secret.
//!
//! A credential is stored once, referenced by name everywhere, and its value never
//! travels where it is not needed. This crate owns the storage (`store`), the key
//! hierarchy (`crypto`), who may do what (`access`), the lifecycle of a secret
//! (`secrets`), the tamper-evident trail (`audit`) and the formats that cross the
//! boundary (`import`, `export`). It has no Tauri dependency: the desktop shell and the
//! `coffer` command line are both thin layers over [`Session`].
#![forbid(unsafe_code)]

pub mod access;
mod anchor;
pub mod audit;
pub mod audit_file;
mod authority;
pub mod clock;
pub mod crypto;
pub mod detect;
pub mod device;
pub mod doctor;
mod error;
pub mod export;
pub mod generate;
pub mod hardening;
pub mod hosts;
pub mod import;
mod keys;
pub mod masking;
mod members;
pub mod names;
pub mod recovery;
pub mod references;
mod resolve;
pub mod restore;
mod run_check;
mod secrets;
mod session;
pub mod settings;
pub mod snapshots;
pub mod spreadsheet;
mod store;
#[cfg(feature = "team")]
pub mod team;
#[cfg(feature = "http")]
pub mod test_request;
pub mod text;
pub mod time_fmt;
mod trail_files;
mod upgrade;
pub mod value;
mod vault;

pub use error::{Error, ErrorCode, Result};
pub use members::MemberInfo;
pub use resolve::{Purpose, Resolver};
pub use run_check::{RunCheck, StoredMatch, Usage};
pub use secrets::DEFAULT_ENVIRONMENT;
pub use secrets::{
    EnvState, EnvStatus, SecretDetail, SecretKind, SecretScope, SecretSummary, SetOutcome,
    SetRequest, ValueSource, VersionInfo,
};
pub use session::{
    AuditFilter, EnvironmentInfo, ProjectInfo, Scope, Session, UpgradeReport, WorkspaceInfo,
};
pub use trail_files::{EventsFormat, TrailCopy, TrailMark, TrailState};
pub use vault::{default_path as default_vault_path, failure_delay, Lease, Vault};
