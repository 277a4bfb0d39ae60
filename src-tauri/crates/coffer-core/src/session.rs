//! An unlocked vault in the hands of one member.
//!
//! The session owns every decrypted key (dropped, and so zeroized, with it) and is the
//! only door to the store: each operation resolves its workspace and project through
//! the member's grants (a workspace without a grant does not exist for them), checks
//! the capability, audits a denial, and then acts in one transaction.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use crate::access::{Capability, Role};
use crate::audit::{self, AuditEvent, Author, NewEvent, Outcome, VerifyReport};
use crate::authority::RowKey;
use crate::clock::Clock;
use crate::crypto::{self, KdfParams, Key32, KxSecret, Locked};
use crate::device::DeviceKeyStore;
use crate::error::{Error, Result};
use crate::keys::{self, MemberSecret, SLOT_FORMAT};
use crate::keys::{device_account, slot_ad};
use crate::names;
use crate::settings::{Setting, SettingKey};
use crate::store::{
    AuditQuery, AuditRow, EnvRow, NewSlot, ProjectRow, Storage, Store, WorkspaceRow,
};
use crate::time_fmt::parse_since_ms;
use crate::value::Passphrase;
use serde::Serialize;

pub const DEFAULT_WORKSPACE: &str = "default";
pub const DEFAULT_PROJECT: &str = "default";
pub const DEFAULT_ENVIRONMENTS: [&str; 3] = ["development", "staging", "production"];

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WorkspaceInfo {
    pub name: String,
    pub role: Option<Role>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProjectInfo {
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EnvironmentInfo {
    pub name: String,
    pub protected: bool,
}

/// What the upgrade of a vault made before keys enforced roles did (see `upgrade`).
pub struct UpgradeReport {
    /// Each member re-created, with the one-time passphrase to hand them.
    pub members: Vec<(String, Passphrase)>,
    /// Values sealed again under environment keys.
    pub values: usize,
}

impl std::fmt::Debug for UpgradeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpgradeReport")
            .field(
                "members",
                &self.members.iter().map(|m| &m.0).collect::<Vec<_>>(),
            )
            .field("values", &self.values)
            .finish()
    }
}

/// How long a passphrase confirmation covers changes to protected environments.
const REAUTH_VALID_MS: i64 = 5 * 60_000;

/// Where an operation happens: a workspace and a project in it, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub workspace: String,
    pub project: String,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            workspace: DEFAULT_WORKSPACE.into(),
            project: DEFAULT_PROJECT.into(),
        }
    }
}

impl Scope {
    pub fn new(workspace: impl Into<String>, project: impl Into<String>) -> Self {
        Scope {
            workspace: workspace.into(),
            project: project.into(),
        }
    }
}

/// A resolved workspace (and optionally project) with the member's role there.
pub(crate) struct Ctx {
    pub ws_id: i64,
    pub ws: String,
    pub project_id: i64,
    pub project: String,
    pub role: Role,
}

/// What a member tried, for the audit event of a refusal.
pub(crate) struct Attempt<'a> {
    pub workspace: (i64, &'a str),
    pub project: Option<&'a str>,
    pub action: &'a str,
    pub secret: Option<&'a str>,
    pub environment: Option<&'a str>,
}

impl<'a> Attempt<'a> {
    pub fn on_workspace(ws: &'a WorkspaceRow, action: &'a str) -> Self {
        Attempt {
            workspace: (ws.id, &ws.name),
            project: None,
            action,
            secret: None,
            environment: None,
        }
    }
}

/// Filters for reading the audit trail.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub secret: Option<String>,
    /// A duration back from now (`7d`) or a date / RFC 3339 time.
    pub since: Option<String>,
    pub limit: Option<i64>,
}

pub struct Session {
    pub(crate) store: Store,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) vault_id: String,
    /// The member's own private keys and the anchor their trust starts from.
    pub(crate) secret: Locked<MemberSecret>,
    pub(crate) member_id: i64,
    pub(crate) member: String,
    /// Environment private keys opened so far, by (environment, epoch).
    pub(crate) env_keys: HashMap<(i64, i64), Locked<KxSecret>>,
    /// Project fingerprint keys opened so far (writers only hold them).
    pub(crate) project_keys: HashMap<i64, Key32>,
    /// Batches of values opened so far (one key agreement each).
    pub(crate) open_cache: crypto::OpenCache,
    reauthenticated_at: Option<i64>,
    kdf: KdfParams,
    must_change_passphrase: bool,
    pub(crate) upgrade: Option<UpgradeReport>,
    /// The member who is the vault's root of trust.
    pub(crate) root: i64,
    /// Hashes of the signed directory rows verified so far.
    pub(crate) verified_rows: keys::Verified,
    trail_warning: Option<String>,
    /// The last day (UTC, days since 1970) this session looked for the day's snapshot.
    snapshot_day: std::cell::Cell<i64>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("member", &self.member)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session for a member whose key slot opened to `secret`: their public keys in
    /// the vault must be theirs and certified back to the anchor, or nothing is trusted.
    pub(crate) fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        vault_id: String,
        secret: MemberSecret,
        member_id: i64,
        member: String,
        kdf: KdfParams,
    ) -> Result<Session> {
        let conn = store.conn();
        let verified_rows = keys::Verified::default();
        let stored =
            keys::verified_keys_once(conn, &vault_id, &secret.anchor, member_id, &verified_rows)?;
        if stored != secret.identity.public() {
            return Err(Error::Integrity(format!(
                "the public keys recorded for member '{member}' are not the ones their key slot holds"
            )));
        }
        let must_change_passphrase = conn.must_change_passphrase(member_id)?;
        let root = crate::authority::root_member(conn, &secret.anchor)?;
        let trail_warning = crate::anchor::check(conn, (&vault_id, store.path()))?;
        Ok(Session {
            store,
            clock,
            vault_id,
            secret: Locked::new(secret),
            member_id,
            member,
            env_keys: HashMap::new(),
            project_keys: HashMap::new(),
            open_cache: Default::default(),
            reauthenticated_at: None,
            kdf,
            must_change_passphrase,
            upgrade: None,
            root,
            verified_rows,
            trail_warning,
            snapshot_day: std::cell::Cell::new(i64::MIN),
        })
    }

    /// Whether the member still uses a passphrase someone else chose (a new member's
    /// first, or one made when the vault was upgraded): they should set their own.
    pub fn must_change_passphrase(&self) -> bool {
        self.must_change_passphrase
    }

    /// What the upgrade of a vault made by an earlier Coffer did at this unlock (once):
    /// the one-time passphrases of the members it re-created, to hand to each of them.
    pub fn take_upgrade_report(&mut self) -> Option<UpgradeReport> {
        self.upgrade.take()
    }

    pub fn member(&self) -> &str {
        &self.member
    }

    pub fn path(&self) -> &Path {
        self.store.path()
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    // ---- re-authentication for protected environments ----

    pub(crate) fn mark_reauthenticated(&mut self) {
        self.reauthenticated_at = Some(self.now());
    }

    /// Confirms the member's passphrase again; changes to protected environments are
    /// allowed for a few minutes afterwards.
    pub fn confirm_passphrase(&mut self, passphrase: &Passphrase) -> Result<()> {
        let slot = self
            .store
            .conn()
            .slots_of(self.member_id, "passphrase")?
            .into_iter()
            .next()
            .ok_or(Error::BadCredentials)?;
        let params: KdfParams = slot
            .kdf
            .as_deref()
            .and_then(|k| serde_json::from_str(k).ok())
            .ok_or_else(|| Error::Integrity("a key slot has unreadable parameters".into()))?;
        let kek = params.derive(passphrase, slot.salt.as_deref().unwrap_or_default())?;
        let ad = slot_ad(&self.vault_id, self.member_id, "passphrase", slot.format);
        crypto::open(&kek, &slot.wrapped_key, ad.as_bytes(), "key slot")
            .map_err(|_| Error::BadCredentials)?;
        self.mark_reauthenticated();
        Ok(())
    }

    /// For what only a member who just gave their passphrase may do (an agent's
    /// session has not): the passphrase given in the last few minutes.
    pub(crate) fn require_fresh_passphrase(&self, what: &str) -> Result<()> {
        match self.reauthenticated_at {
            Some(t) if self.now() - t <= REAUTH_VALID_MS => Ok(()),
            _ => Err(Error::Auth(format!("confirm your passphrase to {what}"))),
        }
    }

    /// Whether a change to `environment` would need the passphrase confirmed first.
    pub fn needs_reauth(&self, scope: &Scope, environment: &str) -> Result<bool> {
        let ctx = self.ctx(scope)?;
        let env = self.environment(&ctx, environment)?;
        Ok(self.require_reauth(&env).is_err())
    }

    pub(crate) fn require_reauth(&self, env: &EnvRow) -> Result<()> {
        if !env.protected {
            return Ok(());
        }
        match self.reauthenticated_at {
            Some(t) if self.now() - t <= REAUTH_VALID_MS => Ok(()),
            _ => Err(Error::Auth(format!(
                "environment '{}' is protected: confirm your passphrase to change it",
                env.name
            ))),
        }
    }

    /// Deleting, restoring or purging a secret changes every environment it holds a
    /// value in: each protected one needs the passphrase confirmed.
    pub(crate) fn require_reauth_for_secret(&self, ctx: &Ctx, secret_id: i64) -> Result<()> {
        let holding = self.store.conn().environments_holding(secret_id)?;
        for env in self.verified_environments(ctx.project_id)? {
            if holding.contains(&env.id) {
                self.require_reauth(&env)?;
            }
        }
        Ok(())
    }

    /// A shorter rollback or recovery window, or fewer kept versions, destroys old
    /// values in every environment of the workspace: with a protected environment
    /// there, the passphrase must be confirmed first.
    fn require_reauth_for_setting(&self, ws_id: i64, key: SettingKey, raw: i64) -> Result<()> {
        let shortens = matches!(
            key,
            SettingKey::RollbackWindow | SettingKey::MaxVersions | SettingKey::RecoveryWindow
        ) && raw < self.setting(ws_id, key)?;
        if shortens {
            for project in self.store.conn().projects_of(ws_id)? {
                self.verified_environments(project.id)?;
            }
            for env in self.store.conn().protected_environments_in(ws_id)? {
                self.require_reauth(&env)?;
            }
        }
        Ok(())
    }

    /// The protected environment a change would need the passphrase confirmed for
    /// first, if any: deleting, restoring or purging `secret`.
    pub fn reauth_needed_for_secret(&self, scope: &Scope, secret: &str) -> Result<Option<String>> {
        let ctx = self.ctx(scope)?;
        let Some(row) = self.visible_secret(&ctx, secret)? else {
            return Ok(None);
        };
        self.first_unconfirmed(&ctx, row.id)
    }

    /// As [`Session::reauth_needed_for_secret`], for `settings set KEY VALUE`.
    pub fn reauth_needed_for_setting(
        &self,
        workspace: &str,
        key: &str,
        value: &str,
    ) -> Result<Option<String>> {
        let key = SettingKey::parse(key)?;
        let raw = key.parse_value(value)?;
        let ws = self.workspace_row(workspace)?;
        match self.require_reauth_for_setting(ws.id, key, raw) {
            Ok(()) => Ok(None),
            Err(_) => Ok(self
                .store
                .conn()
                .protected_environments_in(ws.id)?
                .into_iter()
                .next()
                .map(|e| e.name)),
        }
    }

    fn first_unconfirmed(&self, ctx: &Ctx, secret_id: i64) -> Result<Option<String>> {
        let holding = self.store.conn().environments_holding(secret_id)?;
        Ok(self
            .verified_environments(ctx.project_id)?
            .into_iter()
            .find(|e| holding.contains(&e.id) && self.require_reauth(e).is_err())
            .map(|e| e.name))
    }

    // ---- resolving names through grants ----

    pub(crate) fn workspace_row(&self, name: &str) -> Result<WorkspaceRow> {
        let hidden = || Error::not_found(format!("workspace '{name}'"));
        let ws = self
            .store
            .conn()
            .workspace_by_name(name)?
            .ok_or_else(hidden)?;
        if !self.store.conn().has_any_grant(self.member_id, ws.id)? {
            return Err(hidden());
        }
        let v = self.verifier();
        v.check(self.store.conn(), RowKey::Workspace(ws.id))?;
        v.check(
            self.store.conn(),
            RowKey::Grant(self.member_id, ws.id, None),
        )?;
        Ok(ws)
    }

    pub(crate) fn ctx(&self, scope: &Scope) -> Result<Ctx> {
        let ws = self.workspace_row(&scope.workspace)?;
        let project = self
            .store
            .conn()
            .project_by_name(ws.id, &scope.project)?
            .ok_or_else(|| Error::not_found(format!("project '{}'", scope.project)))?;
        let v = self.verifier();
        v.check(self.store.conn(), RowKey::Project(project.id))?;
        v.check(
            self.store.conn(),
            RowKey::Grant(self.member_id, ws.id, Some(project.id)),
        )?;
        let role = self
            .store
            .conn()
            .role_for(self.member_id, ws.id, Some(project.id))?
            .ok_or_else(|| Error::not_found(format!("project '{}'", scope.project)))?;
        Ok(Ctx {
            ws_id: ws.id,
            ws: ws.name,
            project_id: project.id,
            project: project.name,
            role,
        })
    }

    /// The member's workspace-level role, for operations that are not about a project.
    pub(crate) fn ws_role(&self, ws: &WorkspaceRow) -> Result<Role> {
        self.store
            .conn()
            .role_for(self.member_id, ws.id, None)?
            .ok_or_else(|| Error::not_found(format!("workspace '{}'", ws.name)))
    }

    /// Checks a capability; a refusal is itself audited.
    pub(crate) fn require(
        &mut self,
        role: Role,
        cap: Capability,
        attempt: Attempt<'_>,
    ) -> Result<()> {
        if role.allows(cap) {
            return Ok(());
        }
        let member = self.member.clone();
        let ws = attempt.workspace;
        let mut ev = NewEvent::new(&member, attempt.action);
        ev.outcome = Outcome::Denied;
        ev.workspace = Some(ws);
        ev.project = attempt.project;
        ev.secret = attempt.secret;
        ev.environment = attempt.environment;
        ev.detail = json!({ "role": role.as_str(), "missing": cap.as_str() });
        let now = self.now();
        let key = self.author();
        self.write(|tx| audit::append(tx, key, now, &ev).map(|_| ()))?;
        Err(Error::Denied {
            member,
            capability: cap.as_str(),
            workspace: ws.1.to_string(),
        })
    }

    pub(crate) fn require_ctx(
        &mut self,
        ctx: &Ctx,
        cap: Capability,
        action: &str,
        secret: Option<&str>,
        environment: Option<&str>,
    ) -> Result<()> {
        self.require(
            ctx.role,
            cap,
            Attempt {
                workspace: (ctx.ws_id, &ctx.ws),
                project: Some(&ctx.project),
                action,
                secret,
                environment,
            },
        )
    }

    /// Who this session's audit events are by.
    pub(crate) fn author(&self) -> Author {
        Author::Member(self.member_id)
    }

    /// One write transaction of this member: the audit events `f` appends are signed
    /// as the commit ends, and this machine's anchor moves to the new head.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&dyn Storage) -> Result<T>) -> Result<T> {
        let now = self.now();
        let today = now.div_euclid(86_400_000);
        if self.snapshot_day.get() != today && !self.store.is_scratch() {
            self.snapshot_day.set(today);
            // The day's first write keeps the vault as it was before it. A snapshot
            // that cannot be taken (a full disk) does not stop the write: `coffer
            // doctor` reports how old the newest one is.
            let _ = self.store.snapshot_daily(now);
        }
        let (out, head) = self.store.write(|tx| {
            let out = f(tx)?;
            audit::seal_commit(tx, &self.vault_id, self.member_id, &self.secret.identity)?;
            Ok((out, audit::head(tx)?))
        })?;
        if let Some((seq, hash)) = head.filter(|_| !self.store.is_scratch()) {
            crate::anchor::remember((&self.vault_id, self.store.path()), (seq, &hash));
        }
        Ok(out)
    }

    /// As [`Session::write`], with the replica's state of a team vault in reach.
    #[cfg(feature = "team")]
    pub(crate) fn write_replica<T>(
        &self,
        f: impl FnOnce(&dyn crate::store::ReplicaTx) -> Result<T>,
    ) -> Result<T> {
        let (out, head) = self.store.write_replica(|tx| {
            let out = f(tx)?;
            audit::seal_commit(
                tx.storage(),
                &self.vault_id,
                self.member_id,
                &self.secret.identity,
            )?;
            Ok((out, audit::head(tx.storage())?))
        })?;
        if let Some((seq, hash)) = head.filter(|_| !self.store.is_scratch()) {
            crate::anchor::remember((&self.vault_id, self.store.path()), (seq, &hash));
        }
        Ok(out)
    }

    pub(crate) fn environment(&self, ctx: &Ctx, name: &str) -> Result<EnvRow> {
        let env = self
            .store
            .conn()
            .environments_of(ctx.project_id)?
            .into_iter()
            .find(|e| e.name == name)
            .ok_or_else(|| {
                Error::not_found(format!("environment '{name}' in project '{}'", ctx.project))
            })?;
        self.verifier()
            .check(self.store.conn(), RowKey::Environment(env.id))?;
        Ok(env)
    }

    /// A project's environments, each checked against its signature.
    pub(crate) fn verified_environments(&self, project_id: i64) -> Result<Vec<EnvRow>> {
        let envs = self.store.conn().environments_of(project_id)?;
        let v = self.verifier();
        for e in &envs {
            v.check(self.store.conn(), RowKey::Environment(e.id))?;
        }
        Ok(envs)
    }

    // ---- workspaces, projects, environments ----

    /// Creates a workspace with its default project and environments, owned by the
    /// creating member. Only owners of some workspace may create one.
    pub fn create_workspace(&mut self, name: &str) -> Result<()> {
        names::workspace(name)?;
        if !self.store.conn().owns_any_workspace(self.member_id)? {
            self.audit_denied_in_each_workspace("workspace.create", json!({ "name": name }))?;
            return Err(Error::DeniedAction {
                member: self.member.clone(),
                what: "create workspaces (only workspace owners may)".into(),
            });
        }
        if let Some(ws) = self.store.conn().workspace_by_name(name)? {
            // Only a member of that workspace learns that it is there.
            if self.store.conn().has_any_grant(self.member_id, ws.id)? {
                return Err(Error::Conflict(format!(
                    "workspace '{name}' already exists"
                )));
            }
        }
        self.bootstrap_workspace(name, "workspace.create")
    }

    pub(crate) fn bootstrap_workspace(&mut self, name: &str, action: &str) -> Result<()> {
        let now = self.now();
        let member_id = self.member_id;
        let member = self.member.clone();
        let author = self.author();
        let kh = self.keyholder();
        self.write(|tx| {
            let ws_id = tx.insert_workspace(name, member_id, now)?;
            kh.sign(tx, RowKey::Workspace(ws_id))?;
            tx.set_grant(member_id, ws_id, None, Role::Owner)?;
            kh.sign(tx, RowKey::Grant(member_id, ws_id, None))?;
            let project_id = tx.insert_project(ws_id, DEFAULT_PROJECT, now)?;
            for env in DEFAULT_ENVIRONMENTS {
                tx.insert_environment(project_id, env, false, now)?;
            }
            kh.key_project(tx, ws_id, project_id, now)?;
            let mut ev = NewEvent::new(&member, action);
            ev.workspace = Some((ws_id, name));
            ev.detail = json!({ "owner": member });
            audit::append(tx, author, now, &ev)?;
            Ok(())
        })
    }

    pub fn list_workspaces(&self) -> Result<Vec<WorkspaceInfo>> {
        Ok(self
            .store
            .conn()
            .workspaces_of_member(self.member_id)?
            .into_iter()
            .map(|(name, role)| WorkspaceInfo { name, role })
            .collect())
    }

    pub fn create_project(&mut self, workspace: &str, name: &str) -> Result<()> {
        names::project(name)?;
        let ws = self.workspace_row(workspace)?;
        let role = self.ws_role(&ws)?;
        self.require(
            role,
            Capability::Manage,
            Attempt {
                workspace: (ws.id, &ws.name),
                project: Some(name),
                action: "project.create",
                secret: None,
                environment: None,
            },
        )?;
        let now = self.now();
        let member = self.member.clone();
        let author = self.author();
        let kh = self.keyholder();
        self.write(|tx| {
            let project_id = tx.insert_project(ws.id, name, now)?;
            for env in DEFAULT_ENVIRONMENTS {
                tx.insert_environment(project_id, env, false, now)?;
            }
            kh.key_project(tx, ws.id, project_id, now)?;
            let mut ev = NewEvent::new(&member, "project.create");
            ev.workspace = Some((ws.id, &ws.name));
            ev.project = Some(name);
            audit::append(tx, author, now, &ev)?;
            Ok(())
        })
    }

    pub fn list_projects(&self, workspace: &str) -> Result<Vec<ProjectInfo>> {
        let ws = self.workspace_row(workspace)?;
        let projects: Vec<ProjectRow> = self.store.conn().projects_of(ws.id)?;
        let mut out = Vec::new();
        for p in projects {
            if self
                .store
                .conn()
                .role_for(self.member_id, ws.id, Some(p.id))?
                .is_some()
            {
                out.push(ProjectInfo { name: p.name });
            }
        }
        Ok(out)
    }

    pub fn create_environment(&mut self, scope: &Scope, name: &str, protected: bool) -> Result<()> {
        names::environment(name)?;
        let ctx = self.ctx(scope)?;
        self.require_ctx(
            &ctx,
            Capability::Manage,
            "environment.create",
            None,
            Some(name),
        )?;
        let now = self.now();
        let member = self.member.clone();
        let author = self.author();
        let kh = self.keyholder();
        self.write(|tx| {
            let env_id = tx.insert_environment(ctx.project_id, name, protected, now)?;
            kh.new_env_key(tx, &tx.env_place(env_id)?, 1, now)?;
            kh.sign(tx, RowKey::Environment(env_id))?;
            let mut ev = NewEvent::new(&member, "environment.create");
            ev.workspace = Some((ctx.ws_id, &ctx.ws));
            ev.project = Some(&ctx.project);
            ev.environment = Some(name);
            ev.detail = json!({ "protected": protected });
            audit::append(tx, author, now, &ev)?;
            Ok(())
        })
    }

    /// Protects or unprotects an environment; either way needs a fresh passphrase.
    pub fn set_environment_protected(
        &mut self,
        scope: &Scope,
        name: &str,
        protected: bool,
    ) -> Result<()> {
        let ctx = self.ctx(scope)?;
        self.require_ctx(
            &ctx,
            Capability::Manage,
            "environment.protect",
            None,
            Some(name),
        )?;
        let env = self.environment(&ctx, name)?;
        self.require_reauth(&EnvRow {
            protected: true,
            ..env.clone()
        })?;
        let now = self.now();
        let member = self.member.clone();
        let author = self.author();
        let kh = self.keyholder();
        self.write(|tx| {
            tx.set_environment_protected(env.id, protected)?;
            kh.sign(tx, RowKey::Environment(env.id))?;
            let mut ev = NewEvent::new(&member, "environment.protect");
            ev.workspace = Some((ctx.ws_id, &ctx.ws));
            ev.project = Some(&ctx.project);
            ev.environment = Some(name);
            ev.detail = json!({ "protected": protected });
            audit::append(tx, author, now, &ev)?;
            Ok(())
        })
    }

    pub fn list_environments(&self, scope: &Scope) -> Result<Vec<EnvironmentInfo>> {
        let ctx = self.ctx(scope)?;
        Ok(self
            .verified_environments(ctx.project_id)?
            .into_iter()
            .map(|e| EnvironmentInfo {
                name: e.name,
                protected: e.protected,
            })
            .collect())
    }

    // ---- settings ----

    pub(crate) fn setting(&self, ws_id: i64, key: SettingKey) -> Result<i64> {
        self.verifier()
            .check(self.store.conn(), RowKey::Setting(ws_id, key.as_str()))?;
        Ok(self
            .store
            .conn()
            .get_setting(ws_id, key.as_str())?
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| key.default_value()))
    }

    pub fn settings(&self, workspace: &str) -> Result<Vec<Setting>> {
        let ws = self.workspace_row(workspace)?;
        SettingKey::ALL
            .into_iter()
            .map(|k| {
                self.verifier()
                    .check(self.store.conn(), RowKey::Setting(ws.id, k.as_str()))?;
                let stored = self
                    .store
                    .conn()
                    .get_setting(ws.id, k.as_str())?
                    .and_then(|v| v.parse().ok());
                let raw = stored.unwrap_or_else(|| k.default_value());
                Ok(Setting {
                    key: k.as_str(),
                    value: k.display(raw),
                    raw,
                    is_default: stored.is_none(),
                })
            })
            .collect()
    }

    /// Settings of the installation rather than of a workspace (the app's update
    /// endpoint and whether it checks at start): they need `manage` in one of the
    /// member's workspaces. `what` names the change for the refusal.
    pub fn require_manage_anywhere(&self, what: &str) -> Result<()> {
        let manages = self
            .store
            .conn()
            .workspaces_of_member(self.member_id)?
            .iter()
            .any(|(_, role)| role.is_some_and(|r| r.allows(Capability::Manage)));
        if manages {
            return Ok(());
        }
        Err(Error::DeniedAction {
            member: self.member.clone(),
            what: format!("{what}: that needs manage"),
        })
    }

    /// Settings that decide what code this installation runs (the app's update
    /// endpoint, whether it checks at start) are the vault's, not one tenant's: only
    /// the root owner (who made the vault, still an owner) may change them. Holding
    /// `manage` in a workspace is not enough, or one tenant's owner could point every
    /// member's app at their server. A refusal is audited as `action` in each workspace
    /// of the member; `what` names the change in the error.
    pub fn require_root_owner(&mut self, action: &str, what: &str) -> Result<()> {
        if self.member_id == self.root && self.store.conn().owns_any_workspace(self.member_id)? {
            return Ok(());
        }
        self.audit_denied_in_each_workspace(action, json!({ "missing": "root owner" }))?;
        Err(Error::DeniedAction {
            member: self.member.clone(),
            what: format!("{what}: only the vault's owner may"),
        })
    }

    /// A change to something that belongs to no one workspace (the installation's
    /// update settings), made after [`Session::require_root_owner`], in the trail of
    /// each workspace of the member, beside the refusals of others.
    pub fn audit_installation_change(
        &mut self,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        self.audit_in_each_workspace(action, Outcome::Ok, detail)
    }

    /// A refused attempt at something that belongs to no one workspace, in the trail of
    /// each workspace the member belongs to, where its auditors look.
    fn audit_denied_in_each_workspace(
        &mut self,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        self.audit_in_each_workspace(action, Outcome::Denied, detail)
    }

    fn audit_in_each_workspace(
        &mut self,
        action: &str,
        outcome: Outcome,
        detail: serde_json::Value,
    ) -> Result<()> {
        let member = self.member.clone();
        let now = self.now();
        let author = self.author();
        let spaces = self.store.conn().workspaces_of_member(self.member_id)?;
        self.write(|tx| {
            for (ws_name, _) in &spaces {
                if let Some(ws) = tx.workspace_by_name(ws_name)? {
                    let mut ev = NewEvent::new(&member, action);
                    ev.outcome = outcome;
                    ev.workspace = Some((ws.id, &ws.name));
                    ev.detail = detail.clone();
                    audit::append(tx, author, now, &ev)?;
                }
            }
            Ok(())
        })
    }

    /// The app's idle delay before it locks this session: the shortest `auto-lock` over
    /// every workspace the member belongs to (the session holds keys for all of them,
    /// so a workspace asking for a quick lock must not be overridden by another). Each
    /// setting is checked against its signature, so a row edited without keys to make
    /// the lock slower is an integrity error (the app then locks after the shortest
    /// allowed delay), and a value outside the allowed range is brought back into it.
    pub fn auto_lock_ms(&self) -> Result<i64> {
        let key = SettingKey::AutoLock;
        let conn = self.store.conn();
        let mut shortest: Option<i64> = None;
        for (name, _) in conn.workspaces_of_member(self.member_id)? {
            let Some(ws) = conn.workspace_by_name(&name)? else {
                continue;
            };
            let ms = self.setting(ws.id, key)?.clamp(
                crate::settings::AUTO_LOCK_SHORTEST_MS,
                crate::settings::AUTO_LOCK_LONGEST_MS,
            );
            shortest = Some(shortest.map_or(ms, |s| s.min(ms)));
        }
        Ok(shortest.unwrap_or_else(|| key.default_value()))
    }

    pub fn set_setting(&mut self, workspace: &str, key: &str, value: &str) -> Result<Setting> {
        let key = SettingKey::parse(key)?;
        let raw = key.parse_value(value)?;
        let ws = self.workspace_row(workspace)?;
        let role = self.ws_role(&ws)?;
        self.require(
            role,
            Capability::Manage,
            Attempt::on_workspace(&ws, "settings.set"),
        )?;
        self.require_reauth_for_setting(ws.id, key, raw)?;
        let now = self.now();
        let member = self.member.clone();
        let author = self.author();
        let kh = self.keyholder();
        self.write(|tx| {
            tx.put_setting(ws.id, key.as_str(), &raw.to_string())?;
            kh.sign(tx, RowKey::Setting(ws.id, key.as_str()))?;
            let mut ev = NewEvent::new(&member, "settings.set");
            ev.workspace = Some((ws.id, &ws.name));
            ev.detail = json!({ "key": key.as_str(), "value": key.display(raw) });
            audit::append(tx, author, now, &ev)?;
            Ok(())
        })?;
        self.sweep(ws.id, true)?;
        Ok(Setting {
            key: key.as_str(),
            value: key.display(raw),
            raw,
            is_default: false,
        })
    }

    // ---- audit ----

    /// The query an auditor's filter makes, after checking that they may read the trail.
    pub(crate) fn audit_query<'f>(
        &mut self,
        workspace: &str,
        filter: &'f AuditFilter,
    ) -> Result<AuditQuery<'f>> {
        let ws = self.workspace_row(workspace)?;
        let role = self.ws_role(&ws)?;
        self.require(
            role,
            Capability::Audit,
            Attempt::on_workspace(&ws, "audit.read"),
        )?;
        let since = filter
            .since
            .as_deref()
            .map(|s| parse_since_ms(s, self.now()))
            .transpose()?;
        Ok(AuditQuery {
            workspace_id: ws.id,
            actor: filter.actor.as_deref(),
            action: filter.action.as_deref(),
            secret: filter.secret.as_deref(),
            since,
            limit: filter.limit,
        })
    }

    pub fn audit_events(
        &mut self,
        workspace: &str,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEvent>> {
        let query = self.audit_query(workspace, filter)?;
        let rows = self.store.conn().query_audit(&query)?;
        Ok(rows.into_iter().map(AuditEvent::from).collect())
    }

    /// Checks that this member may read the trail here (a refusal is audited), before
    /// a front end starts writing a stream of it.
    pub fn check_audit_access(&mut self, workspace: &str, filter: &AuditFilter) -> Result<()> {
        self.audit_query(workspace, filter).map(|_| ())
    }

    /// Hands every event matching `filter` to `each`, oldest first, in constant memory
    /// (a limit keeps the newest N, which are read at once); `each` returns false to
    /// stop early.
    pub fn each_audit_event(
        &mut self,
        workspace: &str,
        filter: &AuditFilter,
        each: &mut dyn FnMut(AuditEvent) -> bool,
    ) -> Result<()> {
        let query = self.audit_query(workspace, filter)?;
        let conn = self.store.conn();
        if query.limit.is_some() {
            for row in conn.query_audit(&query)? {
                if !each(AuditEvent::from(row)) {
                    break;
                }
            }
            return Ok(());
        }
        conn.each_audit_matching(&query, 0, &mut |row: &AuditRow| {
            Ok(each(AuditEvent::from(row.clone())))
        })
    }

    /// Streams the events after `after` that match `filter` (its limit aside) to `line`,
    /// one JSON object each (see `coffer audit --jsonl`), in constant memory; returns the
    /// sequence number of the last one written (or `after`). `line` returns false to
    /// stop early.
    pub fn export_audit_jsonl(
        &mut self,
        workspace: &str,
        filter: &AuditFilter,
        after: i64,
        line: &mut dyn FnMut(&str) -> bool,
    ) -> Result<i64> {
        let query = self.audit_query(workspace, filter)?;
        let mut last = after;
        self.store
            .conn()
            .each_audit_matching(&query, after, &mut |row: &AuditRow| {
                last = row.id;
                Ok(line(&audit::ecs_line(row, false)))
            })?;
        Ok(last)
    }

    /// Verifies the whole chain (every workspace: a break anywhere matters to all).
    pub fn verify_audit(&mut self, workspace: &str) -> Result<VerifyReport> {
        let ws = self.workspace_row(workspace)?;
        let role = self.ws_role(&ws)?;
        self.require(
            role,
            Capability::Audit,
            Attempt::on_workspace(&ws, "audit.verify"),
        )?;
        let mut report = self.verify_whole_trail()?;
        // The whole chain is verified; the member hears only of their workspace's part:
        // how many of its events there are, and what broke only where they may audit.
        let conn = self.store.conn();
        report.events = conn.workspace_audit_extent(ws.id)?.0;
        if let Some(bad) = report.first_bad {
            let elsewhere = match conn.audit_workspace_of(bad)? {
                Some(Some(id)) if id != ws.id => !conn
                    .role_for(self.member_id, id, None)?
                    .is_some_and(|r| r.allows(Capability::Audit)),
                // Vault-wide events (unlocks) and events already gone name no tenant.
                _ => false,
            };
            if elsewhere {
                report.first_bad = None;
                report.problem = Some(
                    "an event of a workspace you may not audit fails verification: an owner of the vault can see which (coffer audit verify in that workspace)".into(),
                );
            }
        }
        Ok(report)
    }

    /// Verifies the whole chain, for a caller that has checked the member may.
    pub(crate) fn verify_whole_trail(&mut self) -> Result<VerifyReport> {
        let conn = self.store.conn();
        let (vault_id, trust, seen) = (&self.vault_id, &self.secret.anchor, &self.verified_rows);
        let mut keys_of = |id| keys::author_keys(conn, vault_id, trust, id, seen);
        // Archiving moves events out of the vault: only the root owner, or a member
        // who may audit and manage everywhere, may have done it.
        let root = self.root;
        let mut may_archive = |member: i64| -> Result<bool> {
            if member == root {
                return Ok(true);
            }
            crate::trail_files::holds_everywhere(
                conn,
                member,
                &[Capability::Audit, Capability::Manage],
            )
        };
        let report = audit::verify(
            conn,
            vault_id,
            &mut keys_of,
            &mut may_archive,
            crate::anchor::remembered((vault_id, self.store.path())),
        )?;
        if report.ok && !self.store.is_scratch() {
            if let Some((seq, hash)) = audit::head(conn)? {
                crate::anchor::remember((vault_id, self.store.path()), (seq, &hash));
            }
        }
        Ok(report)
    }

    /// Verifies the trail and, if it holds, appends a checkpoint signed by this member
    /// naming the head it verified (owners and auditors). Returns the verification, and
    /// the checkpoint's sequence number when one was written.
    pub fn audit_checkpoint(&mut self, workspace: &str) -> Result<(VerifyReport, Option<i64>)> {
        let report = self.verify_audit(workspace)?;
        if !report.ok {
            return Ok((report, None));
        }
        // verify_audit has checked that this member may audit here.
        let ws = self.workspace_row(workspace)?;
        let (member, author, now) = (self.member.clone(), self.author(), self.now());
        let seq = self.write(|tx| {
            let mut ev = NewEvent::new(&member, audit::CHECKPOINT);
            ev.workspace = Some((ws.id, &ws.name));
            ev.detail = match audit::head(tx)? {
                Some((seq, hash)) => audit::checkpoint_detail(seq, &hash),
                None => audit::checkpoint_detail(0, &[0u8; 32]),
            };
            audit::append(tx, author, now, &ev)
        })?;
        Ok((report, Some(seq)))
    }

    /// A one-line warning when the vault's audit trail lost events this machine saw
    /// (checked once, as the session opens).
    pub fn trail_warning(&self) -> Option<&str> {
        self.trail_warning.as_deref()
    }

    /// The member's role where `scope` points (what the UI may offer).
    pub fn role_in(&self, scope: &Scope) -> Result<Role> {
        Ok(self.ctx(scope)?.role)
    }

    /// The id of the newest audit event: every change appends one, so a front end
    /// polls this to notice changes made by another process.
    pub fn last_audit_id(&self) -> Result<i64> {
        audit::last_event_id(self.store.conn())
    }

    /// A change number that moves with every change in the member's workspaces and
    /// with nothing else: how many events they hold (other tenants' activity stays
    /// invisible, even as the size of a jump). Polled by the app, which compares it
    /// for inequality only.
    pub fn last_change(&self) -> Result<i64> {
        // The number of events in the member's own workspaces, not the newest id: an
        // id is vault-wide, so its jumps would tell how busy the other tenants are.
        let conn = self.store.conn();
        let mut events = 0;
        for (name, _) in conn.workspaces_of_member(self.member_id)? {
            if let Some(ws) = conn.workspace_by_name(&name)? {
                events += conn.workspace_audit_extent(ws.id)?.0;
            }
        }
        Ok(events)
    }

    // ---- remember on this device ----

    /// Stores a fresh device key in `keyring` and adds a device slot for this member.
    pub fn remember_device(&mut self, keyring: &dyn DeviceKeyStore) -> Result<()> {
        let device_key = Key32::random()?;
        let account = device_account(&self.vault_id, &self.member);
        keyring
            .set(&account, device_key.expose())
            .map_err(|e| Error::Auth(e.to_string()))?;
        let ad = slot_ad(&self.vault_id, self.member_id, "device", SLOT_FORMAT);
        let wrapped = crypto::seal(&device_key, &self.secret.encode(), ad.as_bytes())?;
        let now = self.now();
        let (member_id, member) = (self.member_id, self.member.clone());
        let label = keyring.describe();
        let author = self.author();
        self.write(|tx| {
            for old in tx.slots_of(member_id, "device")? {
                tx.delete_slot(old.id)?;
            }
            tx.insert_slot(&NewSlot {
                member_id,
                kind: "device",
                kdf: None,
                salt: None,
                wrapped_key: &wrapped,
                label: &label,
                format: SLOT_FORMAT,
                now,
            })?;
            let mut ev = NewEvent::new(&member, "device.remember");
            ev.detail = json!({ "store": label });
            audit::append(tx, author, now, &ev)?;
            Ok(())
        })
    }

    /// Removes this member's device slot and the key in `keyring`. Returns whether a
    /// slot existed.
    pub fn forget_device(&mut self, keyring: &dyn DeviceKeyStore) -> Result<bool> {
        let account = device_account(&self.vault_id, &self.member);
        let now = self.now();
        let (member_id, member) = (self.member_id, self.member.clone());
        let author = self.author();
        let removed = self.write(|tx| {
            let slots = tx.slots_of(member_id, "device")?;
            for s in &slots {
                tx.delete_slot(s.id)?;
            }
            if !slots.is_empty() {
                let ev = NewEvent::new(&member, "device.forget");
                audit::append(tx, author, now, &ev)?;
            }
            Ok(!slots.is_empty())
        })?;
        // The slot is gone, so the key opens nothing any more; a keyring failure here
        // only leaves an orphaned entry, which we report.
        keyring
            .delete(&account)
            .map_err(|e| Error::Auth(e.to_string()))?;
        Ok(removed)
    }

    /// Where the device key of this member is kept, if remembered.
    pub fn device_store(&self) -> Result<Option<String>> {
        Ok(self
            .store
            .conn()
            .slots_of(self.member_id, "device")?
            .into_iter()
            .next()
            .map(|s| s.label))
    }

    pub(crate) fn kdf(&self) -> KdfParams {
        self.kdf
    }

    /// Sets a new passphrase of the member's own: their keys are sealed again under it
    /// (remembered devices keep working), and a passphrase given by someone else is
    /// no longer in use.
    pub fn change_passphrase(&mut self, current: &Passphrase, new: &Passphrase) -> Result<()> {
        self.confirm_passphrase(current)?;
        new.check_new()?;
        if new.expose() == current.expose() {
            return Err(Error::invalid(
                "the new passphrase is the same as the current one",
            ));
        }
        let now = self.now();
        let (vault_id, member_id, member) =
            (self.vault_id.clone(), self.member_id, self.member.clone());
        let kdf = self.kdf;
        let secret = &self.secret;
        let author = self.author();
        self.write(|tx| {
            for old in tx.slots_of(member_id, "passphrase")? {
                tx.delete_slot(old.id)?;
            }
            keys::insert_passphrase_slot(tx, &vault_id, member_id, secret, new, kdf, now)?;
            tx.set_must_change_passphrase(member_id, false)?;
            // Recorded in each workspace of the member, where its auditors look.
            for (ws_name, _) in tx.workspaces_of_member(member_id)? {
                if let Some(ws) = tx.workspace_by_name(&ws_name)? {
                    let mut ev = NewEvent::new(&member, "member.passphrase");
                    ev.workspace = Some((ws.id, &ws.name));
                    audit::append(tx, author, now, &ev)?;
                }
            }
            Ok(())
        })?;
        self.must_change_passphrase = false;
        self.mark_reauthenticated();
        Ok(())
    }
}
