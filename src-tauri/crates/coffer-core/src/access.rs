//! Who may do what: capabilities, the built-in roles, and DESIGN.md's matrix.
//!
//! Use is not reveal: `use` resolves a value into a run without displaying it;
//! `reveal` displays it and is a deliberate grant.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Capability {
    List,
    Use,
    Reveal,
    Write,
    Delete,
    Audit,
    Manage,
}

impl Capability {
    pub const ALL: [Capability; 7] = [
        Capability::List,
        Capability::Use,
        Capability::Reveal,
        Capability::Write,
        Capability::Delete,
        Capability::Audit,
        Capability::Manage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::List => "list",
            Capability::Use => "use",
            Capability::Reveal => "reveal",
            Capability::Write => "write",
            Capability::Delete => "delete",
            Capability::Audit => "audit",
            Capability::Manage => "manage",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Role {
    Viewer,
    Developer,
    Admin,
    Auditor,
    Owner,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Developer,
        Role::Admin,
        Role::Auditor,
        Role::Owner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Developer => "developer",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Owner => "owner",
        }
    }

    pub fn allows(self, cap: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Viewer => matches!(cap, List),
            Role::Developer => matches!(cap, List | Use),
            Role::Admin => matches!(cap, List | Use | Write | Delete),
            Role::Auditor => matches!(cap, List | Audit),
            Role::Owner => true,
        }
    }

    pub fn capabilities(self) -> Vec<Capability> {
        Capability::ALL
            .into_iter()
            .filter(|c| self.allows(*c))
            .collect()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown role '{s}': choose viewer, developer, admin, auditor or owner"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;

    /// The matrix of DESIGN.md, row by row.
    #[test]
    fn matrix_matches_the_design() {
        let rows: [(Role, &[Capability]); 5] = [
            (Role::Viewer, &[List]),
            (Role::Developer, &[List, Use]),
            (Role::Admin, &[List, Use, Write, Delete]),
            (Role::Auditor, &[List, Audit]),
            (Role::Owner, &Capability::ALL),
        ];
        for (role, caps) in rows {
            assert_eq!(role.capabilities(), caps.to_vec(), "{role}");
        }
        assert!(!Role::Admin.allows(Reveal), "use is not reveal");
    }

    #[test]
    fn roles_parse_by_name_only() {
        assert_eq!("admin".parse::<Role>().unwrap(), Role::Admin);
        let e = "root".parse::<Role>().unwrap_err();
        assert!(e.to_string().contains("unknown role 'root'"));
    }
}
