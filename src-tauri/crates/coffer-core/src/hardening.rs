//! Keeps a process that holds keys and values out of reach of other processes of the
//! same user: no core dumps, and not "dumpable" — which on Linux also makes
//! `/proc/PID/environ`, `/proc/PID/mem` and `/proc/PID/exe` unreadable to them and
//! refuses `ptrace` without `CAP_SYS_PTRACE`. A child started afterwards (`coffer run`)
//! can then not read the passphrase from its parent's environment.
//!
//! Children inherit the core-file limit of 0 (a crash of a program holding injected
//! values writes no core file either); dumpability is reset by `exec`, as the kernel
//! does for every program.

use crate::error::{Error, Result};

/// Turns core dumps off and makes this process non-dumpable. Call first thing.
pub fn harden_process() -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{setrlimit, Resource, Rlimit};
        setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        )
        .map_err(|e| Error::Io(format!("cannot turn core dumps off: {e}")))?;
        set_dumpable(false)?;
    }
    Ok(())
}

/// Runs `f` while this process is dumpable, so that a peer — the session agent — can
/// read `/proc/PID/exe` to check that it talks to the Coffer binary. Used only before
/// any value or key is held; dumpability is taken away again whatever `f` does.
pub fn while_identifiable<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(target_os = "linux")]
    let _ = set_dumpable(true);
    let out = f();
    #[cfg(target_os = "linux")]
    let _ = set_dumpable(false);
    out
}

/// Whether this process may be inspected by others of the same user.
pub fn is_dumpable() -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{dumpable_behavior, DumpableBehavior};
        !matches!(dumpable_behavior(), Ok(DumpableBehavior::NotDumpable))
    }
    #[cfg(not(target_os = "linux"))]
    true
}

#[cfg(target_os = "linux")]
fn set_dumpable(on: bool) -> Result<()> {
    use rustix::process::{set_dumpable_behavior, DumpableBehavior};
    let behavior = if on {
        DumpableBehavior::Dumpable
    } else {
        DumpableBehavior::NotDumpable
    };
    set_dumpable_behavior(behavior).map_err(|e| {
        Error::Io(format!(
            "cannot change whether this process may be inspected: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test, since dumpability is per process and tests run in threads.
    #[test]
    fn hardening_turns_core_dumps_and_inspection_off() {
        harden_process().unwrap();
        assert!(!is_dumpable());
        let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
        assert_eq!(limit.current, Some(0));
        assert!(while_identifiable(is_dumpable), "dumpable inside");
        assert!(!is_dumpable(), "and not after");
    }
}
