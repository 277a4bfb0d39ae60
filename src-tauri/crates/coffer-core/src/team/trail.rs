//! `coffer team audit`: the whole team's audit trail, read from the team server.
//!
//! Every machine pushes its own signed events; a member who may audit reads them all
//! back here and checks each one with public keys alone:
//!   * its body hashes (with the hash of the event before it on its author's machine,
//!     which the body carries) to the hash its author's chain named;
//!   * the last event of each commit carries its author's signature over that hash,
//!     and the events before it in the commit are covered by it, link by link;
//!   * the actor it names is the member who signed;
//!   * no event is there twice, and each scope's trail on the server joins, link by
//!     link, up to its head.
//!
//! For the last point to hold for every reader, a commit's events all go into one
//! trail on the server ([`commit_scopes`]): whoever reads an event reads the signature
//! that covers it.
//!
//! What this cannot see: a database administrator who removes a whole commit and joins
//! the links around it again. The member whose events went finds it with
//! `coffer team verify`, which looks for each of their own events.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use base64::Engine as _;
use serde::Serialize;

use super::server::StoredEvent;
use crate::audit::{self, AuditEvent};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::store::{AuditRow, EventImage};
use crate::AuditFilter;

/// One event of the team's trail.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TeamAuditEvent {
    #[serde(flatten)]
    pub event: AuditEvent,
    /// Its commit's sequence number in its scope on the server.
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub seq: i64,
    /// Its place in that commit.
    pub n: i32,
}

/// The team's trail in one workspace, as one member read and checked it.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TeamTrail {
    pub server: String,
    /// The events that match the filter, oldest first.
    pub events: Vec<TeamAuditEvent>,
    /// Events read and checked (the filter aside).
    pub checked: u32,
    /// Members whose events were among them.
    pub authors: u32,
    /// The vault's own trail (unlocks, members) was read too: only the root owner may.
    pub vault_wide: bool,
}

/// At most this many problems are named in one error; the count says the rest.
const NAMED: usize = 5;

/// An event as its author's machine sent it: the row, and the hash of the event
/// before it there.
fn row_of(body: &[u8]) -> Option<(AuditRow, Vec<u8>)> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let int = |k: &str| v.get(k).and_then(|x| x.as_i64());
    let blob = |k: &str| -> Option<Vec<u8>> {
        let b = v.get(k)?.get("$b")?.as_str()?;
        base64::engine::general_purpose::STANDARD.decode(b).ok()
    };
    let row = AuditRow {
        id: int("id")?,
        at: int("at")?,
        actor: text("actor")?,
        action: text("action")?,
        outcome: text("outcome")?,
        workspace_id: int("workspace_id"),
        workspace: text("workspace"),
        project: text("project"),
        environment: text("environment"),
        secret: text("secret"),
        detail: text("detail")?,
        mac: blob("mac").unwrap_or_default(),
        format: int("format")?,
        hash: blob("hash"),
        signer: int("signer"),
        sig: blob("sig"),
    };
    Some((row, blob("prev")?))
}

/// Where one scope's trail on the server does not join: an event whose link does not
/// name the one before it, or a last event that is not the head. `None`: it joins.
pub(super) fn broken_link(
    events: &[StoredEvent],
    chain: &Option<Vec<u8>>,
    label: &str,
) -> Option<String> {
    let mut prev: Option<&Vec<u8>> = None;
    for e in events {
        if e.prev.as_ref() != prev {
            return Some(format!(
                "the audit trail of {label} does not join at its event {}.{} (an event was deleted, moved or inserted on the server)",
                e.seq, e.n
            ));
        }
        prev = Some(&e.hash);
    }
    (prev != chain.as_ref()).then(|| {
        format!("the audit trail of {label} does not end where its head says (events were removed on the server)")
    })
}

/// Whether an event matches an auditor's filter, as `coffer audit` matches it.
fn matches(e: &AuditEvent, filter: &AuditFilter, since: Option<i64>) -> bool {
    filter.actor.as_deref().is_none_or(|a| e.actor == a)
        && filter.action.as_deref().is_none_or(|a| {
            // `action LIKE '%.' || a`: ASCII case aside, as SQLite compares.
            let (action, a) = (e.action.to_ascii_lowercase(), a.to_ascii_lowercase());
            action == a
                || action
                    .strip_suffix(a.as_str())
                    .is_some_and(|head| head.ends_with('.'))
        })
        && filter
            .secret
            .as_deref()
            .is_none_or(|s| e.secret.as_deref() == Some(s))
        && since.is_none_or(|t| e.at_ms >= t)
}

/// The scope each event goes to on the server, by its commit (the events of one
/// author up to and including the one that carries their signature): all of a
/// commit's events go into one trail, so whoever reads one of them reads the signature
/// that covers it. That is the commit's workspace when every event names it or none
/// (and the server has it, `known`), else the vault's own.
pub(super) fn commit_scopes(events: &[EventImage], known: &dyn Fn(i64) -> bool) -> Vec<i64> {
    let mut out = Vec::with_capacity(events.len());
    for commit in commits(events) {
        let workspaces: BTreeSet<i64> = events[commit.clone()]
            .iter()
            .filter_map(|e| e.workspace)
            .collect();
        let scope = match workspaces.iter().next() {
            Some(&w) if workspaces.len() == 1 && known(w) => w,
            _ => 0,
        };
        out.extend(std::iter::repeat_n(scope, commit.len()));
    }
    out
}

/// The commits of a stretch of the trail, as ranges of `events`: one author's
/// consecutive events up to and including the one that carries their signature.
pub(super) fn commits(events: &[EventImage]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, e) in events.iter().enumerate() {
        let ends = e.sig
            || events
                .get(i + 1)
                .is_none_or(|next| next.id != e.id + 1 || next.signer != e.signer);
        if ends {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    out
}

/// One event read from the server, parsed and placed.
struct Read {
    scope: i64,
    seq: i64,
    n: i32,
    row: AuditRow,
    /// The hash of the event before it on its author's machine.
    prev: Vec<u8>,
    hash: Vec<u8>,
}

impl Session {
    /// Reads every member's events of `workspace` (and, for the root owner, the
    /// vault's own) from the team server, checks each one, and gives those matching
    /// `filter`. Anything that does not check is [`Error::Integrity`] naming it.
    pub fn team_audit(&mut self, workspace: &str, filter: &AuditFilter) -> Result<TeamTrail> {
        let query = self.audit_query(workspace, filter)?;
        let ws = query.workspace_id;
        let since = query.since;
        let (link, mut server) = self.team_connection()?;
        let mut report = TeamTrail {
            server: super::ServerUrl::parse(&link.server)?.display(),
            ..TeamTrail::default()
        };
        // Each trail's head and its events, of one moment.
        let trails = server.in_snapshot(|server| {
            let mut out = Vec::new();
            for scope in [ws, 0] {
                let (may, chain) = server.trail_head(scope)?;
                if may {
                    out.push((scope, chain, server.events(scope, 0)?));
                }
            }
            Ok(out)
        })?;
        let mut problems = Vec::new();
        let mut read = Vec::new();
        let mut seen: HashMap<Vec<u8>, (i64, String)> = HashMap::new();
        for (scope, chain, events) in trails {
            report.vault_wide |= scope == 0;
            let label = self.scope_label(scope);
            problems.extend(broken_link(&events, &chain, &label));
            for e in events {
                let place = format!("event {}.{} of {label}", e.seq, e.n);
                let Some((row, prev)) = row_of(&e.body) else {
                    problems.push(format!(
                        "{place} is unreadable or lost its link to its author's trail (edited on the server)"
                    ));
                    continue;
                };
                let hash = audit::event_hash(&prev, &row);
                // Only signed events (format 2) are ever sent.
                if row.format < 2 || row.hash.as_deref() != Some(&hash[..]) || e.hash != hash {
                    problems.push(format!(
                        "{place} was edited on the server (its content is not what its author's chain names)"
                    ));
                    continue;
                }
                // The server takes an event into a trail once: one there twice was
                // copied. The same event in two trails is a commit sent again after a
                // sync was cut short and the workspace became known meanwhile: shown
                // once.
                match seen.get(&hash[..]) {
                    Some((s, first)) if *s == scope => {
                        problems.push(format!("{place} is {first} again (copied on the server)"));
                        continue;
                    }
                    Some(_) => continue,
                    None => {
                        seen.insert(hash.to_vec(), (scope, place.clone()));
                    }
                }
                // A workspace's trail holds its own events and, in the same commits,
                // vault-wide ones.
                if scope != 0 && row.workspace_id.is_some_and(|w| w != scope) {
                    problems.push(format!(
                        "{place} belongs to another workspace (moved on the server)"
                    ));
                    continue;
                }
                read.push(Read {
                    scope,
                    seq: e.seq,
                    n: e.n,
                    row,
                    prev,
                    hash: hash.to_vec(),
                });
            }
        }

        // Every event is covered by its commit's signature, which is in its trail.
        let covered = self.check_signatures(&read, &mut problems)?;
        for (r, covered) in read.iter().zip(&covered) {
            if !covered {
                problems.push(format!(
                    "event {}.{} of {} is not covered by its author's signature (forged, or its commit's signature was removed on the server)",
                    r.seq,
                    r.n,
                    self.scope_label(r.scope)
                ));
            }
        }

        if !problems.is_empty() {
            let more = problems.len().saturating_sub(NAMED);
            problems.truncate(NAMED);
            let mut message = format!(
                "the team's audit trail on {} does not verify: {}",
                report.server,
                problems.join("; ")
            );
            if more > 0 {
                message.push_str(&format!("; and {more} more"));
            }
            return Err(Error::Integrity(message));
        }

        report.checked = read.len() as u32;
        report.authors = read
            .iter()
            .filter_map(|r| r.row.signer)
            .collect::<BTreeSet<_>>()
            .len() as u32;
        let mut events: Vec<TeamAuditEvent> = read
            .into_iter()
            // The vault's own trail holds commits of other workspaces too.
            .filter(|r| r.scope != 0 || r.row.workspace_id.is_none_or(|w| w == ws))
            .map(|r| TeamAuditEvent {
                event: AuditEvent::from(r.row),
                seq: r.seq,
                n: r.n,
            })
            .filter(|e| matches(&e.event, filter, since))
            .collect::<Vec<_>>();
        events.sort_by_key(|e| (e.event.at_ms, e.seq, e.n));
        // A negative limit is none, as SQLite's LIMIT takes it.
        if let Some(keep) = query.limit.and_then(|l| usize::try_from(l).ok()) {
            let drop = events.len().saturating_sub(keep);
            events.drain(..drop);
        }
        report.events = events;
        Ok(report)
    }

    /// Checks the signature on each commit's last event and that each event's actor is
    /// its signer; says of each event whether a signature covers it: its own, or that
    /// of the last event of its commit, reached link by link (the next event of a
    /// commit names this one's hash and has the next id on its author's machine).
    fn check_signatures(&self, read: &[Read], problems: &mut Vec<String>) -> Result<Vec<bool>> {
        let conn = self.store.conn();
        let mut authors: HashMap<i64, Option<audit::AuthorKeys>> = HashMap::new();
        let mut verdict: Vec<Option<bool>> = vec![None; read.len()];
        let next: HashMap<(i64, i64, &[u8]), usize> = read
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.row.signer.unwrap_or(0), r.row.id, r.prev.as_slice()), i))
            .collect();
        let place = |r: &Read| format!("event {}.{} of {}", r.seq, r.n, self.scope_label(r.scope));
        for (i, r) in read.iter().enumerate() {
            let Some(author) = r.row.signer else {
                problems.push(format!("{} names no author", place(r)));
                verdict[i] = Some(true); // named already
                continue;
            };
            let keys = match authors.entry(author) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(crate::keys::author_keys(
                    conn,
                    &self.vault_id,
                    &self.secret.anchor,
                    author,
                    &self.verified_rows,
                )?),
            };
            let Some(keys) = keys.as_ref() else {
                problems.push(format!(
                    "{} names an author whose certified keys this machine does not hold (run `coffer team sync`, then read again)",
                    place(r)
                ));
                verdict[i] = Some(true);
                continue;
            };
            let system = r.row.actor == audit::SYSTEM_ACTOR
                && audit::SYSTEM_ACTIONS.contains(&r.row.action.as_str());
            if r.row.actor != keys.name && !system {
                problems.push(format!(
                    "{} claims to be by '{}' but was written by '{}'",
                    place(r),
                    r.row.actor,
                    keys.name
                ));
                verdict[i] = Some(true);
                continue;
            }
            if let Some(sig) = &r.row.sig {
                let msg = audit::commit_message(&self.vault_id, r.row.id, &r.hash);
                if !keys
                    .keys
                    .iter()
                    .any(|pk| crate::crypto::verify(pk, &msg, sig, "").is_ok())
                {
                    problems.push(format!(
                        "{}: the signature of '{}' does not verify",
                        place(r),
                        keys.name
                    ));
                }
                // Named if it fails: what it covers is not named again.
                verdict[i] = Some(true);
            }
        }
        // Unsigned events take the verdict of the signed event that ends their commit.
        for i in 0..read.len() {
            let mut walk = vec![];
            let mut at = i;
            let end = loop {
                if let Some(v) = verdict[at] {
                    break v;
                }
                if walk.len() > read.len() {
                    break false;
                }
                walk.push(at);
                let r = &read[at];
                match next.get(&(r.row.signer.unwrap_or(0), r.row.id + 1, r.hash.as_slice())) {
                    Some(&j) => at = j,
                    None => break false,
                }
            };
            for w in walk {
                verdict[w] = Some(end);
            }
        }
        Ok(verdict.into_iter().map(|v| v.unwrap_or(false)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(seq: i64, prev: Option<u8>, hash: u8) -> StoredEvent {
        StoredEvent {
            seq,
            n: 1,
            prev: prev.map(|p| vec![p; 32]),
            hash: vec![hash; 32],
            author: Some(1),
            body: Vec::new(),
        }
    }

    #[test]
    fn a_trail_joins_only_link_by_link_up_to_its_head() {
        let head = Some(vec![3; 32]);
        let whole = [
            stored(1, None, 1),
            stored(2, Some(1), 2),
            stored(3, Some(2), 3),
        ];
        assert_eq!(broken_link(&whole, &head, "default"), None);
        assert_eq!(broken_link(&[], &None, "default"), None);
        // One taken out of the middle.
        let gap = [stored(1, None, 1), stored(3, Some(2), 3)];
        assert!(broken_link(&gap, &head, "default")
            .unwrap()
            .contains("does not join at its event 3.1"));
        // The newest taken off the end.
        let cut = [stored(1, None, 1), stored(2, Some(1), 2)];
        assert!(broken_link(&cut, &head, "default")
            .unwrap()
            .contains("does not end where its head says"));
        // A trail the head says is empty but is not, and the reverse.
        assert!(broken_link(&whole, &None, "default").is_some());
        assert!(broken_link(&[], &head, "default").is_some());
    }

    #[test]
    fn the_filter_matches_as_coffer_audit_does() {
        let mut e = AuditEvent::from(AuditRow {
            id: 7,
            at: 1_000,
            actor: "dana".into(),
            action: "secret.reveal".into(),
            outcome: "ok".into(),
            workspace_id: Some(1),
            workspace: Some("default".into()),
            project: Some("default".into()),
            environment: Some("production".into()),
            secret: Some("API_KEY".into()),
            detail: "{}".into(),
            mac: Vec::new(),
            format: 2,
            hash: None,
            signer: Some(2),
            sig: None,
        });
        let f = |actor: Option<&str>, action: Option<&str>, secret: Option<&str>| AuditFilter {
            actor: actor.map(Into::into),
            action: action.map(Into::into),
            secret: secret.map(Into::into),
            since: None,
            limit: None,
        };
        assert!(matches(&e, &f(None, None, None), None));
        assert!(matches(
            &e,
            &f(Some("dana"), Some("reveal"), Some("API_KEY")),
            Some(1_000)
        ));
        assert!(matches(&e, &f(None, Some("secret.reveal"), None), None));
        assert!(!matches(&e, &f(Some("dan"), None, None), None));
        assert!(!matches(&e, &f(None, None, Some("API")), None));
        assert!(!matches(&e, &f(None, None, None), Some(1_001)));
        // A suffix matches a whole last part only.
        assert!(!matches(&e, &f(None, Some("eveal"), None), None));
        e.action = "secret.unreveal".into();
        assert!(!matches(&e, &f(None, Some("reveal"), None), None));
    }

    fn image(id: i64, signer: i64, workspace: Option<i64>, sig: bool) -> EventImage {
        EventImage {
            id,
            hash: None,
            signer: Some(signer),
            workspace,
            sig,
            body: Vec::new(),
        }
    }

    #[test]
    fn a_commits_events_all_go_into_one_trail() {
        let known = |w: i64| w == 1 || w == 2;
        let events = [
            // One event, its own commit, in workspace 1.
            image(1, 7, Some(1), true),
            // A commit of workspace 2 and vault-wide events: workspace 2's trail.
            image(2, 7, None, false),
            image(3, 7, Some(2), false),
            image(4, 7, None, true),
            // A commit over two workspaces: the vault's own trail.
            image(5, 7, Some(1), false),
            image(6, 7, Some(2), true),
            // A workspace the server does not have: the vault's own.
            image(7, 7, Some(9), true),
            // Another author right after an unsigned event: a new commit.
            image(8, 7, Some(1), false),
            image(9, 8, Some(2), true),
            // A gap in the ids (an attempt before unlock kept here) ends one too.
            image(11, 8, None, true),
        ];
        assert_eq!(
            commit_scopes(&events, &known),
            [1, 2, 2, 2, 0, 0, 0, 1, 2, 0]
        );
        assert!(commit_scopes(&[], &known).is_empty());
    }
}
