//! Who is acting and how they unlock: `--as`/`COFFER_MEMBER`, then
//! `COFFER_PASSPHRASE`, else the device keyring, else a prompt on the terminal.

use std::io::{IsTerminal, Read};
use std::path::Path;

use coffer_core::device::OsKeyring;
use coffer_core::value::{Passphrase, SecretValue, MAX_BINARY_BYTES, MAX_VALUE_BYTES};
use coffer_core::{Error, Result, Session, ValueSource, Vault};
use zeroize::Zeroizing;

pub fn member(flag: Option<&str>) -> Result<String> {
    flag.map(str::to_string)
        .or_else(|| {
            std::env::var("COFFER_MEMBER")
                .ok()
                .filter(|m| !m.is_empty())
        })
        .ok_or_else(|| Error::Invalid("say who you are: --as MEMBER or COFFER_MEMBER".into()))
}

fn env_passphrase(var: &str) -> Option<Passphrase> {
    std::env::var(var)
        .ok()
        .filter(|p| !p.is_empty())
        .map(Passphrase::new)
}

/// Asks on the terminal with echo off; refuses plainly when there is none.
pub fn prompt(label: &str) -> Result<Passphrase> {
    rpassword::prompt_password(label)
        .map(Passphrase::new)
        .map_err(|_| {
            Error::Auth("the vault is locked: set COFFER_PASSPHRASE or run in a terminal".into())
        })
}

/// A new passphrase for a slot: `COFFER_NEW_PASSPHRASE`, else `fallback`, else typed twice.
pub fn new_passphrase(who: &str, fallback: Option<&str>) -> Result<Passphrase> {
    if let Some(p) = env_passphrase("COFFER_NEW_PASSPHRASE") {
        return Ok(p);
    }
    if let Some(p) = fallback.and_then(env_passphrase) {
        return Ok(p);
    }
    let first = prompt(&format!("New passphrase for {who}: "))?;
    let second = prompt("Repeat it: ")?;
    if first.expose() != second.expose() {
        return Err(Error::Invalid("the two passphrases differ".into()));
    }
    Ok(first)
}

/// Opens and unlocks the vault as `member`, then says what the member must know: the
/// one-time passphrases an upgrade of an older vault made (shown once, to the owner),
/// that the audit trail lost events this machine saw, or that they still use a
/// passphrase someone else chose.
pub fn unlock(path: &Path, member: &str) -> Result<Session> {
    let mut session = unlock_quietly(path, member)?;
    if let Some(report) = session.take_upgrade_report() {
        tell_upgrade(&report);
    }
    // Said to scripts too: a trail that lost events this machine saw is news for
    // whoever reads the log.
    if let Some(warning) = session.trail_warning() {
        crate::output::err_line(warning);
    }
    // A reminder for a person at a terminal; scripts get their output unchanged.
    if session.must_change_passphrase() && std::io::stderr().is_terminal() {
        crate::output::err_line(format!(
            "note: {member}, you still use the passphrase you were given: set your own with `coffer passphrase change`"
        ));
    }
    Ok(session)
}

/// Says what an upgrade of an older vault did, with the one-time passphrases it made
/// (shown only now, to the owner).
pub fn tell_upgrade(report: &coffer_core::UpgradeReport) {
    use crate::output::err_line;
    err_line(format!(
        "upgraded this vault: each member now holds only the keys their role needs ({} values sealed again)",
        report.values
    ));
    if !report.members.is_empty() {
        err_line("give each member their one-time passphrase (shown only now); they set their own with `coffer passphrase change`:");
        for (name, one_time) in &report.members {
            err_line(format!("  {name}: {}", one_time.expose()));
        }
    }
}

fn unlock_quietly(path: &Path, member: &str) -> Result<Session> {
    let vault = Vault::open(path)?;
    if let Some(p) = env_passphrase("COFFER_PASSPHRASE") {
        return vault.unlock(member, &p);
    }
    if vault.has_device_slot(member)? {
        // Re-open: a failed keyring attempt consumes nothing, but `unlock_with_device`
        // takes the vault by value.
        match vault.unlock_with_device(member, &OsKeyring) {
            Ok(session) => return Ok(session),
            Err(e) => crate::output::err_line(format!("note: {e}; using the passphrase")),
        }
        let vault = Vault::open(path)?;
        let p = prompt(&format!("Passphrase for {member}: "))?;
        return vault.unlock(member, &p);
    }
    let p = prompt(&format!("Passphrase for {member}: "))?;
    vault.unlock(member, &p)
}

/// `coffer passphrase change`: the current passphrase (`COFFER_PASSPHRASE` or a
/// prompt), then the new one (`COFFER_NEW_PASSPHRASE` or typed twice).
pub fn change_passphrase(path: &Path, member: &str) -> Result<()> {
    let current = match env_passphrase("COFFER_PASSPHRASE") {
        Some(p) => p,
        None => prompt(&format!("Current passphrase for {member}: "))?,
    };
    let mut session = Vault::open(path)?.unlock(member, &current)?;
    let new = new_passphrase(member, None)?;
    session.change_passphrase(&current, &new)
}

/// Reads a value from stdin: hidden prompt on a terminal (text; for a binary secret
/// its base64), else the whole stream as bytes (text or, for a binary secret, the
/// bytes themselves), refusing more than the vault's limit without buffering it all.
pub fn read_value(name: &str) -> Result<ValueSource> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let typed = rpassword::prompt_password(format!("Value for {name} (hidden): "))
            .map_err(|e| Error::Io(format!("could not read the value: {e}")))?;
        return SecretValue::from_string(typed).map(ValueSource::Given);
    }
    let mut buf = Zeroizing::new(Vec::with_capacity(4096));
    stdin
        .lock()
        .take(MAX_VALUE_BYTES.max(MAX_BINARY_BYTES) as u64 + 2)
        .read_to_end(&mut buf)
        .map_err(|e| Error::Io(format!("could not read the value from stdin: {e}")))?;
    Ok(ValueSource::Bytes(buf))
}

/// The passphrase of `member` from `COFFER_PASSPHRASE`, else asked with `label`.
pub fn passphrase(label: &str) -> Result<Passphrase> {
    match env_passphrase("COFFER_PASSPHRASE") {
        Some(p) => Ok(p),
        None => prompt(label),
    }
}
