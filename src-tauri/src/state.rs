//! What the app holds between commands: the vault path and, while unlocked, the
//! session (which owns every decrypted key). Locking drops the session.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use coffer_core::Session;

use crate::error::{IpcError, IpcResult};

pub struct AppState {
    pub vault_path: PathBuf,
    session: Mutex<Option<Session>>,
    last_activity: Mutex<Instant>,
}

impl AppState {
    pub fn new(vault_path: PathBuf) -> Self {
        AppState {
            vault_path,
            session: Mutex::new(None),
            last_activity: Mutex::new(Instant::now()),
        }
    }

    /// Runs `f` with the unlocked session, or fails with `auth` when locked.
    pub fn with<T>(&self, f: impl FnOnce(&mut Session) -> coffer_core::Result<T>) -> IpcResult<T> {
        self.touch();
        let mut guard = self.session.lock().map_err(|_| IpcError::locked())?;
        let session = guard.as_mut().ok_or_else(IpcError::locked)?;
        f(session).map_err(IpcError::from)
    }

    /// Like [`with`](Self::with) but not counted as activity (for polling).
    pub fn peek<T>(&self, f: impl FnOnce(&mut Session) -> coffer_core::Result<T>) -> Option<T> {
        let mut guard = self.session.lock().ok()?;
        f(guard.as_mut()?).ok()
    }

    pub fn set(&self, session: Session) {
        if let Ok(mut g) = self.session.lock() {
            *g = Some(session);
        }
        self.touch();
    }

    /// Drops the session and with it every key.
    pub fn lock(&self) {
        if let Ok(mut g) = self.session.lock() {
            *g = None;
        }
    }

    pub fn is_unlocked(&self) -> bool {
        self.session.lock().map(|g| g.is_some()).unwrap_or(false)
    }

    pub fn member(&self) -> Option<String> {
        self.session
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(|s| s.member().to_string()))
    }

    pub fn touch(&self) {
        if let Ok(mut t) = self.last_activity.lock() {
            *t = Instant::now();
        }
    }

    pub fn idle_for(&self) -> std::time::Duration {
        self.last_activity
            .lock()
            .map(|t| t.elapsed())
            .unwrap_or_default()
    }
}
