//! The team vault on PostgreSQL: the server's side of it.
//!
//! A team vault keeps on the server what a vault file keeps — sealed values, sealed key
//! envelopes, signed rows and signed audit events — as opaque *records* grouped in
//! *scopes* (0 is the vault itself, every other scope a workspace), each scope with a
//! sequence number that orders its commits. The server never holds a plaintext or a
//! private key. It enforces what it can (see `sql/0001_server.sql`): each member is their
//! own login; members only read, and row-level security shows each one the workspaces,
//! projects and key envelopes that are theirs; writes go only through SQL functions that
//! check the capability, compare-and-set each record and append audit events onto the
//! chain's head, under the scope's locked head row, then `NOTIFY` the new number.
//!
//! This module connects (TLS only), applies the schema ([`Server::migrate`]) and speaks
//! those functions; clients verify what they read with the keys they hold.

mod connect;
mod create;
mod invite;
mod live;
mod login;
mod migrate;
mod server;
mod sync;
mod trail;
mod verify;

pub use connect::ServerUrl;
pub use create::{TeamCreated, TeamSequence, TeamStatus, TEAM_CREATE};
pub use invite::{
    fingerprint, Admitted, Invitation, Invited, JoinProgress, JoinStarted, Joined, MAX_INVITATION,
    TEAM_ADMIT, TEAM_CANCEL, TEAM_INVITE, TEAM_JOIN,
};
pub use live::{TeamEndpoint, TeamListener, TeamLocal};
pub use login::{login_for, scram_verifier, Login};
pub use migrate::{SchemaState, SCHEMA_VERSION};
pub use server::{Change, Digest, Event, Record, Server, StoredEvent};
pub use sync::{Keep, Resolved, SyncReport};
pub use trail::{TeamAuditEvent, TeamTrail};
pub use verify::Verified;
