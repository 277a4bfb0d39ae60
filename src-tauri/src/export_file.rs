//! Writing an export the user asked to save: into the Downloads folder, under a plain
//! file name, never overwriting an existing file.

use std::path::{Path, PathBuf};

use coffer_core::{Error, Result};

fn downloads_dir() -> PathBuf {
    directories::UserDirs::new()
        .and_then(|u| {
            u.download_dir()
                .map(Path::to_path_buf)
                .or_else(|| Some(u.home_dir().to_path_buf()))
        })
        .unwrap_or_else(std::env::temp_dir)
}

/// Writes `text` to `<Downloads>/<file_name>` (or `name (2).ext`, …) and returns the path.
pub fn save(file_name: &str, text: &str) -> Result<String> {
    save_in(&downloads_dir(), file_name, text)
}

fn save_in(dir: &Path, file_name: &str, text: &str) -> Result<String> {
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
    for n in 1..1000 {
        let name = if n == 1 {
            file_name.to_string()
        } else {
            format!("{stem} ({n}).{ext}")
        };
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                std::io::Write::write_all(&mut f, text.as_bytes())?;
                return Ok(path.display().to_string());
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict(format!(
        "too many files named like {file_name}"
    )))
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
        }
    }
}
