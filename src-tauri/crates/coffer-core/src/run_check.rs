//! The run check behind `coffer check`: does every reference in a definition point at
//! a secret that can be used, and does any text hold a stored value verbatim?
//!
//! Stored values are found by keyed fingerprint: a token from a file is fingerprinted
//! with the workspace's fingerprint key and compared with the fingerprints kept beside
//! each version. Nothing is decrypted, so nothing can leak into the output.

use std::collections::HashMap;

use serde::Serialize;

use crate::access::Capability;
use crate::audit::{self, NewEvent};
use crate::crypto::{fingerprint, Key32};
use crate::error::{Error, Result};
use crate::references::Target;
use crate::session::{Ctx, Scope, Session};
use crate::store::{CurrentRow, EnvRow};
use crate::time_fmt::format_timestamp_ms;

/// A stored version whose value a text contains.
#[derive(Debug, Clone, Serialize)]
pub struct StoredMatch {
    pub secret: String,
    pub environment: String,
    pub version: i64,
    /// Whether it is the value in use now (else an earlier version).
    pub current: bool,
}

/// Where a recorded run check found a reference to a secret.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Usage {
    pub file: String,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub line: i64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub column: i64,
    pub environment: Option<String>,
    pub recorded_at: String,
}

/// What the check knows of one project.
struct ProjectView {
    ctx: Ctx,
    envs: Vec<EnvRow>,
    /// By name: deleted or not, and the current version per environment.
    secrets: HashMap<String, (bool, Vec<CurrentRow>)>,
}

/// A run check over one project and one or every environment.
pub struct RunCheck<'s> {
    session: &'s mut Session,
    asked: Option<String>,
    projects: HashMap<String, Option<ProjectView>>,
    home: String,
    fp_key: Option<Key32>,
    fingerprints: HashMap<[u8; 32], StoredMatch>,
}

impl Session {
    /// Starts a run check in `scope`, for `environment` or (None) every environment.
    /// Comparing text with current stored values needs the `write` capability;
    /// without it the check still verifies references and runs the pattern detectors.
    pub fn run_check(&mut self, scope: &Scope, environment: Option<&str>) -> Result<RunCheck<'_>> {
        let ctx = self.ctx(scope)?;
        self.require_ctx(&ctx, Capability::List, "secret.check", None, environment)?;
        let view = project_view(self, ctx)?;
        if let Some(e) = environment {
            if !view.envs.iter().any(|x| x.name == e) {
                return Err(Error::not_found(format!(
                    "environment '{e}' in project '{}'",
                    view.ctx.project
                )));
            }
        }
        // Only writers compare text with stored values, and only with current ones:
        // they set values anyway, while for anyone else the fingerprint key would be
        // a way to test guesses.
        let fp_key = if view.ctx.role.allows(Capability::Write) {
            self.project_key(&view.ctx.ws, &view.ctx.project, view.ctx.project_id)?
                .map(|k| Key32::from_array(k.expose()))
        } else {
            None
        };
        let (fp_key, fingerprints) = if let Some(key) = fp_key {
            let mut map: HashMap<[u8; 32], StoredMatch> = HashMap::new();
            let rows = self
                .store
                .conn()
                .fingerprints_of_project(view.ctx.project_id, self.member_id)?;
            for r in rows {
                let Ok(fp) = <[u8; 32]>::try_from(r.fingerprint.as_slice()) else {
                    continue;
                };
                let m = StoredMatch {
                    secret: r.secret,
                    environment: r.environment,
                    version: r.version,
                    current: r.current,
                };
                // Prefer naming the value in use now over an older version.
                match map.get(&fp) {
                    Some(old) if old.current || !m.current => {}
                    _ => {
                        map.insert(fp, m);
                    }
                }
            }
            (Some(key), map)
        } else {
            (None, HashMap::new())
        };
        let home = view.ctx.project.clone();
        let mut projects = HashMap::new();
        projects.insert(home.clone(), Some(view));
        Ok(RunCheck {
            session: self,
            asked: environment.map(str::to_string),
            projects,
            home,
            fp_key,
            fingerprints,
        })
    }

    /// Where recorded run checks found references to `name`.
    pub fn usages(&mut self, scope: &Scope, name: &str) -> Result<Vec<Usage>> {
        let ctx = self.ctx(scope)?;
        self.require_ctx(&ctx, Capability::List, "secret.show", Some(name), None)?;
        Ok(self
            .store
            .conn()
            .usages_of(ctx.project_id, name)?
            .into_iter()
            .map(|u| Usage {
                file: u.file,
                line: u.line,
                column: u.column,
                environment: u.environment,
                recorded_at: format_timestamp_ms(u.recorded_at),
            })
            .collect())
    }
}

fn project_view(session: &Session, ctx: Ctx) -> Result<ProjectView> {
    let envs = session.verified_environments(ctx.project_id)?;
    let mut secrets = HashMap::new();
    session.store.conn().each_secret(
        ctx.project_id,
        session.member_id,
        true,
        &mut |s, current| {
            secrets.insert(s.name, (s.deleted_at.is_some(), current.to_vec()));
            Ok(())
        },
    )?;
    Ok(ProjectView { ctx, envs, secrets })
}

impl RunCheck<'_> {
    /// Whether text can be compared with stored values (the member may `use`).
    pub fn compares_values(&self) -> bool {
        self.fp_key.is_some()
    }

    /// What is wrong with a reference, one short phrase each; empty when it resolves in
    /// every environment checked.
    pub fn problems(&mut self, target: &Target) -> Result<Vec<String>> {
        let (project, environment, name) = match target {
            Target::Name {
                project,
                environment,
                name,
            } => (
                project.clone().unwrap_or_else(|| self.home.clone()),
                environment.clone(),
                name.clone(),
            ),
            Target::Handle(_) => {
                return Ok(vec![
                    "a $secret: handle expires within minutes; reference the secret by name".into(),
                ])
            }
        };
        if !self.projects.contains_key(&project) {
            let scope = Scope::new(self.session_ws(), project.clone());
            let view = match self.session.ctx(&scope) {
                Ok(ctx) if ctx.role.allows(Capability::List) => {
                    Some(project_view(self.session, ctx)?)
                }
                Ok(_) | Err(Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            self.projects.insert(project.clone(), view);
        }
        let Some(view) = self.projects[&project].as_ref() else {
            return Ok(vec![format!("project '{project}' not found")]);
        };
        let Some((deleted, current)) = view.secrets.get(&name) else {
            return Ok(vec!["missing".into()]);
        };
        if *deleted {
            return Ok(vec!["deleted".into()]);
        }
        let wanted: Vec<&EnvRow> = match environment.as_deref().or(self.asked.as_deref()) {
            Some(e) => match view.envs.iter().find(|x| x.name == e) {
                Some(env) => vec![env],
                None => return Ok(vec![format!("no environment '{e}'")]),
            },
            None => view.envs.iter().collect(),
        };
        let now = self.session.now();
        Ok(wanted
            .into_iter()
            .filter_map(
                |env| match current.iter().find(|c| c.environment_id == env.id) {
                    None => Some(format!("no value in {}", env.name)),
                    Some(c) if c.expires_at.is_some_and(|t| t <= now) => {
                        Some(format!("expired in {}", env.name))
                    }
                    Some(_) => None,
                },
            )
            .collect())
    }

    /// The stored version `token` equals, if any.
    pub fn stored_match(&self, token: &str) -> Option<&StoredMatch> {
        let key = self.fp_key.as_ref()?;
        self.fingerprints.get(&fingerprint(key, token.as_bytes()).0)
    }

    /// Refuses, and audits the refusal as `usage.record`, unless the member may
    /// `write` in the checked project. Where-used records are what warns before a
    /// secret still referenced is deleted, so erasing them is a change, not a look.
    /// Ask before checking any file, so a refusal leaves nothing half done.
    pub fn require_record(&mut self) -> Result<()> {
        let Some(view) = self.projects[&self.home].as_ref() else {
            return Ok(());
        };
        self.session
            .require_ctx(&view.ctx, Capability::Write, "usage.record", None, None)
    }

    /// Remembers the references found in `file` (replacing what was recorded for it),
    /// so `show`, History and the delete confirmation can say where a secret is used.
    /// Needs `write` (see [`require_record`](Self::require_record)); audited as
    /// `usage.record` with counts, in the same transaction.
    pub fn record(
        &mut self,
        file: &str,
        found: &[(String, usize, usize, Option<String>)],
    ) -> Result<()> {
        self.require_record()?;
        let Some(view) = self.projects[&self.home].as_ref() else {
            return Ok(());
        };
        let ctx = &view.ctx;
        let rows: Vec<(&str, i64, i64, Option<&str>)> = found
            .iter()
            .map(|(name, line, col, env)| {
                (name.as_str(), *line as i64, *col as i64, env.as_deref())
            })
            .collect();
        let s = &*self.session;
        let now = s.now();
        let member = s.member.clone();
        let key = s.author();
        s.write(|tx| {
            let removed = tx.replace_usages(ctx.project_id, file, &rows, now)?;
            let mut ev = NewEvent::new(&member, "usage.record");
            ev.workspace = Some((ctx.ws_id, &ctx.ws));
            ev.project = Some(&ctx.project);
            ev.detail = serde_json::json!({ "references": rows.len(), "removed": removed });
            audit::append(tx, key, now, &ev).map(|_| ())
        })
    }

    /// Audits the check itself: how many files and findings, never what they hold.
    pub fn finish(self, files: usize, problems: usize, recorded: bool) -> Result<()> {
        let Some(view) = self.projects[&self.home].as_ref() else {
            return Ok(());
        };
        let ctx = &view.ctx;
        let s = &*self.session;
        let now = s.now();
        let member = s.member.clone();
        let mut ev = NewEvent::new(&member, "secret.check");
        ev.workspace = Some((ctx.ws_id, &ctx.ws));
        ev.project = Some(&ctx.project);
        ev.environment = self.asked.as_deref();
        ev.detail =
            serde_json::json!({ "files": files, "problems": problems, "recorded": recorded });
        let key = s.author();
        s.write(|tx| audit::append(tx, key, now, &ev).map(|_| ()))
    }

    fn session_ws(&self) -> String {
        self.projects[&self.home]
            .as_ref()
            .map(|v| v.ctx.ws.clone())
            .unwrap_or_default()
    }
}
