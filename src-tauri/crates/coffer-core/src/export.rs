//! Export of definitions: names, descriptions, types and per-environment state. No
//! values and no fingerprints, so the output is safe to commit.

use serde::Serialize;

use crate::access::Capability;
use crate::error::Result;
use crate::secrets::{EnvState, SecretKind, SecretScope};
use crate::session::{Scope, Session};

#[derive(Debug, Serialize)]
pub struct ExportDoc {
    pub coffer_export: u32,
    pub workspace: String,
    pub project: String,
    pub environments: Vec<ExportEnvironment>,
    pub secrets: Vec<ExportSecret>,
}

#[derive(Debug, Serialize)]
pub struct ExportEnvironment {
    pub name: String,
    pub protected: bool,
}

#[derive(Debug, Serialize)]
pub struct ExportSecret {
    pub name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: SecretKind,
    pub scope: SecretScope,
    pub rotate_every: Option<String>,
    /// Environments holding a usable value.
    pub set_in: Vec<String>,
    pub reference: String,
}

impl Session {
    pub fn export(&mut self, scope: &Scope) -> Result<ExportDoc> {
        let list = self.list_secrets(scope, false)?;
        let ctx = self.ctx(scope)?;
        self.require_ctx(&ctx, Capability::List, "secret.export", None, None)?;
        let environments = self
            .verified_environments(ctx.project_id)?
            .into_iter()
            .map(|e| ExportEnvironment {
                name: e.name,
                protected: e.protected,
            })
            .collect();
        let secrets = list
            .into_iter()
            .filter(|s| s.scope == SecretScope::Workspace)
            .map(|s| ExportSecret {
                reference: format!("coffer://{}/{}", ctx.project, s.name),
                set_in: s
                    .environments
                    .iter()
                    .filter(|e| e.state == EnvState::Set)
                    .map(|e| e.environment.clone())
                    .collect(),
                name: s.name,
                description: s.description,
                kind: s.kind,
                scope: s.scope,
                rotate_every: s.rotate_every,
            })
            .collect();
        Ok(ExportDoc {
            coffer_export: 1,
            workspace: ctx.ws,
            project: ctx.project,
            environments,
            secrets,
        })
    }
}
