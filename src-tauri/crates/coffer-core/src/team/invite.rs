//! Members joining a team vault from their own machines.
//!
//! The root owner invites a name with a role in a workspace (`coffer team invite`): the
//! server gets a one-time login for it, and the owner gets a code to hand over. The
//! invitee runs `coffer team join CODE` on their own machine: their keys are made there,
//! sealed under a passphrase they choose, and only the public halves (with the
//! verifier of the login those keys derive) reach the server. Both sides then show a
//! short fingerprint of those public keys; the owner compares it with the one on the
//! invitee's screen and only then admits them (`coffer team admit NAME --fingerprint`),
//! which certifies their keys, seals the workspace's keys to them and makes their
//! login. The invitee's `join` then pulls the vault into a new file of their own.
//!
//! The code carries the root owner's public signing key: the invitee's machine trusts
//! nothing the server sends unless it is certified back to that key.

use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::create::{TeamLink, META_KEY};
use super::server::col;
use super::sync::{refuse_foreign, SyncReport};
use super::{login_for, scram_verifier, Record, Server, ServerUrl};
use crate::access::Role;
use crate::audit::{self, NewEvent, Outcome};
use crate::crypto::{self, Identity, KdfParams, PublicKeys};
use crate::error::{Error, ErrorCode, Result};
use crate::keys::{insert_passphrase_slot, random_bytes, MemberSecret};
use crate::members::NewKeys;
use crate::names;
use crate::session::Session;
use crate::store::{ident_of, ReplicaRow, Store};
use crate::value::Passphrase;
use crate::vault::Vault;

/// The audit actions of inviting, cancelling and joining.
pub const TEAM_INVITE: &str = "team.invite";
pub const TEAM_CANCEL: &str = "team.invite-cancel";
pub const TEAM_ADMIT: &str = "team.admit";
pub const TEAM_JOIN: &str = "team.join";

const CODE_PREFIX: &str = "coffer-invite:";

/// Where a file waiting for its member's admission keeps what it needs (meta key).
const JOIN_META: &str = "team_join";

/// The longest an invitation may stay open.
pub const MAX_INVITATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// What an invitation code holds: where to go, which vault, whose keys to trust, and
/// the one-time login.
#[derive(Serialize, Deserialize)]
struct Code {
    v: u8,
    server: String,
    vault: String,
    /// The root owner's public signing key (hex): the anchor of trust.
    root: String,
    login: String,
    secret: String,
}

impl Code {
    fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{CODE_PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }

    fn decode(text: &str) -> Result<Code> {
        let bad = || Error::invalid("not an invitation code (it starts with coffer-invite:)");
        let body = text.trim().strip_prefix(CODE_PREFIX).ok_or_else(bad)?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| bad())?;
        let code: Code = serde_json::from_slice(&json).map_err(|_| bad())?;
        let hex_ok = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
        if code.v != 1
            || !hex_ok(&code.root, 64)
            || !code.login.starts_with("coffer_i_")
            || !hex_ok(&code.login["coffer_i_".len()..], 16)
            || code.vault.is_empty()
            || !code
                .vault
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad());
        }
        Ok(code)
    }
}

/// The short fingerprint of a member's public keys in one vault, shown on the
/// invitee's screen and the owner's: 80 bits as five groups of four hex digits.
pub fn fingerprint(vault_id: &str, pk: &PublicKeys) -> String {
    let mut h = Sha256::new();
    h.update(b"coffer member fingerprint v1\0");
    h.update(vault_id.as_bytes());
    h.update([0]);
    h.update(pk.sign);
    h.update(pk.kx);
    let digest = h.finalize();
    digest[..10]
        .chunks(2)
        .map(hex::encode)
        .collect::<Vec<_>>()
        .join("-")
}

/// Whether a fingerprint as typed is this one (dashes, spaces and case aside).
fn same_fingerprint(expected: &str, typed: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let (a, b) = (norm(expected), norm(typed));
    !b.is_empty() && a.len() == b.len() && a == b
}

/// An invitation made: the code to hand to the invitee (once; it lets whoever holds
/// it ask to join until it expires or is used).
#[derive(Clone, Serialize)]
pub struct Invited {
    pub name: String,
    pub role: String,
    pub workspace: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at: i64,
    pub code: String,
}

impl std::fmt::Debug for Invited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invited")
            .field("name", &self.name)
            .field("code", &"<redacted>")
            .finish()
    }
}

/// An open invitation, as the owner sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    pub name: String,
    pub role: String,
    pub workspace: String,
    pub expires_at: i64,
    pub expired: bool,
    /// The fingerprint of the keys the invitee sent; none until they join.
    pub fingerprint: Option<String>,
}

/// A member admitted.
#[derive(Debug, Clone, Serialize)]
pub struct Admitted {
    pub name: String,
    pub role: String,
    pub workspace: String,
    pub fingerprint: String,
    pub sync: SyncReport,
}

/// A join asked for: the fingerprint to read out to the owner.
#[derive(Debug, Clone, Serialize)]
pub struct JoinStarted {
    pub name: String,
    pub role: String,
    pub server: String,
    pub fingerprint: String,
    pub expires_at: i64,
}

/// A join finished: this file is the member's copy of the team vault now.
#[derive(Debug, Clone, Serialize)]
pub struct Joined {
    pub name: String,
    pub server: String,
    pub workspaces: Vec<String>,
    pub records: usize,
}

/// Where a join stands.
#[derive(Debug, Clone)]
pub enum JoinProgress {
    /// The owner has not admitted this member yet (or their sync has not brought the
    /// member's keys to the server yet).
    Waiting {
        name: String,
        fingerprint: String,
    },
    Joined(Joined),
}

/// What a file waiting for admission keeps: the invitation's facts and the member's
/// new keys, sealed under their passphrase.
#[derive(Serialize, Deserialize)]
struct PendingJoin {
    server: String,
    vault: String,
    root: String,
    name: String,
    role: String,
    expires_at: i64,
    kdf: String,
    salt: String,
    sealed: String,
}

fn pending_ad(vault_id: &str) -> String {
    format!("coffer/team-join/v1/{vault_id}")
}

fn not_on_team() -> Error {
    Error::not_found("team server for this vault (move it to one with `coffer team create URL`)")
}

impl Session {
    /// Connects to this vault's team server as this member.
    pub(super) fn team_connection(&self) -> Result<(TeamLink, Server)> {
        let link = self.team_link()?.ok_or_else(not_on_team)?;
        let login = login_for(&self.secret.identity, &self.vault_id);
        let server = ServerUrl::parse(&link.server)?
            .with_login(&login.name, &login.password)
            .connect()?;
        Ok((link, server))
    }

    /// Invites `name` into `workspace` with `role`: the server gets a one-time login
    /// valid for `valid`, and the code returned is what the invitee needs. Only the
    /// vault's root owner invites (admitting writes vault-wide rows).
    pub fn team_invite(
        &mut self,
        workspace: &str,
        name: &str,
        role: Role,
        valid: Duration,
    ) -> Result<Invited> {
        names::member(name)?;
        if valid.is_zero() || valid > MAX_INVITATION {
            return Err(Error::invalid("an invitation is valid for up to 30 days"));
        }
        self.require_root_owner(TEAM_INVITE, "inviting members to the team vault")?;
        let ws = self.manage_ws(workspace, TEAM_INVITE)?;
        if self.store.conn().member_by_name(name)?.is_some() {
            return Err(Error::Conflict(format!(
                "member name '{name}' is taken in this vault: invite them under another name"
            )));
        }
        let (link, mut server) = self.team_connection()?;
        if !link.seqs.contains_key(&ws.id) {
            return Err(Error::Conflict(format!(
                "workspace '{}' is not on the team server yet: run `coffer team sync` first",
                ws.name
            )));
        }
        let login = format!("coffer_i_{}", hex::encode(random_bytes::<8>()?));
        let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
        let expires_at: i64 = server
            .client()
            .query_one(
                "SELECT (extract(epoch FROM coffer.invite($1::text::name, $2, $3, $4, $5,
                     make_interval(secs => $6))) * 1000)::bigint",
                &[
                    &login,
                    &scram_verifier(&secret),
                    &ws.id,
                    &role.as_str(),
                    &name,
                    &valid.as_secs_f64(),
                ],
            )
            .map_err(super::server::sql_error)
            .and_then(|r| col(&r, 0))?;
        let code = Code {
            v: 1,
            server: link.server.clone(),
            vault: self.vault_id.clone(),
            root: hex::encode(self.secret.anchor),
            login,
            secret,
        }
        .encode();
        let (actor, now, author) = (self.member.clone(), self.now(), self.author());
        self.write(|tx| {
            let mut ev = NewEvent::new(&actor, TEAM_INVITE);
            ev.workspace = Some((ws.id, &ws.name));
            ev.detail = json!({ "member": name, "role": role.as_str(), "expires_at": expires_at });
            audit::append(tx, author, now, &ev).map(|_| ())
        })?;
        Ok(Invited {
            name: name.to_string(),
            role: role.as_str().to_string(),
            workspace: ws.name,
            expires_at,
            code,
        })
    }

    /// The open invitations of this team vault (the root owner's to see).
    pub fn team_invitations(&mut self) -> Result<Vec<Invitation>> {
        self.require_root_owner(TEAM_INVITE, "listing the team vault's invitations")?;
        let (_, mut server) = self.team_connection()?;
        let rows = server
            .client()
            .query(
                "SELECT name, role, scope, (extract(epoch FROM expires_at) * 1000)::bigint,
                        expires_at <= now(), sign_pk, kx_pk
                 FROM coffer.invitations WHERE ended_at IS NULL ORDER BY name",
                &[],
            )
            .map_err(super::server::sql_error)?;
        let names = self.store.replica().workspace_names()?;
        rows.iter()
            .map(|r| {
                let scope: i64 = col(r, 2)?;
                let keys = public_keys(col(r, 5)?, col(r, 6)?)?;
                Ok(Invitation {
                    name: col(r, 0)?,
                    role: col(r, 1)?,
                    workspace: workspace_name(&names, scope),
                    expires_at: col(r, 3)?,
                    expired: col(r, 4)?,
                    fingerprint: keys.map(|pk| fingerprint(&self.vault_id, &pk)),
                })
            })
            .collect()
    }

    /// Cancels the open invitation for `name`; false when there was none.
    pub fn team_cancel_invitation(&mut self, name: &str) -> Result<bool> {
        names::member(name)?;
        self.require_root_owner(TEAM_CANCEL, "cancelling invitations")?;
        let (_, mut server) = self.team_connection()?;
        let cancelled: bool = server
            .client()
            .query_one("SELECT coffer.cancel_invitation($1)", &[&name])
            .map_err(super::server::sql_error)
            .and_then(|r| col(&r, 0))?;
        if cancelled {
            let (actor, now, author) = (self.member.clone(), self.now(), self.author());
            self.write(|tx| {
                let mut ev = NewEvent::new(&actor, TEAM_CANCEL);
                ev.detail = json!({ "member": name });
                audit::append(tx, author, now, &ev).map(|_| ())
            })?;
        }
        Ok(cancelled)
    }

    /// Admits `name`, who joined with their invitation, once `typed` (the fingerprint
    /// on their screen) is the fingerprint of the keys that joined: their keys are
    /// certified, the workspace's keys sealed to them, their login made, and the
    /// change synced. A fingerprint that differs admits nothing and is audited.
    pub fn team_admit(&mut self, name: &str, typed: &str) -> Result<Admitted> {
        names::member(name)?;
        self.require_root_owner(TEAM_ADMIT, "admitting members to the team vault")?;
        let (_, mut server) = self.team_connection()?;
        let row = server
            .client()
            .query_opt(
                "SELECT login::text, scope, role, sign_pk, kx_pk, expires_at > now()
                 FROM coffer.invitations WHERE name = $1 AND ended_at IS NULL",
                &[&name],
            )
            .map_err(super::server::sql_error)?
            .ok_or_else(|| Error::not_found(format!("open invitation for '{name}'")))?;
        let (login, scope, role_text): (String, i64, String) =
            (col(&row, 0)?, col(&row, 1)?, col(&row, 2)?);
        if !col::<bool>(&row, 5)? {
            return Err(Error::Conflict(format!(
                "the invitation for '{name}' expired: cancel it (`coffer team invite {name} --cancel`) and invite again"
            )));
        }
        let pk = public_keys(col(&row, 3)?, col(&row, 4)?)?.ok_or_else(|| {
            Error::Conflict(format!(
                "'{name}' has not joined yet: they run `coffer team join CODE` on their machine first"
            ))
        })?;
        let role: Role = role_text.parse()?;
        let names = self.store.replica().workspace_names()?;
        let ws_name = names
            .iter()
            .find(|(id, _)| *id == scope)
            .map(|(_, n)| n.clone())
            .ok_or_else(|| {
                Error::not_found("the invitation's workspace (run `coffer team sync`)")
            })?;
        let expected = fingerprint(&self.vault_id, &pk);
        let (actor, now, author) = (self.member.clone(), self.now(), self.author());
        if !same_fingerprint(&expected, typed) {
            self.write(|tx| {
                let mut ev = NewEvent::new(&actor, TEAM_ADMIT);
                ev.outcome = Outcome::Denied;
                ev.workspace = Some((scope, &ws_name));
                ev.detail = json!({ "member": name, "reason": "fingerprint differs" });
                audit::append(tx, author, now, &ev).map(|_| ())
            })?;
            return Err(Error::Relayed {
                code: ErrorCode::Denied,
                message: format!(
                    "the fingerprint given is not the one of the keys that joined as '{name}': someone else may hold the invitation. Nothing was sealed to them; cancel the invitation and invite them again"
                ),
            });
        }
        // A member of that name with these very keys was added by an admission that
        // did not finish: carry on with them.
        let existing = match self.store.conn().member_by_name(name)? {
            Some(m) => {
                let keys = self.store.conn().member_keys_row(m.id)?;
                let same = keys.and_then(|k| k.sign_pk).is_some_and(|s| s == pk.sign);
                if !same {
                    return Err(Error::Conflict(format!(
                        "member name '{name}' is taken in this vault by someone else"
                    )));
                }
                Some(m.id)
            }
            None => None,
        };
        let member_id = match existing {
            Some(id) => id,
            None => self.add_member_with(
                &ws_name,
                name,
                role,
                NewKeys::Theirs(pk),
                json!({ "via": "invitation", "fingerprint": expected }),
            )?,
        };
        server
            .client()
            .execute(
                "SELECT coffer.admit($1::text::name, $2)",
                &[&login, &member_id],
            )
            .map_err(super::server::sql_error)?;
        drop(server);
        let sync = self.team_sync()?;
        Ok(Admitted {
            name: name.to_string(),
            role: role.as_str().to_string(),
            workspace: ws_name,
            fingerprint: expected,
            sync,
        })
    }
}

/// Removes a vault file this join made and could not finish making, with SQLite's
/// files beside it.
fn remove_vault_files(path: &Path) {
    let _ = std::fs::remove_file(path);
    for ext in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(ext);
        let _ = std::fs::remove_file(side);
    }
}

fn workspace_name(names: &[(i64, String)], scope: i64) -> String {
    names
        .iter()
        .find(|(id, _)| *id == scope)
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| format!("workspace {scope}"))
}

fn public_keys(sign: Option<Vec<u8>>, kx: Option<Vec<u8>>) -> Result<Option<PublicKeys>> {
    let (Some(sign), Some(kx)) = (sign, kx) else {
        return Ok(None);
    };
    let bad = || Error::Integrity("the team server holds malformed public keys".into());
    Ok(Some(PublicKeys {
        sign: sign.try_into().map_err(|_| bad())?,
        kx: kx.try_into().map_err(|_| bad())?,
    }))
}

impl Vault {
    /// Asks to join the team vault `code` invites to: makes this member's keys here,
    /// sealed under `passphrase` in a new file at `path` (which must not exist), and
    /// sends their public halves through the invitation. Returns the fingerprint the
    /// owner must see on this screen before admitting. `server` replaces the code's
    /// address (another route to the same server, or another CA file).
    pub fn team_join(
        path: &Path,
        code: &str,
        server: Option<&ServerUrl>,
        passphrase: &Passphrase,
        kdf: KdfParams,
    ) -> Result<JoinStarted> {
        let code = Code::decode(code)?;
        passphrase.check_new()?;
        if path.exists() {
            return Err(Error::Conflict(format!(
                "a vault already exists at {} (join into another file with --vault)",
                path.display()
            )));
        }
        let url = match server {
            Some(u) => u.clone(),
            None => ServerUrl::parse(&code.server)?,
        };
        let mut root = [0u8; 32];
        hex::decode_to_slice(&code.root, &mut root)
            .map_err(|_| Error::invalid("not an invitation code"))?;
        let secret = MemberSecret {
            identity: Identity::generate()?,
            anchor: root,
        };
        let pk = secret.identity.public();
        let member_login = login_for(&secret.identity, &code.vault);

        let store = Store::create(path)?;
        let result = (|| {
            let salt = random_bytes::<16>()?;
            let kek = kdf.derive(passphrase, &salt)?;
            let sealed = crypto::seal(&kek, &secret.encode(), pending_ad(&code.vault).as_bytes())?;
            let mut invitee = url
                .with_login(&code.login, &code.secret)
                .connect()
                .map_err(|e| match e {
                    Error::Auth(_) => Error::Auth(
                        "the team server refused this invitation: it expired, was cancelled or was used"
                            .into(),
                    ),
                    e => e,
                })?;
            let row = invitee
                .client()
                .query_one(
                    "SELECT j.name, j.role, (extract(epoch FROM i.valid) * 1000)::bigint
                     FROM coffer.join($1, $2, $3::text::name, $4) j,
                          (SELECT rolvaliduntil AS valid FROM pg_roles WHERE rolname = session_user) i",
                    &[
                        &pk.sign.as_slice(),
                        &pk.kx.as_slice(),
                        &member_login.name,
                        &scram_verifier(&member_login.password),
                    ],
                )
                .map_err(super::server::sql_error)?;
            let pending = PendingJoin {
                server: url.stored(),
                vault: code.vault.clone(),
                root: code.root.clone(),
                name: col(&row, 0)?,
                role: col(&row, 1)?,
                expires_at: col::<Option<i64>>(&row, 2)?.unwrap_or(0),
                kdf: kdf.encode(),
                salt: STANDARD.encode(salt),
                sealed: STANDARD.encode(sealed),
            };
            let bytes = serde_json::to_vec(&pending).map_err(|e| Error::Storage(e.to_string()))?;
            store.write(|tx| {
                tx.set_meta("vault_id", code.vault.as_bytes())?;
                tx.set_meta(JOIN_META, &bytes)
            })?;
            Ok(JoinStarted {
                name: pending.name,
                role: pending.role,
                server: url.display(),
                fingerprint: fingerprint(&code.vault, &pk),
                expires_at: pending.expires_at,
            })
        })();
        if result.is_err() {
            drop(store);
            remove_vault_files(path);
        }
        result
    }

    /// Whether the file at `path` waits for its member's admission to a team vault.
    /// Read-only and without upgrading the file's schema: the app asks before any
    /// unlock.
    pub fn is_joining(path: &Path) -> Result<bool> {
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(crate::store::MetaStore::get_meta(&conn, JOIN_META)?.is_some())
    }

    /// Finishes a join once the owner admitted this member: pulls everything the
    /// member may read into the file, seals their keys under `passphrase` in a key
    /// slot of their own, and checks what came against the root owner's key the code
    /// named. Until the admission, [`JoinProgress::Waiting`].
    pub fn team_join_finish(path: &Path, passphrase: &Passphrase) -> Result<JoinProgress> {
        let store = Store::open(path)?;
        let pending: PendingJoin = match store.conn().get_meta(JOIN_META)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|_| Error::Integrity("this file's join record is unreadable".into()))?,
            None => {
                return Err(Error::not_found(
                    "join in progress in this vault file (start one with `coffer team join CODE`)",
                ))
            }
        };
        let kdf = KdfParams::decode(&pending.kdf)
            .ok_or_else(|| Error::Integrity("this file's join record is unreadable".into()))?;
        let unreadable = || Error::Integrity("this file's join record is unreadable".into());
        let salt = STANDARD.decode(&pending.salt).map_err(|_| unreadable())?;
        let sealed = STANDARD.decode(&pending.sealed).map_err(|_| unreadable())?;
        let kek = kdf.derive(passphrase, &salt)?;
        let opened = crypto::open(&kek, &sealed, pending_ad(&pending.vault).as_bytes(), "keys")
            .map_err(|_| Error::BadCredentials)?;
        let secret = MemberSecret::decode(&opened)?;
        let pk = secret.identity.public();
        let fp = fingerprint(&pending.vault, &pk);
        let waiting = || {
            Ok(JoinProgress::Waiting {
                name: pending.name.clone(),
                fingerprint: fp.clone(),
            })
        };
        let login = login_for(&secret.identity, &pending.vault);
        let url = ServerUrl::parse(&pending.server)?;
        let mut server = match url.with_login(&login.name, &login.password).connect() {
            Ok(s) => s,
            Err(Error::Auth(_)) => {
                let now = crate::clock::Clock::now_ms(&crate::clock::SystemClock);
                if pending.expires_at > 0 && now > pending.expires_at {
                    return Err(Error::Auth(format!(
                        "the invitation ended before the owner admitted you: ask them for a new one, and remove {} before you join again",
                        path.display()
                    )));
                }
                return waiting();
            }
            Err(e) => return Err(e),
        };
        let heads = server.heads()?;
        let mut pulled: Vec<(i64, Vec<Record>)> = Vec::new();
        for (scope, _) in &heads {
            pulled.push((*scope, server.pull(*scope, 0)?));
        }
        // This member, as the owner's sync brought them: the member row with these
        // keys, and a grant.
        let me = pulled
            .iter()
            .flat_map(|(_, r)| r)
            .filter(|r| r.kind == "member")
            .find_map(|r| {
                let body: serde_json::Value = serde_json::from_slice(r.body.as_deref()?).ok()?;
                let sign = body.get("sign_pk")?.get("$b")?.as_str()?;
                (STANDARD.decode(sign).ok()? == pk.sign)
                    .then(|| body.get("id").and_then(|v| v.as_i64()))
                    .flatten()
            });
        let Some(me) = me else {
            return waiting();
        };
        let granted = pulled
            .iter()
            .flat_map(|(_, r)| r)
            .any(|r| r.kind == "grant" && r.body.is_some() && r.key.starts_with(&format!("{me}:")));
        if !granted {
            return waiting();
        }

        let now = crate::clock::Clock::now_ms(&crate::clock::SystemClock);
        let seqs = heads.iter().copied().collect();
        let link = TeamLink {
            server: pending.server.clone(),
            vault_id: pending.vault.clone(),
            seqs,
            acked: Default::default(),
            pushed_through: 0,
            pushed: Default::default(),
            synced_through: 0,
        };
        let link_bytes = serde_json::to_vec(&link).map_err(|e| Error::Storage(e.to_string()))?;
        let records = store.write_replica(|tx| {
            // Another finish of this join (a second window, a retry) got here first.
            if tx.storage().get_meta(JOIN_META)?.is_none() {
                return Err(Error::Conflict(
                    "this join already finished: unlock as the member it made".into(),
                ));
            }
            tx.defer_foreign_keys()?;
            let mut n = 0;
            for (scope, recs) in &pulled {
                for rec in recs {
                    refuse_foreign(rec, *scope, &pending.vault, me)?;
                    let Some(body) = rec.body.as_deref() else {
                        continue;
                    };
                    let ident = ident_of(&rec.kind, body)?;
                    tx.apply_record(&rec.kind, Some(body), &ident)?;
                    tx.put_replica_row(&ReplicaRow {
                        kind: rec.kind.clone(),
                        key: rec.key.clone(),
                        scope: *scope,
                        project: rec.project,
                        private_to: rec.private_to,
                        about: rec.about,
                        seq: rec.seq,
                        hash: Sha256::digest(body).to_vec(),
                        ident,
                        base: ReplicaRow::base_of(&rec.kind, body),
                    })?;
                    n += 1;
                }
            }
            let tx = tx.storage();
            // The vault's own settings for new slots (now pulled), never weaker than
            // OWASP's minimum.
            let slot_kdf = tx
                .get_meta("kdf")?
                .and_then(|raw| String::from_utf8(raw).ok())
                .and_then(|text| KdfParams::decode(&text))
                .filter(|k| k.check_strong().is_ok())
                .unwrap_or(KdfParams::RECOMMENDED);
            insert_passphrase_slot(tx, &pending.vault, me, &secret, passphrase, slot_kdf, now)?;
            tx.set_meta(META_KEY, &link_bytes)?;
            tx.delete_meta(JOIN_META)?;
            Ok(n)
        })?;
        drop(store);

        // Open it the usual way: the member's keys must be certified back to the root
        // key the code named, or nothing here is trusted.
        let mut session = Vault::open(path)?.unlock(&pending.name, passphrase)?;
        let (actor, author) = (session.member.clone(), session.author());
        let now = session.now();
        session.write(|tx| {
            let mut ev = NewEvent::new(&actor, TEAM_JOIN);
            ev.detail = json!({ "server": url.display(), "fingerprint": fp });
            audit::append(tx, author, now, &ev).map(|_| ())
        })?;
        // The join is done and this file whole; what the sync sends (the join's own
        // event) goes with the next one if the server cannot take it now.
        let _ = session.team_sync();
        let workspaces = session
            .store
            .conn()
            .workspaces_of_member(session.member_id)?
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        Ok(JoinProgress::Joined(Joined {
            name: pending.name,
            server: url.display(),
            workspaces,
            records,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_round_trips_and_anything_else_is_refused() {
        let code = Code {
            v: 1,
            server: "postgres://db.example:5432/coffer".into(),
            vault: "0a1b".into(),
            root: "ab".repeat(32),
            login: "coffer_i_0123456789abcdef".into(),
            secret: "s3cr3t".into(),
        };
        let text = code.encode();
        assert!(text.starts_with(CODE_PREFIX));
        let back = Code::decode(&format!("  {text}\n")).unwrap();
        assert_eq!(back.login, code.login);
        assert_eq!(back.root, code.root);
        for bad in [
            "",
            "coffer-invite:",
            "coffer-invite:!!!",
            &text[CODE_PREFIX.len()..],
            &text.replace("coffer-invite:", "coffer-invite:x"),
        ] {
            assert!(Code::decode(bad).is_err(), "{bad}");
        }
        let mut short_root = code;
        short_root.root = "ab".into();
        assert!(Code::decode(&short_root.encode()).is_err());
    }

    #[test]
    fn fingerprints_are_short_per_vault_and_compared_loosely() {
        let a = Identity::generate().unwrap().public();
        let b = Identity::generate().unwrap().public();
        let fa = fingerprint("v1", &a);
        assert_eq!(fa.len(), 24, "{fa}");
        assert_eq!(fa.split('-').count(), 5);
        assert_eq!(fa, fingerprint("v1", &a));
        assert_ne!(fa, fingerprint("v2", &a));
        assert_ne!(fa, fingerprint("v1", &b));
        assert!(same_fingerprint(&fa, &fa.to_uppercase().replace('-', " ")));
        assert!(!same_fingerprint(&fa, ""));
        assert!(!same_fingerprint(&fa, &fa[..19]));
        assert!(!same_fingerprint(&fa, &fingerprint("v1", &b)));
    }
}
