//! The team vault, live. One background thread keeps the unlocked vault in step with
//! its team server: it listens on the channel of every workspace the member sees (a
//! commit there is a sequence number, nothing else) and syncs when one comes, when
//! something was written here, and every 30 seconds in any case. It waits without
//! holding the session; it holds it only for a sync. Offline, writes stay queued in the
//! file and it tries the server again, sooner at first, then every 30 seconds.
//!
//! What it saw is published as a [`TeamState`]: the status line and Settings → Team
//! show it, and `revision` moves when a sync took changes from the server, so every
//! screen reloads (the vault's change number includes it).

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;

use crate::state::AppState;

/// How often the vault is compared with the server even when no commit was heard.
pub const POLL: Duration = Duration::from_secs(30);

/// How long one wait for a commit lasts before the watcher looks at this machine's
/// writes and at whether the session changed.
const TICK: Duration = Duration::from_millis(250);

/// The team server as this app last saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, specta::Type)]
pub struct TeamState {
    /// Whether the unlocked vault is on a team server at all.
    pub on_team: bool,
    /// Its address (no login, no password).
    pub server: Option<String>,
    pub online: bool,
    /// Why it is offline, or what the last sync could not do.
    pub problem: Option<String>,
    /// Writes waiting to be pushed (audit events, changed rows, removals).
    #[specta(type = i32)]
    pub queued: f64,
    /// Records changed here and on the server, waiting for a choice.
    #[specta(type = i32)]
    pub conflicts: f64,
    /// What the server refused at the last sync (a lost permission, a race).
    pub refused: Vec<String>,
    /// The server's schema is newer than this Coffer's: changes stay here.
    pub read_only: bool,
    /// When the last sync finished (milliseconds since the epoch).
    #[specta(type = Option<i32>)]
    pub last_sync_ms: Option<f64>,
    /// Moves each time a sync took changes from the server.
    #[specta(type = i32)]
    pub revision: f64,
    /// Moves each time anything here changes.
    #[specta(type = i32)]
    pub version: f64,
}

/// The published state, and whoever waits for it to change.
pub struct TeamLive {
    tx: watch::Sender<TeamState>,
}

impl Default for TeamLive {
    fn default() -> Self {
        TeamLive {
            tx: watch::Sender::new(TeamState::default()),
        }
    }
}

impl TeamLive {
    pub fn current(&self) -> TeamState {
        self.tx.borrow().clone()
    }

    /// Changes the state; a change wakes every waiter.
    fn update(&self, f: impl FnOnce(&mut TeamState)) {
        self.tx.send_if_modified(|s| {
            let before = s.clone();
            f(s);
            if *s == before {
                return false;
            }
            s.version += 1.0;
            true
        });
    }

    /// Waits up to `timeout` for a state other than version `seen`; returns the
    /// current one either way.
    pub async fn wait(&self, seen: f64, timeout: Duration) -> TeamState {
        let mut rx = self.tx.subscribe();
        if rx.borrow().version != seen {
            return rx.borrow().clone();
        }
        let _ = tokio::time::timeout(timeout, rx.changed()).await;
        let now = rx.borrow().clone();
        now
    }
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as f64)
        .unwrap_or_default()
}

/// Starts the watcher (once per app).
pub fn spawn<R: tauri::Runtime>(handle: tauri::AppHandle<R>) {
    let _ = std::thread::Builder::new()
        .name("coffer-team".into())
        .spawn(move || {
            use tauri::Manager;
            let state = handle.state::<AppState>();
            watch_forever(&state);
        });
}

/// Syncs the unlocked vault now and publishes what happened; the scopes the member
/// sees there, or the error when the server could not be reached (or the vault
/// is locked).
pub fn sync_now(state: &AppState) -> coffer_core::Result<Vec<i64>> {
    let outcome = state.peek_result(|s| {
        let report = s.team_sync()?;
        let local = s.team_local()?;
        Ok((report, local))
    });
    match outcome {
        None => Err(coffer_core::Error::Auth("the vault is locked".into())),
        Some(Ok((report, local))) => {
            state.team.update(|t| {
                t.on_team = true;
                t.online = true;
                t.problem = None;
                t.read_only = report.read_only;
                t.refused = report.refused.clone();
                t.last_sync_ms = Some(now_ms());
                if report.pulled > 0 {
                    t.revision += 1.0;
                }
                if let Some(l) = &local {
                    t.server = Some(l.server.clone());
                    t.queued = l.queued as f64;
                    t.conflicts = l.conflicts as f64;
                }
            });
            Ok(report.scope_ids)
        }
        Some(Err(e)) => {
            state.team.update(|t| t.problem = Some(e.to_string()));
            Err(e)
        }
    }
}

/// Publishes what the file says (queued writes, conflicts) without the network.
fn publish_local(state: &AppState) {
    match state.peek(|s| s.team_local()) {
        Some(Some(local)) => state.team.update(|t| {
            t.on_team = true;
            t.server = Some(local.server.clone());
            t.queued = local.queued as f64;
            t.conflicts = local.conflicts as f64;
        }),
        _ => state.team.update(|t| {
            *t = TeamState {
                revision: t.revision,
                version: t.version,
                ..TeamState::default()
            }
        }),
    }
}

fn offline(state: &AppState, why: &coffer_core::Error) {
    publish_local(state);
    state.team.update(|t| {
        t.online = false;
        t.problem = Some(why.to_string());
    });
}

/// Waits before trying the server again: sooner at first, then every 30 s; at once
/// for another session.
fn pause(state: &AppState, generation: u64, backoff: &mut Duration) {
    let until = Instant::now() + *backoff;
    while Instant::now() < until && state.generation() == generation {
        std::thread::sleep(TICK);
    }
    *backoff = (*backoff * 2).min(POLL);
}

fn watch_forever(state: &AppState) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let generation = state.generation();
        let endpoint = state.peek(|s| s.team_endpoint()).flatten();
        let Some(endpoint) = endpoint else {
            publish_local(state);
            std::thread::sleep(Duration::from_millis(500));
            continue;
        };
        publish_local(state);
        let mut listener = match endpoint.listen() {
            Ok(l) => l,
            Err(e) => {
                offline(state, &e);
                pause(state, generation, &mut backoff);
                continue;
            }
        };
        let mut last_sync = Instant::now();
        let mut mark = state.peek(|s| s.team_write_mark());
        if let Err(e) = sync_now(state) {
            // Unreachable, or a server this vault refuses (gone back, tampered): try
            // again later, not at once.
            if matches!(e, coffer_core::Error::Io(_)) {
                offline(state, &e);
            }
            pause(state, generation, &mut backoff);
            continue;
        }
        backoff = Duration::from_secs(1);
        loop {
            if state.generation() != generation {
                break;
            }
            let heard = match listener.wait(TICK) {
                Ok(h) => h,
                Err(e) => {
                    offline(state, &e);
                    break;
                }
            };
            let now_mark = state.peek(|s| s.team_write_mark());
            if heard || now_mark != mark || last_sync.elapsed() >= POLL {
                mark = now_mark;
                last_sync = Instant::now();
                match sync_now(state) {
                    // A workspace made, granted or taken away since: listen anew.
                    Ok(scopes) if !listener.listens_to(&scopes) => break,
                    Ok(_) => {}
                    Err(e) if matches!(e, coffer_core::Error::Io(_)) => {
                        offline(state, &e);
                        break;
                    }
                    Err(_) => {}
                }
            }
        }
    }
}
