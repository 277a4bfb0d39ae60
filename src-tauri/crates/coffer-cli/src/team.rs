//! `coffer team`: share the vault through a PostgreSQL server.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use coffer_core::access::Role;
use coffer_core::crypto::KdfParams;
use coffer_core::team::{JoinProgress, Keep, SchemaState, ServerUrl, SCHEMA_VERSION};
use coffer_core::time_fmt::{format_timestamp_ms, parse_duration_ms};
use coffer_core::{Error, Result, Vault};

use crate::cli::TeamCmd;
use crate::commands::Ctx;
use crate::output::{self, outln};

pub(crate) fn team(ctx: &Ctx, cmd: TeamCmd) -> Result<u8> {
    match cmd {
        TeamCmd::Create { url } => create(ctx, &url),
        TeamCmd::Status => status(ctx),
        TeamCmd::Verify => verify(ctx),
        TeamCmd::Audit(a) => audit(ctx, a),
        TeamCmd::Invite {
            name,
            role,
            expires,
            cancel,
        } => invite(ctx, &name, role.as_deref(), expires.as_deref(), cancel),
        TeamCmd::Invitations => invitations(ctx),
        TeamCmd::Upgrade { url } => upgrade(ctx, &url),
        TeamCmd::Admit { name, fingerprint } => admit(ctx, &name, fingerprint),
        TeamCmd::Join { code, server, wait } => join(ctx, code, server, wait.as_deref()),
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
        if done.merged > 0 {
            outln!(
                "merged: {} changed here and on the server in different fields; each field kept the side that changed it",
                count(done.merged, "record")
            );
        }
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

fn verify(ctx: &Ctx) -> Result<u8> {
    let mut s = ctx.session()?;
    let done = s.team_verify()?;
    if ctx.json {
        output::json(&done);
    } else {
        outln!(
            "{} holds what this machine exchanged with it: {} as exchanged in {}; {} followed, {} of them from here, in order",
            done.server,
            count(done.records, "record"),
            count(done.scopes, "scope"),
            count(done.events, "audit event"),
            done.own_events
        );
        for w in &done.unchecked {
            outln!("not checked: {w} (the server no longer shows it to you)");
        }
    }
    Ok(0)
}

/// The whole team's trail in this workspace, read from the server and checked event
/// by event (exit 7 naming what does not check).
fn audit(ctx: &Ctx, a: crate::cli::AuditFilterArgs) -> Result<u8> {
    let filter = coffer_core::AuditFilter::from(a);
    let mut s = ctx.session()?;
    let trail = s.team_audit(&ctx.scope.workspace, &filter)?;
    if ctx.json {
        output::json(&trail);
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = trail
        .events
        .iter()
        .map(|e| {
            let mut cells = vec![format!("{}.{}", e.seq, e.n)];
            cells.extend(crate::commands::audit_cells(e.event.clone()));
            cells
        })
        .collect();
    output::table(
        &[
            "SEQ", "TIME", "ACTOR", "ACTION", "OUTCOME", "TARGET", "DETAIL",
        ],
        &rows,
    );
    let vault_wide = if trail.vault_wide {
        " and the vault's own"
    } else {
        ""
    };
    ctx.say(format!(
        "{} of {} in {}{vault_wide} on {}: each one signed by its author, every link joined",
        count(trail.checked as usize, "event"),
        count(trail.authors as usize, "member"),
        ctx.scope.workspace,
        trail.server,
    ));
    Ok(0)
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

fn duration(raw: Option<&str>, default: Duration) -> Result<Duration> {
    match raw {
        None => Ok(default),
        Some("0") => Ok(Duration::ZERO),
        Some(text) => Ok(Duration::from_millis(parse_duration_ms(text)?.max(0) as u64)),
    }
}

fn when(ms: i64) -> String {
    format_timestamp_ms(ms)
}

fn invite(
    ctx: &Ctx,
    name: &str,
    role: Option<&str>,
    expires: Option<&str>,
    cancel: bool,
) -> Result<u8> {
    let mut s = ctx.session()?;
    if cancel {
        let done = s.team_cancel_invitation(name)?;
        if ctx.json {
            output::json(&serde_json::json!({ "name": name, "cancelled": done }));
        } else if done {
            outln!("cancelled the invitation for {name}: its code opens nothing now");
        } else {
            outln!("no open invitation for {name}");
        }
        return Ok(0);
    }
    let role: Role = role
        .ok_or_else(|| Error::invalid("give the invitee's role with --role"))?
        .parse()?;
    let valid = duration(expires, Duration::from_secs(24 * 3600))?;
    let made = s.team_invite(&ctx.scope.workspace, name, role, valid)?;
    if ctx.json {
        output::json(&made);
        return Ok(0);
    }
    outln!(
        "invited {} as {} in workspace '{}' until {}",
        made.name,
        made.role,
        made.workspace,
        when(made.expires_at)
    );
    outln!("give them this code (it works once; treat it like a password):");
    outln!();
    outln!("    {}", made.code);
    outln!();
    outln!(
        "They run `coffer team join CODE`; then admit them with `coffer team admit {}`",
        made.name
    );
    outln!("once you have compared the fingerprint on their screen (in person or on a call).");
    Ok(0)
}

fn invitations(ctx: &Ctx) -> Result<u8> {
    let mut s = ctx.session()?;
    let all = s.team_invitations()?;
    if ctx.json {
        output::json(&all);
        return Ok(0);
    }
    if all.is_empty() {
        outln!("no open invitations");
    }
    for i in &all {
        let state = match (&i.fingerprint, i.expired) {
            (_, true) => "expired".to_string(),
            (Some(_), false) => "joined: waiting for `coffer team admit`".to_string(),
            (None, false) => format!("not joined yet (until {})", when(i.expires_at)),
        };
        outln!("{}  {} in '{}'  {state}", i.name, i.role, i.workspace);
    }
    Ok(0)
}

fn admit(ctx: &Ctx, name: &str, fingerprint: Option<String>) -> Result<u8> {
    let typed = match fingerprint {
        Some(fp) => fp,
        None if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
            eprint!("The fingerprint on {name}'s screen (they see it after `coffer team join`): ");
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| Error::Io(format!("could not read the fingerprint: {e}")))?;
            line
        }
        None => {
            return Err(Error::invalid(
                "give the fingerprint shown on their screen with --fingerprint",
            ))
        }
    };
    let mut s = ctx.session()?;
    let done = s.team_admit(name, &typed)?;
    if ctx.json {
        output::json(&done);
        return Ok(0);
    }
    outln!(
        "admitted {} as {} in workspace '{}' (fingerprint {}); their keys are sealed and synced",
        done.name,
        done.role,
        done.workspace,
        done.fingerprint
    );
    for r in &done.sync.refused {
        outln!("refused: {r}");
    }
    Ok(if done.sync.refused.is_empty() { 0 } else { 1 })
}

fn join(ctx: &Ctx, code: Option<String>, server: Option<String>, wait: Option<&str>) -> Result<u8> {
    let wait = duration(wait, Duration::from_secs(15 * 60))?;
    let passphrase = match &code {
        Some(_) => crate::credentials::new_passphrase("you", Some("COFFER_PASSPHRASE"))?,
        None => crate::credentials::passphrase("Passphrase: ")?,
    };
    if let Some(code) = &code {
        let server = server.as_deref().map(ServerUrl::parse).transpose()?;
        let started = Vault::team_join(
            &ctx.vault,
            code,
            server.as_ref(),
            &passphrase,
            KdfParams::RECOMMENDED,
        )?;
        if ctx.json && wait.is_zero() {
            output::json(&started);
        }
        if !ctx.json {
            outln!(
                "asked to join {} as {} ({}); your keys are in {}",
                started.server,
                started.name,
                started.role,
                ctx.vault.display()
            );
            outln!();
            outln!("    your fingerprint: {}", started.fingerprint);
            outln!();
            outln!(
                "Read it out to the owner who invited you (in person or on a call): they admit you"
            );
            outln!("only when it matches what their Coffer shows.");
            if wait.is_zero() {
                outln!("Once they have admitted you, run `coffer team join` (no code) to finish.");
            }
        }
        if wait.is_zero() {
            return Ok(0);
        }
    }
    let deadline = Instant::now() + wait;
    let mut told = false;
    loop {
        match Vault::team_join_finish(&ctx.vault, &passphrase)? {
            JoinProgress::Joined(done) => {
                if ctx.json {
                    output::json(&done);
                } else {
                    outln!(
                        "joined {} as {}: {} taken into {}; workspaces: {}",
                        done.server,
                        done.name,
                        count(done.records, "record"),
                        ctx.vault.display(),
                        done.workspaces.join(", ")
                    );
                    outln!(
                        "you are `{}` here: set COFFER_MEMBER={} (or pass --as)",
                        done.name,
                        done.name
                    );
                }
                return Ok(0);
            }
            JoinProgress::Waiting { name, fingerprint } => {
                if Instant::now() >= deadline {
                    if ctx.json {
                        output::json(&serde_json::json!({
                            "name": name, "fingerprint": fingerprint, "admitted": false
                        }));
                    } else {
                        outln!(
                            "not admitted yet: once the owner has admitted {name} (fingerprint {fingerprint}), run `coffer team join` again"
                        );
                    }
                    // Not done, nothing wrong: like a check with work left.
                    return Ok(1);
                }
                if !told && !ctx.json {
                    outln!("waiting for the owner to admit you… (Ctrl-C stops waiting; `coffer team join` carries on later)");
                    told = true;
                }
                std::thread::sleep(Duration::from_secs(1).min(deadline - Instant::now()));
            }
        }
    }
}

fn upgrade(ctx: &Ctx, text: &str) -> Result<u8> {
    let url = admin_url(text)?;
    let mut server = url.connect()?;
    let before = match server.schema_state()? {
        SchemaState::Empty => {
            return Err(Error::not_found(format!(
                "team vault at {} (make one with `coffer team create`)",
                url.display()
            )))
        }
        SchemaState::Older { found } => found,
        SchemaState::Current => SCHEMA_VERSION,
        SchemaState::Newer { found } => {
            return Err(Error::SchemaTooNew {
                found: found as usize,
                known: SCHEMA_VERSION as usize,
            })
        }
    };
    let applied = server.migrate()?;
    if ctx.json {
        output::json(&serde_json::json!({
            "server": url.display(), "from": before, "to": SCHEMA_VERSION, "applied": applied
        }));
    } else if applied == 0 {
        outln!(
            "the team server at {} has schema {SCHEMA_VERSION} already",
            url.display()
        );
    } else {
        outln!(
            "upgraded the team server at {} from schema {before} to {SCHEMA_VERSION}",
            url.display()
        );
    }
    Ok(0)
}
