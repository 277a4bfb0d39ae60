//! `coffer team`: share the vault through a PostgreSQL server.

use coffer_core::team::{Keep, ServerUrl};
use coffer_core::Result;

use crate::cli::TeamCmd;
use crate::commands::Ctx;
use crate::output::{self, outln};

pub(crate) fn team(ctx: &Ctx, cmd: TeamCmd) -> Result<u8> {
    match cmd {
        TeamCmd::Create { url } => create(ctx, &url),
        TeamCmd::Status => status(ctx),
        TeamCmd::Sync => sync(ctx),
        TeamCmd::Resolve { kind, key, keep } => resolve(ctx, kind, key, &keep),
    }
}

/// The administrator's URL, its password from PGPASSWORD when the URL has none (a
/// password on the command line shows in the process list).
fn admin_url(text: &str) -> Result<ServerUrl> {
    let url = ServerUrl::parse(text)?;
    match (url.has_password(), url.user(), std::env::var("PGPASSWORD")) {
        (false, Some(user), Ok(password)) => {
            let user = user.to_string();
            Ok(url.with_login(&user, &password))
        }
        _ => Ok(url),
    }
}

fn create(ctx: &Ctx, text: &str) -> Result<u8> {
    let url = admin_url(text)?;
    let mut s = ctx.session()?;
    let made = s.team_create(&url)?;
    if ctx.json {
        output::json(&made);
    }
    ctx.say(format!(
        "moved the vault onto {}: {}, {}, {}; this file stays this machine's copy",
        made.server,
        count(made.workspaces, "workspace"),
        count(made.records, "record"),
        count(made.events, "audit event")
    ));
    if !made.to_join.is_empty() {
        ctx.say(format!(
            "members who have yet to join the team server: {}",
            made.to_join.join(", ")
        ));
    }
    Ok(0)
}

/// `1 workspace`, `3 records`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn sync(ctx: &Ctx) -> Result<u8> {
    let mut s = ctx.session()?;
    let done = s.team_sync()?;
    if ctx.json {
        output::json(&done);
    } else {
        outln!(
            "synced with {}: {} in, {} out, {} pushed",
            done.server,
            count(done.pulled, "record"),
            count(done.pushed, "record"),
            count(done.events, "audit event")
        );
        if done.read_only {
            outln!("the server's schema is newer than this Coffer's: pulled only (upgrade Coffer to push)");
        }
        for c in &done.conflicts {
            outln!("conflict: {c} changed here and on the server; both are kept, neither is sent");
        }
        for r in &done.refused {
            outln!("refused: {r}");
        }
    }
    // Conflicts and refusals leave work for the user: like `check`, exit 1.
    Ok(if done.conflicts.is_empty() && done.refused.is_empty() {
        0
    } else {
        1
    })
}

fn resolve(ctx: &Ctx, kind: Option<String>, key: Option<String>, keep: &str) -> Result<u8> {
    let keep = if keep == "mine" {
        Keep::Mine
    } else {
        Keep::Theirs
    };
    let mut s = ctx.session()?;
    let only = kind.as_deref().zip(key.as_deref());
    let done = s.team_resolve(only, keep)?;
    if ctx.json {
        output::json(&done);
        return Ok(0);
    }
    if done.is_empty() {
        outln!("no conflicts");
    }
    for r in &done {
        outln!("{}: kept {}", r.record, r.kept);
    }
    if keep == Keep::Mine && !done.is_empty() {
        outln!("run `coffer team sync` to send this machine's side");
    }
    Ok(0)
}

fn status(ctx: &Ctx) -> Result<u8> {
    let mut s = ctx.session()?;
    let st = s.team_status()?;
    if ctx.json {
        output::json(&st);
        return Ok(0);
    }
    match (&st.offline_reason, &st.schema) {
        (Some(why), _) => outln!("server     {}  offline: {why}", st.server),
        (None, Some(schema)) => outln!("server     {}  online, schema {schema}", st.server),
        (None, None) => outln!("server     {}  online", st.server),
    }
    for seq in &st.sequences {
        let (name, here) = (&seq.workspace, seq.here);
        match seq.server {
            Some(n) => outln!("sequence   {name}: {here} here, {n} on the server"),
            None => outln!("sequence   {name}: {here} here"),
        }
    }
    outln!(
        "outbox     {}",
        match st.outbox {
            0 => "empty".to_string(),
            n => format!("{} to push", count(n as usize, "audit event")),
        }
    );
    outln!(
        "conflicts  {}",
        if st.conflicts == 0 {
            "none".to_string()
        } else {
            st.conflicts.to_string()
        }
    );
    Ok(0)
}
