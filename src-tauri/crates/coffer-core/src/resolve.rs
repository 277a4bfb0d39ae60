//! Using a secret without revealing it: the resolver behind `coffer run`, test
//! requests and templates, and the short-lived `$secret:` handles it accepts.
//!
//! A resolver hands values to a use (a child's environment, an HTTP header) and never
//! to a display. Every value it resolves is audited as `use` with what it was for, in
//! one transaction, when the resolver finishes.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::json;

use crate::access::Capability;
use crate::audit::{self, NewEvent};
use crate::crypto::hmac_sha256;
use crate::error::{Error, Result};
use crate::names;
use crate::references::{Target, HANDLE_PREFIX};
use crate::secrets::{Sealed, DEFAULT_ENVIRONMENT};
use crate::session::{Ctx, Scope, Session};
use crate::store::{self, EnvRow, NewHandle};
use crate::time_fmt::format_duration_ms;
use crate::value::SecretValue;

/// Default and longest life of a handle.
pub const HANDLE_TTL_DEFAULT_MS: i64 = 5 * 60_000;
pub const HANDLE_TTL_MAX_MS: i64 = 24 * 3_600_000;

/// What the values are for; recorded in each `use` event. Never holds arguments.
#[derive(Debug, Clone, Copy)]
pub struct Purpose<'a> {
    /// `run`, `request`, `test` …
    pub via: &'a str,
    /// The program started, by file name only.
    pub program: Option<&'a str>,
    /// The values reach an output that is not masked (`coffer run --no-masking`):
    /// that shows them, so it needs `reveal`, and each `use` event says so.
    pub unmasked: bool,
}

impl<'a> Purpose<'a> {
    pub fn new(via: &'a str) -> Self {
        Purpose {
            via,
            program: None,
            unmasked: false,
        }
    }
}

/// A project and environment values are resolved in.
struct Place {
    ctx: Ctx,
    env: EnvRow,
}

struct Used {
    place: usize,
    name: String,
    version: i64,
    /// The secret's allowed hosts as stored, for a test request's check.
    allowed_hosts: String,
}

/// Resolves values by name, reference or handle into a use that never displays them.
pub struct Resolver<'s> {
    session: &'s mut Session,
    places: Vec<Place>,
    via: String,
    program: Option<String>,
    unmasked: bool,
    used: Vec<Used>,
    /// Single-use handles resolved so far, deleted when the use is audited.
    consumed: Vec<i64>,
}

impl Session {
    /// Starts resolving values for one use in `environment` (default `development`).
    pub fn resolver(
        &mut self,
        scope: &Scope,
        environment: Option<&str>,
        purpose: Purpose<'_>,
    ) -> Result<Resolver<'_>> {
        let ctx = self.ctx(scope)?;
        let env_name = environment.unwrap_or(DEFAULT_ENVIRONMENT);
        self.require_ctx(&ctx, Capability::Use, "secret.use", None, Some(env_name))?;
        if purpose.unmasked {
            self.require_unmasked(&ctx, env_name)?;
        }
        let env = self.environment(&ctx, env_name)?;
        Ok(Resolver {
            session: self,
            places: vec![Place { ctx, env }],
            via: purpose.via.to_string(),
            program: purpose.program.map(str::to_string),
            unmasked: purpose.unmasked,
            used: Vec::new(),
            consumed: Vec::new(),
        })
    }

    /// Mints a `$secret:` handle for one secret in one environment, valid for `ttl_ms`
    /// and only for this member. The vault keeps a MAC of it, never the handle.
    /// A `single_use` handle (like Vault's response wrapping) is consumed by the first
    /// use that resolves it: a copy that leaks after that opens nothing.
    pub fn mint_handle(
        &mut self,
        scope: &Scope,
        environment: Option<&str>,
        name: &str,
        ttl_ms: Option<i64>,
        single_use: bool,
    ) -> Result<String> {
        names::secret(name)?;
        let ttl = ttl_ms.unwrap_or(HANDLE_TTL_DEFAULT_MS);
        if !(1_000..=HANDLE_TTL_MAX_MS).contains(&ttl) {
            return Err(Error::invalid(format!(
                "a handle lives between 1s and {}",
                format_duration_ms(HANDLE_TTL_MAX_MS)
            )));
        }
        let ctx = self.ctx(scope)?;
        let env_name = environment.unwrap_or(DEFAULT_ENVIRONMENT);
        self.require_ctx(
            &ctx,
            Capability::Use,
            "secret.ref",
            Some(name),
            Some(env_name),
        )?;
        let env = self.environment(&ctx, env_name)?;
        // Only a value that could be used now gets a handle.
        current_value_row(self, &ctx, &env, name)?;
        let mut token = [0u8; 24];
        getrandom::getrandom(&mut token).map_err(|e| Error::Storage(e.to_string()))?;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token);
        let token_mac = handle_mac(self, &token);
        let now = self.now();
        let expires_at = now + ttl;
        let member = self.member.clone();
        let member_id = self.member_id;
        let author = self.author();
        self.write(|tx| {
            tx.insert_handle(&NewHandle {
                token_mac: &token_mac,
                member_id,
                project_id: ctx.project_id,
                environment_id: env.id,
                secret: name,
                now,
                expires_at,
                single_use,
            })?;
            let mut ev = NewEvent::new(&member, "secret.ref");
            ev.workspace = Some((ctx.ws_id, &ctx.ws));
            ev.project = Some(&ctx.project);
            ev.environment = Some(&env.name);
            ev.secret = Some(name);
            ev.detail = json!({ "ttl": format_duration_ms(ttl), "once": single_use });
            audit::append(tx, author, now, &ev).map(|_| ())
        })?;
        Ok(format!("{HANDLE_PREFIX}{token}"))
    }
}

impl Session {
    /// Unmasked use shows values: it needs `reveal`; a refusal is audited as an
    /// unmasked use.
    fn require_unmasked(&mut self, ctx: &Ctx, environment: &str) -> Result<()> {
        self.require_ctx(
            ctx,
            Capability::Reveal,
            "secret.use.unmasked",
            None,
            Some(environment),
        )
        .map_err(|e| match e {
            Error::Denied { member, .. } => Error::DeniedAction {
                member,
                what: "switch masking off: unmasked output shows values, which needs reveal".into(),
            },
            other => other,
        })
    }
}

/// The MAC the vault keeps for a handle's token.
fn handle_mac(session: &Session, token: &str) -> [u8; 32] {
    let key = session.secret.identity.derive("coffer handle v1");
    hmac_sha256(&key, &[token.as_bytes()])
}

/// The current, unexpired version row of `name` in `env`, visible to the member.
fn current_value_row(
    session: &Session,
    ctx: &Ctx,
    env: &EnvRow,
    name: &str,
) -> Result<store::ResolveRow> {
    let row = session
        .store
        .conn()
        .resolve_current(ctx.project_id, name, env.id)?
        .filter(|r| r.scope == "workspace" || r.owner_id == session.member_id)
        .ok_or_else(|| Error::not_found(format!("secret '{name}' in {}", env.name)))?;
    if row.expires_at.is_some_and(|t| t <= session.now()) {
        return Err(Error::Expired {
            what: format!("'{name}' in {}", env.name),
        });
    }
    Ok(row)
}

impl Resolver<'_> {
    /// The environment values are resolved in by default.
    pub fn environment(&self) -> &str {
        &self.places[0].env.name
    }

    /// The current value of `name` in the resolver's project and environment.
    pub fn get(&mut self, name: &str) -> Result<SecretValue> {
        self.get_in(0, name)
    }

    /// The value a reference points at: a name (possibly in another project or
    /// environment of the same workspace) or a handle minted for this member.
    pub fn resolve(&mut self, target: &Target) -> Result<SecretValue> {
        match target {
            Target::Name {
                project: None,
                environment: None,
                name,
            } => self.get_in(0, name),
            Target::Name {
                project,
                environment,
                name,
            } => {
                let place = self.place(project.as_deref(), environment.as_deref())?;
                self.get_in(place, name)
            }
            Target::Handle(token) => {
                let handle = self.open_handle(token)?;
                let place = self.place(Some(&handle.project), Some(&handle.environment))?;
                let value = self.get_in(place, &handle.secret)?;
                if handle.single_use && !self.consumed.contains(&handle.id) {
                    self.consumed.push(handle.id);
                }
                Ok(value)
            }
        }
    }

    /// Every value that can be used now in the default environment, by name, less
    /// those `skip` names: one walk of the vault instead of a lookup per name (a `run`
    /// of 10,000 values). Each is a use, audited by [`Self::finish`].
    pub fn all_available(
        &mut self,
        skip: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<(String, SecretValue)>> {
        let (project_id, env_id) = (self.places[0].ctx.project_id, self.places[0].env.id);
        let (member_id, now) = (self.session.member_id, self.session.now());
        let mut rows = Vec::new();
        self.session.store.conn().each_current_value(
            project_id,
            env_id,
            member_id,
            &mut |name, row| {
                if row.expires_at.is_none_or(|t| t > now) && !skip(&name) {
                    rows.push((name, row));
                }
                Ok(())
            },
        )?;
        rows.into_iter()
            .map(|(name, row)| {
                let value = self.open_row(0, &name, row)?;
                Ok((name, value))
            })
            .collect()
    }

    /// Handles are bound to their member and workspace: anyone else's, or an expired
    /// one, is simply not found.
    fn open_handle(&self, token: &str) -> Result<store::HandleRow> {
        let s = &*self.session;
        let unknown = || Error::not_found("handle (already used, expired, or not minted for you)");
        let row = s
            .store
            .conn()
            .handle_by_mac(&handle_mac(s, token))?
            .ok_or_else(unknown)?;
        if row.member_id != s.member_id
            || row.workspace_id != self.places[0].ctx.ws_id
            || row.expires_at <= s.now()
        {
            return Err(unknown());
        }
        Ok(row)
    }

    /// Index of the place for (project, environment), defaulting to the resolver's own;
    /// using another project needs `use` there too.
    fn place(&mut self, project: Option<&str>, environment: Option<&str>) -> Result<usize> {
        let home = &self.places[0];
        let project = project.unwrap_or(&home.ctx.project).to_string();
        let environment = environment.unwrap_or(&home.env.name).to_string();
        if let Some(i) = self
            .places
            .iter()
            .position(|p| p.ctx.project == project && p.env.name == environment)
        {
            return Ok(i);
        }
        let scope = Scope::new(home.ctx.ws.clone(), project);
        let ctx = self.session.ctx(&scope)?;
        self.session.require_ctx(
            &ctx,
            Capability::Use,
            "secret.use",
            None,
            Some(&environment),
        )?;
        if self.unmasked {
            self.session.require_unmasked(&ctx, &environment)?;
        }
        let env = self.session.environment(&ctx, &environment)?;
        self.places.push(Place { ctx, env });
        Ok(self.places.len() - 1)
    }

    fn get_in(&mut self, place: usize, name: &str) -> Result<SecretValue> {
        let Place { ctx, env } = &self.places[place];
        let row = current_value_row(self.session, ctx, env, name)?;
        self.open_row(place, name, row)
    }

    /// Opens the value of a current version row found in `place`, as a use.
    fn open_row(
        &mut self,
        place: usize,
        name: &str,
        row: store::ResolveRow,
    ) -> Result<SecretValue> {
        let Place { ctx, env } = &self.places[place];
        let ct = row.ciphertext.as_deref().ok_or_else(|| {
            Error::Integrity(format!(
                "version {} of '{name}' in {} has no ciphertext",
                row.version, env.name
            ))
        })?;
        let value = self.session.open_value(
            ctx,
            env,
            &Sealed {
                secret_id: row.secret_id,
                binary: row.kind == crate::SecretKind::Binary.as_str(),
                name,
                scope: &row.scope,
                owner_id: row.owner_id,
                version: row.version,
                epoch: row.epoch,
                ciphertext: ct,
            },
        )?;
        self.used.push(Used {
            place,
            name: name.to_string(),
            version: row.version,
            allowed_hosts: row.allowed_hosts,
        });
        Ok(value)
    }

    /// Audits every value resolved (one `use` event each) and consumes the single-use
    /// handles among them, in one transaction. Call it before using any value.
    pub fn finish(self) -> Result<()> {
        self.finish_to(None)
    }

    /// [`Self::finish`], with where a test request goes recorded in each event.
    fn finish_to(self, to: Option<&crate::hosts::Destination>) -> Result<()> {
        let s = self.session;
        let now = s.now();
        let member = s.member.clone();
        let author = s.author();
        let mut seen: HashMap<(usize, &str), ()> = HashMap::new();
        s.write(|tx| {
            // A single-use handle another use consumed meanwhile fails the whole use:
            // the caller has not used the value yet (it finishes first).
            for id in &self.consumed {
                if !tx.consume_handle(*id)? {
                    return Err(Error::not_found(
                        "handle (already used, expired, or not minted for you)",
                    ));
                }
            }
            let mut tail = audit::Tail::read(tx)?;
            for u in &self.used {
                if seen.insert((u.place, &u.name), ()).is_some() {
                    continue;
                }
                let Place { ctx, env } = &self.places[u.place];
                let mut ev = NewEvent::new(&member, "secret.use");
                ev.workspace = Some((ctx.ws_id, &ctx.ws));
                ev.project = Some(&ctx.project);
                ev.environment = Some(&env.name);
                ev.secret = Some(&u.name);
                let mut detail = json!({ "version": u.version, "via": self.via });
                if let Some(p) = &self.program {
                    detail["program"] = json!(p);
                }
                if self.unmasked {
                    detail["masking"] = json!("off");
                }
                if let Some(to) = to {
                    detail["host"] = json!(to.host);
                    detail["port"] = json!(to.port);
                }
                ev.detail = detail;
                tail.append(tx, author, now, &ev)?;
            }
            Ok(())
        })
    }
}

impl Resolver<'_> {
    /// Ends a test request's resolving, before anything is sent to `to`: every secret
    /// used must allow that host, unless the member may `reveal` it where it lives
    /// (then it may go anywhere). A refusal is audited as a denied `secret.use` naming
    /// the host and the secret, and says how to allow it; otherwise each use is audited
    /// now, so the trail holds it even if sending then fails.
    pub fn finish_request(self, to: &crate::hosts::Destination) -> Result<()> {
        let refused = self.used.iter().find(|u| {
            !self.places[u.place].ctx.role.allows(Capability::Reveal)
                && !crate::hosts::decode(&u.allowed_hosts, &u.name)
                    .is_ok_and(|hosts| crate::hosts::any_allows(&hosts, to))
        });
        let Some(u) = refused else {
            return self.finish_to(Some(to));
        };
        let s = &*self.session;
        let Place { ctx, env } = &self.places[u.place];
        let mut ev = NewEvent::new(&s.member, "secret.use");
        ev.outcome = crate::audit::Outcome::Denied;
        ev.workspace = Some((ctx.ws_id, &ctx.ws));
        ev.project = Some(&ctx.project);
        ev.environment = Some(&env.name);
        ev.secret = Some(&u.name);
        ev.detail = json!({
            "via": self.via,
            "host": to.host,
            "port": to.port,
            "missing": "allowed host",
        });
        let now = s.now();
        s.write(|tx| audit::append(tx, s.author(), now, &ev).map(|_| ()))?;
        Err(Error::DeniedAction {
            member: s.member.clone(),
            what: format!(
                "send '{name}' to {host}: it is not one of the secret's allowed hosts \
                 (a writer can allow it: coffer set {name} --allow-host {host})",
                name = u.name,
                host = to.host
            ),
        })
    }
}
