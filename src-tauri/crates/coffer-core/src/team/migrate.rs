//! The server's schema: ordered SQL in the binary, each step one transaction under an
//! advisory lock, so two clients upgrading at once apply each step once.

use super::Server;
use crate::error::{Error, Result};

/// The steps, in order; step `i` makes schema version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("sql/0001_server.sql"),
    include_str!("sql/0002_invitations.sql"),
    include_str!("sql/0003_retried_commits.sql"),
];

/// The newest schema this build knows.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// An advisory lock key of Coffer's own ("coffer" in ASCII).
const LOCK: i64 = 0x636f_6666_6572;

/// What a client found on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    /// No team vault in this database yet.
    Empty,
    /// An older schema: `coffer team upgrade` brings it to this build's.
    Older {
        found: i32,
    },
    Current,
    /// Written by a newer Coffer: this build may only read ("upgrade Coffer").
    Newer {
        found: i32,
    },
}

impl SchemaState {
    fn of(found: i32) -> SchemaState {
        match found {
            0 => SchemaState::Empty,
            n if n < SCHEMA_VERSION => SchemaState::Older { found: n },
            n if n == SCHEMA_VERSION => SchemaState::Current,
            n => SchemaState::Newer { found: n },
        }
    }

    /// Whether this build may write to a server in this state.
    pub fn writable(self) -> bool {
        self == SchemaState::Current
    }
}

impl Server {
    /// The schema version on the server, as far as this login may see it.
    pub fn schema_state(&mut self) -> Result<SchemaState> {
        let exists: bool = self
            .client()
            .query_one("SELECT to_regclass('coffer.migrations') IS NOT NULL", &[])
            .map_err(super::server::sql_error)
            .and_then(|r| super::server::col(&r, 0))?;
        if !exists {
            return Ok(SchemaState::Empty);
        }
        let found: i32 = self
            .client()
            .query_one(
                "SELECT coalesce(max(version), 0) FROM coffer.migrations",
                &[],
            )
            .map_err(super::server::sql_error)
            .and_then(|r| super::server::col(&r, 0))?;
        Ok(SchemaState::of(found))
    }

    /// Applies every step the server lacks; returns how many were applied. Needs a
    /// login that may create schemas and roles in this database (its owner or
    /// administrator), which then owns the tables and functions. Refuses a server
    /// whose schema is newer than this build's.
    pub fn migrate(&mut self) -> Result<usize> {
        self.migrate_to(SCHEMA_VERSION)
    }

    /// As [`Server::migrate`], up to schema `version` only (an upgrade in stages).
    pub fn migrate_to(&mut self, version: i32) -> Result<usize> {
        let mut applied = 0;
        let wanted = usize::try_from(version).unwrap_or(0).min(MIGRATIONS.len());
        for (i, sql) in MIGRATIONS[..wanted].iter().enumerate() {
            let version = i as i32 + 1;
            let mut tx = self
                .client()
                .transaction()
                .map_err(super::server::sql_error)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
                .map_err(super::server::sql_error)?;
            tx.batch_execute(
                "CREATE SCHEMA IF NOT EXISTS coffer;
                 CREATE TABLE IF NOT EXISTS coffer.migrations (
                     version    int PRIMARY KEY,
                     applied_at timestamptz NOT NULL DEFAULT now(),
                     by_coffer  text NOT NULL
                 );",
            )
            .map_err(super::server::sql_error)?;
            let found: i32 = tx
                .query_one(
                    "SELECT coalesce(max(version), 0) FROM coffer.migrations",
                    &[],
                )
                .map_err(super::server::sql_error)
                .and_then(|r| super::server::col(&r, 0))?;
            if found > SCHEMA_VERSION {
                return Err(Error::SchemaTooNew {
                    found: found as usize,
                    known: SCHEMA_VERSION as usize,
                });
            }
            if found >= version {
                tx.commit().map_err(super::server::sql_error)?;
                continue;
            }
            // Roles belong to the whole cluster: the members' group is named after this
            // database so two team vaults on one server stay apart.
            let oid: u32 = tx
                .query_one(
                    "SELECT oid FROM pg_database WHERE datname = current_database()",
                    &[],
                )
                .map_err(super::server::sql_error)
                .and_then(|r| super::server::col(&r, 0))?;
            let (group, invitees) = groups(oid);
            for g in [&group, &invitees] {
                tx.batch_execute(&format!(
                    "DO $$ BEGIN
                         IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{g}') THEN
                             CREATE ROLE \"{g}\" NOLOGIN;
                         END IF;
                     END $$;"
                ))
                .map_err(super::server::sql_error)?;
            }
            let body = fill(sql, &group, &invitees);
            tx.batch_execute(&body).map_err(super::server::sql_error)?;
            tx.execute(
                "INSERT INTO coffer.migrations (version, by_coffer) VALUES ($1, $2)",
                &[&version, &env!("CARGO_PKG_VERSION")],
            )
            .map_err(super::server::sql_error)?;
            tx.commit().map_err(super::server::sql_error)?;
            applied += 1;
        }
        Ok(applied)
    }
}

/// The group roles every member's login, and every invitation's, belong to.
fn groups(database_oid: u32) -> (String, String) {
    (
        format!("coffer_{database_oid}_members"),
        format!("coffer_{database_oid}_invitees"),
    )
}

/// A step's SQL with the groups' names in place.
fn fill(sql: &str, members: &str, invitees: &str) -> String {
    sql.replace("{{members_name}}", members)
        .replace("{{members}}", &format!("\"{members}\""))
        .replace("{{invitees_name}}", invitees)
        .replace("{{invitees}}", &format!("\"{invitees}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_order_by_version() {
        assert_eq!(SchemaState::of(0), SchemaState::Empty);
        assert_eq!(SchemaState::of(SCHEMA_VERSION), SchemaState::Current);
        assert!(SchemaState::of(SCHEMA_VERSION).writable());
        let newer = SchemaState::of(SCHEMA_VERSION + 1);
        assert_eq!(
            newer,
            SchemaState::Newer {
                found: SCHEMA_VERSION + 1
            }
        );
        assert!(!newer.writable());
    }

    #[test]
    fn every_step_names_only_placeholders_it_fills() {
        for sql in MIGRATIONS {
            let filled = fill(sql, "g", "i");
            assert!(!filled.contains("{{"), "an unknown placeholder");
        }
    }
}
