//! `coffer doctor`: one command that says what is wrong and how to fix it — the vault
//! file (permissions, SQLite's integrity check, schema, this machine's anchor), the OS
//! keyring (a real round trip), the session agent, and, when the vault opens without
//! a prompt, the audit chain and the signed directory. Exit 1 when something needs
//! action.

use coffer_core::device::{DeviceKeyStore, OsKeyring};
use coffer_core::doctor::{check_file, Finding, Level};
use coffer_core::{ErrorCode, Result, Vault};

use crate::commands::Ctx;
use crate::output;

pub fn doctor(ctx: &Ctx) -> Result<u8> {
    let mut findings = check_file(&ctx.vault);
    let member = crate::credentials::member(ctx.member.as_deref()).ok();
    keyring(ctx, member.as_deref(), &mut findings);
    if let Some(member) = &member {
        agent(ctx, member, &mut findings);
        if ctx.vault.exists() {
            unlocked(ctx, member, &mut findings);
        }
    }
    let needs_action = findings.iter().any(|f| f.level == Level::Fix);
    if ctx.json {
        output::json(&findings);
    } else {
        for f in &findings {
            let level = match f.level {
                Level::Ok => "ok  ",
                Level::Note => "note",
                Level::Fix => "FIX ",
            };
            output::line(format!("{level}  {:<12} {}", f.check, f.text));
        }
    }
    Ok(u8::from(needs_action))
}

/// The OS keyring: a value written, read back and removed under a throwaway name.
fn keyring(ctx: &Ctx, member: Option<&str>, out: &mut Vec<Finding>) {
    let store = OsKeyring;
    let account = format!("doctor-check-{}", std::process::id());
    let probe = *b"coffer doctor round trip";
    let trip = store
        .set(&account, &probe)
        .and_then(|()| store.get(&account))
        .map(|got| got.is_some_and(|g| g.as_slice() == probe));
    let _ = store.delete(&account);
    let remembered = member.is_some_and(|m| {
        Vault::open(&ctx.vault)
            .and_then(|v| v.has_device_slot(m))
            .unwrap_or(false)
    });
    out.push(match trip {
        Ok(true) => Finding::ok("keyring", "the OS keyring (Secret Service) stores and returns a key"),
        Ok(false) => Finding::fix(
            "keyring",
            "the OS keyring returned something else than what was stored: check the keyring daemon",
        ),
        Err(e) if remembered => Finding::fix(
            "keyring",
            format!("{e}, but this vault is remembered on this device: start a Secret Service (gnome-keyring, KeePassXC) or unlock with the passphrase and `coffer device forget`"),
        ),
        Err(e) => Finding::note(
            "keyring",
            format!("{e}: `coffer device remember` will not work here; the passphrase (or COFFER_PASSPHRASE) always does"),
        ),
    });
}

/// Whether an agent from `coffer unlock` is serving this vault and member.
fn agent(ctx: &Ctx, member: &str, out: &mut Vec<Finding>) {
    let Ok(socket) = crate::agent::socket_path(&ctx.vault, member) else {
        out.push(Finding::note(
            "agent",
            "no private runtime directory ($XDG_RUNTIME_DIR): `coffer unlock` cannot keep an agent here",
        ));
        return;
    };
    out.push(if !socket.exists() {
        Finding::note(
            "agent",
            format!("none for {member}: `coffer unlock --for 8h` spares the passphrase (and its ~0.2 s) on every command"),
        )
    } else if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
        Finding::ok("agent", format!("running for {member} (`coffer lock` ends it)"))
    } else {
        let _ = std::fs::remove_file(&socket);
        Finding::note("agent", "a stale agent socket was found and removed")
    });
}

/// With a session that needs no prompt (an agent, COFFER_PASSPHRASE, the keyring):
/// the member's certificate chain (checked as it opens), the signed rows of the
/// workspace and project, and the audit chain.
fn unlocked(ctx: &Ctx, member: &str, out: &mut Vec<Finding>) {
    let session = crate::agent::session_from_agent(&ctx.vault, member)
        .map(Ok)
        .or_else(|| {
            let prompt_free = std::env::var_os("COFFER_PASSPHRASE").is_some()
                || Vault::open(&ctx.vault)
                    .and_then(|v| v.has_device_slot(member))
                    .unwrap_or(false);
            prompt_free.then(|| crate::credentials::unlock(&ctx.vault, member))
        });
    let mut s = match session {
        None => {
            out.push(Finding::note(
                "audit",
                "the chain and the directory signatures were not checked: run doctor with an agent (`coffer unlock --for 10m`) or COFFER_PASSPHRASE",
            ));
            return;
        }
        Some(Err(e)) => {
            out.push(Finding::fix(
                "unlock",
                format!("{member} cannot unlock: {e}"),
            ));
            return;
        }
        Some(Ok(s)) => s,
    };
    out.push(match s.list_secrets(&ctx.scope, false) {
        Ok(_) => Finding::ok(
            "directory",
            format!(
                "{member}'s certificate chain and the signed rows of {}/{} verify",
                ctx.scope.workspace, ctx.scope.project
            ),
        ),
        Err(e) if e.code() == ErrorCode::Integrity => Finding::fix(
            "directory",
            format!("{e}: the file was edited outside Coffer; restore a snapshot from before (`coffer snapshots`, `coffer restore FILE`)"),
        ),
        Err(e) => Finding::note("directory", format!("not checked here: {e}")),
    });
    out.extend(coffer_core::doctor::recovery_key(&s));
    out.push(match s.verify_audit(&ctx.scope.workspace) {
        Ok(r) if r.ok => Finding::ok(
            "audit",
            format!(
                "the chain verifies ({} of {} in it)",
                output::count(r.events, "event"),
                ctx.scope.workspace
            ),
        ),
        Ok(r) => Finding::fix(
            "audit",
            format!(
                "the chain is broken at event {}: {} (see `coffer audit verify`)",
                r.first_bad.unwrap_or_default(),
                r.problem.unwrap_or_default()
            ),
        ),
        Err(e) if e.code() == ErrorCode::Denied => Finding::note(
            "audit",
            format!(
                "not checked: {member} may not audit here (an owner or auditor can run doctor)"
            ),
        ),
        Err(e) => Finding::fix("audit", format!("could not be checked: {e}")),
    });
}
