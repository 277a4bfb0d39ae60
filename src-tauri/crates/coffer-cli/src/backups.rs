//! `coffer backup`, `coffer snapshots` and `coffer restore FILE`: copies of the whole
//! vault, and putting one back.

use std::path::Path;
use std::sync::Arc;

use coffer_core::clock::{Clock, SystemClock};
use coffer_core::snapshots::{self, Keep, Snapshot};
use coffer_core::time_fmt::{format_duration_ms, format_timestamp_ms};
use coffer_core::Result;

use crate::agent;
use crate::commands::Ctx;
use crate::credentials;
use crate::output::{self, outln, table};

/// `1.4 MiB`, `812 KiB`, `96 B`.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub(crate) fn backup(ctx: &Ctx, to: Option<&Path>) -> Result<u8> {
    let mut s = ctx.session()?;
    let made = s.backup(to)?;
    if ctx.json {
        output::json(&made);
    }
    ctx.say(format!(
        "backed up the vault to {} ({}); restore it with `coffer restore {}`",
        made.path.display(),
        size(made.bytes),
        shell_path(&made.path)
    ));
    Ok(0)
}

/// A path as a user types it after `coffer restore`: with a '/', so it reads as a file.
fn shell_path(p: &Path) -> String {
    let shown = p.display().to_string();
    if shown.contains('/') {
        shown
    } else {
        format!("./{shown}")
    }
}

pub(crate) fn snapshots(ctx: &Ctx, daily: Option<u32>, weekly: Option<u32>) -> Result<u8> {
    let mut keep = snapshots::keep(&ctx.vault);
    if daily.is_some() || weekly.is_some() {
        keep = snapshots::set_keep(
            &ctx.vault,
            Keep {
                daily: daily.unwrap_or(keep.daily),
                weekly: weekly.unwrap_or(keep.weekly),
            },
        )?;
    }
    let all = snapshots::list(&ctx.vault)?;
    if ctx.json {
        output::json(&serde_json::json!({
            "directory": snapshots::dir_of(&ctx.vault),
            "keep": keep,
            "snapshots": all,
        }));
        return Ok(0);
    }
    let now = SystemClock.now_ms();
    let rows: Vec<Vec<String>> = all.iter().map(|s| row(s, now)).collect();
    if rows.is_empty() {
        outln!(
            "no snapshots yet in {} (one is taken at the first write of each day; `coffer backup` takes one now)",
            snapshots::dir_of(&ctx.vault).display()
        );
    } else {
        table(&["TAKEN", "AGE", "KIND", "SIZE", "FILE"], &rows);
    }
    outln!(
        "keeping the newest daily snapshot of {} days and {} weeks; taken before upgrades and restores, and by `coffer backup`, are kept until you remove them",
        keep.daily,
        keep.weekly
    );
    Ok(0)
}

fn row(s: &Snapshot, now: i64) -> Vec<String> {
    vec![
        format_timestamp_ms(s.taken_at),
        format_duration_ms(now - s.taken_at),
        s.kind.as_str().to_string(),
        size(s.bytes),
        s.path.display().to_string(),
    ]
}

pub(crate) fn restore(ctx: &Ctx, file: &Path, replace: bool) -> Result<u8> {
    let member = credentials::member(ctx.member.as_deref())?;
    // An agent holds this member's session of the vault being replaced: end it.
    agent::lock(&ctx.vault, &member)?;
    let passphrase = credentials::passphrase(&format!(
        "Passphrase for {member} (as it was when the backup was made): "
    ))?;
    let (done, upgrade) = coffer_core::restore::restore(
        &ctx.vault,
        file,
        &member,
        &passphrase,
        replace,
        Arc::new(SystemClock),
    )?;
    if ctx.json {
        output::json(&done);
    }
    ctx.say(format!(
        "restored {} from {}: its directory and audit trail verify (the restore is event {})",
        ctx.vault.display(),
        done.from.display(),
        done.head
    ));
    if let Some(kept) = &done.kept {
        ctx.say(format!("the vault as it was is kept in {}", kept.display()));
    }
    if let Some(report) = upgrade {
        credentials::tell_upgrade(&report);
    }
    Ok(0)
}
