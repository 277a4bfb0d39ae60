//! The tamper-evident audit trail.
//!
//! Each event carries an HMAC (key derived from the vault key) over its own fields and
//! the previous event's MAC; ids run without gaps; a MAC'd head in `meta` names the
//! last event. Editing, deleting, inserting or reordering rows with an outside tool
//! breaks the chain, and [`verify`] names the first event where it breaks. Events
//! name things and may carry a keyed fingerprint; they never carry a value.

use serde::Serialize;

use crate::crypto::{hmac_sha256, Key32};
use crate::error::{Error, Result};
use crate::store::{AuditRow, Storage};
use crate::time_fmt::format_timestamp_ms;

const HEAD_KEY: &str = "audit_head";

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

fn event_mac(key: &Key32, prev: &[u8], r: &AuditRow) -> [u8; 32] {
    let ws = r
        .workspace_id
        .map(|w| w.to_le_bytes().to_vec())
        .unwrap_or_default();
    let opt = |s: &Option<String>| s.as_deref().unwrap_or("\u{0}").as_bytes().to_vec();
    hmac_sha256(
        key,
        &[
            b"coffer audit event v1",
            prev,
            &r.id.to_le_bytes(),
            &r.at.to_le_bytes(),
            r.actor.as_bytes(),
            r.action.as_bytes(),
            r.outcome.as_bytes(),
            &ws,
            &opt(&r.workspace),
            &opt(&r.project),
            &opt(&r.environment),
            &opt(&r.secret),
            r.detail.as_bytes(),
        ],
    )
}

fn head_mac(key: &Key32, id: i64, mac: &[u8]) -> [u8; 32] {
    hmac_sha256(key, &[b"coffer audit head v1", &id.to_le_bytes(), mac])
}

struct Head {
    id: i64,
    mac: Vec<u8>,
}

fn read_head(c: &dyn Storage, key: &Key32) -> Result<Head> {
    let Some(raw) = c.get_meta(HEAD_KEY)? else {
        return Ok(Head {
            id: 0,
            mac: vec![0u8; 32],
        });
    };
    if raw.len() != 8 + 32 + 32 {
        return Err(Error::Integrity(
            "the audit trail's head record is malformed".into(),
        ));
    }
    let id = i64::from_le_bytes(raw[..8].try_into().unwrap_or_default());
    let (mac, sealed) = raw[8..].split_at(32);
    if head_mac(key, id, mac)[..] != *sealed {
        return Err(Error::Integrity(
            "the audit trail's head record was altered".into(),
        ));
    }
    Ok(Head {
        id,
        mac: mac.to_vec(),
    })
}

fn write_head(c: &dyn Storage, key: &Key32, id: i64, mac: &[u8; 32]) -> Result<()> {
    let mut raw = Vec::with_capacity(72);
    raw.extend_from_slice(&id.to_le_bytes());
    raw.extend_from_slice(mac);
    raw.extend_from_slice(&head_mac(key, id, mac));
    c.set_meta(HEAD_KEY, &raw)
}

/// Appends one event inside the caller's transaction. Returns its id.
pub(crate) fn append(c: &dyn Storage, key: &Key32, now: i64, ev: &NewEvent<'_>) -> Result<i64> {
    let head = read_head(c, key)?;
    let mut row = AuditRow {
        id: head.id + 1,
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
    };
    let mac = event_mac(key, &head.mac, &row);
    row.mac = mac.to_vec();
    c.insert_audit(&row)?;
    write_head(c, key, row.id, &mac)?;
    Ok(row.id)
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

pub(crate) fn verify(c: &dyn Storage, key: &Key32) -> Result<VerifyReport> {
    let head = match read_head(c, key) {
        Ok(h) => h,
        Err(e) => {
            return Ok(VerifyReport {
                events: 0,
                ok: false,
                first_bad: None,
                problem: Some(e.to_string()),
            })
        }
    };
    let mut prev_mac = vec![0u8; 32];
    let mut expected_id = 1i64;
    let mut count = 0i64;
    let mut failure: Option<(i64, String)> = None;
    c.each_audit(&mut |row: &AuditRow| {
        count += 1;
        if row.id != expected_id {
            let why = if row.id > expected_id {
                format!(
                    "event {} is missing (the next one present is {})",
                    expected_id, row.id
                )
            } else {
                format!("event {} is out of order", row.id)
            };
            failure = Some((expected_id.min(row.id), why));
            return Ok(false);
        }
        let mac = event_mac(key, &prev_mac, row);
        if mac[..] != row.mac[..] {
            failure = Some((
                row.id,
                format!("event {} was altered, reordered or inserted", row.id),
            ));
            return Ok(false);
        }
        prev_mac = row.mac.clone();
        expected_id += 1;
        Ok(true)
    })?;
    if failure.is_none() {
        let last = expected_id - 1;
        if head.id != last || head.mac != prev_mac {
            failure = Some((
                last + 1,
                if head.id > last {
                    format!(
                        "events {}..={} were removed from the end",
                        last + 1,
                        head.id
                    )
                } else {
                    format!(
                        "the trail does not end where its head record says (event {})",
                        head.id
                    )
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
    Ok(c.last_audit()?.map(|(id, _)| id).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn setup(n: i64) -> (Connection, Key32) {
        let mut c = Connection::open_in_memory().unwrap();
        crate::store::migrate_for_tests(&mut c);
        let key = Key32::from_slice(&[9u8; 32]).unwrap();
        for i in 0..n {
            let mut ev = NewEvent::new("alice", "secret.update");
            ev.secret = Some("API_KEY");
            ev.detail = serde_json::json!({ "version": i });
            append(&c, &key, 1000 + i, &ev).unwrap();
        }
        (c, key)
    }

    #[test]
    fn untouched_chain_verifies() {
        let (c, key) = setup(20);
        let r = verify(&c, &key).unwrap();
        assert!(r.ok, "{r:?}");
        assert_eq!(r.events, 20);
    }

    #[test]
    fn edits_deletions_and_reorders_are_caught_at_the_first_bad_event() {
        let (c, key) = setup(10);
        c.execute("UPDATE audit_events SET actor = 'mallory' WHERE id = 4", [])
            .unwrap();
        assert_eq!(verify(&c, &key).unwrap().first_bad, Some(4));

        let (c, key) = setup(10);
        c.execute("DELETE FROM audit_events WHERE id = 6", [])
            .unwrap();
        assert_eq!(verify(&c, &key).unwrap().first_bad, Some(6));

        let (c, key) = setup(10);
        c.execute_batch(
            "UPDATE audit_events SET id = 100 WHERE id = 3;
             UPDATE audit_events SET id = 3 WHERE id = 5;
             UPDATE audit_events SET id = 5 WHERE id = 100;",
        )
        .unwrap();
        assert_eq!(verify(&c, &key).unwrap().first_bad, Some(3));

        let (c, key) = setup(10);
        c.execute("DELETE FROM audit_events WHERE id = 10", [])
            .unwrap();
        let r = verify(&c, &key).unwrap();
        assert!(!r.ok && r.problem.unwrap().contains("removed from the end"));
    }

    #[test]
    fn wrong_key_fails_verification() {
        let (c, _) = setup(3);
        let other = Key32::from_slice(&[8u8; 32]).unwrap();
        assert!(!verify(&c, &other).unwrap().ok);
    }
}
