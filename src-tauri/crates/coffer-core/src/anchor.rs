//! What this machine last saw of each vault's audit trail: the head (sequence number
//! and hash) after its own last write or verify, kept outside the vault file in
//! `$XDG_STATE_HOME/coffer/anchors/` (`~/.local/state` when unset), one file per vault
//! and place (a copy kept elsewhere on purpose has its own). A vault whose
//! trail no longer holds that event with that hash lost events this machine saw — a
//! deleted tail, a wiped trail, an older copy of the whole file put back — which the
//! links and signatures inside the file cannot show by themselves.
//!
//! An anchor only moves forward. Failing to read or write one never stops a command:
//! it is a second line of evidence, not a lock.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::store::Storage;

fn dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".local/state"),
    };
    Some(base.join("coffer").join("anchors"))
}

/// The anchor of one vault at one place: `<vault id>-<hash of its path>`.
fn file(vault: Vault<'_>) -> Option<PathBuf> {
    let (vault_id, path) = vault;
    // A vault id is hex; anything else never names a file here.
    if !vault_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return None;
    }
    let place = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let h = Sha256::digest(place.as_os_str().as_encoded_bytes());
    Some(dir()?.join(format!("{vault_id}-{}", hex::encode(&h[..8]))))
}

/// A vault by its id and where its file is.
pub(crate) type Vault<'a> = (&'a str, &'a Path);

/// The head this machine remembers for a vault.
pub(crate) fn remembered(vault: Vault<'_>) -> Option<(i64, Vec<u8>)> {
    read(&file(vault)?)
}

fn read(path: &Path) -> Option<(i64, Vec<u8>)> {
    let text = std::fs::read_to_string(path).ok()?;
    let (seq, hash) = text.lines().next()?.trim().split_once(' ')?;
    Some((seq.parse().ok()?, hex::decode(hash).ok()?))
}

/// Remembers `head` unless an equal or later one is remembered already.
pub(crate) fn remember(vault: Vault<'_>, head: (i64, &[u8])) {
    if remembered(vault).is_some_and(|(seq, _)| seq >= head.0) {
        return;
    }
    let _ = write(vault, head);
}

/// Remembers `head` even if it is behind the one remembered: the vault was replaced on
/// purpose, here, by a restore (its trail records it).
pub(crate) fn reset(vault: Vault<'_>, head: (i64, &[u8])) {
    let _ = write(vault, head);
}

fn write(vault: Vault<'_>, (seq, hash): (i64, &[u8])) -> std::io::Result<()> {
    let (Some(dir), Some(path)) = (dir(), file(vault)) else {
        return Ok(());
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir)?;
    write_at(&path, (seq, hash))
}

fn write_at(path: &Path, (seq, hash): (i64, &[u8])) -> std::io::Result<()> {
    // One fixed-width record written over the old one in place, by a single write:
    // never shorter than what it replaces, and cheaper than a new file renamed over
    // it (on ext4 that rename waits for the data to reach the disk, a third of a
    // whole use's time). A sector is written whole, so a crash leaves one or the other.
    let record = format!("{seq:020} {}\n", hex::encode(hash));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(record.as_bytes())
}

/// A one-line warning when the vault's trail does not hold the head remembered here.
pub(crate) fn check(c: &dyn Storage, vault: Vault<'_>) -> Result<Option<String>> {
    let Some((seq, hash)) = remembered(vault) else {
        return Ok(None);
    };
    let mut found = c.audit_hash_at(seq)?;
    if found.is_none() {
        // Moved to an archive file: only the last event archived is named in the vault.
        let start = crate::audit::vault_start(c)?;
        if seq < start.first - 1 {
            return Ok(None);
        }
        if seq == start.first - 1 {
            found = Some(start.prev);
        }
    }
    Ok(match found {
        Some(h) if h == hash => None,
        Some(_) => Some(format!(
            "warning: audit event {seq}, which this machine saw, has changed: this is another or an older copy of the vault (run `coffer audit verify`)"
        )),
        None => Some(format!(
            "warning: the audit trail no longer holds event {seq}, which this machine saw: its tail was deleted or an older copy of the vault put back (run `coffer audit verify`)"
        )),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_hex_ids_name_a_file() {
        let p = std::path::Path::new("/tmp/v.db");
        assert!(super::file(("../../etc/passwd", p)).is_none());
        assert!(super::file(("a/b", p)).is_none());
        assert!(super::file(("0af3", p)).is_some());
    }

    #[test]
    fn a_record_replaces_the_last_in_place_whatever_its_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anchor");
        // As anchors were written before records had a fixed width.
        std::fs::write(&path, format!("7 {}\n", "ab".repeat(32))).unwrap();
        assert_eq!(super::read(&path), Some((7, vec![0xab; 32])));
        super::write_at(&path, (1234567, &[0xcd; 32])).unwrap();
        assert_eq!(super::read(&path), Some((1234567, vec![0xcd; 32])));
        super::write_at(&path, (8, &[0x01; 32])).unwrap();
        assert_eq!(super::read(&path), Some((8, vec![0x01; 32])));
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    }
}
