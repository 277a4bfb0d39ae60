//! Field-by-field merge of a record changed both here and on the server.
//!
//! A secret's record carries its metadata: description, rotation period, the hosts test
//! requests may reach, whether it is deleted, when it last changed. Two members who
//! change different fields apart (one rotates production, which touches `updated_at`,
//! the other allows a host) did not disagree: each field takes the side that changed it.
//! The same field changed to two different values is a conflict for the user, as is any
//! change to what a sealed value's associated data names (the secret's name, scope,
//! owner, project, type): merging those would pair a value with a name it was not
//! sealed under.

use serde_json::{Map, Value};

/// The kinds of record whose fields merge one by one.
const MERGED_KINDS: &[&str] = &["secret"];

/// Columns that must be equal on all three sides for a merge: what the values' sealing
/// binds, and what identifies the row.
const FIXED: &[&str] = &[
    "id",
    "project_id",
    "name",
    "kind",
    "scope",
    "owner_id",
    "created_at",
];

/// Whether records of `kind` merge field by field.
pub(crate) fn merges(kind: &str) -> bool {
    MERGED_KINDS.contains(&kind)
}

/// The merge of `mine` and `theirs`, both changed from `base`: every field takes the
/// side that changed it. `None` when a field changed to two different values on the two
/// sides, a fixed column changed at all, or a body is not a JSON object (a conflict).
pub(crate) fn merge_fields(kind: &str, base: &[u8], mine: &[u8], theirs: &[u8]) -> Option<Vec<u8>> {
    if !merges(kind) {
        return None;
    }
    let object = |b: &[u8]| serde_json::from_slice::<Map<String, Value>>(b).ok();
    let (base, mine, theirs) = (object(base)?, object(mine)?, object(theirs)?);
    // A column this machine's table lacks (written by a newer Coffer) would be lost
    // when the merge is written here: such a record is the user's to settle.
    if base
        .keys()
        .chain(theirs.keys())
        .any(|c| !mine.contains_key(c))
    {
        return None;
    }
    let mut columns: Vec<&String> = base
        .keys()
        .chain(mine.keys())
        .chain(theirs.keys())
        .collect();
    columns.sort_unstable();
    columns.dedup();
    let mut merged = Map::new();
    for column in columns {
        let (b, m, t) = (base.get(column), mine.get(column), theirs.get(column));
        if FIXED.contains(&column.as_str()) && !(b == m && m == t) {
            return None;
        }
        let value = if m == t || t == b {
            m
        } else if m == b {
            t
        } else {
            // Both sides changed it, to different values.
            match column.as_str() {
                // When it last changed: the later of the two.
                "updated_at" => later(m, t),
                // Deleted on both sides apart: deleted since the first of the two.
                "deleted_at" => match (m, t) {
                    (Some(Value::Number(x)), Some(Value::Number(y))) => {
                        if x.as_i64() <= y.as_i64() {
                            m
                        } else {
                            t
                        }
                    }
                    _ => return None,
                },
                _ => return None,
            }
        };
        if let Some(v) = value {
            merged.insert(column.clone(), v.clone());
        }
    }
    serde_json::to_vec(&Value::Object(merged)).ok()
}

fn later<'a>(m: Option<&'a Value>, t: Option<&'a Value>) -> Option<&'a Value> {
    let n = |v: Option<&Value>| v.and_then(Value::as_i64);
    if n(m) >= n(t) {
        m
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(over: Value) -> Vec<u8> {
        let mut row = json!({
            "id": 7, "project_id": 1, "name": "API_KEY", "description": "", "kind": "string",
            "scope": "workspace", "owner_id": 1, "rotate_every": null, "created_at": 100,
            "updated_at": 100, "deleted_at": null, "allowed_hosts": "[]"
        });
        for (k, v) in over.as_object().unwrap() {
            row[k] = v.clone();
        }
        serde_json::to_vec(&row).unwrap()
    }

    fn merged(base: Value, mine: Value, theirs: Value) -> Option<Value> {
        merge_fields("secret", &secret(base), &secret(mine), &secret(theirs))
            .map(|b| serde_json::from_slice(&b).unwrap())
    }

    #[test]
    fn each_field_takes_the_side_that_changed_it() {
        let m = merged(
            json!({}),
            json!({"allowed_hosts": "[\"api.example.com\"]", "updated_at": 300}),
            json!({"description": "the payments key", "updated_at": 200}),
        )
        .expect("different fields merge");
        assert_eq!(m["allowed_hosts"], "[\"api.example.com\"]");
        assert_eq!(m["description"], "the payments key");
        assert_eq!(m["updated_at"], 300, "the later change");
        assert_eq!(m["name"], "API_KEY");
    }

    #[test]
    fn a_deletion_and_a_change_elsewhere_both_stand() {
        let m = merged(
            json!({}),
            json!({"deleted_at": 250, "updated_at": 250}),
            json!({"rotate_every": 86400000, "updated_at": 260}),
        )
        .unwrap();
        assert_eq!(m["deleted_at"], 250);
        assert_eq!(m["rotate_every"], 86400000);
        assert_eq!(m["updated_at"], 260);
        // Deleted on both sides: since the first.
        let m = merged(
            json!({}),
            json!({"deleted_at": 300}),
            json!({"deleted_at": 200}),
        )
        .unwrap();
        assert_eq!(m["deleted_at"], 200);
    }

    #[test]
    fn the_same_field_changed_two_ways_is_a_conflict() {
        assert!(merged(
            json!({}),
            json!({"description": "a"}),
            json!({"description": "b"})
        )
        .is_none());
        // Deleted on one side, restored on the other.
        assert!(merged(
            json!({"deleted_at": 5}),
            json!({"deleted_at": null}),
            json!({"deleted_at": 9})
        )
        .is_none());
        // The same change on both sides is no conflict.
        let m = merged(
            json!({}),
            json!({"description": "a"}),
            json!({"description": "a"}),
        )
        .unwrap();
        assert_eq!(m["description"], "a");
    }

    #[test]
    fn what_sealing_binds_never_merges() {
        for fixed in [
            json!({"name": "OTHER"}),
            json!({"scope": "user"}),
            json!({"owner_id": 2}),
            json!({"kind": "binary"}),
            json!({"project_id": 3}),
        ] {
            assert!(
                merged(json!({}), fixed.clone(), json!({"description": "x"})).is_none(),
                "{fixed}"
            );
            assert!(
                merged(json!({}), json!({"description": "x"}), fixed.clone()).is_none(),
                "{fixed}"
            );
        }
    }

    #[test]
    fn other_kinds_and_unreadable_bodies_do_not_merge() {
        let s = secret(json!({}));
        assert!(merge_fields("environment", &s, &s, &s).is_none());
        assert!(merge_fields("secret", b"not json", &s, &s).is_none());
        assert!(merge_fields("secret", &s, b"[1]", &s).is_none());
    }

    #[test]
    fn a_column_this_machine_does_not_know_is_never_merged_away() {
        let mine = secret(json!({"description": "here"}));
        let mut theirs: Value = serde_json::from_slice(&secret(json!({}))).unwrap();
        theirs["labels"] = json!("[\"pci\"]");
        let theirs = serde_json::to_vec(&theirs).unwrap();
        assert!(merge_fields("secret", &secret(json!({})), &mine, &theirs).is_none());
    }
}
