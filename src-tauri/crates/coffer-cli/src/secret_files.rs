//! `coffer run --file`: secrets handed to the child as files, for programs that read a
//! path (`KUBECONFIG`, `GOOGLE_APPLICATION_CREDENTIALS`, a TLS key) rather than a value.
//!
//! Each run gets its own directory (0700) holding one file (0400) per secret, the
//! variable naming the file's path. The directories live under
//! `$XDG_RUNTIME_DIR/coffer` — a per-user tmpfs, so nothing reaches a disk — or, when
//! that is unset, under `coffer-UID` in the system's temporary directory (`$TMPDIR`,
//! else `/tmp`), which may be on disk. [`RunDir`] removes its directory when dropped,
//! which `coffer run` does once the child has exited, however it ended. A directory
//! whose coffer was killed outright (SIGKILL, a crash) cannot remove itself: its name
//! carries the owner's pid and start time, and [`sweep_stale`] at the next run removes
//! those whose owner is gone.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use coffer_core::references::env_var_name;
use coffer_core::{Error, Result};

/// What a run directory's name starts with: `run-PID-START-NONCE`.
const PREFIX: &str = "run-";

/// One `--file [VAR=]SECRET`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileSpec {
    /// The variable that holds the file's path (also the file's name).
    pub var: String,
    pub secret: String,
}

/// Parses every `--file`: `VAR=SECRET`, or `SECRET` for the variable named after it
/// as `coffer run` names variables (`payments-key` → `PAYMENTS_KEY`). A variable
/// given twice is refused.
pub fn parse_specs(raw: &[String]) -> Result<Vec<FileSpec>> {
    let mut specs: Vec<FileSpec> = Vec::with_capacity(raw.len());
    for r in raw {
        let spec = match r.split_once('=') {
            Some((var, secret)) => {
                let var = var.trim();
                if !is_var_name(var) {
                    return Err(Error::Invalid(format!(
                        "--file {r}: '{var}' is not a valid environment variable name"
                    )));
                }
                FileSpec {
                    var: var.to_string(),
                    secret: secret.trim().to_string(),
                }
            }
            None => FileSpec {
                var: env_var_name(r.trim()),
                secret: r.trim().to_string(),
            },
        };
        coffer_core::names::secret(&spec.secret)
            .map_err(|e| Error::Invalid(format!("--file {r}: {e}")))?;
        if specs.iter().any(|s| s.var == spec.var) {
            return Err(Error::Invalid(format!(
                "--file sets {} twice; give each file its own variable (--file VAR=SECRET)",
                spec.var
            )));
        }
        specs.push(spec);
    }
    Ok(specs)
}

fn is_var_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The run directory of this coffer, removed (with its files) when dropped.
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Makes a fresh private directory under the runtime root (see the module doc).
    pub fn create() -> Result<RunDir> {
        // The agent's directory: checked to be ours and 0700 each time.
        let root = crate::agent::runtime_dir()?;
        let me = std::process::id();
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or(0);
        let path = root.join(format!(
            "{PREFIX}{me}-{}-{nonce:08x}",
            start_time(me).unwrap_or(0)
        ));
        DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|e| io_error("cannot create", &path, &e))?;
        let dir = RunDir { path };
        // Exactly 0700, whatever the umask.
        std::fs::set_permissions(&dir.path, Permissions::from_mode(0o700))
            .map_err(|e| io_error("cannot protect", &dir.path, &e))?;
        Ok(dir)
    }

    /// Writes `bytes` to a new file `name` (0400) in the directory; its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.path.join(name);
        // create_new: never through a file or link someone put there first.
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o400)
            .open(&path)
            .map_err(|e| io_error("cannot create", &path, &e))?;
        file.set_permissions(Permissions::from_mode(0o400))
            .and_then(|_| file.write_all(bytes))
            .map_err(|e| io_error("cannot write", &path, &e))?;
        Ok(path)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        match std::fs::remove_dir_all(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => crate::output::err_line(format!(
                "warning: could not remove the secret files in {}: {e}",
                self.path.display()
            )),
        }
    }
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::Io(format!("{what} {}: {e}", path.display()))
}

fn fallback_root() -> PathBuf {
    std::env::temp_dir().join(format!("coffer-{}", nix::unistd::getuid().as_raw()))
}

/// Removes the run directories of coffers that are gone (killed before they could
/// clean up), in every root a run may have used. Best effort: a directory that cannot
/// be read or removed is left for the next run.
pub fn sweep_stale() {
    let roots = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map(|d| PathBuf::from(d).join("coffer"))
        .into_iter()
        .chain([fallback_root()]);
    let me = nix::unistd::getuid().as_raw();
    for root in roots {
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(owner) = name.to_str().and_then(parse_dir_name) else {
                continue;
            };
            let ours = entry.metadata().is_ok_and(|m| m.is_dir() && m.uid() == me);
            if ours && !alive(owner) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// The owner a run directory's name records: (pid, start time or 0).
fn parse_dir_name(name: &str) -> Option<(u32, u64)> {
    let mut parts = name.strip_prefix(PREFIX)?.splitn(3, '-');
    let pid = parts.next()?.parse().ok()?;
    let start = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((pid, start))
}

/// A process's start time (clock ticks after boot, `/proc/PID/stat` field 22): with
/// the pid, it tells a live owner from a later process that reused its pid.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

fn parse_start_time(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces and parentheses: skip past its end.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn alive((pid, start): (u32, u64)) -> bool {
    if Path::new("/proc/self/stat").exists() {
        return start_time(pid).is_some_and(|t| start == 0 || t == start);
    }
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(raw: &[&str]) -> Result<Vec<FileSpec>> {
        parse_specs(&raw.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn a_spec_names_the_variable_or_takes_it_from_the_secret() {
        let got = specs(&["KUBECONFIG=kubeconfig", "tls-key", "GOOGLE_CREDS = sa.json"]).unwrap();
        let pairs: Vec<(&str, &str)> = got
            .iter()
            .map(|s| (s.var.as_str(), s.secret.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("KUBECONFIG", "kubeconfig"),
                ("TLS_KEY", "tls-key"),
                ("GOOGLE_CREDS", "sa.json")
            ]
        );
    }

    #[test]
    fn bad_specs_are_refused_with_what_is_wrong() {
        for (raw, says) in [
            ("1VAR=x", "not a valid environment variable"),
            ("A-B=x", "not a valid environment variable"),
            ("=x", "not a valid environment variable"),
            ("VAR=", "empty"),
            ("VAR=a b", "invalid character"),
        ] {
            let err = specs(&[raw]).unwrap_err();
            assert_eq!(err.code(), coffer_core::ErrorCode::Invalid);
            assert!(err.to_string().contains(says), "{raw}: {err}");
        }
        let err = specs(&["TLS_KEY", "TLS_KEY=other"]).unwrap_err();
        assert!(err.to_string().contains("TLS_KEY twice"), "{err}");
    }

    #[test]
    fn a_directory_name_records_its_owner() {
        assert_eq!(
            parse_dir_name("run-4242-98765-0000abcd"),
            Some((4242, 98765))
        );
        assert_eq!(parse_dir_name("run-4242-0-1"), Some((4242, 0)));
        for other in ["run-4242", "run-x-1-2", "kept-1-2-3", "run-1-x-2"] {
            assert_eq!(parse_dir_name(other), None, "{other}");
        }
    }

    #[test]
    fn the_start_time_is_read_past_a_name_with_spaces_and_parentheses() {
        let stat = "77 (a (b) c) S 1 77 77 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 50";
        assert_eq!(parse_start_time(stat), Some(123456));
        assert_eq!(parse_start_time("garbage"), None);
        let me = std::process::id();
        let start = start_time(me).expect("our own start time");
        assert!(alive((me, start)));
        assert!(!alive((me, start + 1)), "a reused pid is not the owner");
    }
}
