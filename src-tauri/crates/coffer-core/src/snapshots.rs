//! Snapshots of a vault, kept beside it in `<vault file>.snapshots/` (0700, files
//! 0600): one before every schema upgrade, one at the first write of each day (UTC),
//! one whenever a member asks (`coffer backup`), and the vault as it was before each
//! restore. Each is a whole, standalone SQLite file made with SQLite's online backup
//! API, so a running app or CLI is never blocked; it holds exactly what the vault
//! holds — sealed values, signed rows, the signed trail — and no key.
//!
//! Daily snapshots rotate like restic's `--keep-daily 7 --keep-weekly 4`: the newest of
//! each of the last 7 days that have one, and the newest of each of the last 4 weeks,
//! are kept (the numbers are a setting, in the `keep` file of the directory). The three
//! newest snapshots taken before an upgrade are kept; the others — asked for, or kept
//! by a restore — are never removed by Coffer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::clock::Clock as _;
use crate::error::{Error, Result};

const DAY_MS: i64 = 86_400_000;

/// Why a snapshot was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The first write of a day.
    Daily,
    /// Before the schema was upgraded.
    Upgrade,
    /// A member asked for one.
    Manual,
    /// The vault as it was before a restore replaced it.
    BeforeRestore,
    /// A vault file SQLite could not read, moved aside by a restore.
    Damaged,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Daily,
        Kind::Upgrade,
        Kind::Manual,
        Kind::BeforeRestore,
        Kind::Damaged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Daily => "daily",
            Kind::Upgrade => "upgrade",
            Kind::Manual => "manual",
            Kind::BeforeRestore => "before-restore",
            Kind::Damaged => "damaged",
        }
    }
}

/// One snapshot file.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Snapshot {
    pub path: PathBuf,
    pub kind: Kind,
    /// When it was taken (Unix milliseconds, from its name).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub taken_at: i64,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub bytes: u64,
}

/// How many daily snapshots rotate: the newest of each of the last `daily` days and
/// of each of the last `weekly` weeks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Keep {
    pub daily: u32,
    pub weekly: u32,
}

impl Default for Keep {
    fn default() -> Self {
        Keep {
            daily: 7,
            weekly: 4,
        }
    }
}

/// How many snapshots taken before an upgrade are kept.
const KEEP_UPGRADE: usize = 3;

/// The directory of a vault's snapshots: `<vault file>.snapshots` beside it.
pub fn dir_of(vault: &Path) -> PathBuf {
    let mut name = vault.file_name().unwrap_or_default().to_owned();
    name.push(".snapshots");
    vault.with_file_name(name)
}

pub(crate) fn ensure_dir(vault: &Path) -> Result<PathBuf> {
    let dir = dir_of(vault);
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir)?;
    Ok(dir)
}

/// `2026-12-02T163934.123Z-daily.db`: sorts by time, names its kind.
pub(crate) fn file_name(taken_at: i64, kind: Kind) -> String {
    let ts = crate::time_fmt::format_timestamp_millis(taken_at).replace(':', "");
    format!("{ts}-{}.db", kind.as_str())
}

fn parse_name(name: &str) -> Option<(i64, Kind)> {
    let stem = name.strip_suffix(".db")?;
    // 2026-12-02T163934.123Z = 22 characters, then '-' and the kind.
    let (ts, kind) = (stem.get(..22)?, stem.get(23..)?);
    let kind = Kind::ALL.into_iter().find(|k| k.as_str() == kind)?;
    let rfc = format!("{}:{}:{}", ts.get(..13)?, ts.get(13..15)?, ts.get(15..)?);
    let t = humantime::parse_rfc3339(&rfc).ok()?;
    let ms = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    Some((i64::try_from(ms).ok()?, kind))
}

/// The vault's snapshots, newest first.
pub fn list(vault: &Path) -> Result<Vec<Snapshot>> {
    let dir = dir_of(vault);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some((taken_at, kind)) = name.to_str().and_then(parse_name) else {
            continue;
        };
        let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
        out.push(Snapshot {
            path: entry.path(),
            kind,
            taken_at,
            bytes,
        });
    }
    out.sort_by(|a, b| b.taken_at.cmp(&a.taken_at).then(b.path.cmp(&a.path)));
    Ok(out)
}

/// How many daily snapshots this vault keeps.
pub fn keep(vault: &Path) -> Keep {
    let Ok(text) = std::fs::read_to_string(dir_of(vault).join("keep")) else {
        return Keep::default();
    };
    let mut keep = Keep::default();
    for line in text.lines() {
        match line.split_once('=') {
            Some(("daily", n)) => keep.daily = n.trim().parse().unwrap_or(keep.daily),
            Some(("weekly", n)) => keep.weekly = n.trim().parse().unwrap_or(keep.weekly),
            _ => {}
        }
    }
    keep
}

/// Sets how many daily snapshots rotate (0 and 0: none are taken), and prunes.
pub fn set_keep(vault: &Path, keep: Keep) -> Result<Keep> {
    if keep.daily > 366 || keep.weekly > 520 {
        return Err(Error::invalid(
            "keep at most 366 daily and 520 weekly snapshots",
        ));
    }
    let dir = ensure_dir(vault)?;
    write_private(
        &dir.join("keep"),
        format!("daily={}\nweekly={}\n", keep.daily, keep.weekly).as_bytes(),
    )?;
    prune(vault)?;
    Ok(keep)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)?;
    Ok(())
}

/// Copies the database behind `src` into `dst` (all of it, in one step: the copy is
/// consistent, and only waits while a writer commits).
pub(crate) fn copy(src: &Connection, dst: &mut Connection) -> Result<()> {
    let backup = Backup::new(src, dst)?;
    let mut waited = Duration::ZERO;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            StepResult::Busy | StepResult::Locked => {
                if waited > Duration::from_secs(10) {
                    return Err(Error::Busy);
                }
                std::thread::sleep(Duration::from_millis(20));
                waited += Duration::from_millis(20);
            }
            _ => {}
        }
    }
}

/// Writes a standalone copy of the database behind `src` to `dest` (0600, one file with
/// no journal beside it), through a temporary name so a half-written copy never
/// carries the final one's name. Returns its size.
pub(crate) fn write_copy(src: &Connection, dest: &Path) -> Result<u64> {
    let mut tmp_name = dest.file_name().unwrap_or_default().to_owned();
    tmp_name.push(format!(".partial{}", std::process::id()));
    let tmp = dest.with_file_name(tmp_name);
    let made = (|| {
        write_private(&tmp, b"")?;
        let mut dst = Connection::open(&tmp)?;
        copy(src, &mut dst)?;
        // The copy carries the vault's WAL mode in its header: a standalone file
        // keeps its journal inside.
        dst.pragma_update(None, "journal_mode", "DELETE")?;
        dst.close().map_err(|(_, e)| e)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, dest)?;
        Ok(std::fs::metadata(dest)?.len())
    })();
    if made.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    made
}

/// Takes a snapshot of the database behind `src` (the vault at `vault`) now, then
/// prunes the rotation.
pub(crate) fn take(src: &Connection, vault: &Path, kind: Kind, now: i64) -> Result<Snapshot> {
    let dir = ensure_dir(vault)?;
    let path = dir.join(file_name(now, kind));
    let bytes = write_copy(src, &path)?;
    prune(vault)?;
    Ok(Snapshot {
        path,
        kind,
        taken_at: now,
        bytes,
    })
}

/// Takes today's daily snapshot unless there is one (or the rotation keeps none).
pub(crate) fn take_daily_if_due(
    src: &Connection,
    vault: &Path,
    now: i64,
) -> Result<Option<Snapshot>> {
    let keep = keep(vault);
    if keep.daily == 0 && keep.weekly == 0 {
        return Ok(None);
    }
    let today = now.div_euclid(DAY_MS);
    let taken = list(vault)?
        .iter()
        .any(|s| s.kind == Kind::Daily && s.taken_at.div_euclid(DAY_MS) == today);
    if taken {
        return Ok(None);
    }
    take(src, vault, Kind::Daily, now).map(Some)
}

/// Takes a snapshot of the vault file at `vault` before its schema is upgraded.
pub(crate) fn before_upgrade(src: &Connection, vault: &Path) -> Result<Snapshot> {
    take(
        src,
        vault,
        Kind::Upgrade,
        crate::clock::SystemClock.now_ms(),
    )
}

/// Which snapshots the rotation drops: of the daily ones, all but the newest of each
/// of the last `keep.daily` days and of the last `keep.weekly` weeks (Monday to
/// Sunday, UTC); of those before an upgrade, all but the newest three.
fn dropped(all: &[Snapshot], keep: Keep) -> Vec<&Snapshot> {
    let daily: Vec<&Snapshot> = all.iter().filter(|s| s.kind == Kind::Daily).collect();
    let mut kept = vec![false; daily.len()];
    // 1970-01-01 was a Thursday: shifting by 3 days starts each week on a Monday.
    type Bucket = fn(i64) -> i64;
    let buckets: [(Bucket, u32); 2] = [
        (|t| t.div_euclid(DAY_MS), keep.daily),
        (|t| (t.div_euclid(DAY_MS) + 3).div_euclid(7), keep.weekly),
    ];
    for (bucket, count) in buckets {
        let mut last = None;
        let mut taken = 0;
        for (i, s) in daily.iter().enumerate() {
            if taken == count {
                break;
            }
            let b = bucket(s.taken_at);
            if last != Some(b) {
                last = Some(b);
                kept[i] = true;
                taken += 1;
            }
        }
    }
    let mut out: Vec<&Snapshot> = daily
        .iter()
        .zip(kept)
        .filter(|(_, k)| !k)
        .map(|(s, _)| *s)
        .collect();
    out.extend(
        all.iter()
            .filter(|s| s.kind == Kind::Upgrade)
            .skip(KEEP_UPGRADE),
    );
    out
}

/// Removes the snapshots the rotation no longer keeps.
pub(crate) fn prune(vault: &Path) -> Result<()> {
    let all = list(vault)?;
    for s in dropped(&all, keep(vault)) {
        std::fs::remove_file(&s.path)?;
    }
    Ok(())
}

/// Opens a vault file (or a copy) to read, without creating or changing anything.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Ok(Connection::open_with_flags(path, flags)?)
}

/// SQLite's integrity check of an open file: `Ok` or the first problem it names.
pub(crate) fn integrity(conn: &Connection) -> std::result::Result<(), String> {
    let found: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut st| {
            st.query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<_>>()
        })
        .map_err(|e| e.to_string())?;
    if found == ["ok"] {
        Ok(())
    } else {
        Err(found
            .into_iter()
            .next()
            .unwrap_or_else(|| "no answer".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64, hour: i64) -> i64 {
        // 2026-11-30 was a Monday.
        let monday = 20_787 * DAY_MS;
        monday + day * DAY_MS + hour * 3_600_000
    }

    fn snap(t: i64, kind: Kind) -> Snapshot {
        Snapshot {
            path: PathBuf::from(file_name(t, kind)),
            kind,
            taken_at: t,
            bytes: 0,
        }
    }

    #[test]
    fn names_round_trip_and_others_are_ignored() {
        let t = at(2, 16) + 34_123;
        let name = file_name(t, Kind::BeforeRestore);
        assert_eq!(name, "2026-12-02T160034.123Z-before-restore.db");
        assert_eq!(parse_name(&name), Some((t, Kind::BeforeRestore)));
        for other in [
            "keep",
            "vault.db",
            "2026-12-02T160034.123Z-daily.db.partial1",
            "x-daily.db",
        ] {
            assert_eq!(parse_name(other), None, "{other}");
        }
    }

    #[test]
    fn the_rotation_keeps_seven_days_and_four_weeks_and_never_what_was_asked_for() {
        // One daily snapshot a day for 60 days, newest first, plus others.
        let mut all: Vec<Snapshot> = (0..60)
            .rev()
            .map(|d| snap(at(d - 50, 9), Kind::Daily))
            .collect();
        all.push(snap(at(-70, 1), Kind::Manual));
        all.push(snap(at(-80, 1), Kind::BeforeRestore));
        for d in 0..5 {
            all.push(snap(at(-90 - d, 1), Kind::Upgrade));
        }
        all.sort_by_key(|s| std::cmp::Reverse(s.taken_at));
        let dropped = dropped(&all, Keep::default());
        let kept: Vec<&Snapshot> = all
            .iter()
            .filter(|s| !dropped.iter().any(|d| d.path == s.path))
            .collect();
        let daily: Vec<i64> = kept
            .iter()
            .filter(|s| s.kind == Kind::Daily)
            .map(|s| (s.taken_at - at(0, 9)) / DAY_MS)
            .collect();
        // Days 9..=3 (7 days, the newest day is day 9), then the newest of each of the
        // 4 newest weeks: the current week (day 9, already kept), day 6's week
        // (Monday 7 to Sunday 13 holds 7..9; the week before ends on day 6), and so on.
        assert_eq!(daily, vec![9, 8, 7, 6, 5, 4, 3, -1, -8]);
        assert_eq!(kept.iter().filter(|s| s.kind == Kind::Upgrade).count(), 3);
        assert!(kept.iter().any(|s| s.kind == Kind::Manual));
        assert!(kept.iter().any(|s| s.kind == Kind::BeforeRestore));
    }

    #[test]
    fn keeping_none_drops_every_daily_one() {
        let all = vec![snap(at(1, 1), Kind::Daily), snap(at(0, 1), Kind::Daily)];
        assert_eq!(
            dropped(
                &all,
                Keep {
                    daily: 0,
                    weekly: 0
                }
            )
            .len(),
            2
        );
        assert_eq!(
            dropped(
                &all,
                Keep {
                    daily: 1,
                    weekly: 0
                }
            )
            .len(),
            1
        );
    }

    #[test]
    fn a_copy_is_one_standalone_file_that_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("v.db");
        let src = Connection::open(&vault).unwrap();
        src.pragma_update(None, "journal_mode", "WAL").unwrap();
        src.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (42);")
            .unwrap();
        let s = take(&src, &vault, Kind::Manual, at(0, 0)).unwrap();
        assert!(s.path.starts_with(dir_of(&vault)));
        assert!(!s.path.with_extension("db-wal").exists());
        let back = open_read_only(&s.path).unwrap();
        let x: i64 = back.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(x, 42);
        let mode: String = back
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(m(&s.path), 0o600);
            assert_eq!(m(&dir_of(&vault)), 0o700);
        }
        assert_eq!(list(&vault).unwrap().len(), 1);
        // A second daily snapshot on the same day is not taken.
        assert!(take_daily_if_due(&src, &vault, at(0, 1)).unwrap().is_some());
        assert!(take_daily_if_due(&src, &vault, at(0, 23))
            .unwrap()
            .is_none());
        assert!(take_daily_if_due(&src, &vault, at(1, 0)).unwrap().is_some());
    }
}
