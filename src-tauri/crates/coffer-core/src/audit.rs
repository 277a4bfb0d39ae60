//! The audit trail: hash-linked, signed by its authors, readable by a SIEM.
//!
//! Each event is a canonical byte string (format 2) that names the hash of the event
//! before it. The last event of each commit carries its author's Ed25519 signature over
//! its hash and the vault's id, which covers every event of the commit and, through
//! the links, all before it. Verifying needs public keys only, so no member can rewrite
//! history without the author's private key, and an event is accepted only if its
//! actor signed it. Attempts before unlock are chained too, unsigned and marked
//! unauthenticated. Events from before signatures (format 1, MAC'd under a key every
//! member held) are hashed into the chain as they stand; the first signed commit after
//! them covers them. What links and signatures cannot show alone — a tail cut at a
//! commit's end, a wiped trail, an older copy of the whole file — the anchors each
//! client keeps outside the vault show ([`crate::anchor`]). Events name things and may
//! carry a keyed fingerprint; they never carry a value.

use std::collections::HashMap;

use serde::Serialize;

use sha2::{Digest, Sha256};

use crate::crypto::{place, Identity};
use crate::error::{Error, Result};
use crate::store::{AuditRow, Storage};
use crate::time_fmt::format_timestamp_ms;

/// The hash the first event links to.
const GENESIS: [u8; 32] = [0; 32];
/// Events written by this build.
const FORMAT: i64 = 2;
/// The actor of what Coffer does by itself inside a member's command (destroying
/// versions past their window, purging): signed by that member, in Coffer's name.
pub(crate) const SYSTEM_ACTOR: &str = "coffer";
pub(crate) const SYSTEM_ACTIONS: &[&str] = &["version.destroy", "secret.purge"];

/// A signed statement of the head an owner or auditor verified: `detail` names the
/// sequence number and hash of the event before it, so a copy of the trail checked
/// elsewhere has an anchor too.
pub(crate) const CHECKPOINT: &str = "audit.checkpoint";

/// The detail of a checkpoint after event `seq` with hash `hash`.
pub(crate) fn checkpoint_detail(seq: i64, hash: &[u8]) -> serde_json::Value {
    serde_json::json!({ "events": seq, "head": hex::encode(hash) })
}

fn checkpoint_holds(r: &AuditRow, prev: &[u8]) -> bool {
    let Ok(detail) = serde_json::from_str::<serde_json::Value>(&r.detail) else {
        return false;
    };
    detail["events"].as_i64() == Some(r.id - 1)
        && detail["head"].as_str() == Some(&hex::encode(prev))
}

/// What an unauthenticated event may say: a failed unlock, nothing else.
pub(crate) const FAILED_UNLOCK: &str = "vault.unlock";

/// Who appends an event: a member, whose commit is signed as it ends, or no one (an
/// attempt before unlock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Author {
    Member(i64),
    Unauthenticated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Denied,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
        }
    }
}

/// An event about to be appended.
pub(crate) struct NewEvent<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub outcome: Outcome,
    pub workspace: Option<(i64, &'a str)>,
    pub project: Option<&'a str>,
    pub environment: Option<&'a str>,
    pub secret: Option<&'a str>,
    pub detail: serde_json::Value,
}

impl<'a> NewEvent<'a> {
    pub fn new(actor: &'a str, action: &'a str) -> Self {
        NewEvent {
            actor,
            action,
            outcome: Outcome::Ok,
            workspace: None,
            project: None,
            environment: None,
            secret: None,
            detail: serde_json::Value::Object(Default::default()),
        }
    }
}

/// An event as read back by an auditor.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditEvent {
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub id: i64,
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub at_ms: i64,
    pub time: String,
    pub actor: String,
    pub action: String,
    /// The capability the action exercised (`use`, `reveal`, `write` …), so a filter
    /// on "every use" needs no list of action names.
    pub capability: Option<String>,
    pub outcome: String,
    pub workspace: Option<String>,
    pub project: Option<String>,
    pub environment: Option<String>,
    pub secret: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = std::collections::HashMap<String, DetailScalar>))]
    pub detail: serde_json::Value,
}

/// How an event's `detail` looks to TypeScript: a flat object of scalars.
#[cfg(feature = "specta")]
#[derive(Serialize, specta::Type)]
#[serde(untagged)]
pub enum DetailScalar {
    Text(String),
    Number(i32),
    Flag(bool),
    Nothing(Option<bool>),
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> Self {
        AuditEvent {
            id: r.id,
            at_ms: r.at,
            time: format_timestamp_ms(r.at),
            actor: r.actor,
            capability: capability_of(&r.action).map(|c| c.as_str().to_string()),
            action: r.action,
            outcome: r.outcome,
            workspace: r.workspace,
            project: r.project,
            environment: r.environment,
            secret: r.secret,
            detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// One event as a line of JSON for a SIEM: Elastic Common Schema names where they fit
/// (`@timestamp`, `event.*`, `user.name`), Coffer's own fields under `coffer`, with the
/// event's hash, author and (on a commit's last event) signature, so the line can be
/// checked against the chain. With `chain`, also the exact stored bytes the hash covers
/// (what an audit file carries). Serialized straight from the row: a million lines are
/// written in seconds.
pub(crate) fn ecs_line(r: &AuditRow, chain: bool) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        #[serde(rename = "@timestamp")]
        timestamp: String,
        event: Event<'a>,
        user: User<'a>,
        coffer: Coffer<'a>,
    }
    #[derive(Serialize)]
    struct Event<'a> {
        kind: &'static str,
        sequence: i64,
        action: &'a str,
        outcome: &'static str,
        category: [&'static str; 1],
    }
    #[derive(Serialize)]
    struct User<'a> {
        name: &'a str,
    }
    #[derive(Serialize)]
    struct Coffer<'a> {
        outcome: &'a str,
        capability: Option<&'static str>,
        workspace: &'a Option<String>,
        project: &'a Option<String>,
        environment: &'a Option<String>,
        secret: &'a Option<String>,
        detail: Option<&'a serde_json::value::RawValue>,
        authenticated: bool,
        author_id: Option<i64>,
        format: i64,
        hash: Option<String>,
        signature: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        chain: Option<Chain<'a>>,
    }
    #[derive(Serialize)]
    struct Chain<'a> {
        at_ms: i64,
        workspace_id: Option<i64>,
        detail: &'a str,
        mac: String,
    }
    let hex_of = |b: &Option<Vec<u8>>| b.as_deref().map(hex::encode);
    let line = Line {
        timestamp: crate::time_fmt::format_timestamp_millis(r.at),
        event: Event {
            kind: "event",
            sequence: r.id,
            action: &r.action,
            outcome: if r.outcome == Outcome::Ok.as_str() {
                "success"
            } else {
                "failure"
            },
            category: ["iam"],
        },
        user: User { name: &r.actor },
        coffer: Coffer {
            outcome: &r.outcome,
            capability: capability_of(&r.action).map(|c| c.as_str()),
            workspace: &r.workspace,
            project: &r.project,
            environment: &r.environment,
            secret: &r.secret,
            // Stored as JSON text; passed through as it is (a malformed one as null).
            detail: serde_json::from_str(&r.detail).ok(),
            authenticated: r.signer.is_some() || r.format == 1,
            author_id: r.signer,
            format: r.format,
            hash: hex_of(&r.hash),
            signature: hex_of(&r.sig),
            chain: chain.then(|| Chain {
                at_ms: r.at,
                workspace_id: r.workspace_id,
                detail: &r.detail,
                mac: hex::encode(&r.mac),
            }),
        },
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// The capability an action is an instance of; `None` for the vault's own events.
pub fn capability_of(action: &str) -> Option<crate::access::Capability> {
    use crate::access::Capability as C;
    Some(match action {
        "secret.use" | "secret.ref" => C::Use,
        "secret.reveal" => C::Reveal,
        "secret.create" | "secret.update" | "secret.rollback" | "secret.import"
        | "usage.record" => C::Write,
        "secret.delete" | "secret.restore" | "secret.purge" => C::Delete,
        "secret.list" | "secret.show" | "secret.check" | "secret.export" => C::List,
        a if a.starts_with("audit.") => C::Audit,
        a if [
            "member.",
            "workspace.",
            "project.",
            "environment.",
            "settings.",
            "device.",
        ]
        .iter()
        .any(|p| a.starts_with(p)) =>
        {
            C::Manage
        }
        _ => return None,
    })
}

/// Feeds a hash the bytes [`place`] would build, without building them: each part
/// length-prefixed.
struct Placed(Sha256);

impl Placed {
    fn part(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update((bytes.len() as u32).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// An optional text: 0, or 1 and the text.
    fn opt(&mut self, s: &Option<String>) -> &mut Self {
        match s {
            None => self.part(&[0]),
            Some(s) => {
                let n = s.len() + 1;
                self.0.update((n as u32).to_le_bytes());
                self.0.update([1]);
                self.0.update(s.as_bytes());
                self
            }
        }
    }

    /// An optional number: nothing, or its 8 bytes.
    fn num(&mut self, n: Option<i64>) -> &mut Self {
        match n {
            None => self.part(&[]),
            Some(n) => self.part(&n.to_le_bytes()),
        }
    }
}

/// The hash of an event as stored, linked to `prev`: every field, each length-prefixed.
pub(crate) fn event_hash(prev: &[u8], r: &AuditRow) -> [u8; 32] {
    let (tag, mac): (&[u8], &[u8]) = match r.format {
        1 => (b"coffer/audit/v1-legacy", &r.mac),
        _ => (b"coffer/audit/v2", b""),
    };
    let mut h = Placed(Sha256::new());
    h.part(tag)
        .part(prev)
        .part(&r.id.to_le_bytes())
        .part(&r.at.to_le_bytes())
        .part(r.actor.as_bytes())
        .part(r.action.as_bytes())
        .part(r.outcome.as_bytes())
        .num(r.workspace_id)
        .opt(&r.workspace)
        .opt(&r.project)
        .opt(&r.environment)
        .opt(&r.secret)
        .part(r.detail.as_bytes())
        .num(r.signer)
        .part(mac);
    h.0.finalize().into()
}

/// What a commit's signature covers: its last event's hash, in this vault.
pub(crate) fn commit_message(vault_id: &str, id: i64, hash: &[u8]) -> Vec<u8> {
    place(&[
        b"coffer/audit/commit/v2",
        vault_id.as_bytes(),
        &id.to_le_bytes(),
        hash,
    ])
}

/// Appends one event inside the caller's transaction; returns its id. A member's
/// commit is signed by [`seal_commit`] when it ends.
pub(crate) fn append(c: &dyn Storage, author: Author, now: i64, ev: &NewEvent<'_>) -> Result<i64> {
    Tail::read(c)?.append(c, author, now, ev)
}

/// The end of the chain inside one transaction, for appending many events without
/// reading the last one back before each (a `run` of 10,000 values audits 10,000 uses).
pub(crate) struct Tail {
    last_id: i64,
    prev: Vec<u8>,
}

impl Tail {
    /// The chain's last event as stored.
    pub(crate) fn read(c: &dyn Storage) -> Result<Tail> {
        let (last_id, prev) = match c.last_audit()? {
            None => (0, GENESIS.to_vec()),
            Some(last) => match (last.hash, last.format) {
                (Some(h), _) => (last.id, h),
                (None, 1) => (last.id, link_legacy(c)?),
                (None, _) => {
                    return Err(Error::Integrity(format!(
                        "audit event {} has lost its hash",
                        last.id
                    )))
                }
            },
        };
        Ok(Tail { last_id, prev })
    }

    /// Appends one event after the last; returns its id. Only this tail may append
    /// in the transaction meanwhile.
    pub(crate) fn append(
        &mut self,
        c: &dyn Storage,
        author: Author,
        now: i64,
        ev: &NewEvent<'_>,
    ) -> Result<i64> {
        let mut row = AuditRow {
            id: self.last_id + 1,
            at: now,
            actor: ev.actor.to_string(),
            action: ev.action.to_string(),
            outcome: ev.outcome.as_str().to_string(),
            workspace_id: ev.workspace.map(|w| w.0),
            workspace: ev.workspace.map(|w| w.1.to_string()),
            project: ev.project.map(str::to_string),
            environment: ev.environment.map(str::to_string),
            secret: ev.secret.map(str::to_string),
            detail: ev.detail.to_string(),
            mac: Vec::new(),
            format: FORMAT,
            hash: None,
            signer: match author {
                Author::Member(id) => Some(id),
                Author::Unauthenticated => None,
            },
            sig: None,
        };
        let hash = event_hash(&self.prev, &row);
        row.hash = Some(hash.to_vec());
        c.insert_audit(&row)?;
        self.last_id = row.id;
        self.prev = hash.to_vec();
        Ok(row.id)
    }
}

/// Hashes the events from before signatures into the chain, once (the hashes are
/// stored); returns the last one's hash.
fn link_legacy(c: &dyn Storage) -> Result<Vec<u8>> {
    let mut prev = GENESIS.to_vec();
    let mut hashes = Vec::new();
    c.each_audit(&mut |r: &AuditRow| {
        let h = event_hash(&prev, r);
        hashes.push((r.id, h));
        prev = h.to_vec();
        Ok(true)
    })?;
    for (id, h) in hashes {
        c.set_audit_hash(id, &h)?;
    }
    Ok(prev)
}

/// Signs the commit `member` is ending: the hash of its last event, if the last event
/// is theirs and unsigned (a commit with no event needs no signature).
pub(crate) fn seal_commit(
    c: &dyn Storage,
    vault_id: &str,
    member: i64,
    identity: &Identity,
) -> Result<()> {
    let Some(last) = c.last_audit()? else {
        return Ok(());
    };
    if last.signer != Some(member) || last.sig.is_some() {
        return Ok(());
    }
    let hash = last
        .hash
        .ok_or_else(|| Error::Integrity(format!("audit event {} has no hash", last.id)))?;
    let sig = identity.sign(&commit_message(vault_id, last.id, &hash));
    c.sign_audit(last.id, &sig)
}

/// The newest event's sequence number and hash: what an anchor remembers.
pub(crate) fn head(c: &dyn Storage) -> Result<Option<(i64, Vec<u8>)>> {
    Ok(c.last_audit()?.and_then(|r| Some((r.id, r.hash?))))
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VerifyReport {
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub events: i64,
    pub ok: bool,
    /// The id of the first event where the chain breaks, and why.
    #[cfg_attr(feature = "specta", specta(type = Option<i32>))]
    pub first_bad: Option<i64>,
    pub problem: Option<String>,
}

/// An author as verification needs them: their name, and every signing key certified
/// for them (their own, and any they held before they were removed and added again).
pub(crate) struct AuthorKeys {
    pub name: String,
    pub keys: Vec<[u8; 32]>,
}

/// Looks up an author's certified keys; `None` when they have none that verify.
pub(crate) type KeysOf<'a> = dyn FnMut(i64) -> Result<Option<AuthorKeys>> + 'a;

/// Walks the chain event by event.
struct Walk<'a, 'k, 'm> {
    vault_id: &'a str,
    keys_of: &'a mut KeysOf<'k>,
    authors: HashMap<i64, Option<AuthorKeys>>,
    anchor: Option<(i64, Vec<u8>)>,
    anchor_seen: bool,
    prev: Vec<u8>,
    expected: i64,
    signed_any: bool,
    /// The author and first event of a commit not yet signed.
    open: Option<(i64, i64)>,
    /// Commit signatures not yet checked, checked together (batch verification).
    pending: Vec<PendingSig>,
    /// The batch sent before, checked on other threads while the walk reads on.
    in_flight: Option<InFlight>,
    /// Whether a member may archive the trail (in a vault, by their grants now); `None`
    /// where roles are not known (a file).
    may_archive: Option<&'a mut MayArchive<'m>>,
}

/// Whether a member (by id) may archive the trail.
pub(crate) type MayArchive<'a> = dyn FnMut(i64) -> Result<bool> + 'a;

/// A commit's signature waiting for its batch, with what names it if it fails.
struct PendingSig {
    first: i64,
    id: i64,
    name: String,
    check: ([u8; 32], Vec<u8>, Vec<u8>),
}

/// A batch of signatures being checked on other threads.
struct InFlight {
    pending: Vec<PendingSig>,
    runs: Vec<std::thread::JoinHandle<bool>>,
}

impl InFlight {
    /// Waits for every thread; names the first signature that fails.
    fn settle(self) -> Problem {
        let mut all_good = true;
        for run in self.runs {
            all_good &= run.join().unwrap_or(false);
        }
        culprit(all_good, &self.pending)
    }
}

/// After a batch's verdict: nothing, or the first of its signatures that fails alone
/// (a batch that fails with no culprit alone still fails, at its first commit).
fn culprit(all_good: bool, pending: &[PendingSig]) -> Problem {
    if all_good || pending.is_empty() {
        return None;
    }
    let bad = pending
        .iter()
        .find(|p| crate::crypto::verify(&p.check.0, &p.check.1, &p.check.2, "").is_err())
        .unwrap_or(&pending[0]);
    Some(bad_signature(bad.first, bad.id, &bad.name))
}

/// How many signatures are checked together.
const BATCH: usize = 1024;

fn bad_signature(first: i64, id: i64, name: &str) -> (i64, String) {
    (first, format!(
        "{} signed as '{}', and the signature does not verify (an event was altered, or signed by someone else)",
        events_are(first, id),
        name
    ))
}

type Problem = Option<(i64, String)>;

/// "event 7 is", or "events 7 to 9 are".
pub(crate) fn events_are(first: i64, last: i64) -> String {
    if first == last {
        format!("event {first} is")
    } else {
        format!("events {first} to {last} are")
    }
}

impl Walk<'_, '_, '_> {
    fn step(&mut self, r: &AuditRow) -> Result<Problem> {
        let id = r.id;
        if id != self.expected {
            return Ok(Some(if id > self.expected {
                let e = self.expected;
                (
                    e,
                    format!("event {e} is missing (the next one present is {id})"),
                )
            } else {
                (id, format!("event {id} is out of order"))
            }));
        }
        let h = event_hash(&self.prev, r);
        if r.hash.as_deref().is_some_and(|stored| stored != h) {
            return Ok(Some((
                id,
                format!("event {id} was altered, reordered or inserted"),
            )));
        }
        if r.format == 1 {
            // Old events only ever open the trail: never after a signed one or an
            // archive's cut, and never a mark (there were none before signatures).
            if self.signed_any || r.action == ARCHIVE || r.action == CHECKPOINT {
                return Ok(Some((
                    id,
                    format!(
                        "event {id} is in the unsigned old format where only signed events may be"
                    ),
                )));
            }
        } else if r.hash.is_none() {
            return Ok(Some((id, format!("event {id} has lost its hash"))));
        } else if let Some(p) = self.signed_event(r, &h)? {
            return Ok(Some(p));
        } else if r.action == CHECKPOINT && !checkpoint_holds(r, &self.prev) {
            return Ok(Some((
                id,
                format!("checkpoint {id} names a head that is not the trail's before it"),
            )));
        } else if r.action == ARCHIVE {
            if archived_through(r).is_none() {
                return Ok(Some((
                    id,
                    format!("archive event {id} names no head before it"),
                )));
            }
            if let (Some(may), Some(author)) = (self.may_archive.as_mut(), r.signer) {
                if !may(author)? {
                    return Ok(Some((id, format!(
                        "archive event {id} was signed by '{}', who may not archive the trail (it takes audit and manage in every workspace)",
                        r.actor
                    ))));
                }
            }
        }
        if let Some((seq, seen)) = &self.anchor {
            if id == *seq {
                if h[..] != seen[..] {
                    return Ok(Some((id, format!(
                        "event {id}, which this machine saw, is not the same any more (the vault was replaced by another copy)"
                    ))));
                }
                self.anchor_seen = true;
            }
        }
        self.prev = h.to_vec();
        self.expected += 1;
        Ok(None)
    }

    fn signed_event(&mut self, r: &AuditRow, h: &[u8; 32]) -> Result<Problem> {
        let id = r.id;
        self.signed_any = true;
        let unsigned_commit = |first: i64| {
            (first, format!("events from {first} on are not signed by their author (their commit was cut short or forged)"))
        };
        let Some(author) = r.signer else {
            if let Some((_, first)) = self.open {
                return Ok(Some(unsigned_commit(first)));
            }
            if r.sig.is_some() || r.action != FAILED_UNLOCK || r.outcome != Outcome::Denied.as_str()
            {
                return Ok(Some((
                    id,
                    format!("event {id} names no author but is not a failed unlock"),
                )));
            }
            return Ok(None);
        };
        let first = match self.open {
            Some((a, _)) if a != author => {
                return Ok(Some(unsigned_commit(self.open.map_or(id, |o| o.1))))
            }
            Some((_, first)) => first,
            None => id,
        };
        if !self.authors.contains_key(&author) {
            let keys = (self.keys_of)(author)?;
            self.authors.insert(author, keys);
        }
        let Some(keys) = self.authors.get(&author).and_then(Option::as_ref) else {
            return Ok(Some((
                id,
                format!("event {id} names an author with no certified keys"),
            )));
        };
        let system = r.actor == SYSTEM_ACTOR && SYSTEM_ACTIONS.contains(&r.action.as_str());
        if r.actor != keys.name && !system {
            return Ok(Some((
                id,
                format!(
                    "event {id} claims to be by '{}' but was written by '{}'",
                    r.actor, keys.name
                ),
            )));
        }
        self.open = Some((author, first));
        if let Some(sig) = &r.sig {
            let msg = commit_message(self.vault_id, id, h);
            if let [pk] = keys.keys[..] {
                // One key to try: checked later, with others, in one batch.
                self.pending.push(PendingSig {
                    first,
                    id,
                    name: keys.name.clone(),
                    check: (pk, msg, sig.clone()),
                });
                if self.pending.len() >= BATCH {
                    if let Some(p) = self.dispatch() {
                        return Ok(Some(p));
                    }
                }
            } else if !keys
                .keys
                .iter()
                .any(|pk| crate::crypto::verify(pk, &msg, sig, "").is_ok())
            {
                return Ok(Some(bad_signature(first, id, &keys.name)));
            }
            self.open = None;
        }
        Ok(None)
    }

    /// Sends the signatures waiting for their batch to other threads (split over the
    /// machine's cores) and goes on reading; returns the verdict on the batch sent
    /// before, which it waits for first.
    fn dispatch(&mut self) -> Problem {
        if let Some(problem) = self.in_flight.take().and_then(InFlight::settle) {
            return Some(problem);
        }
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return None;
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let chunk = pending.len().div_ceil(threads).max(64);
        let runs = pending
            .chunks(chunk)
            .map(|c| {
                let checks: Vec<_> = c.iter().map(|p| p.check.clone()).collect();
                std::thread::spawn(move || crate::crypto::verify_all(&checks))
            })
            .collect();
        self.in_flight = Some(InFlight { pending, runs });
        None
    }

    /// Settles every signature still waiting, in order: the batch in flight, then the
    /// rest; names the first that fails.
    fn finish(&mut self) -> Problem {
        if let Some(problem) = self.dispatch() {
            return Some(problem);
        }
        self.in_flight.take().and_then(InFlight::settle)
    }
}

/// Where a stretch of the trail starts: its first event, and the hash of the one
/// before it (zeros before event 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Start {
    pub first: i64,
    pub prev: Vec<u8>,
}

impl Start {
    pub fn genesis() -> Start {
        Start {
            first: 1,
            prev: GENESIS.to_vec(),
        }
    }
}

/// Records that events up to `through` (whose last hash is `head`) moved to an archive
/// file: the vault's trail starts after them.
pub(crate) const ARCHIVE: &str = "audit.archive";

/// The detail of an archive event: the events `from` to `through` moved to `file`.
pub(crate) fn archive_detail(
    from: i64,
    through: i64,
    head: &[u8],
    moved: i64,
    file: &str,
) -> serde_json::Value {
    serde_json::json!({ "from": from, "events": through, "head": hex::encode(head), "archived": moved, "file": file })
}

/// The point an archive event names: the last archived event and its hash.
fn archived_through(r: &AuditRow) -> Option<(i64, Vec<u8>)> {
    let detail = serde_json::from_str::<serde_json::Value>(&r.detail).ok()?;
    let through = detail["events"].as_i64()?;
    let head = hex::decode(detail["head"].as_str()?).ok()?;
    (through >= 0 && through < r.id && head.len() == 32).then_some((through, head))
}

/// Where the trail kept in the vault starts: at event 1, or after the head its newest
/// archive event names. (An archive event added without its author's key fails its
/// signature when the walk reaches it.)
pub(crate) fn vault_start(c: &dyn Storage) -> Result<Start> {
    // Only a signed event can move the start; anything else leaves it at event 1,
    // where the walk then finds the events that are missing.
    let start = c
        .last_archive_event()?
        .filter(|r| r.format >= 2 && r.signer.is_some() && r.sig.is_some())
        .and_then(|r| archived_through(&r));
    Ok(match start {
        Some((through, head)) => Start {
            first: through + 1,
            prev: head,
        },
        None => Start::genesis(),
    })
}

/// Events in id order, handed one by one to a visitor that says whether to go on.
pub(crate) type Rows<'a> = dyn FnMut(&mut dyn FnMut(&AuditRow) -> Result<bool>) -> Result<()> + 'a;

/// Checks every link and signature of the trail kept in the vault with public keys
/// alone, and that it still holds the head `anchor` this client saw before; names the
/// first event that fails and why.
pub(crate) fn verify(
    c: &dyn Storage,
    vault_id: &str,
    keys_of: &mut KeysOf<'_>,
    may_archive: &mut MayArchive<'_>,
    anchor: Option<(i64, Vec<u8>)>,
) -> Result<VerifyReport> {
    let start = vault_start(c)?;
    let first = start.first;
    verify_rows(
        &mut |f| c.each_audit_from(first, f),
        start,
        vault_id,
        keys_of,
        Some(may_archive),
        anchor,
    )
}

/// Checks a stretch of the trail that starts at `start` (the whole of it, a vault's
/// part after an archive, or an archive file's part).
pub(crate) fn verify_rows(
    rows: &mut Rows<'_>,
    start: Start,
    vault_id: &str,
    keys_of: &mut KeysOf<'_>,
    may_archive: Option<&mut MayArchive<'_>>,
    anchor: Option<(i64, Vec<u8>)>,
) -> Result<VerifyReport> {
    let mut failure: Problem = None;
    let mut anchor_seen = false;
    // A head remembered from before the archive's cut: moved out with the events
    // (only the last archived one can still be compared).
    if let Some((seq, seen)) = &anchor {
        if *seq < start.first {
            anchor_seen = true;
            if *seq == start.first - 1 && seen[..] != start.prev[..] {
                failure = Some((
                    *seq,
                    format!("event {seq}, which this machine saw, is not the one the archive names (the vault was replaced by another copy)"),
                ));
            }
        }
    }
    let mut walk = Walk {
        vault_id,
        keys_of,
        authors: HashMap::new(),
        anchor,
        anchor_seen,
        // After an archive's cut only signed events may follow.
        signed_any: start.first > 1,
        prev: start.prev,
        expected: start.first,
        open: None,
        pending: Vec::new(),
        in_flight: None,
        may_archive,
    };
    let mut count = 0i64;
    if failure.is_none() {
        rows(&mut |row: &AuditRow| {
            count += 1;
            failure = walk.step(row)?;
            Ok(failure.is_none())
        })?;
        // Signatures still waiting may fail on an earlier event than the walk's
        // problem: the earliest is named.
        if let Some(p) = walk.finish() {
            if failure.as_ref().is_none_or(|f| p.0 < f.0) {
                failure = Some(p);
            }
        }
    }
    let last = walk.expected - 1;
    if failure.is_none() {
        if let Some((_, first)) = walk.open {
            failure = Some((
                first,
                format!(
                    "{} not signed: the end of the trail was cut inside a commit",
                    events_are(first, last)
                ),
            ));
        }
    }
    if failure.is_none() && !walk.anchor_seen {
        if let Some((seq, _)) = &walk.anchor {
            failure = Some((
                last + 1,
                if count == 0 {
                    format!("the trail is empty, but this machine saw {seq} events: it was wiped, or the vault replaced by an older copy")
                } else {
                    format!("{} gone, though this machine saw {} (a deleted tail, or an older copy of the vault)", events_are(last + 1, *seq), if last + 1 == *seq { "it" } else { "them" })
                },
            ));
        }
    }
    Ok(match failure {
        None => VerifyReport {
            events: count,
            ok: true,
            first_bad: None,
            problem: None,
        },
        Some((id, why)) => VerifyReport {
            events: count,
            ok: false,
            first_bad: Some(id),
            problem: Some(why),
        },
    })
}

pub(crate) fn last_event_id(c: &dyn Storage) -> Result<i64> {
    Ok(c.last_audit()?.map_or(0, |r| r.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    const VAULT: &str = "v1";

    struct Trail {
        c: Connection,
        alice: Identity,
        bob: Identity,
    }

    impl Trail {
        /// `commits` commits of alice, the i-th holding `size(i)` events.
        fn new(commits: i64, size: impl Fn(i64) -> i64) -> Trail {
            let mut c = Connection::open_in_memory().unwrap();
            crate::store::migrate_for_tests(&mut c);
            let t = Trail {
                c,
                alice: Identity::generate().unwrap(),
                bob: Identity::generate().unwrap(),
            };
            for i in 0..commits {
                for j in 0..size(i) {
                    t.append(1, "alice", "secret.update", 1000 + i * 10 + j);
                }
                seal_commit(&t.c, VAULT, 1, &t.alice).unwrap();
            }
            t
        }

        fn append(&self, member: i64, actor: &str, action: &str, at: i64) -> i64 {
            let mut ev = NewEvent::new(actor, action);
            ev.secret = Some("API_KEY");
            ev.detail = serde_json::json!({ "at": at });
            append(&self.c, Author::Member(member), at, &ev).unwrap()
        }

        fn verify_with(&self, anchor: Option<(i64, Vec<u8>)>) -> VerifyReport {
            let (a, b) = (self.alice.public().sign, self.bob.public().sign);
            let mut keys_of = |id: i64| {
                Ok(match id {
                    1 => Some(AuthorKeys {
                        name: "alice".into(),
                        keys: vec![a],
                    }),
                    2 => Some(AuthorKeys {
                        name: "bob".into(),
                        keys: vec![b],
                    }),
                    _ => None,
                })
            };
            // Alice (member 1) is the one who may archive.
            let mut may_archive = |id: i64| Ok(id == 1);
            verify(&self.c, VAULT, &mut keys_of, &mut may_archive, anchor).unwrap()
        }

        fn verify(&self) -> VerifyReport {
            self.verify_with(None)
        }

        fn sql(&self, sql: &str) {
            self.c.execute_batch(sql).unwrap();
        }
    }

    /// The hash is fed part by part; it must stay the hash of the bytes `place`
    /// builds, which every stored event was hashed with.
    #[test]
    fn the_streamed_event_hash_is_the_hash_of_the_placed_bytes() {
        let opt = |s: &Option<String>| match s {
            None => vec![0],
            Some(s) => [&[1u8][..], s.as_bytes()].concat(),
        };
        let num = |n: Option<i64>| n.map(|n| n.to_le_bytes().to_vec()).unwrap_or_default();
        for (format, ws, secret, signer) in [
            (2, Some(3), Some("API_KEY".to_string()), Some(1)),
            (2, None, None, None),
            (1, Some(1), Some(String::new()), None),
        ] {
            let r = AuditRow {
                id: 42,
                at: 1_700_000_000_123,
                actor: "alice".into(),
                action: "secret.use".into(),
                outcome: "ok".into(),
                workspace_id: ws,
                workspace: ws.map(|_| "default".into()),
                project: Some("payments".into()),
                environment: None,
                secret: secret.clone(),
                detail: r#"{"program":"node"}"#.into(),
                mac: vec![7, 8, 9],
                format,
                hash: None,
                signer,
                sig: None,
            };
            let tag: &[u8] = if format == 1 {
                b"coffer/audit/v1-legacy"
            } else {
                b"coffer/audit/v2"
            };
            let mac: &[u8] = if format == 1 { &r.mac } else { b"" };
            let bytes = place(&[
                tag,
                &[5u8; 32],
                &r.id.to_le_bytes(),
                &r.at.to_le_bytes(),
                r.actor.as_bytes(),
                r.action.as_bytes(),
                r.outcome.as_bytes(),
                &num(r.workspace_id),
                &opt(&r.workspace),
                &opt(&r.project),
                &opt(&r.environment),
                &opt(&r.secret),
                r.detail.as_bytes(),
                &num(r.signer),
                mac,
            ]);
            let want: [u8; 32] = Sha256::digest(bytes).into();
            assert_eq!(event_hash(&[5u8; 32], &r), want);
        }
    }

    #[test]
    fn an_untouched_trail_verifies_with_public_keys_alone() {
        let t = Trail::new(20, |i| 1 + i % 5);
        let r = t.verify();
        assert!(r.ok, "{r:?}");
        assert_eq!(r.events, (0..20).map(|i| 1 + i % 5).sum::<i64>());
        // One signature per commit, on its last event.
        let signed: i64 =
            t.c.query_row(
                "SELECT count(*) FROM audit_events WHERE sig IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(signed, 20);
    }

    #[test]
    fn edits_deletions_and_reorders_are_caught_at_the_first_bad_event() {
        let t = Trail::new(10, |_| 1);
        t.sql("UPDATE audit_events SET actor = 'mallory' WHERE id = 4");
        assert_eq!(t.verify().first_bad, Some(4));

        let t = Trail::new(10, |_| 1);
        t.sql("UPDATE audit_events SET detail = '{}' WHERE id = 7");
        assert_eq!(t.verify().first_bad, Some(7));

        let t = Trail::new(10, |_| 1);
        t.sql("DELETE FROM audit_events WHERE id = 6");
        let r = t.verify();
        assert_eq!(r.first_bad, Some(6));
        assert!(r.problem.unwrap().contains("missing"));

        let t = Trail::new(10, |_| 1);
        t.sql(
            "UPDATE audit_events SET id = 100 WHERE id = 3;
             UPDATE audit_events SET id = 3 WHERE id = 5;
             UPDATE audit_events SET id = 5 WHERE id = 100;",
        );
        assert_eq!(t.verify().first_bad, Some(3));
    }

    #[test]
    fn an_edit_with_its_hashes_recomputed_still_breaks_the_signature() {
        // Three commits of three events; event 5 (inside the second) is edited and every
        // stored hash from it on recomputed, as a script with no key could.
        let t = Trail::new(3, |_| 3);
        t.sql("UPDATE audit_events SET detail = '{\"at\":0}' WHERE id = 5");
        let mut prev =
            t.c.query_row("SELECT hash FROM audit_events WHERE id = 4", [], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .unwrap();
        for id in 5..=9 {
            let row = t.c.query_row(&format!("SELECT {} FROM audit_events WHERE id = ?1", "id, at, actor, action, outcome, workspace_id, workspace, project, environment, secret, detail, mac, format, hash, signer, sig"), [id], |r| Ok(AuditRow {
                id: r.get(0)?, at: r.get(1)?, actor: r.get(2)?, action: r.get(3)?, outcome: r.get(4)?,
                workspace_id: r.get(5)?, workspace: r.get(6)?, project: r.get(7)?, environment: r.get(8)?,
                secret: r.get(9)?, detail: r.get(10)?, mac: r.get(11)?, format: r.get(12)?, hash: r.get(13)?,
                signer: r.get(14)?, sig: r.get(15)?,
            })).unwrap();
            let h = event_hash(&prev, &row);
            t.c.execute(
                "UPDATE audit_events SET hash = ?2 WHERE id = ?1",
                rusqlite::params![id, &h[..]],
            )
            .unwrap();
            prev = h.to_vec();
        }
        let r = t.verify();
        assert_eq!(r.first_bad, Some(4), "{r:?}");
        assert!(r
            .problem
            .unwrap()
            .contains("events 4 to 6 are signed as 'alice', and the signature does not verify"));
    }

    #[test]
    fn a_forged_commit_signed_by_another_member_or_claiming_another_actor_fails() {
        // Bob (a member with keys of his own) appends an event in alice's name.
        let t = Trail::new(2, |_| 1);
        t.append(2, "alice", "secret.reveal", 5000);
        seal_commit(&t.c, VAULT, 2, &t.bob).unwrap();
        let r = t.verify();
        assert_eq!(r.first_bad, Some(3));
        assert!(r
            .problem
            .unwrap()
            .contains("claims to be by 'alice' but was written by 'bob'"));

        // Bob re-signs alice's last commit with his own key.
        let t = Trail::new(2, |_| 1);
        let hash: Vec<u8> =
            t.c.query_row("SELECT hash FROM audit_events WHERE id = 2", [], |r| {
                r.get(0)
            })
            .unwrap();
        let sig = t.bob.sign(&commit_message(VAULT, 2, &hash));
        t.c.execute("UPDATE audit_events SET sig = ?1 WHERE id = 2", [&sig[..]])
            .unwrap();
        assert_eq!(t.verify().first_bad, Some(2));

        // An event with no author may only be a failed unlock.
        let t = Trail::new(2, |_| 1);
        let ev = NewEvent::new("alice", "secret.delete");
        append(&t.c, Author::Unauthenticated, 9000, &ev).unwrap();
        assert_eq!(t.verify().first_bad, Some(3));
        let t = Trail::new(2, |_| 1);
        let mut ev = NewEvent::new("anyone", FAILED_UNLOCK);
        ev.outcome = Outcome::Denied;
        append(&t.c, Author::Unauthenticated, 9000, &ev).unwrap();
        assert!(t.verify().ok, "a failed unlock is chained, unsigned");
    }

    #[test]
    fn a_tail_cut_inside_a_commit_is_caught_and_one_cut_at_a_commit_needs_the_anchor() {
        let t = Trail::new(4, |_| 3);
        t.sql("DELETE FROM audit_events WHERE id = 12");
        let r = t.verify();
        assert_eq!(r.first_bad, Some(10));
        assert!(r.problem.unwrap().contains("cut inside a commit"));

        let t = Trail::new(4, |_| 3);
        let anchor = head(&t.c).unwrap();
        t.sql("DELETE FROM audit_events WHERE id > 9");
        assert!(
            t.verify().ok,
            "the links alone cannot see a cut at a commit's end"
        );
        let r = t.verify_with(anchor.clone());
        assert_eq!(r.first_bad, Some(10));
        assert!(r
            .problem
            .unwrap()
            .contains("events 10 to 12 are gone, though this machine saw them"));

        t.sql("DELETE FROM audit_events");
        let r = t.verify_with(anchor);
        assert!(
            !r.ok
                && r.problem
                    .unwrap()
                    .contains("the trail is empty, but this machine saw 12 events")
        );
    }

    #[test]
    fn a_checkpoint_must_name_the_head_before_it() {
        let t = Trail::new(3, |_| 2);
        let (seq, hash) = head(&t.c).unwrap().unwrap();
        let mut ev = NewEvent::new("alice", CHECKPOINT);
        ev.detail = checkpoint_detail(seq, &hash);
        append(&t.c, Author::Member(1), 99, &ev).unwrap();
        seal_commit(&t.c, VAULT, 1, &t.alice).unwrap();
        assert!(t.verify().ok);
        // Signed by its author, but naming another head: refused.
        ev.detail = checkpoint_detail(seq, &[7u8; 32]);
        let id = append(&t.c, Author::Member(1), 100, &ev).unwrap();
        seal_commit(&t.c, VAULT, 1, &t.alice).unwrap();
        let r = t.verify();
        assert_eq!(r.first_bad, Some(id));
        assert!(r
            .problem
            .unwrap()
            .contains("names a head that is not the trail's"));
    }

    #[test]
    fn an_archive_mark_counts_only_signed_by_a_member_who_may_archive() {
        let t = Trail::new(4, |_| 3);
        let head6: Vec<u8> =
            t.c.query_row("SELECT hash FROM audit_events WHERE id = 6", [], |r| {
                r.get(0)
            })
            .unwrap();
        // A keyless script adds an old-format mark and cuts the trail.
        let mut mark = AuditRow {
            id: 13,
            at: 9000,
            actor: "alice".into(),
            action: ARCHIVE.into(),
            outcome: "ok".into(),
            workspace_id: None,
            workspace: None,
            project: None,
            environment: None,
            secret: None,
            detail: archive_detail(1, 6, &head6, 6, "x").to_string(),
            mac: vec![],
            format: 1,
            hash: None,
            signer: None,
            sig: None,
        };
        let prev: Vec<u8> =
            t.c.query_row("SELECT hash FROM audit_events WHERE id = 12", [], |r| {
                r.get(0)
            })
            .unwrap();
        mark.hash = Some(event_hash(&prev, &mark).to_vec());
        crate::store::TrailStore::insert_audit(&t.c, &mark).unwrap();
        t.sql("DELETE FROM audit_events WHERE id <= 6");
        let r = t.verify();
        assert!(!r.ok, "{r:?}");
        assert_eq!(r.first_bad, Some(1), "{r:?}");

        // Bob signs a mark with his own key: signed, but he may not archive.
        let t = Trail::new(4, |_| 3);
        let head6: Vec<u8> =
            t.c.query_row("SELECT hash FROM audit_events WHERE id = 6", [], |r| {
                r.get(0)
            })
            .unwrap();
        let mut ev = NewEvent::new("bob", ARCHIVE);
        ev.detail = archive_detail(1, 6, &head6, 6, "x");
        let id = append(&t.c, Author::Member(2), 9000, &ev).unwrap();
        seal_commit(&t.c, VAULT, 2, &t.bob).unwrap();
        t.sql("DELETE FROM audit_events WHERE id <= 6");
        let r = t.verify();
        assert_eq!(r.first_bad, Some(id), "{r:?}");
        assert!(r.problem.unwrap().contains("may not archive"));
    }

    #[test]
    fn a_bad_signature_among_a_batch_is_named_even_when_a_later_event_fails_too() {
        // More single-event commits than one batch holds; event 700's signature is
        // swapped for event 701's, and event 1400 is deleted.
        let t = Trail::new(1500, |_| 1);
        t.sql(
            "UPDATE audit_events SET sig = (SELECT sig FROM audit_events WHERE id = 701)
             WHERE id = 700",
        );
        let r = t.verify();
        assert_eq!(r.first_bad, Some(700), "{r:?}");
        assert!(r.problem.unwrap().contains("does not verify"));
        t.sql("DELETE FROM audit_events WHERE id = 1400");
        assert_eq!(t.verify().first_bad, Some(700));
        let t = Trail::new(1500, |_| 1);
        assert!(t.verify().ok);
    }

    #[test]
    fn after_an_archive_the_trail_starts_at_the_head_its_signed_mark_names() {
        let t = Trail::new(4, |_| 3);
        let head6: Vec<u8> =
            t.c.query_row("SELECT hash FROM audit_events WHERE id = 6", [], |r| {
                r.get(0)
            })
            .unwrap();
        let mut ev = NewEvent::new("alice", ARCHIVE);
        ev.detail = archive_detail(1, 6, &head6, 6, "old.jsonl");
        append(&t.c, Author::Member(1), 5000, &ev).unwrap();
        seal_commit(&t.c, VAULT, 1, &t.alice).unwrap();
        t.sql("DELETE FROM audit_events WHERE id <= 6");
        assert_eq!(
            vault_start(&t.c).unwrap(),
            Start {
                first: 7,
                prev: head6.clone()
            }
        );
        let r = t.verify();
        assert!(r.ok, "{r:?}");
        assert_eq!(r.events, 7);
        // A head this machine saw before the cut moved out with the events.
        assert!(t.verify_with(Some((3, vec![1; 32]))).ok);
        assert!(t.verify_with(Some((6, head6))).ok);
        let r = t.verify_with(Some((6, vec![9; 32])));
        assert_eq!(r.first_bad, Some(6), "{r:?}");
        // The first event kept is gone: the mark names the head before it.
        t.sql("DELETE FROM audit_events WHERE id = 7");
        let r = t.verify();
        assert_eq!(r.first_bad, Some(7), "{r:?}");
        assert!(r.problem.unwrap().contains("missing"));
    }

    #[test]
    fn events_of_the_old_format_are_linked_in_and_covered_by_the_next_signature() {
        let t = Trail::new(0, |_| 0);
        for id in 1..=3 {
            t.c.execute(
                "INSERT INTO audit_events(id, at, actor, action, outcome, detail, mac) VALUES (?1, 1, 'alice', 'secret.update', 'ok', '{}', X'0102')",
                [id],
            ).unwrap();
        }
        t.append(1, "alice", "vault.upgrade", 10);
        seal_commit(&t.c, VAULT, 1, &t.alice).unwrap();
        assert!(t.verify().ok);
        t.sql("UPDATE audit_events SET actor = 'mallory' WHERE id = 2");
        assert_eq!(t.verify().first_bad, Some(2));
    }
}
