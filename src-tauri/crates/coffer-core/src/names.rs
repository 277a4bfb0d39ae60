//! Validated names: secrets, members, workspaces, projects, environments.
//!
//! Raw strings from users are parsed here once; everything past this point holds a
//! name known to be well formed.

use crate::error::{Error, Result};

/// Rules shared by every kind of name: 1–128 characters from `A-Z a-z 0-9 _ - .`.
fn check(kind: &str, raw: &str, max: usize) -> Result<()> {
    if raw.is_empty() {
        return Err(Error::invalid(format!("{kind} name is empty")));
    }
    if raw.chars().count() > max {
        return Err(Error::invalid(format!(
            "{kind} name is longer than {max} characters"
        )));
    }
    if let Some(bad) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        let shown = if bad.is_control() || bad.is_whitespace() {
            format!("{:?}", bad)
        } else {
            format!("'{bad}'")
        };
        return Err(Error::invalid(format!(
            "{kind} name has an invalid character {shown}: use letters, digits, '_', '-' or '.'"
        )));
    }
    Ok(())
}

pub fn secret(raw: &str) -> Result<&str> {
    check("secret", raw, 128)?;
    Ok(raw)
}

pub fn member(raw: &str) -> Result<&str> {
    check("member", raw, 64)?;
    if raw == crate::audit::SYSTEM_ACTOR {
        return Err(Error::invalid(format!(
            "'{raw}' is the name the audit trail gives Coffer's own actions; choose another member name"
        )));
    }
    Ok(raw)
}

pub fn workspace(raw: &str) -> Result<&str> {
    check("workspace", raw, 64)?;
    Ok(raw)
}

pub fn project(raw: &str) -> Result<&str> {
    check("project", raw, 64)?;
    Ok(raw)
}

pub fn environment(raw: &str) -> Result<&str> {
    check("environment", raw, 64)?;
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in [
            "PAYMENTS_API_KEY",
            "payments-api-key",
            "a",
            "v1.2",
            &"x".repeat(128),
        ] {
            assert!(secret(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_bad_names_with_a_reason() {
        assert!(secret("").unwrap_err().to_string().contains("empty"));
        assert!(secret(&"x".repeat(129))
            .unwrap_err()
            .to_string()
            .contains("128"));
        let e = secret("bad name!").unwrap_err().to_string();
        assert!(e.contains("' '"), "{e}");
        assert!(secret("a/b").is_err());
        assert!(secret("é").is_err());
        assert!(secret("a\nb").unwrap_err().to_string().contains("\\n"));
    }
}
