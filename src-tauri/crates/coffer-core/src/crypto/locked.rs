//! Key memory kept out of swap. Long-lived private keys (a session's identity, its
//! opened environment keys and batch contexts, an agent's lease) live in heap
//! allocations whose pages are locked with `mlock` where the platform and the
//! process's `RLIMIT_MEMLOCK` allow; where they do not, the key is still held, only
//! not locked (a best effort, as in ssh-agent and gpg-agent).
//!
//! Pages are never unlocked: two keys can share a page, and unlocking one would
//! unlock the other. The locked set stays small (a few pages per session), and each
//! key's own type zeroizes it when it is dropped.

use std::ops::{Deref, DerefMut};

/// A value in its own heap allocation, locked in memory where possible.
pub struct Locked<T>(Box<T>);

impl<T> Locked<T> {
    pub fn new(value: T) -> Self {
        let boxed = Box::new(value);
        lock_memory(std::ptr::from_ref::<T>(&*boxed).cast(), size_of::<T>());
        Locked(boxed)
    }
}

impl<T> Deref for Locked<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Locked<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> std::fmt::Debug for Locked<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Locked(<redacted>)")
    }
}

/// Locks the pages holding `len` bytes at `ptr`; true when they are locked.
pub(crate) fn lock_memory(ptr: *const u8, len: usize) -> bool {
    if len == 0 {
        return true;
    }
    // The guard would unlock the pages when dropped; they stay locked instead (see
    // the module's note).
    region::lock(ptr, len).map(std::mem::forget).is_ok()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Locked memory of this process, in kB, as the kernel counts it.
    fn locked_kb() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("VmLck:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[test]
    fn a_locked_value_is_in_locked_memory() {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Memlock);
        if limit.current.is_some_and(|l| l < 64 * 1024) {
            eprintln!("RLIMIT_MEMLOCK below 64 KiB here: nothing to check");
            return;
        }
        let before = locked_kb();
        let key = Locked::new([7u8; 8192]);
        assert!(
            locked_kb() >= before + 8,
            "VmLck did not grow by the value's pages"
        );
        assert_eq!(key[8191], 7);
        assert_eq!(format!("{key:?}"), "Locked(<redacted>)");
    }
}
