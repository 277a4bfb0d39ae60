//! Copies of the trail leaving the vault — an export an outside auditor verifies with no
//! vault, an archive that moves old events out — and the state of the trail's anchors
//! for the Audit screen.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::access::Capability;
use crate::audit::{self, NewEvent, Outcome};
use crate::audit_file::{self, FileKind, FileStart};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::store::{AuditRow, Storage, WorkspaceRow};
use crate::time_fmt::{format_timestamp_ms, parse_since_ms};

/// What an export or an archive wrote.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TrailCopy {
    /// How many events the file holds.
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub events: i64,
    /// Its first and last events' sequence numbers.
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub first: i64,
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub last: i64,
    /// The last event's hash, which the rest of the trail links to.
    pub head: String,
    /// The fingerprint of the root key the file's signatures chain to.
    pub root: String,
}

/// How the events of one workspace are written for people and spreadsheets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum EventsFormat {
    /// RFC 4180, one event a row, `detail` as compact JSON, formula starts defused.
    Csv,
    /// One JSON array of the events, as the app lists them.
    Json,
}

impl EventsFormat {
    pub fn extension(self) -> &'static str {
        match self {
            EventsFormat::Csv => "csv",
            EventsFormat::Json => "json",
        }
    }
}

/// The columns of a CSV export, in order.
pub const CSV_COLUMNS: [&str; 10] = [
    "id",
    "time",
    "actor",
    "action",
    "outcome",
    "workspace",
    "project",
    "environment",
    "secret",
    "detail",
];

/// A signed mark in the trail (a checkpoint, an archive), as the Audit screen shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TrailMark {
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub id: i64,
    pub actor: String,
    pub time: String,
    /// The last event the mark covers (a checkpoint's head, an archive's cut).
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub events: i64,
    /// An archive's first event (its file holds `from` to `events`).
    #[cfg_attr(feature = "specta", specta(type = Option<i32>))]
    pub from: Option<i64>,
    /// An archive's file name.
    pub file: Option<String>,
}

/// Where the trail stands, for the Audit screen: the head this machine remembers (its
/// anchor), the newest checkpoint and archive, and the stretch kept in the vault.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TrailState {
    /// The sequence number of the newest event this machine saw (none before its first
    /// write or verify).
    #[cfg_attr(feature = "specta", specta(type = Option<i32>))]
    pub anchor: Option<i64>,
    pub checkpoint: Option<TrailMark>,
    pub archive: Option<TrailMark>,
    /// The first and last events kept in the vault (the first is after 1 once archived).
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub first: i64,
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub last: i64,
    pub root: String,
}

fn mark(r: AuditRow) -> TrailMark {
    let detail: serde_json::Value = serde_json::from_str(&r.detail).unwrap_or_default();
    TrailMark {
        id: r.id,
        time: format_timestamp_ms(r.at),
        actor: r.actor,
        events: detail["events"].as_i64().unwrap_or_default(),
        from: detail["from"].as_i64(),
        file: detail["file"].as_str().map(str::to_string),
    }
}

/// Whether `member` holds every one of `caps` in every workspace of the vault (what a
/// copy or a cut of the vault-wide trail takes).
pub(crate) fn holds_everywhere(c: &dyn Storage, member: i64, caps: &[Capability]) -> Result<bool> {
    for ws in c.all_workspace_ids()? {
        let role = c.role_for(member, ws, None)?;
        if !role.is_some_and(|r| caps.iter().all(|cap| r.allows(*cap))) {
            return Ok(false);
        }
    }
    Ok(true)
}

impl Session {
    /// Checks that this member holds every one of `caps` in every workspace: the chain
    /// is one for the whole vault, so a copy of it shows every workspace's events. A
    /// refusal is audited and names no other workspace.
    fn require_whole_trail(
        &mut self,
        workspace: &str,
        action: &str,
        caps: &[Capability],
    ) -> Result<WorkspaceRow> {
        let ws = self.workspace_row(workspace)?;
        let role = self.ws_role(&ws)?;
        for cap in caps {
            self.require(
                role,
                *cap,
                crate::session::Attempt::on_workspace(&ws, action),
            )?;
        }
        if holds_everywhere(self.store.conn(), self.member_id, caps)? {
            return Ok(ws);
        }
        let (member, author, now) = (self.member.clone(), self.author(), self.now());
        self.write(|tx| {
            let mut ev = NewEvent::new(&member, action);
            ev.outcome = Outcome::Denied;
            ev.workspace = Some((ws.id, &ws.name));
            ev.detail = json!({ "missing": "every workspace" });
            audit::append(tx, author, now, &ev).map(|_| ())
        })?;
        Err(Error::DeniedAction {
            member,
            what: format!(
                "{} the whole audit trail: it holds events of workspaces they may not {}",
                if action == audit::ARCHIVE {
                    "archive"
                } else {
                    "export"
                },
                caps.iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        })
    }

    fn root_fingerprint(&self) -> String {
        audit_file::key_fingerprint(&self.secret.anchor)
    }

    /// Writes the whole trail kept in the vault to `out` as a file an outside auditor
    /// verifies with `coffer audit verify --file` (no vault, no secret key), then
    /// audits the export. Needs `audit` in every workspace.
    pub fn export_audit(&mut self, workspace: &str, out: &mut dyn Write) -> Result<TrailCopy> {
        let ws = self.require_whole_trail(workspace, "audit.export", &[Capability::Audit])?;
        let conn = self.store.conn();
        let start = audit::vault_start(conn)?;
        let end = audit::head(conn)?;
        let written = self.write_trail_file(out, FileKind::Export, start.clone(), end)?;
        let copy = self.trail_copy(&start, &written);
        let (member, author, now) = (self.member.clone(), self.author(), self.now());
        self.write(|tx| {
            let mut ev = NewEvent::new(&member, "audit.export");
            ev.workspace = Some((ws.id, &ws.name));
            ev.detail = json!({ "events": copy.events, "first": copy.first, "last": copy.last });
            audit::append(tx, author, now, &ev).map(|_| ())
        })?;
        Ok(copy)
    }

    /// Writes the events of `workspace` that match `filter` to `out` as CSV or JSON,
    /// oldest first and in constant memory, then audits the export as `audit.export`
    /// (its format, filter and count). Needs `audit` there; returns how many events
    /// were written. Events carry names and metadata, never values.
    pub fn export_audit_events(
        &mut self,
        workspace: &str,
        filter: &crate::AuditFilter,
        format: EventsFormat,
        out: &mut dyn Write,
    ) -> Result<i64> {
        self.check_audit_access(workspace, filter)?;
        let mut count = 0i64;
        let mut failed: Option<std::io::Error> = None;
        match format {
            EventsFormat::Csv => {
                // RFC 4180 line ends, as spreadsheets and the app's Copy expect.
                let mut w = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(&mut *out);
                let header = w.write_record(CSV_COLUMNS);
                if let Err(e) = header {
                    failed = Some(e.into());
                }
                self.each_audit_event(workspace, filter, &mut |e| {
                    if failed.is_some() {
                        return false;
                    }
                    let detail = match &e.detail {
                        serde_json::Value::Object(m) if m.is_empty() => String::new(),
                        d => d.to_string(),
                    };
                    let cells = [
                        e.id.to_string(),
                        e.time,
                        e.actor,
                        e.action,
                        e.outcome,
                        e.workspace.unwrap_or_default(),
                        e.project.unwrap_or_default(),
                        e.environment.unwrap_or_default(),
                        e.secret.unwrap_or_default(),
                        detail,
                    ];
                    match w.write_record(
                        cells
                            .iter()
                            .map(|c| crate::spreadsheet::formula_safe(c).into_owned()),
                    ) {
                        Ok(()) => count += 1,
                        Err(e) => failed = Some(e.into()),
                    }
                    failed.is_none()
                })?;
                if let Err(e) = w.flush() {
                    failed.get_or_insert(e);
                }
            }
            EventsFormat::Json => {
                let mut first = true;
                let mut write = |text: &str| {
                    if failed.is_none() {
                        if let Err(e) = out.write_all(text.as_bytes()) {
                            failed = Some(e);
                        }
                    }
                };
                write("[");
                self.each_audit_event(workspace, filter, &mut |e| {
                    let Ok(text) = serde_json::to_string_pretty(&e) else {
                        return false;
                    };
                    write(if first { "\n  " } else { ",\n  " });
                    write(&text.replace('\n', "\n  "));
                    first = false;
                    count += 1;
                    true
                })?;
                write(if first { "]\n" } else { "\n]\n" });
            }
        }
        if let Some(e) = failed {
            return Err(Error::Io(format!("could not write the export: {e}")));
        }
        let ws = self
            .store
            .conn()
            .workspace_by_name(workspace)?
            .ok_or_else(|| Error::not_found(format!("workspace '{workspace}'")))?;
        let (member, author, now) = (self.member.clone(), self.author(), self.now());
        let detail = json!({
            "format": format.extension(),
            "events": count,
            "filter": {
                "actor": filter.actor,
                "action": filter.action,
                "secret": filter.secret,
                "since": filter.since,
            },
        });
        self.write(|tx| {
            let mut ev = NewEvent::new(&member, "audit.export");
            ev.workspace = Some((ws.id, &ws.name));
            ev.detail = detail;
            audit::append(tx, author, now, &ev).map(|_| ())
        })?;
        Ok(count)
    }

    fn write_trail_file(
        &self,
        out: &mut dyn Write,
        kind: FileKind,
        start: audit::Start,
        end: Option<(i64, Vec<u8>)>,
    ) -> Result<audit_file::Written> {
        let conn = self.store.conn();
        let members: Vec<i64> = conn.all_members()?.into_iter().map(|m| m.0).collect();
        let first = start.first;
        audit_file::write(
            out,
            FileStart {
                kind,
                vault_id: &self.vault_id,
                root: &self.secret.anchor,
                start,
                written_at: format_timestamp_ms(self.now()),
                writer: (self.member_id, &self.member, &self.secret.identity),
                end,
            },
            &members,
            conn,
            &mut |f| conn.each_audit_from(first, f),
        )
    }

    fn trail_copy(&self, start: &audit::Start, w: &audit_file::Written) -> TrailCopy {
        TrailCopy {
            events: w.events,
            first: start.first,
            last: w.head.as_ref().map_or(start.first - 1, |h| h.0),
            head: hex::encode(w.head.as_ref().map_or(&start.prev, |h| &h.1)),
            root: self.root_fingerprint(),
        }
    }

    /// Moves the events before `before` (a date, or a duration back from now) to a
    /// new archive file at `to`, verified as written, and leaves in the vault a signed
    /// archive event naming the last one moved and its hash, where the vault's trail now
    /// starts. The trail must verify first. Needs `audit` and `manage` in every
    /// workspace.
    pub fn archive_audit(&mut self, workspace: &str, before: &str, to: &Path) -> Result<TrailCopy> {
        let ws = self.require_whole_trail(
            workspace,
            audit::ARCHIVE,
            &[Capability::Audit, Capability::Manage],
        )?;
        if to.exists() {
            return Err(Error::Conflict(format!(
                "{} already exists; archive to a new file",
                to.display()
            )));
        }
        let before_ms = parse_since_ms(before, self.now())?;
        let report = self.verify_audit(workspace)?;
        if !report.ok {
            return Err(Error::Integrity(format!(
                "the audit trail does not verify ({}); nothing was archived",
                report.problem.unwrap_or_default()
            )));
        }
        let conn = self.store.conn();
        let start = audit::vault_start(conn)?;
        let through = conn
            .audit_commit_end_before(before_ms)?
            .filter(|&k| k >= start.first)
            .ok_or_else(|| {
                Error::Invalid(format!("no events before {before} are left to archive"))
            })?;
        let head = conn
            .audit_hash_at(through)?
            .ok_or_else(|| Error::Integrity(format!("audit event {through} has no hash")))?;
        let file_name = to
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::Invalid(format!("{} is not a file name", to.display())))?;
        // Written beside its final name, checked, then put in place: a failure leaves
        // the vault as it was and no half file under the name given.
        let partial = to.with_file_name(format!(".{file_name}.partial"));
        let written = (|| {
            // Readable by its owner only, as an export is.
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = std::io::BufWriter::new(
                options
                    .open(&partial)
                    .map_err(|e| Error::Io(format!("could not create {}: {e}", to.display())))?,
            );
            let written = self.write_trail_file(
                &mut f,
                FileKind::Archive,
                start.clone(),
                Some((through, head.clone())),
            )?;
            let f = f
                .into_inner()
                .map_err(|e| Error::Io(format!("could not write {}: {e}", to.display())))?;
            f.sync_all()
                .map_err(|e| Error::Io(format!("could not write {}: {e}", to.display())))?;
            let mut back = std::io::BufReader::new(
                std::fs::File::open(&partial).map_err(|e| Error::Io(e.to_string()))?,
            );
            let check = audit_file::verify_file(&mut back)?;
            if !check.report.ok || check.last != Some(through) {
                return Err(Error::Integrity(format!(
                    "the archive did not verify as written ({}); nothing was archived",
                    check.report.problem.unwrap_or_default()
                )));
            }
            // Linked into place, which refuses a file that appeared meanwhile (a rename
            // would replace it), and the directory synced, so the file is there for
            // good before any event leaves the vault.
            std::fs::hard_link(&partial, to).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::Conflict(format!(
                        "{} already exists; archive to a new file",
                        to.display()
                    ))
                } else {
                    Error::Io(format!("could not write {}: {e}", to.display()))
                }
            })?;
            let _ = std::fs::remove_file(&partial);
            if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| Error::Io(format!("could not write {}: {e}", to.display())))?;
            }
            Ok(written)
        })();
        let written = match written {
            Ok(w) => w,
            Err(e) => {
                // `to` is only ever linked last, so it is never ours here.
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        let copy = self.trail_copy(&start, &written);
        let (member, author, now) = (self.member.clone(), self.author(), self.now());
        let moved = self.write(|tx| {
            if audit::vault_start(tx)? != start {
                return Err(Error::Conflict(
                    "the trail was archived by another process meanwhile".into(),
                ));
            }
            let mut ev = NewEvent::new(&member, audit::ARCHIVE);
            ev.workspace = Some((ws.id, &ws.name));
            ev.detail =
                audit::archive_detail(start.first, through, &head, written.events, &file_name);
            // Appended first, so it links to the newest event whatever is removed.
            audit::append(tx, author, now, &ev)?;
            tx.delete_audit_through(through)
        });
        match moved {
            Ok(_) => Ok(copy),
            Err(e) => {
                // The vault is unchanged: the file is only a copy. Keep no stray copy.
                let _ = std::fs::remove_file(to);
                Err(e)
            }
        }
    }

    /// The anchor this machine remembers, the newest checkpoint and archive, and the
    /// stretch of the trail the vault keeps. Needs `audit`.
    pub fn trail_state(&mut self, workspace: &str) -> Result<TrailState> {
        let ws = self.workspace_row(workspace)?;
        let role = self.ws_role(&ws)?;
        self.require(
            role,
            Capability::Audit,
            crate::session::Attempt::on_workspace(&ws, "audit.read"),
        )?;
        let conn: &dyn Storage = self.store.conn();
        // Marks made in another workspace are its auditors' business.
        let visible = |r: &AuditRow| r.workspace_id.is_none_or(|id| id == ws.id);
        let start = audit::vault_start(conn)?;
        Ok(TrailState {
            anchor: crate::anchor::remembered((&self.vault_id, self.store.path())).map(|a| a.0),
            checkpoint: conn.last_checkpoint_event()?.filter(visible).map(mark),
            archive: conn.last_archive_event()?.filter(visible).map(mark),
            first: start.first,
            last: audit::last_event_id(conn)?,
            root: self.root_fingerprint(),
        })
    }
}
