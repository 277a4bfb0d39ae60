//! What an app needs to stay live with a team server without holding the session
//! while it waits: the member's endpoint (their login on the server), a connection
//! that listens on the channel of every workspace they see, and what waits here to
//! be pushed — all readable without the network.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{login_for, Server, ServerUrl};
use crate::error::Result;
use crate::session::Session;

/// This member's way onto their team server (their login, derived from their key).
#[derive(Clone)]
pub struct TeamEndpoint {
    url: ServerUrl,
}

impl std::fmt::Debug for TeamEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamEndpoint")
            .field("server", &self.url.display())
            .finish()
    }
}

impl TeamEndpoint {
    /// The server's address, without login or password.
    pub fn server(&self) -> String {
        self.url.display()
    }

    /// Connects and listens for the commits of every workspace this member sees.
    pub fn listen(&self) -> Result<TeamListener> {
        let mut server = self.url.connect()?;
        let heads = server.heads()?;
        for (scope, _) in &heads {
            server.listen(*scope)?;
        }
        Ok(TeamListener {
            server,
            scopes: heads.iter().map(|h| h.0).collect(),
            checked: Instant::now(),
        })
    }
}

/// A connection that hears each commit of the member's workspaces (a sequence number,
/// nothing else).
pub struct TeamListener {
    server: Server,
    scopes: Vec<i64>,
    /// When the server last answered.
    checked: Instant,
}

/// A quiet listener asks the server whether it is there this often, and gives it this
/// long to answer: a server gone silent (stopped, partitioned) shows as offline
/// within two seconds.
const CHECK_EVERY: Duration = Duration::from_millis(500);
const ANSWER_WITHIN: Duration = Duration::from_millis(1500);

impl TeamListener {
    /// Waits up to `timeout` for a commit: true when one came. An error means the
    /// connection is gone (the server stopped, the member was removed).
    pub fn wait(&mut self, timeout: Duration) -> Result<bool> {
        let heard = self.server.next_commit(timeout)?.is_some();
        if heard {
            self.checked = Instant::now();
        } else if self.checked.elapsed() >= CHECK_EVERY {
            if !self.server.is_alive(ANSWER_WITHIN) {
                return Err(crate::Error::Io("the team server stopped answering".into()));
            }
            self.checked = Instant::now();
        }
        Ok(heard)
    }

    /// Whether it listens to exactly these scopes (the vault's and the workspaces' a
    /// sync saw): a workspace made or granted since, or one taken away while another
    /// came, needs a new listener.
    pub fn listens_to(&self, scopes: &[i64]) -> bool {
        self.scopes == scopes
    }
}

/// What this machine knows of its team vault without asking the server.
#[derive(Debug, Clone, Serialize)]
pub struct TeamLocal {
    pub server: String,
    /// Audit events and changed rows waiting to be pushed, and removals to carry out.
    pub queued: usize,
    pub conflicts: usize,
}

impl Session {
    /// This member's endpoint on the vault's team server; none when the vault is on
    /// none.
    pub fn team_endpoint(&self) -> Result<Option<TeamEndpoint>> {
        let Some(link) = self.team_link()? else {
            return Ok(None);
        };
        let login = login_for(&self.secret.identity, &self.vault_id);
        Ok(Some(TeamEndpoint {
            url: ServerUrl::parse(&link.server)?.with_login(&login.name, &login.password),
        }))
    }

    /// What waits here for the server, read from this file alone; none when the vault
    /// is on no team server.
    pub fn team_local(&self) -> Result<Option<TeamLocal>> {
        let Some(link) = self.team_link()? else {
            return Ok(None);
        };
        let known: Vec<i64> = link.seqs.keys().copied().collect();
        let events = self.pending_events(&link, &known)?.len();
        let rows = self.store.replica().dirty_marks()?.len();
        let removals = self
            .store
            .conn()
            .get_meta(crate::members::TEAM_REMOVALS)?
            .and_then(|b| serde_json::from_slice::<Vec<i64>>(&b).ok())
            .map_or(0, |v| v.len());
        let server = ServerUrl::parse(&link.server)
            .map(|u| u.display())
            .unwrap_or(link.server);
        Ok(Some(TeamLocal {
            server,
            queued: events + rows + removals,
            conflicts: self.store.replica().conflicts()?.len(),
        }))
    }

    /// A number that moves with every write here (each one appends an audit event):
    /// a watcher that saw it move has something to push.
    pub fn team_write_mark(&self) -> Result<i64> {
        Ok(self.store.conn().last_audit()?.map(|e| e.id).unwrap_or(0))
    }
}
