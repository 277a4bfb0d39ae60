//! The system clipboard for copied secret values, owned by the backend.
//!
//! A revealed value (or a one-time passphrase) is put on the clipboard natively, marked
//! on Linux with `x-kde-passwordManagerHint: secret` so clipboard managers skip it.
//! [`ClipboardGuard`] remembers the text it put there (zeroized when dropped) and
//! clears the clipboard after [`CLEAR_AFTER`], on lock, when the window closes and
//! when the app exits — but only while the clipboard still holds that text: something
//! the user copied since is left alone. The webview only shows the countdown.
//!
//! Values never reach an error or a log: [`ClipboardError`] carries none.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::error::IpcError;

/// How long a copied value stays on the clipboard.
pub const CLEAR_AFTER: Duration = Duration::from_secs(30);

/// Why the clipboard could not be used; never holds a value.
#[derive(Debug, thiserror::Error)]
pub enum ClipboardError {
    #[error("no system clipboard is available here (is a display running?)")]
    Unavailable,
    #[error("the clipboard is busy in another program; try again")]
    Busy,
    #[error("the clipboard could not be used")]
    Failed,
}

impl From<ClipboardError> for IpcError {
    fn from(e: ClipboardError) -> Self {
        IpcError {
            code: "unavailable".into(),
            message: e.to_string(),
        }
    }
}

/// The operations the guard needs, so tests can use a fake.
pub trait SystemClipboard: Send {
    /// Puts `text` on the clipboard, kept out of clipboard managers' history.
    fn set_secret(&mut self, text: &str) -> Result<(), ClipboardError>;
    /// The clipboard's text: `Ok(None)` when it holds no text (empty, or an image).
    fn text(&mut self) -> Result<Option<Zeroizing<String>>, ClipboardError>;
    fn clear(&mut self) -> Result<(), ClipboardError>;
}

/// The real clipboard through `arboard`. Kept alive in state: on X11 the process
/// serves its selection only while this object exists.
struct NativeClipboard(arboard::Clipboard);

fn map_arboard(e: arboard::Error) -> ClipboardError {
    // arboard's errors never include the content; still, only our own words cross.
    match e {
        arboard::Error::ClipboardNotSupported => ClipboardError::Unavailable,
        arboard::Error::ClipboardOccupied => ClipboardError::Busy,
        _ => ClipboardError::Failed,
    }
}

impl SystemClipboard for NativeClipboard {
    fn set_secret(&mut self, text: &str) -> Result<(), ClipboardError> {
        let set = self.0.set();
        #[cfg(target_os = "linux")]
        let set = {
            use arboard::SetExtLinux;
            set.exclude_from_history()
        };
        set.text(text).map_err(map_arboard)
    }

    fn text(&mut self) -> Result<Option<Zeroizing<String>>, ClipboardError> {
        match self.0.get_text() {
            Ok(t) => Ok(Some(Zeroizing::new(t))),
            Err(arboard::Error::ContentNotAvailable) => Ok(None),
            Err(e) => Err(map_arboard(e)),
        }
    }

    fn clear(&mut self) -> Result<(), ClipboardError> {
        self.0.clear().map_err(map_arboard)
    }
}

fn open_native() -> Result<Box<dyn SystemClipboard>, ClipboardError> {
    arboard::Clipboard::new()
        .map(|c| Box::new(NativeClipboard(c)) as Box<dyn SystemClipboard>)
        .map_err(|_| ClipboardError::Unavailable)
}

type Opener = Box<dyn Fn() -> Result<Box<dyn SystemClipboard>, ClipboardError> + Send>;

struct Inner {
    open: Opener,
    /// Opened at the first copy, so a vault that never copies never touches the display.
    clipboard: Option<Box<dyn SystemClipboard>>,
    /// The text last copied and not yet cleared, and which copy it was.
    pending: Option<(u64, Zeroizing<String>)>,
    copies: u64,
}

/// What the app put on the clipboard, and the rules for taking it off again. Clones
/// share one clipboard (the clear-after timer holds one).
#[derive(Clone)]
pub struct ClipboardGuard(Arc<Mutex<Inner>>);

impl ClipboardGuard {
    /// The system clipboard.
    pub fn system() -> Self {
        Self::with_opener(Box::new(open_native))
    }

    pub(crate) fn with_opener(open: Opener) -> Self {
        ClipboardGuard(Arc::new(Mutex::new(Inner {
            open,
            clipboard: None,
            pending: None,
            copies: 0,
        })))
    }

    /// Copies `text`; returns the copy's number for [`clear_copy`](Self::clear_copy).
    pub fn copy(&self, text: &str) -> Result<u64, ClipboardError> {
        let mut inner = self.0.lock().map_err(|_| ClipboardError::Failed)?;
        if inner.clipboard.is_none() {
            inner.clipboard = Some((inner.open)()?);
        }
        if let Some(clipboard) = inner.clipboard.as_mut() {
            clipboard.set_secret(text)?;
        }
        inner.copies += 1;
        let copy = inner.copies;
        inner.pending = Some((copy, Zeroizing::new(text.to_owned())));
        Ok(copy)
    }

    /// The timer's clear: only if `copy` is still the pending one (a later copy has
    /// its own timer).
    pub fn clear_copy(&self, copy: u64) {
        if let Ok(mut inner) = self.0.lock() {
            if inner.pending.as_ref().is_some_and(|(n, _)| *n == copy) {
                inner.clear_pending();
            }
        }
    }

    /// Clears a pending copy now (lock, window closed, exit); nothing when none waits.
    pub fn clear_now(&self) {
        if let Ok(mut inner) = self.0.lock() {
            inner.clear_pending();
        }
    }

    /// Whether a copied value still waits to be cleared.
    pub fn has_pending(&self) -> bool {
        self.0.lock().map(|i| i.pending.is_some()).unwrap_or(false)
    }
}

impl Inner {
    fn clear_pending(&mut self) {
        let Some((_, text)) = self.pending.take() else {
            return;
        };
        let Some(clipboard) = self.clipboard.as_mut() else {
            return;
        };
        let still_ours = match clipboard.text() {
            Ok(Some(current)) => *current == *text,
            Ok(None) => false, // the user copied an image or cleared it: theirs now
            Err(_) => true,    // unreadable: clear anyway, a leftover secret is worse
        };
        if still_ours {
            // Nothing more to do if it fails: there is no one to tell at exit.
            let _ = clipboard.clear();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What the fake clipboard holds, shared with the test.
    #[derive(Default)]
    pub(crate) struct Board {
        pub text: Option<String>,
        pub excluded_from_history: bool,
        pub unreadable: bool,
    }

    struct Fake(Arc<Mutex<Board>>);

    impl SystemClipboard for Fake {
        fn set_secret(&mut self, text: &str) -> Result<(), ClipboardError> {
            let mut b = self.0.lock().unwrap();
            b.text = Some(text.into());
            b.excluded_from_history = true;
            Ok(())
        }
        fn text(&mut self) -> Result<Option<Zeroizing<String>>, ClipboardError> {
            let b = self.0.lock().unwrap();
            if b.unreadable {
                return Err(ClipboardError::Failed);
            }
            Ok(b.text.clone().map(Zeroizing::new))
        }
        fn clear(&mut self) -> Result<(), ClipboardError> {
            self.0.lock().unwrap().text = None;
            Ok(())
        }
    }

    /// A guard over a fake clipboard, and what that clipboard holds.
    pub(crate) fn fake() -> (ClipboardGuard, Arc<Mutex<Board>>) {
        let board = Arc::new(Mutex::new(Board::default()));
        let shared = Arc::clone(&board);
        let guard =
            ClipboardGuard::with_opener(Box::new(move || Ok(Box::new(Fake(Arc::clone(&shared))))));
        (guard, board)
    }

    fn user_copies(board: &Mutex<Board>, text: &str) {
        board.lock().unwrap().text = Some(text.into());
    }

    fn on_board(board: &Mutex<Board>) -> Option<String> {
        board.lock().unwrap().text.clone()
    }

    const VALUE: &str = "sk_live_plaintext-4242";

    #[test]
    fn copies_as_a_secret_and_clears_its_own_copy() {
        let (guard, board) = fake();
        let copy = guard.copy(VALUE).unwrap();
        assert_eq!(on_board(&board).as_deref(), Some(VALUE));
        assert!(board.lock().unwrap().excluded_from_history);
        guard.clear_copy(copy);
        assert_eq!(on_board(&board), None);
        assert!(!guard.has_pending());
    }

    #[test]
    fn leaves_what_the_user_copied_since() {
        let (guard, board) = fake();
        let copy = guard.copy(VALUE).unwrap();
        user_copies(&board, "a shopping list");
        guard.clear_copy(copy);
        assert_eq!(on_board(&board).as_deref(), Some("a shopping list"));
        guard.copy(VALUE).unwrap();
        user_copies(&board, "something else");
        guard.clear_now();
        assert_eq!(on_board(&board).as_deref(), Some("something else"));
    }

    #[test]
    fn an_earlier_timer_does_not_clear_a_later_copy() {
        let (guard, board) = fake();
        let first = guard.copy(VALUE).unwrap();
        let second = guard.copy("second value").unwrap();
        guard.clear_copy(first);
        assert_eq!(on_board(&board).as_deref(), Some("second value"));
        guard.clear_copy(second);
        assert_eq!(on_board(&board), None);
    }

    #[test]
    fn clears_an_unreadable_clipboard_anyway() {
        let (guard, board) = fake();
        guard.copy(VALUE).unwrap();
        board.lock().unwrap().unreadable = true;
        guard.clear_now();
        assert_eq!(on_board(&board), None);
    }

    #[test]
    fn clear_now_without_a_copy_touches_nothing() {
        let guard = ClipboardGuard::with_opener(Box::new(|| panic!("must not open the clipboard")));
        guard.clear_now();
        guard.clear_copy(1);
        assert!(!guard.has_pending());
    }

    #[test]
    fn errors_say_what_failed_without_a_value() {
        let guard = ClipboardGuard::with_opener(Box::new(|| Err(ClipboardError::Unavailable)));
        let err = IpcError::from(guard.copy(VALUE).unwrap_err());
        assert_eq!(err.code, "unavailable");
        assert!(err.message.contains("no system clipboard"));
        assert!(!err.message.contains(VALUE));
        assert!(!guard.has_pending());
    }

    /// The real clipboard: needs a display, so run by hand under Xvfb:
    /// `xvfb-run -a cargo test -p coffer-app --lib native -- --ignored`.
    /// Without a display the copy fails with a message, never a panic.
    #[test]
    #[ignore = "needs a display (xvfb-run)"]
    fn native_clipboard_copies_and_clears_under_a_display() {
        let guard = ClipboardGuard::system();
        let copy = match guard.copy(VALUE) {
            Ok(copy) => copy,
            Err(e) => {
                assert!(std::env::var_os("DISPLAY").is_none(), "copy failed: {e}");
                assert_eq!(e.to_string(), ClipboardError::Unavailable.to_string());
                return;
            }
        };
        let mut reader = arboard::Clipboard::new().unwrap();
        assert_eq!(reader.get_text().unwrap(), VALUE);
        guard.clear_copy(copy);
        assert_ne!(reader.get_text().unwrap_or_default(), VALUE);
    }
}
