//! Writing a copy of the trail the user asked to save — events as CSV or JSON, a
//! verifiable export, an archive — always produced by the backend, never text the
//! webview hands over: into the Downloads folder, under a plain file name, never
//! overwriting an existing file.

use std::path::{Path, PathBuf};

use coffer_core::{Error, Result};

/// The user's Downloads folder (their home, or the temporary directory, without one).
pub fn downloads_dir() -> PathBuf {
    directories::UserDirs::new()
        .and_then(|u| {
            u.download_dir()
                .map(Path::to_path_buf)
                .or_else(|| Some(u.home_dir().to_path_buf()))
        })
        .unwrap_or_else(std::env::temp_dir)
}

#[cfg(test)]
fn save_in(dir: &Path, file_name: &str, text: &str) -> Result<String> {
    save_with(dir, file_name, |f| Ok(f.write_all(text.as_bytes())?)).map(|(path, ())| path)
}

/// Creates `<dir>/<file_name>` (or `name (2).ext`, …), lets `write` fill it and
/// returns the path with what `write` returned. A failed `write` leaves no file.
pub fn save_with<T>(
    dir: &Path,
    file_name: &str,
    write: impl FnOnce(&mut dyn std::io::Write) -> Result<T>,
) -> Result<(String, T)> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    // Readable by this user only, as the CLI writes its exports: names and history are
    // nobody else's business either.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    for path in candidates(dir, file_name)? {
        match options.open(&path) {
            Ok(f) => {
                let mut out = std::io::BufWriter::new(f);
                let written = write(&mut out).and_then(|t| {
                    let f = out.into_inner().map_err(|e| Error::Io(e.to_string()))?;
                    f.sync_all()?;
                    Ok(t)
                });
                if written.is_err() {
                    let _ = std::fs::remove_file(&path);
                }
                return written.map(|t| (path.display().to_string(), t));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(too_many(file_name))
}

/// A path in `dir` under `file_name` (or `name (2).ext`, …) where no file is yet, for
/// a writer that creates the file itself and refuses an existing one.
pub fn unused_path(dir: &Path, file_name: &str) -> Result<PathBuf> {
    candidates(dir, file_name)?
        .find(|p| !p.exists())
        .ok_or_else(|| too_many(file_name))
}

/// Checks the name, creates `dir`, and yields `dir/name.ext`, `dir/name (2).ext`, ….
fn candidates(dir: &Path, file_name: &str) -> Result<impl Iterator<Item = PathBuf>> {
    let valid = !file_name.is_empty()
        && file_name.len() <= 128
        && !file_name.starts_with('.')
        && file_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(Error::Invalid(format!(
            "'{file_name}' is not a plain file name"
        )));
    }
    std::fs::create_dir_all(dir)?;
    let (stem, ext) = file_name.rsplit_once('.').unwrap_or((file_name, ""));
    let (dir, file_name, stem, ext) = (
        dir.to_path_buf(),
        file_name.to_string(),
        stem.to_string(),
        ext.to_string(),
    );
    Ok((1..1000).map(move |n| {
        dir.join(if n == 1 {
            file_name.clone()
        } else {
            format!("{stem} ({n}).{ext}")
        })
    }))
}

fn too_many(file_name: &str) -> Error {
    Error::Conflict(format!("too many files named like {file_name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_without_overwriting_and_refuses_paths() {
        let dir = tempfile::tempdir().unwrap();
        let a = save_in(dir.path(), "coffer-audit.csv", "one").unwrap();
        let b = save_in(dir.path(), "coffer-audit.csv", "two").unwrap();
        assert!(a.ends_with("coffer-audit.csv") && b.ends_with("coffer-audit (2).csv"));
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "one");
        for bad in ["../x.csv", "/etc/passwd", ".hidden", "a b.csv", ""] {
            assert!(save_in(dir.path(), bad, "x").is_err(), "{bad}");
            assert!(unused_path(dir.path(), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_failed_write_leaves_no_file_and_a_free_path_skips_taken_names() {
        let dir = tempfile::tempdir().unwrap();
        let failed = save_with(dir.path(), "trail.jsonl", |out| {
            out.write_all(b"half a line")?;
            Err::<(), _>(Error::Invalid("refused".into()))
        });
        assert!(failed.is_err());
        assert!(
            !dir.path().join("trail.jsonl").exists(),
            "no half file stays"
        );

        let (path, n) = save_with(dir.path(), "trail.jsonl", |out| {
            out.write_all(b"{}\n")?;
            Ok(3)
        })
        .unwrap();
        assert_eq!(
            (std::fs::read_to_string(&path).unwrap().as_str(), n),
            ("{}\n", 3)
        );
        let free = unused_path(dir.path(), "trail.jsonl").unwrap();
        assert!(free.ends_with("trail (2).jsonl") && !free.exists());
    }
}
