//! The lifecycle of a secret: set (create or rotate, with check-and-set), list, show,
//! reveal, use, rollback, delete, restore, purge, and the sweep that destroys old
//! ciphertext after the rollback window and purges after the recovery window.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;

use crate::access::Capability;
use crate::audit::{self, Author, NewEvent};
use crate::crypto::open_value;
use crate::crypto::{fingerprint, seal_to, Key32, SealBatch};
use crate::error::{Error, Result};
use crate::generate;
use crate::keys::{place_of, value_ad, ValuePlace, INFO_VALUE};
use crate::names;
use crate::session::{Ctx, Scope, Session};
use crate::settings::SettingKey;
use crate::store::{self, EnvRow, NewSecret, NewVersion, SecretRow, Storage, VersionRow};
use crate::time_fmt::format_duration_ms;
use crate::value::SecretValue;

pub const DEFAULT_ENVIRONMENT: &str = "development";
/// A value expiring within this much time is flagged "expiring soon".
const EXPIRING_SOON_MS: i64 = 7 * 86_400_000;
/// The actor of events the vault does by itself (sweeps).
use crate::audit::SYSTEM_ACTOR;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum SecretKind {
    String,
    Multiline,
    Json,
    // Any bytes (up to 64 KiB), held as base64: injected as a file or as base64.
    // (A plain comment: a doc comment would change the generated bindings.)
    Binary,
}

impl SecretKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::String => "string",
            SecretKind::Multiline => "multiline",
            SecretKind::Json => "json",
            SecretKind::Binary => "binary",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "string" => Ok(SecretKind::String),
            "multiline" => Ok(SecretKind::Multiline),
            "json" => Ok(SecretKind::Json),
            "binary" => Ok(SecretKind::Binary),
            _ => Err(Error::invalid(format!(
                "unknown type '{raw}': choose string, multiline, json or binary"
            ))),
        }
    }

    /// Checks a value against the type. A `string` is one line: the single trailing
    /// newline a shell pipe adds is dropped, any other line break is refused. A
    /// `binary` value given as text (the app, an import) is its base64.
    fn normalize(self, value: SecretValue) -> Result<SecretValue> {
        if value.is_binary() && self != SecretKind::Binary {
            return Err(Error::invalid(format!(
                "a binary value cannot be stored as a {} secret",
                self.as_str()
            )));
        }
        match self {
            SecretKind::String => {
                let text = value.expose();
                let trimmed = text
                    .strip_suffix('\n')
                    .map(|t| t.strip_suffix('\r').unwrap_or(t))
                    .unwrap_or(text);
                if trimmed.contains(['\n', '\r']) {
                    return Err(Error::invalid(
                        "a string secret is one line; use --type multiline for more",
                    ));
                }
                if trimmed.len() == text.len() {
                    Ok(value)
                } else {
                    SecretValue::from_string(trimmed.to_string())
                }
            }
            SecretKind::Multiline => Ok(value),
            SecretKind::Binary if value.is_binary() => Ok(value),
            SecretKind::Binary => SecretValue::binary_from_base64(value.expose()),
            SecretKind::Json => {
                // serde_json's error names line and column, never the input.
                serde_json::from_str::<serde::de::IgnoredAny>(value.expose()).map_err(|e| {
                    Error::invalid(format!(
                        "the value is not valid JSON (line {}, column {})",
                        e.line(),
                        e.column()
                    ))
                })?;
                Ok(value)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum SecretScope {
    Workspace,
    User,
}

impl SecretScope {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretScope::Workspace => "workspace",
            SecretScope::User => "user",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "workspace" => Ok(SecretScope::Workspace),
            "user" => Ok(SecretScope::User),
            _ => Err(Error::invalid(format!(
                "unknown scope '{raw}': choose workspace or user"
            ))),
        }
    }
}

/// Where a new value comes from.
pub enum ValueSource {
    Given(SecretValue),
    /// Bytes as read from a pipe: the value itself for a binary secret, UTF-8 text for
    /// every other type (decided by the secret's type, given or stored).
    Bytes(zeroize::Zeroizing<Vec<u8>>),
    Generate {
        length: usize,
        alphabet: String,
    },
}

/// A request to create a secret or add a version to it.
pub struct SetRequest {
    pub name: String,
    pub environment: Option<String>,
    pub value: ValueSource,
    pub description: Option<String>,
    pub kind: Option<SecretKind>,
    pub scope: Option<SecretScope>,
    pub expires_in_ms: Option<i64>,
    pub rotate_every_ms: Option<i64>,
    /// Check-and-set: the version the writer saw (0 = the value must not exist yet).
    pub if_version: Option<i64>,
    /// Hosts a test request may send the secret to ([`crate::hosts`] patterns):
    /// `None` keeps the list, `Some` replaces it (empty: no host).
    pub allowed_hosts: Option<Vec<String>>,
}

impl SetRequest {
    pub fn new(name: impl Into<String>, value: ValueSource) -> Self {
        SetRequest {
            name: name.into(),
            environment: None,
            value,
            description: None,
            kind: None,
            scope: None,
            expires_in_ms: None,
            rotate_every_ms: None,
            if_version: None,
            allowed_hosts: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SetOutcome {
    pub name: String,
    pub environment: String,
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub version: i64,
    pub created: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum EnvState {
    Set,
    Missing,
    Expired,
}

/// A secret's state in one environment, as lists show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EnvStatus {
    pub environment: String,
    pub state: EnvState,
    #[cfg_attr(feature = "specta", specta(type = Option<i32>))]
    pub version: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = Option<i32>))]
    pub updated_at: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = Option<i32>))]
    pub expires_at: Option<i64>,
    pub expiring_soon: bool,
    pub rotation_due: bool,
    /// Other environments whose current value is equal (keyed fingerprints).
    pub same_as: Vec<String>,
    /// Members who could use the current value and have since been removed or lost
    /// `use` here: the credential should be rotated.
    pub exposed_to: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SecretSummary {
    pub name: String,
    pub description: String,
    pub kind: SecretKind,
    pub scope: SecretScope,
    pub owner: String,
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub created_at: i64,
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub updated_at: i64,
    pub rotate_every: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = Option<i32>))]
    pub deleted_at: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = Option<i32>))]
    pub purge_at: Option<i64>,
    pub environments: Vec<EnvStatus>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VersionInfo {
    pub environment: String,
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub version: i64,
    pub current: bool,
    pub origin: String,
    #[cfg_attr(feature = "specta", specta(type = i32))]
    pub created_at: i64,
    pub created_by: String,
    #[cfg_attr(feature = "specta", specta(type = Option<i32>))]
    pub expires_at: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = Option<i32>))]
    pub superseded_at: Option<i64>,
    pub destroyed: bool,
    /// Until when this version can be rolled back to (old, live versions only).
    #[cfg_attr(feature = "specta", specta(type = Option<i32>))]
    pub rollback_until: Option<i64>,
    /// Equal labels mean equal values (compared by keyed fingerprint, never revealed);
    /// `-` for a destroyed version, whose fingerprint went with its value.
    pub value_label: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SecretDetail {
    #[serde(flatten)]
    pub summary: SecretSummary,
    /// Where a test request may send the secret (members who may reveal: anywhere).
    pub allowed_hosts: Vec<String>,
    pub versions: Vec<VersionInfo>,
}

/// A sealed value as stored, with what its associated data names.
pub(crate) struct Sealed<'a> {
    pub secret_id: i64,
    /// The secret is binary: its plaintext is base64 (see [`SecretValue`]).
    pub binary: bool,
    pub name: &'a str,
    pub scope: &'a str,
    pub owner_id: i64,
    pub version: i64,
    pub epoch: Option<i64>,
    pub ciphertext: &'a [u8],
}

fn kind_of(row: &SecretRow) -> SecretKind {
    SecretKind::parse(&row.kind).unwrap_or(SecretKind::String)
}

fn scope_of(row: &SecretRow) -> SecretScope {
    SecretScope::parse(&row.scope).unwrap_or(SecretScope::Workspace)
}

/// Everything a write needs, borrowed from the session for the length of one
/// transaction.
struct Writer<'a> {
    vault_id: &'a str,
    /// The current epoch of the environment's key, and one encapsulation to its public
    /// key for every value this write seals: writing needs nothing that reads.
    env_key: (i64, SealBatch),
    /// The writer's own public key, for values private to them.
    own_key: [u8; 32],
    fp_key: &'a Key32,
    author: Author,
    member_id: i64,
    member: &'a str,
    ctx: &'a Ctx,
    env: &'a EnvRow,
    now: i64,
    max_versions: i64,
    rollback_window: i64,
    recovery_window: i64,
}

impl Writer<'_> {
    fn event<'e>(&'e self, action: &'e str, secret: &'e str) -> NewEvent<'e> {
        let mut ev = NewEvent::new(self.member, action);
        ev.workspace = Some((self.ctx.ws_id, &self.ctx.ws));
        ev.project = Some(&self.ctx.project);
        ev.environment = Some(&self.env.name);
        ev.secret = Some(secret);
        ev
    }

    /// Destroys ciphertext past the rollback window and purges secrets past the
    /// recovery window, in the writer's transaction.
    fn sweep(&self, tx: &dyn Storage) -> Result<()> {
        let ws = (self.ctx.ws_id, self.ctx.ws.as_str());
        sweep_tx(
            tx,
            self.author,
            ws,
            self.now,
            self.rollback_window,
            self.recovery_window,
            None,
        )
    }

    /// Adds a version holding `value` to (secret, environment) and audits it.
    fn push(&self, tx: &dyn Storage, p: Push<'_>) -> Result<i64> {
        let Push {
            secret_id,
            name,
            scope,
            owner_id,
            value,
            if_version,
            expires_at,
            origin,
            action,
            mut detail,
        } = p;
        let current = tx
            .current_version(secret_id, self.env.id)?
            .map(|v| v.version)
            .unwrap_or(0);
        if let Some(expected) = if_version {
            if expected != current {
                return Err(Error::Conflict(format!(
                    "version mismatch: {name} in {} is at version {current}, not {expected}; \
                     someone changed it since you looked",
                    self.env.name
                )));
            }
        }
        let version = current + 1;
        let epoch = if scope == "user" { 0 } else { self.env_key.0 };
        let ad = value_ad(
            self.vault_id,
            &ValuePlace {
                ws: &self.ctx.ws,
                project: &self.ctx.project,
                env: &self.env.name,
                secret: name,
                secret_id,
                scope,
                owner_id,
                version,
                epoch,
            },
        );
        let plain = value.expose().as_bytes();
        let ciphertext = if epoch == 0 {
            seal_to(&self.own_key, INFO_VALUE, plain, &ad)?
        } else {
            self.env_key.1.seal(plain, &ad)?
        };
        let fp = fingerprint(self.fp_key, value.expose().as_bytes());
        tx.push_version(&NewVersion {
            secret_id,
            environment_id: self.env.id,
            version,
            ciphertext: &ciphertext,
            epoch,
            fingerprint: &fp.0,
            origin,
            created_by: self.member,
            expires_at,
            now: self.now,
        })?;
        if let serde_json::Value::Object(map) = &mut detail {
            map.insert("version".into(), json!(version));
            map.insert("fingerprint".into(), json!(fp.short()));
        }
        let mut ev = self.event(action, name);
        ev.detail = detail;
        audit::append(tx, self.author, self.now, &ev)?;
        for doomed in tx.doomed_by_count(secret_id, self.env.id, self.max_versions)? {
            destroy(
                tx,
                self.author,
                (self.ctx.ws_id, &self.ctx.ws),
                self.now,
                &doomed,
                "max-versions",
            )?;
        }
        Ok(version)
    }
}

/// One new version, as [`Writer::push`] takes it.
struct Push<'a> {
    secret_id: i64,
    name: &'a str,
    scope: &'a str,
    owner_id: i64,
    value: &'a SecretValue,
    if_version: Option<i64>,
    expires_at: Option<i64>,
    origin: &'a str,
    action: &'a str,
    detail: serde_json::Value,
}

fn destroy(
    tx: &dyn Storage,
    author: Author,
    ws: (i64, &str),
    now: i64,
    v: &store::DoomedVersion,
    why: &str,
) -> Result<()> {
    tx.destroy_version(v.id, now)?;
    let mut ev = NewEvent::new(SYSTEM_ACTOR, "version.destroy");
    ev.workspace = Some(ws);
    ev.project = Some(&v.project);
    ev.environment = Some(&v.environment);
    ev.secret = Some(&v.secret);
    ev.detail = json!({ "version": v.version, "reason": why });
    audit::append(tx, author, now, &ev)?;
    Ok(())
}

/// Old ciphertext past the rollback window is destroyed and deleted secrets past the
/// recovery window are purged; `all_pairs` also applies max-versions everywhere (after
/// the setting was lowered).
fn sweep_tx(
    tx: &dyn Storage,
    author: Author,
    ws: (i64, &str),
    now: i64,
    rollback_window: i64,
    recovery_window: i64,
    max_versions: Option<i64>,
) -> Result<()> {
    for v in tx.doomed_by_window(ws.0, now - rollback_window)? {
        destroy(tx, author, ws, now, &v, "rollback-window")?;
    }
    if let Some(max) = max_versions {
        for (secret_id, env_id) in tx.pairs_with_history(ws.0)? {
            for v in tx.doomed_by_count(secret_id, env_id, max)? {
                destroy(tx, author, ws, now, &v, "max-versions")?;
            }
        }
    }
    for (id, name, project) in tx.deleted_before(ws.0, now - recovery_window)? {
        tx.purge_secret(id)?;
        let mut ev = NewEvent::new(SYSTEM_ACTOR, "secret.purge");
        ev.workspace = Some(ws);
        ev.project = Some(&project);
        ev.secret = Some(&name);
        ev.detail = json!({ "reason": "recovery-window" });
        audit::append(tx, author, now, &ev)?;
    }
    Ok(())
}

impl Session {
    /// Runs the sweep for one workspace in its own transaction.
    pub(crate) fn sweep(&mut self, ws_id: i64, all_pairs: bool) -> Result<()> {
        let rollback = self.setting(ws_id, SettingKey::RollbackWindow)?;
        let recovery = self.setting(ws_id, SettingKey::RecoveryWindow)?;
        let max = all_pairs
            .then(|| self.setting(ws_id, SettingKey::MaxVersions))
            .transpose()?;
        let name = self.store.conn().workspace_name(ws_id)?;
        let now = self.now();
        let author = self.author();
        self.write(|tx| sweep_tx(tx, author, (ws_id, &name), now, rollback, recovery, max))
    }

    /// A visible secret by name: user-scoped secrets exist only for their owner.
    pub(crate) fn visible_secret(&self, ctx: &Ctx, name: &str) -> Result<Option<SecretRow>> {
        Ok(self
            .store
            .conn()
            .secret_by_name(ctx.project_id, name)?
            .filter(|s| s.scope == "workspace" || s.owner_id == self.member_id))
    }

    fn live_secret(&self, ctx: &Ctx, name: &str) -> Result<SecretRow> {
        self.visible_secret(ctx, name)?
            .filter(|s| s.deleted_at.is_none())
            .ok_or_else(|| Error::not_found(format!("secret '{name}'")))
    }

    /// Opens the project's fingerprint key, which every writer holds.
    fn load_write_keys(&mut self, ctx: &Ctx) -> Result<()> {
        if self
            .project_key(&ctx.ws, &ctx.project, ctx.project_id)?
            .is_none()
        {
            return Err(Error::DeniedAction {
                member: self.member.clone(),
                what: format!(
                    "write in project '{}': its fingerprint key is not sealed to you (an owner can grant your role again)",
                    ctx.project
                ),
            });
        }
        Ok(())
    }

    fn writer<'a>(&'a self, ctx: &'a Ctx, env: &'a EnvRow) -> Result<Writer<'a>> {
        let fp_key = self
            .project_keys
            .get(&ctx.project_id)
            .ok_or_else(|| Error::Integrity("the fingerprint key is not loaded".into()))?;
        let (epoch, pk) =
            self.store.conn().current_env_key(env.id)?.ok_or_else(|| {
                Error::Integrity(format!("environment '{}' has no key", env.name))
            })?;
        let pk: [u8; 32] = pk.as_slice().try_into().map_err(|_| {
            Error::Integrity(format!(
                "the key of environment '{}' is malformed",
                env.name
            ))
        })?;
        Ok(Writer {
            vault_id: &self.vault_id,
            env_key: (epoch, SealBatch::new(&pk, INFO_VALUE)?),
            own_key: self.secret.identity.public().kx,
            fp_key,
            author: self.author(),
            member_id: self.member_id,
            member: &self.member,
            ctx,
            env,
            now: self.now(),
            max_versions: self.setting(ctx.ws_id, SettingKey::MaxVersions)?,
            rollback_window: self.setting(ctx.ws_id, SettingKey::RollbackWindow)?,
            recovery_window: self.setting(ctx.ws_id, SettingKey::RecoveryWindow)?,
        })
    }

    /// Creates a secret or adds a version (rotation) in one environment.
    pub fn set_secret(&mut self, scope: &Scope, req: SetRequest) -> Result<SetOutcome> {
        names::secret(&req.name)?;
        if req.if_version.is_some_and(|v| v < 0) {
            return Err(Error::invalid("--if-version must be 0 or a version number"));
        }
        let ctx = self.ctx(scope)?;
        let env_name = req.environment.as_deref().unwrap_or(DEFAULT_ENVIRONMENT);
        let existing = self.visible_secret(&ctx, &req.name)?;
        let action = if existing.is_some() {
            "secret.update"
        } else {
            "secret.create"
        };
        self.require_ctx(
            &ctx,
            Capability::Write,
            action,
            Some(&req.name),
            Some(env_name),
        )?;
        let env = self.environment(&ctx, env_name)?;
        self.require_reauth(&env)?;
        if let Some(s) = &existing {
            if s.deleted_at.is_some() {
                return Err(Error::Conflict(format!(
                    "secret '{}' is deleted; restore it (coffer restore) or purge it first",
                    req.name
                )));
            }
        }
        let kind = req
            .kind
            .or(existing.as_ref().map(kind_of))
            .unwrap_or(SecretKind::String);
        if let Some(was) = existing.as_ref().map(kind_of) {
            // Earlier versions stay in their form, and a rollback must open them.
            if (was == SecretKind::Binary) != (kind == SecretKind::Binary) {
                return Err(Error::invalid(format!(
                    "'{}' is a {} secret and cannot become {}: binary and text secrets keep their type (create a new secret)",
                    req.name,
                    was.as_str(),
                    kind.as_str()
                )));
            }
        }
        let (value, generated) = match req.value {
            ValueSource::Given(v) => (v, false),
            ValueSource::Bytes(bytes) if kind == SecretKind::Binary => {
                (SecretValue::from_binary(bytes)?, false)
            }
            ValueSource::Bytes(bytes) => (SecretValue::from_bytes(bytes)?, false),
            // A binary secret is generated as that many random bytes (a raw key).
            ValueSource::Generate { length, .. } if kind == SecretKind::Binary => {
                let mut bytes = zeroize::Zeroizing::new(vec![0u8; length]);
                getrandom::getrandom(&mut bytes).map_err(|e| Error::Storage(e.to_string()))?;
                (SecretValue::from_binary(bytes)?, true)
            }
            ValueSource::Generate { length, alphabet } => (
                generate::generate(length, &generate::alphabet(&alphabet)?)?,
                true,
            ),
        };
        let value = kind.normalize(value)?;
        if let Some(d) = &req.description {
            check_description(d)?;
        }
        let allowed_hosts = req
            .allowed_hosts
            .as_deref()
            .map(crate::hosts::normalize)
            .transpose()?;
        if req
            .scope
            .is_some_and(|s| existing.as_ref().is_some_and(|e| scope_of(e) != s))
        {
            return Err(Error::invalid(
                "a secret's scope is fixed when it is created",
            ));
        }
        self.load_write_keys(&ctx)?;
        let w = self.writer(&ctx, &env)?;
        let expires_at = req.expires_in_ms.map(|d| w.now + d);
        let name = req.name.as_str();
        let version = self.write(|tx| {
            let (secret_id, created, scope, owner_id) = match &existing {
                Some(s) => {
                    let description = req.description.as_deref().unwrap_or(&s.description);
                    let rotate = req.rotate_every_ms.or(s.rotate_every);
                    tx.update_secret_meta(s.id, description, kind.as_str(), rotate, w.now)?;
                    (s.id, false, s.scope.clone(), s.owner_id)
                }
                None => match tx.secret_by_name(ctx.project_id, name)? {
                    // Another writer created it since we looked (this transaction now
                    // holds the write lock): this is a new version of theirs.
                    Some(s)
                        if s.deleted_at.is_none()
                            && (s.scope == "workspace" || s.owner_id == w.member_id) =>
                    {
                        let description = req.description.as_deref().unwrap_or(&s.description);
                        let rotate = req.rotate_every_ms.or(s.rotate_every);
                        tx.update_secret_meta(s.id, description, kind.as_str(), rotate, w.now)?;
                        (s.id, false, s.scope, s.owner_id)
                    }
                    _ => {
                        let scope = req.scope.unwrap_or(SecretScope::Workspace).as_str();
                        let id = tx.insert_secret(&NewSecret {
                            project_id: ctx.project_id,
                            name,
                            description: req.description.as_deref().unwrap_or(""),
                            kind: kind.as_str(),
                            scope,
                            owner_id: w.member_id,
                            rotate_every: req.rotate_every_ms,
                            now: w.now,
                        })?;
                        (id, true, scope.to_string(), w.member_id)
                    }
                },
            };
            if let Some(hosts) = &allowed_hosts {
                let before = if created {
                    Vec::new()
                } else {
                    crate::hosts::decode(&tx.allowed_hosts(secret_id)?, name)?
                };
                if *hosts != before {
                    tx.set_allowed_hosts(secret_id, &crate::hosts::encode(hosts), w.now)?;
                    let mut ev = w.event("secret.hosts", name);
                    ev.environment = None;
                    ev.detail = json!({ "allowed_hosts": hosts });
                    audit::append(tx, w.author, w.now, &ev)?;
                }
            }
            let detail = json!({
                "generated": generated,
                "created": created,
                "expires_at": expires_at,
            });
            let origin = if generated { "generate" } else { "set" };
            let version = w.push(
                tx,
                Push {
                    secret_id,
                    name,
                    scope: &scope,
                    owner_id,
                    value: &value,
                    if_version: req.if_version,
                    expires_at,
                    origin,
                    action: if created {
                        "secret.create"
                    } else {
                        "secret.update"
                    },
                    detail,
                },
            )?;
            w.sweep(tx)?;
            Ok((version, created))
        });
        let (version, created) = version?;
        Ok(SetOutcome {
            name: req.name,
            environment: env.name,
            version,
            created,
        })
    }

    /// Writes many values into one environment in one transaction: all or nothing.
    pub fn import(
        &mut self,
        scope: &Scope,
        environment: Option<&str>,
        entries: Vec<(String, SecretValue)>,
    ) -> Result<Vec<SetOutcome>> {
        let ctx = self.ctx(scope)?;
        let env_name = environment.unwrap_or(DEFAULT_ENVIRONMENT);
        self.require_ctx(
            &ctx,
            Capability::Write,
            "secret.import",
            None,
            Some(env_name),
        )?;
        let env = self.environment(&ctx, env_name)?;
        self.require_reauth(&env)?;
        let mut seen = std::collections::HashSet::new();
        let mut plan = Vec::with_capacity(entries.len());
        for (name, value) in entries {
            names::secret(&name)?;
            if !seen.insert(name.clone()) {
                return Err(Error::invalid(format!(
                    "'{name}' appears twice in the import"
                )));
            }
            let existing = self.visible_secret(&ctx, &name)?;
            if existing.as_ref().is_some_and(|s| s.deleted_at.is_some()) {
                return Err(Error::Conflict(format!(
                    "secret '{name}' is deleted; restore or purge it before importing"
                )));
            }
            let kind = existing.as_ref().map(kind_of).unwrap_or(SecretKind::String);
            let kind = if existing.is_none() && value.expose().trim_end_matches('\n').contains('\n')
            {
                SecretKind::Multiline
            } else {
                kind
            };
            let value = kind
                .normalize(value)
                .map_err(|e| Error::invalid(format!("{name}: {e}")))?;
            plan.push((name, value, existing, kind));
        }
        self.load_write_keys(&ctx)?;
        let w = self.writer(&ctx, &env)?;
        self.write(|tx| {
            let mut out = Vec::with_capacity(plan.len());
            for (name, value, existing, kind) in &plan {
                let (secret_id, created, scope, owner_id) = match existing {
                    Some(s) => (s.id, false, s.scope.as_str(), s.owner_id),
                    None => {
                        let id = tx.insert_secret(&NewSecret {
                            project_id: ctx.project_id,
                            name,
                            description: "",
                            kind: kind.as_str(),
                            scope: "workspace",
                            owner_id: w.member_id,
                            rotate_every: None,
                            now: w.now,
                        })?;
                        (id, true, "workspace", w.member_id)
                    }
                };
                let detail = json!({ "created": created, "source": "import" });
                let version = w.push(
                    tx,
                    Push {
                        secret_id,
                        name,
                        scope,
                        owner_id,
                        value,
                        if_version: None,
                        expires_at: None,
                        origin: "import",
                        action: "secret.import",
                        detail,
                    },
                )?;
                out.push(SetOutcome {
                    name: name.clone(),
                    environment: env.name.clone(),
                    version,
                    created,
                });
            }
            w.sweep(tx)?;
            Ok(out)
        })
    }

    /// Names and metadata of a project's secrets, one status per environment.
    pub fn list_secrets(
        &mut self,
        scope: &Scope,
        include_deleted: bool,
    ) -> Result<Vec<SecretSummary>> {
        self.list_secrets_in(scope, include_deleted, None)
    }

    /// [`Self::list_secrets`], each secret's state in `environment` only (when given;
    /// an environment the project does not have is not found).
    pub fn list_secrets_in(
        &mut self,
        scope: &Scope,
        include_deleted: bool,
        environment: Option<&str>,
    ) -> Result<Vec<SecretSummary>> {
        let mut list = Vec::new();
        self.each_secret_in(scope, include_deleted, environment, &mut |summary| {
            list.push(summary);
            Ok(())
        })?;
        Ok(list)
    }

    /// [`Self::list_secrets_in`] as a stream: `f` gets each summary in name order as
    /// it is read, so a listing of 100,000 secrets is printed without being gathered
    /// first. Permission and the environment are checked before the first call; an
    /// error of `f` ends the listing.
    pub fn each_secret_in(
        &mut self,
        scope: &Scope,
        include_deleted: bool,
        environment: Option<&str>,
        f: &mut dyn FnMut(SecretSummary) -> Result<()>,
    ) -> Result<()> {
        let ctx = self.ctx(scope)?;
        self.require_ctx(&ctx, Capability::List, "secret.list", None, None)?;
        let envs = self.verified_environments(ctx.project_id)?;
        let only = match environment {
            None => None,
            Some(name) => Some(
                envs.iter()
                    .find(|e| e.name == name)
                    .map(|e| e.id)
                    .ok_or_else(|| Error::not_found(format!("environment '{name}'")))?,
            ),
        };
        let exposures = self.store.conn().exposures_of_project(ctx.project_id)?;
        let recovery = self.setting(ctx.ws_id, SettingKey::RecoveryWindow)?;
        let now = self.now();
        self.store.conn().each_secret(
            ctx.project_id,
            self.member_id,
            include_deleted,
            &mut |secret, currents| {
                let exposed = exposures.get(&secret.id).map_or(&[][..], |v| v.as_slice());
                f(summarize(
                    secret, &envs, only, currents, exposed, now, recovery,
                ))
            },
        )
    }

    /// Metadata and version history of one secret; never a value.
    pub fn show_secret(&mut self, scope: &Scope, name: &str) -> Result<SecretDetail> {
        names::secret(name)?;
        let ctx = self.ctx(scope)?;
        self.require_ctx(&ctx, Capability::List, "secret.show", Some(name), None)?;
        let secret = self
            .visible_secret(&ctx, name)?
            .ok_or_else(|| Error::not_found(format!("secret '{name}'")))?;
        let envs = self.verified_environments(ctx.project_id)?;
        let versions = self.store.conn().versions_of(secret.id)?;
        let now = self.now();
        let rollback = self.setting(ctx.ws_id, SettingKey::RollbackWindow)?;
        let recovery = self.setting(ctx.ws_id, SettingKey::RecoveryWindow)?;
        let currents: Vec<store::CurrentRow> = versions
            .iter()
            .filter(|v| v.superseded_at.is_none())
            .map(|v| store::CurrentRow {
                environment_id: v.environment_id,
                version: v.version,
                created_at: v.created_at,
                expires_at: v.expires_at,
                fingerprint: v.fingerprint.clone(),
            })
            .collect();
        let exposures = self.store.conn().exposures_of_project(ctx.project_id)?;
        let exposed = exposures.get(&secret.id).map_or(&[][..], |v| v.as_slice());
        let summary = summarize(
            secret.clone(),
            &envs,
            None,
            &currents,
            exposed,
            now,
            recovery,
        );
        let env_names: HashMap<i64, &str> = envs.iter().map(|e| (e.id, e.name.as_str())).collect();
        let order: HashMap<i64, usize> = envs.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
        let mut labels: Vec<Vec<u8>> = Vec::new();
        let mut sorted: Vec<&VersionRow> = versions.iter().collect();
        sorted.sort_by_key(|v| {
            (
                order.get(&v.environment_id).copied().unwrap_or(usize::MAX),
                -v.version,
            )
        });
        let versions = sorted
            .into_iter()
            .map(|v| {
                // A destroyed version has no fingerprint left: it equals nothing.
                let label = (!v.fingerprint.is_empty()).then(|| {
                    match labels.iter().position(|l| *l == v.fingerprint) {
                        Some(i) => i,
                        None => {
                            labels.push(v.fingerprint.clone());
                            labels.len() - 1
                        }
                    }
                });
                let destroyed = v.destroyed_at.is_some()
                    || v.superseded_at.is_some_and(|s| s + rollback <= now);
                VersionInfo {
                    environment: env_names.get(&v.environment_id).unwrap_or(&"?").to_string(),
                    version: v.version,
                    current: v.superseded_at.is_none(),
                    origin: v.origin.clone(),
                    created_at: v.created_at,
                    created_by: v.created_by.clone(),
                    expires_at: v.expires_at,
                    superseded_at: v.superseded_at,
                    destroyed,
                    rollback_until: match (v.superseded_at, destroyed) {
                        (Some(s), false) => Some(s + rollback),
                        _ => None,
                    },
                    value_label: label.map_or_else(|| "-".to_string(), value_label),
                }
            })
            .collect();
        let allowed_hosts =
            crate::hosts::decode(&self.store.conn().allowed_hosts(secret.id)?, name)?;
        Ok(SecretDetail {
            summary,
            allowed_hosts,
            versions,
        })
    }

    /// Displays a value: the `reveal` capability only, audited with the reason given.
    pub fn reveal(
        &mut self,
        scope: &Scope,
        name: &str,
        environment: Option<&str>,
        version: Option<i64>,
        reason: Option<&str>,
    ) -> Result<SecretValue> {
        names::secret(name)?;
        let ctx = self.ctx(scope)?;
        let env_name = environment.unwrap_or(DEFAULT_ENVIRONMENT);
        self.require_ctx(
            &ctx,
            Capability::Reveal,
            "secret.reveal",
            Some(name),
            Some(env_name),
        )?;
        let env = self.environment(&ctx, env_name)?;
        let secret = self.live_secret(&ctx, name)?;
        let row = match version {
            Some(n) => self
                .store
                .conn()
                .version_by_number(secret.id, env.id, n)?
                .ok_or_else(|| {
                    Error::not_found(format!("version {n} of '{name}' in {env_name}"))
                })?,
            None => self
                .store
                .conn()
                .current_version(secret.id, env.id)?
                .ok_or_else(|| Error::not_found(format!("a value of '{name}' in {env_name}")))?,
        };
        let value = self.open_version(&ctx, &env, &secret, &row)?;
        if let Some(r) = reason {
            if r.chars().count() > 500 {
                return Err(Error::invalid("a reason is at most 500 characters"));
            }
        }
        let now = self.now();
        let member = self.member.clone();
        let author = self.author();
        self.write(|tx| {
            let mut ev = NewEvent::new(&member, "secret.reveal");
            ev.workspace = Some((ctx.ws_id, &ctx.ws));
            ev.project = Some(&ctx.project);
            ev.environment = Some(env_name);
            ev.secret = Some(name);
            ev.detail = json!({ "version": row.version, "reason": reason });
            audit::append(tx, author, now, &ev).map(|_| ())
        })?;
        Ok(value)
    }

    /// Decrypts one version after checking it is still usable.
    fn open_version(
        &mut self,
        ctx: &Ctx,
        env: &EnvRow,
        secret: &SecretRow,
        row: &VersionRow,
    ) -> Result<SecretValue> {
        let now = self.now();
        let what = format!(
            "version {} of '{}' in {}",
            row.version, secret.name, env.name
        );
        if row.superseded_at.is_none() && row.expires_at.is_some_and(|t| t <= now) {
            return Err(Error::Expired {
                what: format!("'{}' in {}", secret.name, env.name),
            });
        }
        let rollback = self.setting(ctx.ws_id, SettingKey::RollbackWindow)?;
        let past_window = row.superseded_at.is_some_and(|s| s + rollback <= now);
        let Some(ct) = row.ciphertext.as_deref().filter(|_| !past_window) else {
            return Err(Error::not_found(format!(
                "{what} (destroyed after the rollback window)"
            )));
        };
        self.open_value(
            ctx,
            env,
            &Sealed {
                secret_id: secret.id,
                binary: kind_of(secret) == SecretKind::Binary,
                name: &secret.name,
                scope: &secret.scope,
                owner_id: secret.owner_id,
                version: row.version,
                epoch: row.epoch,
                ciphertext: ct,
            },
        )
    }

    /// Opens a sealed value with the key its epoch names: the environment's (if it is
    /// sealed to this member) or, for a private value, the member's own.
    pub(crate) fn open_value(
        &mut self,
        ctx: &Ctx,
        env: &EnvRow,
        v: &Sealed<'_>,
    ) -> Result<SecretValue> {
        let what = format!("version {} of '{}' in {}", v.version, v.name, env.name);
        let epoch = v.epoch.ok_or_else(|| {
            Error::Integrity(format!(
                "{what} is still sealed by an earlier Coffer's key: an owner must unlock the vault once to upgrade it"
            ))
        })?;
        let ad = value_ad(
            &self.vault_id,
            &ValuePlace {
                ws: &ctx.ws,
                project: &ctx.project,
                env: &env.name,
                secret: v.name,
                secret_id: v.secret_id,
                scope: v.scope,
                owner_id: v.owner_id,
                version: v.version,
                epoch,
            },
        );
        let (key, tag) = if epoch == 0 {
            if v.owner_id != self.member_id {
                return Err(Error::not_found(format!("secret '{}'", v.name)));
            }
            (self.secret.identity.kx(), (-1, 0))
        } else {
            self.env_secret(
                &place_of(ctx.ws_id, &ctx.ws, ctx.project_id, &ctx.project, env),
                epoch,
            )?;
            (&*self.env_keys[&(env.id, epoch)], (env.id, epoch))
        };
        let plain = open_value(
            key,
            tag,
            v.ciphertext,
            INFO_VALUE,
            &ad,
            &what,
            &mut self.open_cache,
        )?;
        SecretValue::opened(plain, v.binary)
            .map_err(|_| Error::Integrity(format!("{what} holds malformed data")))
    }

    /// Restores an earlier version by writing it again as a new version.
    pub fn rollback(
        &mut self,
        scope: &Scope,
        name: &str,
        environment: &str,
        to: i64,
    ) -> Result<SetOutcome> {
        names::secret(name)?;
        let ctx = self.ctx(scope)?;
        self.require_ctx(
            &ctx,
            Capability::Write,
            "secret.rollback",
            Some(name),
            Some(environment),
        )?;
        let env = self.environment(&ctx, environment)?;
        self.require_reauth(&env)?;
        let secret = self.live_secret(&ctx, name)?;
        let target = self
            .store
            .conn()
            .version_by_number(secret.id, env.id, to)?
            .ok_or_else(|| {
                Error::not_found(format!("version {to} of '{name}' in {environment}"))
            })?;
        if target.superseded_at.is_none() {
            return Err(Error::Conflict(format!(
                "version {to} is already the current version"
            )));
        }
        // Expiry applies to the current value; rolling back an old one re-arms nothing.
        let old = VersionRow {
            expires_at: None,
            ..target
        };
        let value = self.open_version(&ctx, &env, &secret, &old)?;
        self.load_write_keys(&ctx)?;
        let w = self.writer(&ctx, &env)?;
        let version = self.write(|tx| {
            let detail = json!({ "from_version": to });
            let version = w.push(
                tx,
                Push {
                    secret_id: secret.id,
                    name,
                    scope: &secret.scope,
                    owner_id: secret.owner_id,
                    value: &value,
                    if_version: None,
                    expires_at: None,
                    origin: &format!("rollback:{to}"),
                    action: "secret.rollback",
                    detail,
                },
            )?;
            w.sweep(tx)?;
            Ok(version)
        })?;
        Ok(SetOutcome {
            name: name.into(),
            environment: env.name,
            version,
            created: false,
        })
    }

    /// Soft delete: recoverable for the recovery window. Returns when it is purged.
    pub fn delete_secret(&mut self, scope: &Scope, name: &str) -> Result<i64> {
        names::secret(name)?;
        let ctx = self.ctx(scope)?;
        self.require_ctx(&ctx, Capability::Delete, "secret.delete", Some(name), None)?;
        let secret = self.live_secret(&ctx, name)?;
        self.require_reauth_for_secret(&ctx, secret.id)?;
        let recovery = self.setting(ctx.ws_id, SettingKey::RecoveryWindow)?;
        let now = self.now();
        self.lifecycle_event(
            &ctx,
            name,
            "secret.delete",
            json!({ "recoverable_for": format_duration_ms(recovery) }),
            |tx| tx.set_secret_deleted(secret.id, Some(now), now),
        )?;
        Ok(now + recovery)
    }

    pub fn restore_secret(&mut self, scope: &Scope, name: &str) -> Result<()> {
        names::secret(name)?;
        let ctx = self.ctx(scope)?;
        self.require_ctx(&ctx, Capability::Delete, "secret.restore", Some(name), None)?;
        let secret = self
            .visible_secret(&ctx, name)?
            .ok_or_else(|| Error::not_found(format!("secret '{name}'")))?;
        let Some(deleted_at) = secret.deleted_at else {
            return Err(Error::Conflict(format!("secret '{name}' is not deleted")));
        };
        self.require_reauth_for_secret(&ctx, secret.id)?;
        let recovery = self.setting(ctx.ws_id, SettingKey::RecoveryWindow)?;
        let now = self.now();
        if deleted_at + recovery <= now {
            return Err(Error::not_found(format!(
                "secret '{name}' (its recovery window has passed)"
            )));
        }
        self.lifecycle_event(&ctx, name, "secret.restore", json!({}), |tx| {
            tx.set_secret_deleted(secret.id, None, now)
        })
    }

    /// Removes a deleted secret and all its versions for good.
    pub fn purge_secret(&mut self, scope: &Scope, name: &str) -> Result<()> {
        names::secret(name)?;
        let ctx = self.ctx(scope)?;
        self.require_ctx(&ctx, Capability::Delete, "secret.purge", Some(name), None)?;
        let secret = self
            .visible_secret(&ctx, name)?
            .ok_or_else(|| Error::not_found(format!("secret '{name}'")))?;
        if secret.deleted_at.is_none() {
            return Err(Error::Conflict(format!(
                "secret '{name}' is not deleted; delete it first (coffer rm {name})"
            )));
        }
        self.require_reauth_for_secret(&ctx, secret.id)?;
        self.lifecycle_event(&ctx, name, "secret.purge", json!({}), |tx| {
            tx.purge_secret(secret.id)
        })
    }

    /// Replaces the hosts a test request may send `name` to (empty: none), without
    /// writing a value; audited as `secret.hosts` with the new list.
    pub fn set_allowed_hosts(
        &mut self,
        scope: &Scope,
        name: &str,
        hosts: &[String],
    ) -> Result<Vec<String>> {
        names::secret(name)?;
        let hosts = crate::hosts::normalize(hosts)?;
        let ctx = self.ctx(scope)?;
        self.require_ctx(&ctx, Capability::Write, "secret.hosts", Some(name), None)?;
        let secret = self.live_secret(&ctx, name)?;
        let encoded = crate::hosts::encode(&hosts);
        let now = self.now();
        self.lifecycle_event(
            &ctx,
            name,
            "secret.hosts",
            json!({ "allowed_hosts": hosts }),
            |tx| tx.set_allowed_hosts(secret.id, &encoded, now),
        )?;
        Ok(hosts)
    }

    fn lifecycle_event(
        &mut self,
        ctx: &Ctx,
        name: &str,
        action: &str,
        detail: serde_json::Value,
        change: impl FnOnce(&dyn Storage) -> Result<()>,
    ) -> Result<()> {
        let now = self.now();
        let member = self.member.clone();
        let author = self.author();
        self.write(|tx| {
            change(tx)?;
            let mut ev = NewEvent::new(&member, action);
            ev.workspace = Some((ctx.ws_id, &ctx.ws));
            ev.project = Some(&ctx.project);
            ev.secret = Some(name);
            ev.detail = detail;
            audit::append(tx, author, now, &ev).map(|_| ())
        })?;
        self.sweep(ctx.ws_id, false)
    }
}

/// A description is shown in lists and terminals: one line, at most 1000 characters,
/// and no control character (an escape sequence would be interpreted by a terminal).
pub(crate) fn check_description(d: &str) -> Result<()> {
    if d.chars().count() > 1000 {
        return Err(Error::invalid(
            "a description is one line of at most 1000 characters",
        ));
    }
    if let Some(c) = crate::text::first_control(d) {
        let shown = crate::text::terminal_safe_line(c.encode_utf8(&mut [0; 4])).into_owned();
        return Err(Error::invalid(format!(
            "a description is one line of plain text: it holds the control character {shown} \
             (line breaks, tabs and escape sequences are refused)"
        )));
    }
    Ok(())
}

fn value_label(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if i < letters.len() {
        (letters[i] as char).to_string()
    } else {
        format!("V{i}")
    }
}

/// One secret's summary, with its state in each environment (or only in the one with
/// id `only`; the others still name equal values).
/// The summary of one secret, taking its row's text (a listing of 100,000 copies none).
fn summarize(
    secret: SecretRow,
    envs: &[EnvRow],
    only: Option<i64>,
    currents: &[store::CurrentRow],
    exposures: &[(i64, String)],
    now: i64,
    recovery: i64,
) -> SecretSummary {
    let environments = envs
        .iter()
        .filter(|e| only.is_none_or(|id| id == e.id))
        .map(
            |e| match currents.iter().find(|c| c.environment_id == e.id) {
                None => EnvStatus {
                    environment: e.name.clone(),
                    state: EnvState::Missing,
                    version: None,
                    updated_at: None,
                    expires_at: None,
                    expiring_soon: false,
                    rotation_due: false,
                    same_as: Vec::new(),
                    exposed_to: Vec::new(),
                },
                Some(c) => {
                    let expired = c.expires_at.is_some_and(|t| t <= now);
                    let same_as = currents
                        .iter()
                        .filter(|o| {
                            o.environment_id != c.environment_id
                                && !c.fingerprint.is_empty()
                                && o.fingerprint == c.fingerprint
                        })
                        .filter_map(|o| {
                            envs.iter()
                                .find(|e| e.id == o.environment_id)
                                .map(|e| e.name.clone())
                        })
                        .collect();
                    EnvStatus {
                        environment: e.name.clone(),
                        state: if expired {
                            EnvState::Expired
                        } else {
                            EnvState::Set
                        },
                        version: Some(c.version),
                        updated_at: Some(c.created_at),
                        expires_at: c.expires_at,
                        expiring_soon: !expired
                            && c.expires_at.is_some_and(|t| t - now <= EXPIRING_SOON_MS),
                        rotation_due: secret.rotate_every.is_some_and(|r| now - c.created_at >= r),
                        same_as,
                        exposed_to: exposures
                            .iter()
                            .filter(|(env, _)| *env == e.id)
                            .map(|(_, m)| m.clone())
                            .collect(),
                    }
                }
            },
        )
        .collect();
    SecretSummary {
        kind: kind_of(&secret),
        scope: scope_of(&secret),
        name: secret.name,
        description: secret.description,
        owner: secret.owner,
        created_at: secret.created_at,
        updated_at: secret.updated_at,
        rotate_every: secret.rotate_every.map(format_duration_ms),
        deleted_at: secret.deleted_at,
        purge_at: secret.deleted_at.map(|d| d + recovery),
        environments,
    }
}
