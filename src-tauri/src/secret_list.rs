//! The key list as it crosses to the Secrets screen: the facts of coffer-core's
//! `SecretSummary`, in a shape sized for 10,000 secrets × several environments.
//!
//! The plain summaries repeat every environment name and field name in every cell
//! (about 750 bytes of JSON a secret with three environments), and the first paint
//! after unlock waits on sending and parsing all of it. Here environment names come
//! once, a cell is one short array, and fields at their usual value are left out.
//! Only what the list shows crosses: owner, creation times and the rotation period
//! are on `show_secret`. Like the summaries, it never holds a value.

use coffer_core::{EnvState, EnvStatus, Scope, SecretKind, SecretScope, SecretSummary, Session};
use serde::Serialize;

/// Secrets in list order, each with one cell per environment.
#[derive(Debug, Default, Serialize, specta::Type)]
pub struct SecretList {
    /// The column order that every secret's `cells` follows.
    pub environments: Vec<String>,
    pub secrets: Vec<ListedSecret>,
}

/// One secret. An absent field has its usual value: no description, kind `string`,
/// scope `workspace`, not deleted.
#[derive(Debug, Serialize, specta::Type)]
pub struct ListedSecret {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<SecretKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<SecretScope>,
    /// ms since the epoch, as are all times here. (`specta(type = i32)` only gives
    /// TypeScript `number`, which holds them exactly; `f64` would add `| null`.)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[specta(type = Option<i32>)]
    pub deleted_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[specta(type = Option<i32>)]
    pub purge_at: Option<i64>,
    /// Removed members who could use a current value (cells flagged exposed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exposed_to: Vec<String>,
    /// One per environment of `SecretList::environments`; `null` where there is no
    /// value. An array shorter than the environments is missing the rest.
    pub cells: Vec<Option<ListedCell>>,
}

/// The current value in one environment: `[version, updated_at, expires_at, flags,
/// first_equal]`. `flags` adds 1 when expired, 2 when expiring soon and 4 when
/// rotation is due (the constants below). `first_equal` is the column of the first
/// environment whose current value is equal to this one (compared by keyed
/// fingerprint), its own column when no earlier one is: cells sharing it hold equal
/// values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ListedCell(
    #[specta(type = i32)] pub i64,
    #[specta(type = i32)] pub i64,
    #[specta(type = Option<i32>)] pub Option<i64>,
    pub u8,
    pub u32,
);

pub const EXPIRED: u8 = 1;
pub const EXPIRING_SOON: u8 = 2;
pub const ROTATION_DUE: u8 = 4;
pub const EXPOSED: u8 = 8;

impl SecretList {
    /// Adds one secret at the end.
    pub fn push(&mut self, s: SecretSummary) {
        let environments = &mut self.environments;
        let columns: Vec<usize> = s
            .environments
            .iter()
            .map(|e| column_of(environments, &e.environment))
            .collect();
        let mut cells = vec![None; columns.iter().max().map_or(0, |m| m + 1)];
        let mut exposed_to: Vec<String> = Vec::new();
        for m in s.environments.iter().flat_map(|e| &e.exposed_to) {
            if !exposed_to.contains(m) {
                exposed_to.push(m.clone());
            }
        }
        for (status, &column) in s.environments.iter().zip(&columns) {
            cells[column] = cell(status, column, environments);
        }
        self.secrets.push(ListedSecret {
            name: s.name,
            description: s.description,
            kind: (s.kind != SecretKind::String).then_some(s.kind),
            scope: (s.scope != SecretScope::Workspace).then_some(s.scope),
            deleted_at: s.deleted_at,
            purge_at: s.purge_at,
            exposed_to,
            cells,
        });
    }
}

impl From<Vec<SecretSummary>> for SecretList {
    fn from(summaries: Vec<SecretSummary>) -> Self {
        let mut list = SecretList::default();
        for s in summaries {
            list.push(s);
        }
        list
    }
}

/// The secrets of the first piece [`in_pieces`] sends: a screenful and more.
pub const FIRST_PIECE: usize = 200;
/// The secrets of each later piece.
pub const PIECE: usize = 20_000;

/// Reads the key list of `scope` and hands it to `send` in pieces as it is read: the
/// first [`FIRST_PIECE`] secrets, then [`PIECE`] at a time. Each piece is a list of its
/// own (its own environment columns), in name order after the one before; nothing is
/// sent for no secrets. Returns how many secrets were sent.
pub fn in_pieces(
    session: &mut Session,
    scope: &Scope,
    include_deleted: bool,
    send: &mut dyn FnMut(SecretList) -> coffer_core::Result<()>,
) -> coffer_core::Result<usize> {
    let mut piece = SecretList::default();
    let mut size = FIRST_PIECE;
    let mut sent = 0;
    session.each_secret_in(scope, include_deleted, None, &mut |summary| {
        piece.push(summary);
        if piece.secrets.len() >= size {
            size = PIECE;
            sent += piece.secrets.len();
            send(std::mem::take(&mut piece))?;
        }
        Ok(())
    })?;
    if !piece.secrets.is_empty() {
        sent += piece.secrets.len();
        send(piece)?;
    }
    Ok(sent)
}

/// The column of `name`, adding it when new (a handful of names: a scan is quickest).
fn column_of(environments: &mut Vec<String>, name: &str) -> usize {
    environments
        .iter()
        .position(|e| e == name)
        .unwrap_or_else(|| {
            environments.push(name.to_string());
            environments.len() - 1
        })
}

fn cell(status: &EnvStatus, column: usize, environments: &mut Vec<String>) -> Option<ListedCell> {
    let (Some(version), Some(updated_at)) = (status.version, status.updated_at) else {
        return None; // missing
    };
    let flags = if status.state == EnvState::Expired {
        EXPIRED
    } else {
        0
    } | if status.expiring_soon {
        EXPIRING_SOON
    } else {
        0
    } | if status.rotation_due { ROTATION_DUE } else { 0 }
        | if status.exposed_to.is_empty() {
            0
        } else {
            EXPOSED
        };
    let first_equal = status
        .same_as
        .iter()
        .map(|name| column_of(environments, name))
        .fold(column, usize::min);
    Some(ListedCell(
        version,
        updated_at,
        status.expires_at,
        flags,
        first_equal as u32,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(env: &str, version: Option<i64>, same_as: &[&str]) -> EnvStatus {
        EnvStatus {
            environment: env.into(),
            state: if version.is_some() {
                EnvState::Set
            } else {
                EnvState::Missing
            },
            version,
            updated_at: version.map(|v| 1_700_000_000_000 + v),
            expires_at: None,
            expiring_soon: false,
            rotation_due: false,
            same_as: same_as.iter().map(|s| s.to_string()).collect(),
            exposed_to: Vec::new(),
        }
    }

    fn summary(name: &str, environments: Vec<EnvStatus>) -> SecretSummary {
        SecretSummary {
            name: name.into(),
            description: String::new(),
            kind: SecretKind::String,
            scope: SecretScope::Workspace,
            owner: "alice".into(),
            created_at: 1,
            updated_at: 2,
            rotate_every: None,
            deleted_at: None,
            purge_at: None,
            environments,
        }
    }

    #[test]
    fn names_environments_once_and_leaves_usual_values_out() {
        let list = SecretList::from(vec![summary(
            "API_KEY",
            vec![
                status("development", Some(2), &["production"]),
                status("staging", None, &[]),
                status("production", Some(5), &["development"]),
            ],
        )]);
        assert_eq!(
            serde_json::to_value(&list).unwrap(),
            serde_json::json!({
                "environments": ["development", "staging", "production"],
                "secrets": [{
                    "name": "API_KEY",
                    "cells": [
                        [2, 1_700_000_000_002_i64, null, 0, 0],
                        null,
                        [5, 1_700_000_000_005_i64, null, 0, 0],
                    ],
                }],
            })
        );
    }

    #[test]
    fn keeps_what_differs_from_the_usual() {
        let mut s = summary(
            "CERT",
            vec![
                status("development", Some(1), &[]),
                EnvStatus {
                    state: EnvState::Expired,
                    expires_at: Some(9),
                    ..status("production", Some(3), &[])
                },
                EnvStatus {
                    expiring_soon: true,
                    rotation_due: true,
                    expires_at: Some(10),
                    exposed_to: vec!["bob".into()],
                    ..status("staging", Some(4), &[])
                },
            ],
        );
        s.description = "TLS".into();
        s.kind = SecretKind::Multiline;
        s.scope = SecretScope::User;
        s.deleted_at = Some(7);
        s.purge_at = Some(8);
        let json = serde_json::to_value(SecretList::from(vec![s])).unwrap();
        assert_eq!(
            json["secrets"][0],
            serde_json::json!({
                "name": "CERT", "description": "TLS", "kind": "multiline", "scope": "user",
                "deleted_at": 7, "purge_at": 8, "exposed_to": ["bob"],
                "cells": [
                    [1, 1_700_000_000_001_i64, null, 0, 0],
                    [3, 1_700_000_000_003_i64, 9, EXPIRED, 1],
                    [4, 1_700_000_000_004_i64, 10, EXPIRING_SOON | ROTATION_DUE | EXPOSED, 2],
                ],
            })
        );
    }

    #[test]
    fn equal_values_share_the_first_column_that_holds_them() {
        let list = SecretList::from(vec![summary(
            "TOKEN",
            vec![
                status("a", Some(1), &[]),
                status("b", Some(1), &["c", "d"]),
                status("c", Some(1), &["b", "d"]),
                status("d", Some(1), &["b", "c"]),
            ],
        )]);
        let firsts: Vec<u32> = list.secrets[0]
            .cells
            .iter()
            .map(|c| c.as_ref().unwrap().4)
            .collect();
        assert_eq!(firsts, [0, 1, 1, 1]);
    }

    #[test]
    fn an_empty_project_lists_nothing() {
        let list = SecretList::from(Vec::new());
        assert!(list.environments.is_empty() && list.secrets.is_empty());
    }
}
