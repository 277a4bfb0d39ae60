//! What the app holds between commands: the vault path and, while unlocked, the
//! session (which owns every decrypted key). Locking drops the session and clears a
//! value copied to the clipboard.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use coffer_core::settings::AUTO_LOCK_SHORTEST_MS;
use coffer_core::Session;

use crate::clipboard::ClipboardGuard;
use crate::error::{IpcError, IpcResult};

pub struct AppState {
    pub vault_path: PathBuf,
    session: Mutex<Option<Session>>,
    last_activity: Mutex<Instant>,
    pub clipboard: ClipboardGuard,
    /// Where saved copies of the trail go: the user's Downloads folder.
    pub downloads: PathBuf,
    /// The team server as the background watcher last saw it.
    pub team: crate::team::TeamLive,
    /// Moves whenever the session is replaced or dropped: a watcher working for an
    /// older one stops.
    generation: AtomicU64,
}

impl AppState {
    pub fn new(vault_path: PathBuf) -> Self {
        Self::with_clipboard(vault_path, ClipboardGuard::system())
    }

    pub(crate) fn with_clipboard(vault_path: PathBuf, clipboard: ClipboardGuard) -> Self {
        AppState {
            vault_path,
            session: Mutex::new(None),
            last_activity: Mutex::new(Instant::now()),
            clipboard,
            downloads: crate::export_file::downloads_dir(),
            team: crate::team::TeamLive::default(),
            generation: AtomicU64::new(0),
        }
    }

    /// The same state saving into `dir` instead of Downloads (tests).
    #[cfg(test)]
    pub(crate) fn saving_into(mut self, dir: PathBuf) -> Self {
        self.downloads = dir;
        self
    }

    /// Runs `f` with the unlocked session, or fails with `auth` when locked.
    pub fn with<T>(&self, f: impl FnOnce(&mut Session) -> coffer_core::Result<T>) -> IpcResult<T> {
        self.touch();
        let mut guard = self.session.lock().map_err(|_| IpcError::locked())?;
        let session = guard.as_mut().ok_or_else(IpcError::locked)?;
        f(session).map_err(IpcError::from)
    }

    /// Like [`with`](Self::with) but not counted as activity: what a screen asks again
    /// by itself (a list it keeps fresh) must not keep the vault from locking.
    pub fn quietly<T>(
        &self,
        f: impl FnOnce(&mut Session) -> coffer_core::Result<T>,
    ) -> IpcResult<T> {
        let mut guard = self.session.lock().map_err(|_| IpcError::locked())?;
        let session = guard.as_mut().ok_or_else(IpcError::locked)?;
        f(session).map_err(IpcError::from)
    }

    /// Fails with `auth` unless a member has unlocked the vault.
    pub fn require_unlocked(&self) -> IpcResult<()> {
        self.with(|_| Ok(()))
    }

    /// Like [`with`](Self::with) but not counted as activity (for polling).
    pub fn peek<T>(&self, f: impl FnOnce(&mut Session) -> coffer_core::Result<T>) -> Option<T> {
        let mut guard = self.session.lock().ok()?;
        f(guard.as_mut()?).ok()
    }

    /// Like [`peek`](Self::peek), with the error kept: `None` only while locked.
    pub fn peek_result<T>(
        &self,
        f: impl FnOnce(&mut Session) -> coffer_core::Result<T>,
    ) -> Option<coffer_core::Result<T>> {
        let mut guard = self.session.lock().ok()?;
        Some(f(guard.as_mut()?))
    }

    pub fn set(&self, session: Session) {
        if let Ok(mut g) = self.session.lock() {
            *g = Some(session);
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.touch();
    }

    /// Which session this is (see `generation`).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Drops the session and with it every key, and clears a copied value.
    pub fn lock(&self) {
        if let Ok(mut g) = self.session.lock() {
            *g = None;
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.clipboard.clear_now();
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

    /// How long the session may stay idle before it locks: the shortest auto-lock over
    /// the member's workspaces. When that cannot be read (a setting that fails its
    /// signature, a storage error), the shortest allowed delay: not knowing how long to
    /// wait must lock sooner, never later. (While locked there is nothing to lock.)
    pub fn auto_lock_limit(&self) -> Duration {
        let ms = self
            .peek(|s| s.auto_lock_ms())
            .unwrap_or(AUTO_LOCK_SHORTEST_MS);
        Duration::from_millis(ms.max(AUTO_LOCK_SHORTEST_MS) as u64)
    }

    /// Drops the session once it has been idle for [`auto_lock_limit`](Self::auto_lock_limit).
    pub fn lock_if_idle(&self) {
        if self.is_unlocked() && self.idle_for() >= self.auto_lock_limit() {
            self.lock();
        }
    }

    pub fn idle_for(&self) -> std::time::Duration {
        self.last_activity
            .lock()
            .map(|t| t.elapsed())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use coffer_core::clock::SystemClock;
    use coffer_core::crypto::KdfParams;
    use coffer_core::value::Passphrase;
    use coffer_core::Vault;

    use super::AppState;

    /// The app locks after the shortest auto-lock of the member's workspaces, not only
    /// `default`'s: a workspace that asks for a quick lock is never overridden.
    #[test]
    fn auto_lock_uses_the_shortest_setting_over_the_members_workspaces() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::new(dir.path().join("vault.db"));
        let mut session = Vault::create(
            &state.vault_path,
            "alice",
            &Passphrase::new("owner pass phrase 1".into()),
            KdfParams::INSECURE_FAST,
            Arc::new(SystemClock),
        )
        .unwrap();
        session.create_workspace("payments").unwrap();
        session.set_setting("default", "auto-lock", "30m").unwrap();
        session.set_setting("payments", "auto-lock", "2m").unwrap();
        state.set(session);
        assert_eq!(state.auto_lock_limit(), Duration::from_secs(120));
    }

    /// An auto-lock that cannot be read (here: edited in the file without keys, to make
    /// the lock slower) gives the shortest allowed delay, not the 15-minute default.
    #[test]
    fn an_unreadable_auto_lock_falls_back_to_the_shortest_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let state = unlocked_state(dir.path(), crate::clipboard::tests::fake().0);
        state
            .with(|s| s.set_setting("default", "auto-lock", "30m"))
            .unwrap();
        let db = rusqlite::Connection::open(&state.vault_path).unwrap();
        db.execute(
            "UPDATE settings SET value = '604800000' WHERE key = 'auto-lock'",
            [],
        )
        .unwrap();
        assert_eq!(state.auto_lock_limit(), Duration::from_secs(60));
    }

    fn unlocked_state(
        dir: &std::path::Path,
        clipboard: crate::clipboard::ClipboardGuard,
    ) -> AppState {
        let state = AppState::with_clipboard(dir.join("vault.db"), clipboard);
        let session = Vault::create(
            &state.vault_path,
            "alice",
            &Passphrase::new("owner pass phrase 1".into()),
            KdfParams::INSECURE_FAST,
            Arc::new(SystemClock),
        )
        .unwrap();
        state.set(session);
        state
    }

    /// Locking by hand and the auto-lock both take a copied value off the clipboard.
    #[test]
    fn locking_clears_a_copied_value() {
        let (clipboard, board) = crate::clipboard::tests::fake();
        let dir = tempfile::tempdir().unwrap();
        let state = unlocked_state(dir.path(), clipboard.clone());
        state.clipboard.copy("sk_live_plaintext-4242").unwrap();
        state.lock();
        assert_eq!(board.lock().unwrap().text, None);

        let dir = tempfile::tempdir().unwrap();
        let state = unlocked_state(dir.path(), clipboard);
        state
            .with(|s| s.set_setting("default", "auto-lock", "1m"))
            .unwrap();
        *state.last_activity.lock().unwrap() = std::time::Instant::now()
            .checked_sub(Duration::from_secs(61))
            .unwrap();
        state.clipboard.copy("sk_live_plaintext-4242").unwrap();
        state.lock_if_idle();
        assert!(!state.is_unlocked());
        assert_eq!(board.lock().unwrap().text, None);
    }
}
