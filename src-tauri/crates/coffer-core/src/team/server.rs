//! A connection to a team server and the functions it offers (see
//! `sql/0001_server.sql`): everything a client writes goes through [`Server::commit`].

use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;

use crate::error::{Error, ErrorCode, Result};

/// A connection to a team server, logged in as one member (or, to create the vault,
/// as the database's administrator).
pub struct Server {
    client: Client,
}

/// One record to write (or, with no body, to delete) in a commit.
#[derive(Clone)]
pub struct Change {
    pub kind: String,
    pub key: String,
    /// 0: not inside one project.
    pub project: i64,
    /// Only this member may read it.
    pub private_to: Option<i64>,
    /// A vault-wide record about this member.
    pub about: Option<i64>,
    /// `None`: the record must not exist yet; otherwise the sequence number the writer
    /// last saw on it.
    pub expect: Option<i64>,
    /// `None`: delete it.
    pub body: Option<Vec<u8>>,
}

/// One audit event to append: its hash and the hash of the event before it.
#[derive(Clone)]
pub struct Event {
    pub prev: Option<Vec<u8>>,
    pub hash: Vec<u8>,
    pub body: Vec<u8>,
}

/// A record as a member reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: String,
    pub key: String,
    pub project: i64,
    pub private_to: Option<i64>,
    pub about: Option<i64>,
    pub seq: i64,
    pub body: Option<Vec<u8>>,
}

const RECORD_COLS: &str = "kind, key, project_id, private_to, about, seq, body";

fn record_of(r: &postgres::Row) -> Result<Record> {
    Ok(Record {
        kind: col(r, 0)?,
        key: col(r, 1)?,
        project: col(r, 2)?,
        private_to: col(r, 3)?,
        about: col(r, 4)?,
        seq: col(r, 5)?,
        body: col(r, 6)?,
    })
}

/// Column `i` of a row the server sent, as `T`. A server whose functions or tables
/// were altered may answer with another type, or NULL where none may be: that is
/// said (exit 7), never a crash of the client.
pub(super) fn col<'a, T: postgres::types::FromSql<'a>>(
    r: &'a postgres::Row,
    i: usize,
) -> Result<T> {
    r.try_get(i).map_err(|_| {
        Error::Integrity(format!(
            "the team server answered with something unexpected (column {} of {}): were its functions or tables altered?",
            i + 1,
            r.columns().len()
        ))
    })
}

/// An event from `SELECT seq, n, prev, hash, author, body` (or its digest).
fn stored_event_of(r: &postgres::Row) -> Result<StoredEvent> {
    Ok(StoredEvent {
        seq: col(r, 0)?,
        n: col(r, 1)?,
        prev: col(r, 2)?,
        hash: col(r, 3)?,
        author: col(r, 4)?,
        body: col(r, 5)?,
    })
}

/// A record as [`Server::digests`] describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub kind: String,
    pub key: String,
    pub project: i64,
    pub private_to: Option<i64>,
    pub about: Option<i64>,
    pub seq: i64,
    /// SHA-256 of the body; none for a tombstone.
    pub hash: Option<Vec<u8>>,
}

/// An audit event as stored: the commit (`seq`) and its place in it (`n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: i64,
    pub n: i32,
    pub prev: Option<Vec<u8>>,
    pub hash: Vec<u8>,
    pub author: Option<i64>,
    pub body: Vec<u8>,
}

impl Server {
    pub(super) fn new(client: Client) -> Server {
        Server { client }
    }

    pub(super) fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Makes `member` the vault's root owner with login `login` (SCRAM `verifier`):
    /// the first step of a new team vault, done by the database's administrator.
    pub fn bootstrap(&mut self, member: i64, login: &str, verifier: &str) -> Result<()> {
        self.client
            .execute(
                "SELECT coffer.bootstrap($1, $2::text::name, $3)",
                &[&member, &login, &verifier],
            )
            .map_err(sql_error)?;
        Ok(())
    }

    /// Adds `member`'s login (needs `manage` somewhere).
    pub fn add_login(&mut self, member: i64, login: &str, verifier: &str) -> Result<()> {
        self.client
            .execute(
                "SELECT coffer.add_login($1, $2::text::name, $3)",
                &[&member, &login, &verifier],
            )
            .map_err(sql_error)?;
        Ok(())
    }

    /// Creates workspace `scope`, owned by the caller; returns its LISTEN channel.
    pub fn create_workspace(&mut self, scope: i64) -> Result<String> {
        self.client
            .query_one("SELECT coffer.create_workspace($1)", &[&scope])
            .map_err(sql_error)
            .and_then(|r| col(&r, 0))
    }

    /// Removes `member`: their login stops working, their sessions end, their key
    /// envelopes are deleted and their grants go.
    pub fn remove_member(&mut self, member: i64) -> Result<()> {
        self.client
            .execute("SELECT coffer.remove_member($1)", &[&member])
            .map_err(sql_error)?;
        Ok(())
    }

    /// Commits `changes` and `events` in `scope` as one transaction; returns the
    /// commit's sequence number. A record changed since the writer saw it, or an audit
    /// trail that moved on, is [`Error::Conflict`]; nothing of the commit lands then.
    pub fn commit(&mut self, scope: i64, changes: &[Change], events: &[Event]) -> Result<i64> {
        let kinds: Vec<&str> = changes.iter().map(|c| c.kind.as_str()).collect();
        let keys: Vec<&str> = changes.iter().map(|c| c.key.as_str()).collect();
        let projects: Vec<i64> = changes.iter().map(|c| c.project).collect();
        let privates: Vec<Option<i64>> = changes.iter().map(|c| c.private_to).collect();
        let abouts: Vec<Option<i64>> = changes.iter().map(|c| c.about).collect();
        let expects: Vec<Option<i64>> = changes.iter().map(|c| c.expect).collect();
        let bodies: Vec<Option<&[u8]>> = changes.iter().map(|c| c.body.as_deref()).collect();
        let prevs: Vec<Option<&[u8]>> = events.iter().map(|e| e.prev.as_deref()).collect();
        let hashes: Vec<&[u8]> = events.iter().map(|e| e.hash.as_slice()).collect();
        let ev_bodies: Vec<&[u8]> = events.iter().map(|e| e.body.as_slice()).collect();
        self.client
            .query_one(
                "SELECT coffer.commit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    &scope, &kinds, &keys, &projects, &privates, &abouts, &expects, &bodies,
                    &prevs, &hashes, &ev_bodies,
                ],
            )
            .map_err(sql_error)
            .and_then(|r| col(&r, 0))
    }

    /// The records of `scope` this member may read that changed after sequence
    /// `since`, oldest first (deleted ones with no body).
    pub fn pull(&mut self, scope: i64, since: i64) -> Result<Vec<Record>> {
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT {RECORD_COLS} FROM coffer.records
                     WHERE scope = $1 AND seq > $2 ORDER BY seq, kind, key"
                ),
                &[&scope, &since],
            )
            .map_err(sql_error)?;
        rows.iter().map(record_of).collect()
    }

    /// One record of `scope`, if this member may read it.
    pub fn get(&mut self, scope: i64, kind: &str, key: &str) -> Result<Option<Record>> {
        let row = self
            .client
            .query_opt(
                &format!(
                    "SELECT {RECORD_COLS} FROM coffer.records
                     WHERE scope = $1 AND kind = $2 AND key = $3"
                ),
                &[&scope, &kind, &key],
            )
            .map_err(sql_error)?;
        row.as_ref().map(record_of).transpose()
    }

    /// The audit events of `scope` after sequence `since` (for those who may audit).
    pub fn events(&mut self, scope: i64, since: i64) -> Result<Vec<StoredEvent>> {
        let rows = self
            .client
            .query(
                "SELECT seq, n, prev, hash, author, body FROM coffer.events
                 WHERE scope = $1 AND seq > $2 ORDER BY seq, n",
                &[&scope, &since],
            )
            .map_err(sql_error)?;
        rows.iter().map(stored_event_of).collect()
    }

    /// Every record of `scope` this member may read, each as its placement, sequence
    /// number and the SHA-256 of its body (none for a tombstone): enough to compare
    /// with a replica without moving the bodies.
    pub fn digests(&mut self, scope: i64) -> Result<Vec<Digest>> {
        let rows = self
            .client
            .query(
                "SELECT kind, key, project_id, private_to, about, seq, sha256(body)
                 FROM coffer.records WHERE scope = $1",
                &[&scope],
            )
            .map_err(sql_error)?;
        rows.iter()
            .map(|r| {
                Ok(Digest {
                    kind: col(r, 0)?,
                    key: col(r, 1)?,
                    project: col(r, 2)?,
                    private_to: col(r, 3)?,
                    about: col(r, 4)?,
                    seq: col(r, 5)?,
                    hash: col(r, 6)?,
                })
            })
            .collect()
    }

    /// Whether this member may read a record placed so (the server's own rule).
    pub fn may_read(
        &mut self,
        scope: i64,
        project: i64,
        private_to: Option<i64>,
        about: Option<i64>,
    ) -> Result<bool> {
        self.client
            .query_one(
                "SELECT coffer.may_read($1, $2, $3, $4)",
                &[&scope, &project, &private_to, &about],
            )
            .map_err(sql_error)
            .and_then(|r| col(&r, 0))
    }

    /// Whether this member may read the audit trail of `scope`, and the hash of its
    /// newest event (none before the first).
    pub fn trail_head(&mut self, scope: i64) -> Result<(bool, Option<Vec<u8>>)> {
        let row = self
            .client
            .query_one(
                "SELECT coffer.may($1, 0, 'audit') OR ($1 = 0 AND coffer.is_root()),
                        (SELECT chain FROM coffer.heads WHERE scope = $1)",
                &[&scope],
            )
            .map_err(sql_error)?;
        Ok((col(&row, 0)?, col(&row, 1)?))
    }

    /// Runs `f` on one snapshot of the server: what it reads in several queries (a
    /// trail's head, then its events) is of one moment, whatever commits meanwhile.
    pub fn in_snapshot<T>(&mut self, f: impl FnOnce(&mut Server) -> Result<T>) -> Result<T> {
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(sql_error)?;
        let out = f(self);
        if out.is_ok() {
            self.client.batch_execute("COMMIT").map_err(sql_error)?;
        } else {
            // The error that stopped the reading is the one to report.
            let _ = self.client.batch_execute("ROLLBACK");
        }
        out
    }

    /// The audit events of `scope` as [`Server::events`] gives them, each body
    /// replaced by its SHA-256 (a whole trail compared without moving it).
    pub fn trail(&mut self, scope: i64) -> Result<Vec<StoredEvent>> {
        let rows = self
            .client
            .query(
                "SELECT seq, n, prev, hash, author, sha256(body) FROM coffer.events
                 WHERE scope = $1 ORDER BY seq, n",
                &[&scope],
            )
            .map_err(sql_error)?;
        rows.iter().map(stored_event_of).collect()
    }

    /// The scopes this member may see, with each one's newest sequence number.
    pub fn heads(&mut self) -> Result<Vec<(i64, i64)>> {
        let rows = self
            .client
            .query("SELECT scope, seq FROM coffer.heads ORDER BY scope", &[])
            .map_err(sql_error)?;
        rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
    }

    /// Starts listening for the commits of `scope`.
    pub fn listen(&mut self, scope: i64) -> Result<()> {
        let channel: Option<String> = self
            .client
            .query_opt(
                "SELECT channel FROM coffer.heads WHERE scope = $1",
                &[&scope],
            )
            .map_err(sql_error)?
            .map(|r| col(&r, 0))
            .transpose()?;
        let channel = channel.ok_or_else(|| Error::not_found("workspace"))?;
        // The server names the channel; quote only what the schema makes.
        let made_by_schema = channel.len() == 39
            && channel.starts_with("coffer_")
            && channel[7..].bytes().all(|b| b.is_ascii_hexdigit());
        if !made_by_schema {
            return Err(Error::Integrity(
                "the team server named an unexpected channel".into(),
            ));
        }
        // The channel is the server's own random text (coffer_ and hex), safe to quote.
        self.client
            .batch_execute(&format!("LISTEN \"{channel}\""))
            .map_err(sql_error)?;
        Ok(())
    }

    /// Waits up to `timeout` for a commit in a scope being listened to; returns its
    /// sequence number, or `None` when none came.
    pub fn next_commit(&mut self, timeout: Duration) -> Result<Option<i64>> {
        let mut notes = self.client.notifications();
        let mut iter = notes.timeout_iter(timeout);
        match iter.next().map_err(sql_error)? {
            Some(n) => Ok(n.payload().parse().ok()),
            None => Ok(None),
        }
    }

    /// Whether the connection still answers.
    pub fn is_alive(&mut self, within: Duration) -> bool {
        self.client.is_valid(within).is_ok()
    }
}

/// A PostgreSQL error as one of Coffer's: the functions' own SQLSTATEs keep their
/// message and code; the server's messages name tables and functions, never values.
pub(super) fn sql_error(e: postgres::Error) -> Error {
    let Some(db) = e.as_db_error() else {
        return Error::Io(if e.is_closed() {
            "the connection to the team server was lost".to_string()
        } else {
            format!("team server: {e}")
        });
    };
    let message = db.message().to_string();
    match db.code().code() {
        "CF403" => Error::Relayed {
            code: ErrorCode::Denied,
            message,
        },
        "CF404" => Error::not_found(message.trim_end_matches(" not found").to_string()),
        "CF409" => Error::Conflict(message),
        "CF422" => Error::Invalid(message),
        // A member trying a table directly, or a function not granted to them.
        "42501" => Error::Relayed {
            code: ErrorCode::Denied,
            message:
                "permission denied: members change a team vault only through Coffer's functions"
                    .into(),
        },
        // Nothing landed in either case; the next sync tries again.
        "40001" | "40P01" => Error::Conflict(
            "the team server ran this into another commit at the same moment; nothing landed, try again"
                .into(),
        ),
        "55P03" | "57014" => Error::Conflict(
            "the team server kept this waiting on a lock another session holds (an open transaction there?); nothing landed, try again"
                .into(),
        ),
        "57P01" | "57P02" | "57P03" => Error::Io("the team server ended this session".into()),
        code => Error::Storage(format!("team server ({code}): {message}")),
    }
}
