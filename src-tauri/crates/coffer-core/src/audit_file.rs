//! The trail outside the vault: what `coffer audit export` and `coffer audit archive`
//! write, and what `coffer audit verify --file` checks offline, with no vault and no
//! secret key.
//!
//! A file is JSON lines. The first line is a header: the vault's id, the public
//! signing key of its root owner, where the stretch of the trail starts (its first
//! event and the hash before it), and every member's public keys with the certificate
//! that binds them to the root (past keys too, so events by members removed since
//! still verify). Each further line is one event as `coffer audit --jsonl` prints it
//! (Elastic Common Schema names, so a SIEM reads the file as is), plus `coffer.chain`:
//! the exact stored bytes the event's hash covers. Values never appear: events carry
//! none.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{self, AuthorKeys, Start, VerifyReport};
use crate::error::{Error, Result};
use crate::store::{AuditRow, MemberKeyRows, MemberKeysRow};

/// The version of the file format this build writes and reads.
const FILE_FORMAT: u32 = 1;

/// What a file holds: a copy of the whole trail, or events moved out of the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum FileKind {
    Export,
    Archive,
}

#[derive(Clone, Serialize, Deserialize)]
struct KeysEntry {
    name: String,
    sign_pk: String,
    kx_pk: String,
    certified_by: i64,
    certificate: String,
}

#[derive(Clone, Serialize, Deserialize)]
struct MemberEntry {
    id: i64,
    #[serde(flatten)]
    keys: KeysEntry,
    #[serde(default)]
    past: Vec<KeysEntry>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Header {
    coffer_audit_file: u32,
    kind: FileKind,
    vault: String,
    root: String,
    first: i64,
    prev: String,
    written_at: String,
    written_by: String,
    written_by_id: i64,
    /// The last event and its hash: a file cut short is caught.
    last: i64,
    head: String,
    /// The writer's signature over the fields above that place the stretch.
    signature: String,
    members: Vec<MemberEntry>,
}

/// What a file's signature covers: every field of its header but the signature
/// itself (which vault, what kind, where the stretch starts and ends, who wrote it and
/// when, the root and every member's keys), as the header's JSON.
fn header_message(h: &Header) -> Vec<u8> {
    let unsigned = Header {
        signature: String::new(),
        ..h.clone()
    };
    let mut out = b"coffer/audit-file/v1\n".to_vec();
    out.extend(serde_json::to_vec(&unsigned).unwrap_or_default());
    out
}

impl KeysEntry {
    fn of(row: &MemberKeysRow) -> Option<KeysEntry> {
        Some(KeysEntry {
            name: row.name.clone(),
            sign_pk: hex::encode(row.sign_pk.as_ref()?),
            kx_pk: hex::encode(row.kx_pk.as_ref()?),
            certified_by: row.certified_by?,
            certificate: hex::encode(row.certificate.as_ref()?),
        })
    }

    fn row(&self) -> Result<MemberKeysRow> {
        let bytes = |h: &str| {
            hex::decode(h)
                .map_err(|_| Error::Integrity("the file's member keys are malformed".into()))
        };
        Ok(MemberKeysRow {
            name: self.name.clone(),
            sign_pk: Some(bytes(&self.sign_pk)?),
            kx_pk: Some(bytes(&self.kx_pk)?),
            certified_by: Some(self.certified_by),
            certificate: Some(bytes(&self.certificate)?),
        })
    }
}

/// A short fingerprint of a root signing key, for comparing by eye or by script.
pub fn key_fingerprint(key: &[u8]) -> String {
    let h = Sha256::digest(key);
    hex::encode(&h[..16])
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a file's header says, before its events.
pub(crate) struct FileStart<'a> {
    pub kind: FileKind,
    pub vault_id: &'a str,
    pub root: &'a [u8; 32],
    pub start: Start,
    pub written_at: String,
    /// Who writes it, and the key they sign it with.
    pub writer: (i64, &'a str, &'a crate::crypto::Identity),
    /// The last event to write and its hash (`None`: the stretch is empty).
    pub end: Option<(i64, Vec<u8>)>,
}

/// What was written: the number of events and the last one's sequence number and hash.
pub(crate) struct Written {
    pub events: i64,
    pub head: Option<(i64, Vec<u8>)>,
}

/// Writes a trail file: the header with every member's public keys from `keys`, then
/// the events `rows` hands over, streamed (constant memory).
pub(crate) fn write<K: MemberKeyRows + ?Sized>(
    out: &mut dyn Write,
    head: FileStart<'_>,
    members: &[i64],
    keys: &K,
    rows: &mut audit::Rows<'_>,
) -> Result<Written> {
    let mut entries = Vec::new();
    for &id in members {
        let Some(current) = keys.key_row(id)? else {
            continue;
        };
        let past = keys
            .past_key_rows(id)?
            .iter()
            .filter_map(KeysEntry::of)
            .collect();
        if let Some(keys) = KeysEntry::of(&current) {
            entries.push(MemberEntry { id, keys, past });
        }
    }
    let (last, end_hash) = head
        .end
        .clone()
        .unwrap_or((head.start.first - 1, head.start.prev.clone()));
    let (writer_id, writer, identity) = head.writer;
    let mut header = Header {
        coffer_audit_file: FILE_FORMAT,
        kind: head.kind,
        vault: head.vault_id.to_string(),
        root: hex::encode(head.root),
        first: head.start.first,
        prev: hex::encode(&head.start.prev),
        written_at: head.written_at,
        written_by: writer.to_string(),
        written_by_id: writer_id,
        last,
        head: hex::encode(&end_hash),
        signature: String::new(),
        members: entries,
    };
    header.signature = hex::encode(identity.sign(&header_message(&header)));
    let io = |e: std::io::Error| Error::Io(format!("could not write the audit file: {e}"));
    serde_json::to_writer(&mut *out, &header).map_err(|e| Error::Io(e.to_string()))?;
    out.write_all(b"\n").map_err(io)?;
    let mut written = Written {
        events: 0,
        head: None,
    };
    let mut failed = None;
    rows(&mut |r: &AuditRow| {
        if r.id > last {
            return Ok(false);
        }
        let line = audit::ecs_line(r, true);
        let res = out
            .write_all(line.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .map_err(io);
        if let Err(e) = res {
            failed = Some(e);
            return Ok(false);
        }
        written.events += 1;
        written.head = r.hash.clone().map(|h| (r.id, h));
        Ok(true)
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    out.flush().map_err(io)?;
    Ok(written)
}

/// The keys a file carries, as certificate chains read them.
struct FileKeys(HashMap<i64, (MemberKeysRow, Vec<MemberKeysRow>)>);

impl MemberKeyRows for FileKeys {
    fn key_row(&self, member_id: i64) -> Result<Option<MemberKeysRow>> {
        Ok(self.0.get(&member_id).map(|m| m.0.clone()))
    }
    fn past_key_rows(&self, member_id: i64) -> Result<Vec<MemberKeysRow>> {
        Ok(self
            .0
            .get(&member_id)
            .map(|m| m.1.clone())
            .unwrap_or_default())
    }
}

/// What `verify --file` found.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FileReport {
    pub kind: FileKind,
    pub vault: String,
    /// The fingerprint of the root owner's signing key every signature chains to.
    pub root: String,
    pub written_at: String,
    pub written_by: String,
    /// The sequence number of the file's first event.
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub first: i64,
    /// The hash the first event links to (zeros when it is event 1).
    pub prev: String,
    /// The last event's sequence number and hash, which the next stretch links to.
    #[cfg_attr(feature = "specta", specta(type = Option<i32>))]
    pub last: Option<i64>,
    pub head: Option<String>,
    #[serde(flatten)]
    pub report: VerifyReport,
}

fn malformed(line: usize, why: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("not a Coffer audit file: line {line}: {why}"))
}

/// Rebuilds the stored event from one line of a file.
fn row_of(v: &serde_json::Value, line: usize) -> Result<AuditRow> {
    let c = &v["coffer"];
    let chain = &c["chain"];
    let text = |x: &serde_json::Value, what: &str| -> Result<String> {
        x.as_str()
            .map(str::to_string)
            .ok_or_else(|| malformed(line, format!("no {what}")))
    };
    let opt_text = |x: &serde_json::Value| x.as_str().map(str::to_string);
    let int = |x: &serde_json::Value, what: &str| -> Result<i64> {
        x.as_i64()
            .ok_or_else(|| malformed(line, format!("no {what}")))
    };
    let bytes = |x: &serde_json::Value| -> Result<Option<Vec<u8>>> {
        x.as_str()
            .map(hex::decode)
            .transpose()
            .map_err(|_| malformed(line, "a hash or signature is not hex"))
    };
    Ok(AuditRow {
        id: int(&v["event"]["sequence"], "event.sequence")?,
        at: int(&chain["at_ms"], "coffer.chain.at_ms")?,
        actor: text(&v["user"]["name"], "user.name")?,
        action: text(&v["event"]["action"], "event.action")?,
        outcome: text(&c["outcome"], "coffer.outcome")?,
        workspace_id: chain["workspace_id"].as_i64(),
        workspace: opt_text(&c["workspace"]),
        project: opt_text(&c["project"]),
        environment: opt_text(&c["environment"]),
        secret: opt_text(&c["secret"]),
        detail: text(&chain["detail"], "coffer.chain.detail")?,
        mac: bytes(&chain["mac"])?.unwrap_or_default(),
        format: int(&c["format"], "coffer.format")?,
        hash: bytes(&c["hash"])?,
        signer: c["author_id"].as_i64(),
        sig: bytes(&c["signature"])?,
    })
}

/// The longest line a trail file may have (a header with many members is the longest).
const MAX_LINE: u64 = 16 << 20;

/// Reads one line, refusing one longer than [`MAX_LINE`].
fn read_line(input: &mut dyn BufRead, buf: &mut String, line: usize) -> Result<usize> {
    let n = std::io::Read::take(&mut *input, MAX_LINE)
        .read_line(buf)
        .map_err(|e| Error::Io(format!("could not read the audit file: {e}")))?;
    if n as u64 == MAX_LINE && !buf.ends_with('\n') {
        return Err(malformed(line, "the line is too long"));
    }
    Ok(n)
}

/// Verifies a trail file offline: every link and signature, against the members'
/// public keys it carries, each certified back to the root key it names (compare that
/// key's fingerprint with the vault's). Reads the events as a stream.
pub fn verify_file(input: &mut dyn BufRead) -> Result<FileReport> {
    let mut first_line = String::new();
    read_line(input, &mut first_line, 1)?;
    let header: Header =
        serde_json::from_str(&first_line).map_err(|e| malformed(1, format!("no header ({e})")))?;
    if header.coffer_audit_file != FILE_FORMAT {
        return Err(Error::Invalid(format!(
            "this audit file has format {}; this Coffer reads format {FILE_FORMAT}",
            header.coffer_audit_file
        )));
    }
    let root: [u8; 32] = hex::decode(&header.root)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| malformed(1, "the root key is not 32 bytes of hex"))?;
    if header.first < 1 || header.last < header.first - 1 {
        return Err(malformed(
            1,
            "the stretch's first and last events are impossible",
        ));
    }
    let prev = hex::decode(&header.prev)
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| malformed(1, "the starting hash is not 32 bytes of hex"))?;
    let mut keys = HashMap::new();
    for m in &header.members {
        let past = m.past.iter().map(KeysEntry::row).collect::<Result<_>>()?;
        keys.insert(m.id, (m.keys.row()?, past));
    }
    let keys = FileKeys(keys);
    let seen = crate::keys::Verified::default();
    let vault_id = header.vault.clone();
    let end_hash = hex::decode(&header.head)
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| malformed(1, "the final hash is not 32 bytes of hex"))?;
    // The writer's signature binds where the stretch starts and ends to the vault.
    let writer = crate::keys::author_keys(&keys, &vault_id, &root, header.written_by_id, &seen)?;
    let signed = hex::decode(&header.signature).unwrap_or_default();
    let message = header_message(&header);
    let header_ok = writer.as_ref().is_some_and(|w| {
        w.name == header.written_by
            && w.keys
                .iter()
                .any(|pk| crate::crypto::verify(pk, &message, &signed, "").is_ok())
    });
    let mut keys_of = |id: i64| -> Result<Option<AuthorKeys>> {
        crate::keys::author_keys(&keys, &vault_id, &root, id, &seen)
    };
    let mut last: Option<(i64, Vec<u8>)> = None;
    let mut line_no = 1;
    let mut buf = String::new();
    // A line whose fields outside the hash (the ECS copies a SIEM reads) were edited.
    let mut edited: Option<(i64, String)> = None;
    let mut rows = |f: &mut dyn FnMut(&AuditRow) -> Result<bool>| -> Result<()> {
        loop {
            buf.clear();
            let n = read_line(input, &mut buf, line_no + 1)?;
            if n == 0 {
                return Ok(());
            }
            line_no += 1;
            if buf.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_str(&buf).map_err(|e| malformed(line_no, e))?;
            let row = row_of(&v, line_no)?;
            last = row.hash.clone().map(|h| (row.id, h));
            if !f(&row)? {
                return Ok(());
            }
            // Every line is exactly what this event renders to: nothing a reader sees
            // escapes the hash.
            if audit::ecs_line(&row, true) != buf.trim_end_matches(['\n', '\r']) {
                edited = Some((
                    row.id,
                    format!("the line of event {} was edited outside what its hash covers (a field a SIEM reads was changed or added)", row.id),
                ));
                return Ok(());
            }
        }
    };
    let start = Start {
        first: header.first,
        prev: prev.clone(),
    };
    let mut report = if header_ok {
        audit::verify_rows(&mut rows, start, &header.vault, &mut keys_of, None, None)?
    } else {
        VerifyReport {
            events: 0,
            ok: false,
            first_bad: Some(header.first),
            problem: Some(format!(
                "the file's header is not signed by '{}', who it says wrote it (it was altered, or written by someone else)",
                header.written_by
            )),
        }
    };
    if let Some((id, why)) = edited {
        if report.first_bad.is_none_or(|bad| bad >= id) {
            report.ok = false;
            report.first_bad = Some(id);
            report.problem = Some(why);
        }
    }
    if report.ok {
        let ends = last
            .as_ref()
            .map_or((header.first - 1, &prev), |l| (l.0, &l.1));
        if ends.0 != header.last || ends.1[..] != end_hash[..] {
            report.ok = false;
            report.first_bad = Some(ends.0 + 1);
            report.problem = Some(if ends.0 < header.last {
                format!(
                    "{} missing: the file was cut short",
                    crate::audit::events_are(ends.0 + 1, header.last)
                )
            } else {
                format!(
                    "the file does not end at event {}, where its writer signed it would",
                    header.last
                )
            });
        }
    }
    Ok(FileReport {
        kind: header.kind,
        vault: header.vault,
        root: key_fingerprint(&root),
        written_at: header.written_at,
        written_by: header.written_by,
        first: header.first,
        prev: header.prev,
        last: last.as_ref().map(|l| l.0),
        head: last.map(|l| hex::encode(l.1)),
        report,
    })
}
