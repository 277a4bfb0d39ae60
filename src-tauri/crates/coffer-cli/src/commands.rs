//! One function per command: parse what clap gave into core requests, call the core,
//! print the result. Returns the process exit code on success (1 for failed checks).

use std::path::PathBuf;
use std::sync::Arc;

use coffer_core::access::{Capability, Role};
use coffer_core::clock::SystemClock;
use coffer_core::crypto::KdfParams;
use coffer_core::device::OsKeyring;
use coffer_core::import::{self, ImportFormat};
use coffer_core::spreadsheet::formula_safe;
use coffer_core::text::terminal_safe_line;
use coffer_core::time_fmt::{format_timestamp_ms, parse_duration_ms};
use coffer_core::{
    AuditFilter, EnvState, Error, Result, Scope, SecretKind, SecretScope, Session, SetOutcome,
    ValueSource, Vault,
};

use crate::agent;
use crate::cli::*;
use crate::credentials;
use crate::output::{self, clip, outln, table};
use crate::served;

pub(crate) struct Ctx {
    pub vault: PathBuf,
    pub member: Option<String>,
    pub scope: Scope,
    pub json: bool,
}

impl Ctx {
    /// An unlocked session: from a running `coffer unlock` agent if there is one,
    /// else the usual way (passphrase variable, device keyring, prompt).
    pub fn session(&self) -> Result<Session> {
        let member = credentials::member(self.member.as_deref())?;
        if let Some(session) = agent::session_from_agent(&self.vault, &member) {
            return Ok(session);
        }
        credentials::unlock(&self.vault, &member)
    }

    /// Before a change to a protected environment, make sure the passphrase was given
    /// in this process (it was, unless the device keyring unlocked).
    fn confirm_if_protected(&self, s: &mut Session, environment: &str) -> Result<()> {
        if s.needs_reauth(&self.scope, environment)? {
            confirm_for(s, environment)?;
        }
        Ok(())
    }

    /// Before deleting, restoring or purging a secret with a value in a protected
    /// environment.
    fn confirm_for_secret(&self, s: &mut Session, name: &str) -> Result<()> {
        if let Some(environment) = s.reauth_needed_for_secret(&self.scope, name)? {
            confirm_for(s, &environment)?;
        }
        Ok(())
    }

    pub(crate) fn say(&self, text: impl AsRef<str>) {
        if !self.json {
            outln!("{}", text.as_ref());
        }
    }
}

fn default_vault_path() -> Result<PathBuf> {
    coffer_core::default_vault_path().ok_or_else(|| {
        Error::Invalid("no home directory: give --vault PATH or COFFER_VAULT".into())
    })
}

fn env_or(flag: Option<String>, var: &str, default: &str) -> String {
    flag.or_else(|| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| default.to_string())
}

fn duration(raw: Option<&str>) -> Result<Option<i64>> {
    raw.map(parse_duration_ms).transpose()
}

pub fn run(cli: Cli) -> Result<u8> {
    // Neither needs a vault, or a home to find one in.
    match &cli.command {
        Command::Completions { shell } => return completions(*shell),
        Command::Man { out } => return man_pages(out),
        _ => {}
    }
    let ctx = Ctx {
        vault: match cli.globals.vault {
            Some(p) => p,
            None => default_vault_path()?,
        },
        member: cli.globals.member,
        scope: Scope::new(
            env_or(cli.globals.workspace, "COFFER_WORKSPACE", "default"),
            env_or(cli.globals.project, "COFFER_PROJECT", "default"),
        ),
        json: cli.globals.json,
    };
    match cli.command {
        Command::Init {
            owner,
            no_recovery_key,
            kdf_memory,
            kdf_passes,
        } => {
            let kdf = KdfParams {
                m: kdf_memory.map_or(KdfParams::RECOMMENDED.m, |mib| mib.saturating_mul(1024)),
                t: kdf_passes.unwrap_or(KdfParams::RECOMMENDED.t),
                ..KdfParams::RECOMMENDED
            };
            kdf.check_strong()?;
            init(&ctx, &owner, !no_recovery_key, kdf)
        }
        Command::Recover => crate::recovery::recover(&ctx),
        Command::RecoveryKey(RecoveryKeyCmd::Rotate) => crate::recovery::rotate(&ctx),
        Command::Role(RoleCmd::List) => roles(&ctx),
        Command::Member(cmd) => member(&ctx, cmd),
        Command::Workspace(cmd) => workspace(&ctx, cmd),
        Command::Project(cmd) => project(&ctx, cmd),
        Command::Env(cmd) => env(&ctx, cmd),
        Command::Set(args) => set(&ctx, args),
        Command::Ls(LsArgs {
            environment,
            deleted,
        }) => ls(&ctx, environment.as_deref(), deleted),
        Command::Show { name } => show(&ctx, &name),
        Command::Reveal(RevealArgs {
            name,
            environment,
            version,
            reason,
            no_newline,
        }) => {
            let call = served::Request::Reveal {
                name: &name,
                environment: environment.as_deref(),
                version,
                reason: reason.as_deref(),
            };
            let value = match served::ask::<served::Revealed>(&ctx, call) {
                Some(revealed) => revealed?.0,
                None => ctx.session()?.reveal(
                    &ctx.scope,
                    &name,
                    environment.as_deref(),
                    version,
                    reason.as_deref(),
                )?,
            };
            if ctx.json {
                output::revealed_json(&name, &value);
            } else if value.is_binary() {
                output::binary_value(&name, &value, no_newline);
            } else {
                use std::io::{IsTerminal, Write};
                let mut out = std::io::stdout().lock();
                // Piped, the value goes out exactly as stored. On a terminal, an escape
                // sequence another member wrote into it would run: show it escaped.
                let escaped = out
                    .is_terminal()
                    .then(|| coffer_core::text::terminal_safe(value.expose()))
                    .and_then(|shown| match shown {
                        std::borrow::Cow::Owned(e) => Some(zeroize::Zeroizing::new(e)),
                        std::borrow::Cow::Borrowed(_) => None,
                    });
                if escaped.is_some() {
                    output::err_line(
                        "note: the value holds control characters, shown escaped here; \
                         pipe it (coffer reveal NAME | …) to get it exactly",
                    );
                }
                let bytes = escaped
                    .as_ref()
                    .map_or(value.expose(), |e| e.as_str())
                    .as_bytes();
                let _ = out.write_all(bytes);
                if !no_newline {
                    let _ = out.write_all(b"\n");
                }
                let _ = out.flush();
            }
            Ok(0)
        }
        Command::Rollback {
            name,
            environment,
            to,
        } => {
            let mut s = ctx.session()?;
            ctx.confirm_if_protected(&mut s, &environment)?;
            let out = s.rollback(&ctx.scope, &name, &environment, to)?;
            if ctx.json {
                output::json(&out);
            }
            ctx.say(format!(
                "rolled back {name} in {environment} to version {to}: now version {}",
                out.version
            ));
            Ok(0)
        }
        Command::Rm { name } => {
            let mut s = ctx.session()?;
            ctx.confirm_for_secret(&mut s, &name)?;
            let purge_at = s.delete_secret(&ctx.scope, &name)?;
            ctx.say(format!(
                "deleted {name}; restore it with `coffer restore {name}` before {}",
                format_timestamp_ms(purge_at)
            ));
            Ok(0)
        }
        Command::Restore {
            name,
            from,
            replace,
        } => {
            let file =
                from.or_else(|| name.as_ref().filter(|n| n.contains('/')).map(PathBuf::from));
            if let Some(file) = file {
                return crate::backups::restore(&ctx, &file, replace);
            }
            let name = name.unwrap_or_default();
            let mut s = ctx.session()?;
            ctx.confirm_for_secret(&mut s, &name)?;
            s.restore_secret(&ctx.scope, &name).map_err(|e| match e {
                // `coffer restore backup.db` meant the file, most likely.
                Error::NotFound { what } if std::path::Path::new(&name).is_file() => {
                    Error::not_found(format!(
                        "{what}; to restore the vault from the file {name}, give its path: coffer restore ./{name}"
                    ))
                }
                e => e,
            })?;
            ctx.say(format!("restored {name}"));
            Ok(0)
        }
        Command::Purge { name } => {
            let mut s = ctx.session()?;
            ctx.confirm_for_secret(&mut s, &name)?;
            s.purge_secret(&ctx.scope, &name)?;
            ctx.say(format!(
                "purged {name}: its values are gone from the vault (snapshots taken before keep them until they rotate out: `coffer snapshots`)"
            ));
            Ok(0)
        }
        Command::Settings(cmd) => settings(&ctx, cmd),
        Command::Audit(args) => audit(&ctx, args),
        Command::Import { file, environment } => import_file(&ctx, &file, environment.as_deref()),
        Command::Export => {
            let doc = ctx.session()?.export(&ctx.scope)?;
            output::json(&doc);
            Ok(0)
        }
        Command::Device(cmd) => device(&ctx, cmd),
        Command::Passphrase(PassphraseCmd::Change) => {
            let member = credentials::member(ctx.member.as_deref())?;
            credentials::change_passphrase(&ctx.vault, &member)?;
            ctx.say(format!("passphrase changed for {member}"));
            Ok(0)
        }
        Command::Run(args) => crate::run::run(&ctx, args),
        Command::Check(args) => crate::check::check(&ctx, args),
        Command::Doctor => crate::doctor::doctor(&ctx),
        Command::Backup { to } => crate::backups::backup(&ctx, to.as_deref()),
        Command::Team(cmd) => crate::team::team(&ctx, cmd),
        Command::Snapshots {
            keep_daily,
            keep_weekly,
        } => crate::backups::snapshots(&ctx, keep_daily, keep_weekly),
        Command::Request(args) => crate::request::request(&ctx, args),
        Command::Ref {
            name,
            environment,
            ttl,
            once,
        } => {
            let ttl = duration(ttl.as_deref())?;
            let handle =
                ctx.session()?
                    .mint_handle(&ctx.scope, environment.as_deref(), &name, ttl, once)?;
            if ctx.json {
                output::json(&serde_json::json!({ "handle": handle }));
            } else {
                outln!("{handle}");
            }
            Ok(0)
        }
        Command::Unlock { duration } => {
            // Always the real credentials: an agent must not extend itself.
            let member = credentials::member(ctx.member.as_deref())?;
            // End an agent already serving this vault and member while no key is
            // held here yet (asking an agent means being inspectable).
            agent::lock(&ctx.vault, &member)?;
            let session = credentials::unlock(&ctx.vault, &member)?;
            let until = agent::unlock_for(&session, &ctx.vault, &duration)?;
            ctx.say(format!(
                "unlocked for {member} until {until}; `coffer lock` ends it sooner"
            ));
            Ok(0)
        }
        Command::Lock => {
            let member = credentials::member(ctx.member.as_deref())?;
            let ended = agent::lock(&ctx.vault, &member)?;
            ctx.say(if ended {
                "locked: the unlocked session has ended"
            } else {
                "no unlocked session to end"
            });
            Ok(0)
        }
        // The vault is the one `unlock` gave with --vault.
        Command::Agent { socket, until_ms } => agent::serve(&socket, &ctx.vault, until_ms),
        Command::Completions { shell } => completions(shell),
        Command::Man { out } => man_pages(&out),
    }
}

/// Asks for the passphrase again because `environment` is protected.
fn confirm_for(s: &mut Session, environment: &str) -> Result<()> {
    // COFFER_PASSPHRASE is given to this process too (an agent's session had none).
    let p = credentials::passphrase(&format!(
        "'{environment}' is protected; passphrase for {}: ",
        s.member()
    ))
    .map_err(|_| {
        Error::Auth(format!(
            "environment '{environment}' is protected: confirm your passphrase (COFFER_PASSPHRASE, or run in a terminal)"
        ))
    })?;
    s.confirm_passphrase(&p)
}

fn init(ctx: &Ctx, owner: &str, with_recovery_key: bool, kdf: KdfParams) -> Result<u8> {
    let passphrase = credentials::new_passphrase(owner, Some("COFFER_PASSPHRASE"))?;
    let mut s = Vault::create(&ctx.vault, owner, &passphrase, kdf, Arc::new(SystemClock))?;
    let recovery = with_recovery_key
        .then(|| s.rotate_recovery_key())
        .transpose()?;
    if ctx.json {
        output::json(&serde_json::json!({
            "vault": ctx.vault,
            "owner": s.member(),
            "recovery_key": recovery.as_ref().map(|k| k.words().join(" ")),
        }));
    }
    ctx.say(format!(
        "created vault {} with owner {owner}, workspace 'default', project 'default' \
         and environments development, staging, production",
        ctx.vault.display()
    ));
    if let Some(key) = recovery.filter(|_| !ctx.json) {
        crate::recovery::show_once(&key)?;
    }
    Ok(0)
}

fn roles(ctx: &Ctx) -> Result<u8> {
    if ctx.json {
        let rows: Vec<_> = Role::ALL
            .iter()
            .map(|r| serde_json::json!({ "role": r, "capabilities": r.capabilities() }))
            .collect();
        output::json(&rows);
        return Ok(0);
    }
    let mut headers = vec!["ROLE"];
    headers.extend(Capability::ALL.iter().map(|c| c.as_str()));
    let rows: Vec<Vec<String>> = Role::ALL
        .iter()
        .map(|r| {
            let mut row = vec![r.as_str().to_string()];
            row.extend(
                Capability::ALL
                    .iter()
                    .map(|c| if r.allows(*c) { "yes" } else { "-" }.to_string()),
            );
            row
        })
        .collect();
    table(&headers, &rows);
    Ok(0)
}

fn member(ctx: &Ctx, cmd: MemberCmd) -> Result<u8> {
    let mut s = ctx.session()?;
    let ws = ctx.scope.workspace.clone();
    match cmd {
        MemberCmd::Add { name, role } => {
            let role: Role = role.parse()?;
            let passphrase = credentials::new_passphrase(&name, None)?;
            s.add_member(&ws, &name, role, &passphrase)?;
            ctx.say(format!("added {name} as {role} in workspace '{ws}'"));
        }
        MemberCmd::List => {
            let members = s.list_members(&ws)?;
            if ctx.json {
                output::json(&members);
            } else {
                let rows: Vec<Vec<String>> = members
                    .iter()
                    .map(|m| {
                        vec![
                            m.name.clone(),
                            m.role.to_string(),
                            m.project.clone().unwrap_or_else(|| "(all)".into()),
                            m.capabilities
                                .iter()
                                .map(|c| c.as_str())
                                .collect::<Vec<_>>()
                                .join(","),
                        ]
                    })
                    .collect();
                table(&["MEMBER", "ROLE", "PROJECT", "CAPABILITIES"], &rows);
            }
        }
        MemberCmd::Grant {
            name,
            role,
            only_project,
        } => {
            let role: Role = role.parse()?;
            s.grant_role(&ws, &name, role, only_project.as_deref())?;
            ctx.say(format!("{name} is now {role} in workspace '{ws}'"));
        }
        MemberCmd::Remove { name } => {
            s.remove_member(&ws, &name)?;
            ctx.say(format!("removed {name} from workspace '{ws}'"));
            // On a team vault the server cuts them off now, and takes the new keys.
            if s.is_on_team_server()? {
                match s.team_sync() {
                    Ok(done) if done.refused.is_empty() => ctx.say(
                        "the team server has the change: a member removed from the vault can no longer log in",
                    ),
                    Ok(done) => {
                        for r in &done.refused {
                            ctx.say(format!("refused: {r}"));
                        }
                        return Ok(1);
                    }
                    Err(e) => ctx.say(format!(
                        "the team server is not reachable ({e}): it learns of the removal at the next `coffer team sync`"
                    )),
                }
            }
        }
    }
    Ok(0)
}

fn workspace(ctx: &Ctx, cmd: WorkspaceCmd) -> Result<u8> {
    let mut s = ctx.session()?;
    match cmd {
        WorkspaceCmd::Create { name } => {
            s.create_workspace(&name)?;
            ctx.say(format!("created workspace '{name}' (you are its owner)"));
        }
        WorkspaceCmd::List => {
            let list = s.list_workspaces()?;
            if ctx.json {
                output::json(&list);
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|w| {
                        vec![
                            w.name.clone(),
                            w.role
                                .map(|r| r.to_string())
                                .unwrap_or_else(|| "(per project)".into()),
                        ]
                    })
                    .collect();
                table(&["WORKSPACE", "ROLE"], &rows);
            }
        }
    }
    Ok(0)
}

fn project(ctx: &Ctx, cmd: ProjectCmd) -> Result<u8> {
    let mut s = ctx.session()?;
    match cmd {
        ProjectCmd::Create { name } => {
            s.create_project(&ctx.scope.workspace, &name)?;
            ctx.say(format!(
                "created project '{name}' with environments development, staging, production"
            ));
        }
        ProjectCmd::List => {
            let list = s.list_projects(&ctx.scope.workspace)?;
            if ctx.json {
                output::json(&list);
            } else {
                table(
                    &["PROJECT"],
                    &list
                        .iter()
                        .map(|p| vec![p.name.clone()])
                        .collect::<Vec<_>>(),
                );
            }
        }
    }
    Ok(0)
}

fn env(ctx: &Ctx, cmd: EnvCmd) -> Result<u8> {
    let mut s = ctx.session()?;
    match cmd {
        EnvCmd::Create { name, protected } => {
            s.create_environment(&ctx.scope, &name, protected)?;
            ctx.say(format!(
                "created environment '{name}'{}",
                if protected { " (protected)" } else { "" }
            ));
        }
        EnvCmd::List => {
            let list = s.list_environments(&ctx.scope)?;
            if ctx.json {
                output::json(&list);
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|e| {
                        vec![
                            e.name.clone(),
                            if e.protected { "protected" } else { "" }.to_string(),
                        ]
                    })
                    .collect();
                table(&["ENVIRONMENT", "PROTECTION"], &rows);
            }
        }
        EnvCmd::Protect { name } => {
            confirm_always(&mut s)?;
            s.set_environment_protected(&ctx.scope, &name, true)?;
            ctx.say(format!(
                "'{name}' is protected: changes ask for the passphrase again"
            ));
        }
        EnvCmd::Unprotect { name } => {
            confirm_always(&mut s)?;
            s.set_environment_protected(&ctx.scope, &name, false)?;
            ctx.say(format!("'{name}' is no longer protected"));
        }
    }
    Ok(0)
}

/// Protection changes always need a passphrase given in this process.
fn confirm_always(s: &mut Session) -> Result<()> {
    if std::env::var("COFFER_PASSPHRASE")
        .map(|p| p.is_empty())
        .unwrap_or(true)
    {
        let p = credentials::prompt(&format!("Passphrase for {}: ", s.member()))?;
        s.confirm_passphrase(&p)?;
    }
    Ok(())
}

fn set(ctx: &Ctx, a: SetArgs) -> Result<u8> {
    if a.value_arg.is_some() || !a.stray.is_empty() {
        return Err(Error::Invalid(
            "values are never taken from arguments (they would land in shell history and ps): \
             pipe the value in with --value-stdin, or use --generate"
                .into(),
        ));
    }
    let allowed_hosts = match (a.no_allowed_hosts, a.allow_host.is_empty()) {
        (true, _) => Some(Vec::new()),
        (false, false) => Some(a.allow_host.clone()),
        (false, true) => None,
    };
    if !a.value_stdin && !a.generate {
        let only_hosts = a.description.is_none()
            && a.kind.is_none()
            && a.scope.is_none()
            && a.expires_in.is_none()
            && a.rotate_every.is_none()
            && a.if_version.is_none()
            && a.environment.is_none();
        return match allowed_hosts {
            Some(hosts) if only_hosts => set_allowed_hosts(ctx, &a.name, &hosts),
            _ => Err(Error::Invalid(
                "give the value with --value-stdin (piped or typed) or --generate \
                 (only --allow-host and --no-allowed-hosts change a secret without a value)"
                    .into(),
            )),
        };
    }
    // Checked before the value is read; parsed again where the request is made.
    a.kind.as_deref().map(SecretKind::parse).transpose()?;
    a.scope.as_deref().map(SecretScope::parse).transpose()?;
    let expires_in_ms = duration(a.expires_in.as_deref())?;
    let rotate_every_ms = duration(a.rotate_every.as_deref())?;
    coffer_core::names::secret(&a.name)?;
    let value = if a.generate {
        ValueSource::Generate {
            length: a.length.unwrap_or(coffer_core::generate::DEFAULT_LENGTH),
            alphabet: a.alphabet.unwrap_or_else(|| "alnum".into()),
        }
    } else {
        credentials::read_value(&a.name)?
    };
    let call = served::SetCall {
        name: a.name,
        environment: a.environment,
        value,
        description: a.description,
        kind: a.kind,
        scope: a.scope,
        expires_in_ms,
        rotate_every_ms,
        if_version: a.if_version,
        allowed_hosts,
    };
    // The agent declines a protected environment: its passphrase is asked here.
    let out = match served::ask::<SetOutcome>(ctx, served::Request::Set(&call)) {
        Some(out) => out?,
        None => {
            let mut s = ctx.session()?;
            ctx.confirm_if_protected(&mut s, call.environment())?;
            s.set_secret(&ctx.scope, call.into_request()?)?
        }
    };
    if ctx.json {
        output::json(&out);
    }
    ctx.say(format!(
        "{} {} in {} (version {})",
        if out.created { "created" } else { "updated" },
        out.name,
        out.environment,
        out.version
    ));
    Ok(0)
}

/// `set NAME --allow-host …` without a value: only the list changes.
fn set_allowed_hosts(ctx: &Ctx, name: &str, hosts: &[String]) -> Result<u8> {
    let hosts = ctx.session()?.set_allowed_hosts(&ctx.scope, name, hosts)?;
    if ctx.json {
        output::json(&serde_json::json!({ "name": name, "allowed_hosts": hosts }));
    } else if hosts.is_empty() {
        outln!(
            "{name} may now be sent to no host by test requests (except by members who may reveal)"
        );
    } else {
        outln!("{name} may now be sent to: {}", hosts.join(", "));
    }
    Ok(0)
}

fn env_cell(e: &coffer_core::EnvStatus) -> String {
    let mut cell = String::new();
    env_cell_into(&mut cell, e);
    cell
}

fn env_cell_into(cell: &mut String, e: &coffer_core::EnvStatus) {
    use std::fmt::Write as _;
    let _ = match e.state {
        EnvState::Missing => write!(cell, "-"),
        EnvState::Expired => write!(cell, "v{} expired", e.version.unwrap_or(0)),
        EnvState::Set => write!(cell, "v{}", e.version.unwrap_or(0)),
    };
    if e.rotation_due {
        cell.push_str(" rotate!");
    }
    if e.expiring_soon {
        cell.push_str(" expiring");
    }
    if !e.exposed_to.is_empty() {
        cell.push_str(" exposed!");
    }
}

fn ls(ctx: &Ctx, environment: Option<&str>, deleted: bool) -> Result<u8> {
    let listing = served::Request::List {
        environment,
        deleted,
        json: ctx.json,
    };
    if let Some(done) = served::ask_output(ctx, listing, std::io::stdout().lock()) {
        done?;
        return Ok(0);
    }
    let mut s = ctx.session()?;
    render_ls(&mut s, &ctx.scope, deleted, environment, ctx.json)?
        .write_to(std::io::stdout().lock());
    Ok(0)
}

/// A listing — JSON, or a table with a column per environment — printed into memory
/// as the secrets are read, before anything is shown: an error prints nothing but
/// itself. The session agent sends it to the client's socket.
pub(crate) fn render_ls(
    s: &mut coffer_core::Session,
    scope: &Scope,
    deleted: bool,
    environment: Option<&str>,
    json: bool,
) -> Result<output::Spool> {
    if json {
        let mut array = output::JsonArray::new(output::Spool::default());
        s.each_secret_in(scope, deleted, environment, &mut |item| {
            array.push(&item);
            Ok(())
        })?;
        return Ok(array.finish_into());
    }
    let mut grid: Option<output::Grid> = None;
    s.each_secret_in(scope, deleted, environment, &mut |item| {
        let grid = grid.get_or_insert_with(|| {
            let envs: Vec<String> = item
                .environments
                .iter()
                .map(|e| e.environment.to_uppercase())
                .collect();
            output::Grid::new(
                ["NAME", "DESCRIPTION"]
                    .into_iter()
                    .chain(envs.iter().map(String::as_str))
                    .chain(["UPDATED"]),
            )
        });
        grid.cell_with(|cell| {
            cell.push_str(&item.name);
            if item.deleted_at.is_some() {
                cell.push_str(" (deleted)");
            }
        });
        grid.cell_with(|cell| output::clip_into(cell, &item.description, 40));
        for e in &item.environments {
            grid.cell_with(|cell| env_cell_into(cell, e));
        }
        grid.cell(&format_timestamp_ms(item.updated_at));
        Ok(())
    })?;
    let mut out = output::Spool::default();
    match grid {
        Some(grid) => grid.write_to(&mut out),
        None => {
            use std::io::Write as _;
            let _ = writeln!(
                out,
                "no secrets in {}/{} yet: add one with `coffer set NAME --value-stdin`",
                coffer_core::text::terminal_safe_line(&scope.workspace),
                coffer_core::text::terminal_safe_line(&scope.project)
            );
        }
    }
    Ok(out)
}

fn show(ctx: &Ctx, name: &str) -> Result<u8> {
    let mut s = ctx.session()?;
    let d = s.show_secret(&ctx.scope, name)?;
    let used_in = s.usages(&ctx.scope, name)?;
    if ctx.json {
        let mut doc = serde_json::to_value(&d).map_err(|e| Error::Io(e.to_string()))?;
        doc["used_in"] = serde_json::to_value(&used_in).map_err(|e| Error::Io(e.to_string()))?;
        output::json(&doc);
        return Ok(0);
    }
    let sm = &d.summary;
    outln!(
        "{}  ({}, {} scope, created by {})",
        sm.name,
        sm.kind.as_str(),
        sm.scope.as_str(),
        sm.owner
    );
    if !sm.description.is_empty() {
        outln!("{}", sm.description);
    }
    if let Some(r) = &sm.rotate_every {
        outln!("rotate every {r}");
    }
    if d.allowed_hosts.is_empty() {
        outln!(
            "allowed hosts: none (test requests need reveal; a writer adds one with --allow-host)"
        );
    } else {
        outln!("allowed hosts: {}", d.allowed_hosts.join(", "));
    }
    if let Some(p) = sm.purge_at {
        outln!(
            "DELETED: restore before {} or it is purged",
            format_timestamp_ms(p)
        );
    }
    outln!();
    let rows: Vec<Vec<String>> = sm
        .environments
        .iter()
        .map(|e| {
            vec![
                e.environment.clone(),
                env_cell(e),
                e.updated_at.map(format_timestamp_ms).unwrap_or_default(),
                e.expires_at.map(format_timestamp_ms).unwrap_or_default(),
                e.same_as.join(", "),
                e.exposed_to.join(", "),
            ]
        })
        .collect();
    table(
        &[
            "ENVIRONMENT",
            "CURRENT",
            "UPDATED",
            "EXPIRES",
            "SAME VALUE AS",
            "EXPOSED TO (rotate it)",
        ],
        &rows,
    );
    outln!();
    let rows: Vec<Vec<String>> = d
        .versions
        .iter()
        .map(|v| {
            let status = if v.current {
                "current".to_string()
            } else if v.destroyed {
                "destroyed".to_string()
            } else {
                format!(
                    "rollback until {}",
                    v.rollback_until
                        .map(format_timestamp_ms)
                        .unwrap_or_default()
                )
            };
            vec![
                v.environment.clone(),
                v.version.to_string(),
                v.value_label.clone(),
                v.origin.clone(),
                format_timestamp_ms(v.created_at),
                v.created_by.clone(),
                status,
            ]
        })
        .collect();
    table(
        &[
            "ENVIRONMENT",
            "VERSION",
            "VALUE",
            "ORIGIN",
            "CREATED",
            "BY",
            "STATUS",
        ],
        &rows,
    );
    outln!("\nequal letters under VALUE mean equal values (compared by keyed fingerprint; no value is shown)");
    if !used_in.is_empty() {
        outln!("\nused in (recorded by coffer check --record):");
        for u in &used_in {
            let env = u
                .environment
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            outln!("  {}:{}:{}{env}", u.file, u.line, u.column);
        }
    }
    Ok(0)
}

fn settings(ctx: &Ctx, cmd: SettingsCmd) -> Result<u8> {
    let mut s = ctx.session()?;
    let ws = ctx.scope.workspace.clone();
    match cmd {
        SettingsCmd::Get { key } => {
            let mut all = s.settings(&ws)?;
            if let Some(k) = key {
                let k = coffer_core::settings::SettingKey::parse(&k)?;
                all.retain(|x| x.key == k.as_str());
            }
            if ctx.json {
                output::json(&all);
            } else if all.len() == 1 {
                outln!("{}", all[0].value);
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|x| {
                        vec![
                            x.key.to_string(),
                            x.value.clone(),
                            if x.is_default { "default" } else { "" }.into(),
                        ]
                    })
                    .collect();
                table(&["SETTING", "VALUE", ""], &rows);
            }
        }
        SettingsCmd::Set { key, value } => {
            if let Some(environment) = s.reauth_needed_for_setting(&ws, &key, &value)? {
                confirm_for(&mut s, &environment)?;
            }
            let set = s.set_setting(&ws, &key, &value)?;
            if ctx.json {
                output::json(&set);
            }
            ctx.say(format!("{} = {}", set.key, set.value));
        }
    }
    Ok(0)
}

/// `audit --jsonl [--follow]`: streams the matching events, one JSON object per line,
/// without holding them in memory; with `--follow`, polls for new ones every second
/// until the reader goes away (a closed pipe ends it quietly).
fn audit_jsonl(ctx: &Ctx, s: &mut Session, filter: &AuditFilter, follow: bool) -> Result<u8> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut open = true;
    let mut last = 0;
    loop {
        let mut write = |line: &str| {
            open = writeln!(out, "{line}").is_ok();
            open
        };
        last = s.export_audit_jsonl(&ctx.scope.workspace, filter, last, &mut write)?;
        if !follow || !open || out.flush().is_err() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    let _ = out.flush();
    Ok(0)
}

/// Creates a file for a copy of the trail, readable by its owner only; never replaces one.
fn create_private(path: &std::path::Path) -> Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Conflict(format!(
                "{} already exists; choose a new file",
                path.display()
            ))
        } else {
            Error::Io(format!("could not create {}: {e}", path.display()))
        }
    })
}

fn broken_line(what: &str, report: &coffer_core::audit::VerifyReport) -> String {
    format!(
        "{what} BROKEN at event {}: {}",
        report
            .first_bad
            .map(|i| i.to_string())
            .unwrap_or_else(|| "?".into()),
        report.problem.as_deref().unwrap_or("unknown problem")
    )
}

/// `audit verify --file`: checks an exported or archived trail with no vault.
fn verify_file(ctx: &Ctx, path: &std::path::Path, root: Option<&str>) -> Result<u8> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::Io(format!("could not open {}: {e}", path.display())))?;
    let mut report = coffer_core::audit_file::verify_file(&mut std::io::BufReader::new(file))?;
    let squash = |s: &str| s.replace(' ', "").to_ascii_lowercase();
    if let Some(expected) = root {
        if report.report.ok && squash(expected) != squash(&report.root) {
            report.report.ok = false;
            report.report.problem = Some(format!(
                "its signatures chain to root key {}, not {expected}",
                report.root
            ));
        }
    }
    let ok = report.report.ok;
    if ctx.json {
        output::json(&report);
    } else if ok {
        let kind = match report.kind {
            coffer_core::audit_file::FileKind::Export => "export",
            coffer_core::audit_file::FileKind::Archive => "archive",
        };
        outln!(
            "audit {kind} intact: {} verified ({}), written by {} at {}",
            output::count(report.report.events, "event"),
            match report.last {
                Some(last) => format!("events {} to {last}", report.first),
                None => "no events".into(),
            },
            terminal_safe_line(&report.written_by),
            terminal_safe_line(&report.written_at)
        );
        if report.first > 1 {
            outln!(
                "it continues the trail after event {} (hash {})",
                report.first - 1,
                report.prev
            );
        }
        if let Some(head) = &report.head {
            outln!("last hash: {head}");
        }
        if root.is_some() {
            outln!("root key: {} (as given with --root)", report.root);
        } else {
            outln!(
                "root key: {} (compare with `coffer audit verify` on the vault, or pin it with --root: a file forged whole under other keys verifies too)",
                report.root
            );
        }
    } else {
        output::err_line(broken_line("audit file", &report.report));
    }
    Ok(if ok { 0 } else { 1 })
}

fn audit(ctx: &Ctx, a: AuditArgs) -> Result<u8> {
    if let Some(AuditCmd::Verify {
        file: Some(path),
        root,
    }) = &a.verify
    {
        return verify_file(ctx, path, root.as_deref());
    }
    let mut s = ctx.session()?;
    if let Some(AuditCmd::Verify { .. }) = a.verify {
        let report = s.verify_audit(&ctx.scope.workspace)?;
        if ctx.json {
            output::json(&report);
        } else if report.ok {
            outln!(
                "audit trail intact: the whole chain verified, {} of workspace {} in it",
                output::count(report.events, "event"),
                ctx.scope.workspace
            );
            let state = s.trail_state(&ctx.scope.workspace)?;
            if state.first > 1 {
                outln!(
                    "events before {} are archived{}",
                    state.first,
                    state
                        .archive
                        .and_then(|a| a.file)
                        .map(|f| format!(" (last archive: {f})"))
                        .unwrap_or_default()
                );
            }
            outln!("root key: {}", state.root);
        } else {
            output::err_line(broken_line("audit trail", &report));
        }
        return Ok(if report.ok { 0 } else { 1 });
    }
    if let Some(AuditCmd::Checkpoint) = a.verify {
        let (report, seq) = s.audit_checkpoint(&ctx.scope.workspace)?;
        if ctx.json {
            output::json(&serde_json::json!({ "verified": report, "checkpoint": seq }));
        } else if let Some(seq) = seq {
            outln!(
                "checkpoint {seq} signed: {} verified before it",
                output::count(report.events, "event")
            );
        } else {
            output::err_line(format!(
                "no checkpoint: {}",
                broken_line("the audit trail is", &report)
            ));
        }
        return Ok(if seq.is_some() { 0 } else { 1 });
    }
    if let Some(AuditCmd::Export { to }) = &a.verify {
        let copy = match to {
            Some(path) => {
                let mut f = std::io::BufWriter::new(create_private(path)?);
                let copy = s.export_audit(&ctx.scope.workspace, &mut f);
                let done = copy.and_then(|c| {
                    f.into_inner()
                        .map_err(|e| Error::Io(e.to_string()))?
                        .sync_all()
                        .map_err(|e| Error::Io(e.to_string()))?;
                    // Checked as an outside auditor will, before it is handed over (a
                    // concurrent archive could cut the stretch it was reading).
                    let file = std::fs::File::open(path).map_err(|e| Error::Io(e.to_string()))?;
                    let check =
                        coffer_core::audit_file::verify_file(&mut std::io::BufReader::new(file))?;
                    if !check.report.ok {
                        return Err(Error::Integrity(format!(
                            "the export did not verify as written ({}); try again",
                            check.report.problem.unwrap_or_default()
                        )));
                    }
                    Ok(c)
                });
                if done.is_err() {
                    let _ = std::fs::remove_file(path);
                }
                done?
            }
            None => {
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                s.export_audit(&ctx.scope.workspace, &mut out)?
            }
        };
        if ctx.json && to.is_some() {
            output::json(&copy);
        } else {
            let place = to
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "standard output".into());
            let line = format!(
                "exported {} ({} to {}) to {place}; anyone can check it with `coffer audit verify --file`, root key {}",
                output::count(copy.events, "event"), copy.first, copy.last, copy.root
            );
            if to.is_some() {
                outln!("{line}");
            } else {
                output::err_line(line);
            }
        }
        return Ok(0);
    }
    if let Some(AuditCmd::Archive { before, to }) = &a.verify {
        let copy = s.archive_audit(&ctx.scope.workspace, before, to)?;
        if ctx.json {
            output::json(&copy);
        } else {
            outln!(
                "archived {} ({} to {}) to {}; the vault's trail now starts at event {} after a signed archive mark",
                output::count(copy.events, "event"),
                copy.first,
                copy.last,
                to.display(),
                copy.last + 1
            );
        }
        return Ok(0);
    }
    let filter = AuditFilter::from(a.filter);
    if a.jsonl {
        return audit_jsonl(ctx, &mut s, &filter, a.follow);
    }
    // Streamed: a trail of millions of events never sits in memory.
    let ws = ctx.scope.workspace.clone();
    // Refused before a header or bracket is printed.
    s.check_audit_access(&ws, &filter)?;
    if a.csv {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(std::io::stdout().lock()));
        let mut open = w
            .write_record([
                "id",
                "time",
                "actor",
                "action",
                "outcome",
                "project",
                "environment",
                "secret",
                "detail",
            ])
            .is_ok();
        s.each_audit_event(&ws, &filter, &mut |e| {
            open = open
                && w.write_record(
                    [
                        e.id.to_string(),
                        e.time,
                        e.actor,
                        e.action,
                        e.outcome,
                        e.project.unwrap_or_default(),
                        e.environment.unwrap_or_default(),
                        e.secret.unwrap_or_default(),
                        e.detail.to_string(),
                    ]
                    // A formula start is judged on the text as stored, as the app's
                    // export does; escaping control characters after it cannot make a
                    // new one.
                    .map(|cell| terminal_safe_line(&formula_safe(&cell)).into_owned()),
                )
                .is_ok();
            open
        })?;
        let _ = w.flush();
    } else if ctx.json {
        let mut array = output::JsonArray::new(std::io::BufWriter::new(std::io::stdout().lock()));
        s.each_audit_event(&ws, &filter, &mut |e| {
            array.push(&e);
            array.open
        })?;
        array.finish();
    } else {
        output::table_streamed(
            &[
                "ID", "TIME", "ACTOR", "ACTION", "OUTCOME", "TARGET", "DETAIL",
            ],
            &mut |row| {
                s.each_audit_event(&ws, &filter, &mut |e| {
                    let mut cells = vec![e.id.to_string()];
                    cells.extend(audit_cells(e));
                    row(cells);
                    true
                })
            },
        )?;
    }
    Ok(0)
}

/// An event's cells in a table of the trail: time, actor, action, outcome, target
/// (project/environment/secret) and detail.
pub(crate) fn audit_cells(e: coffer_core::audit::AuditEvent) -> Vec<String> {
    let target = [
        e.project.as_deref(),
        e.environment.as_deref(),
        e.secret.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("/");
    vec![
        e.time,
        e.actor,
        e.action,
        e.outcome,
        target,
        clip(&e.detail.to_string(), 60),
    ]
}

fn import_file(ctx: &Ctx, file: &std::path::Path, environment: Option<&str>) -> Result<u8> {
    let bytes = zeroize::Zeroizing::new(
        std::fs::read(file)
            .map_err(|e| Error::Invalid(format!("cannot read {}: {e}", file.display())))?,
    );
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::Invalid(format!("{} is not UTF-8 text", file.display())))?;
    let format = ImportFormat::detect(&file.to_string_lossy(), text);
    let parsed = import::parse(format, text)
        .map_err(|e| Error::Invalid(format!("{}: {e}", file.display())))?;
    for note in &parsed.notes {
        output::err_line(format!("note: {}: {note}", file.display()));
    }
    let entries = parsed.entries;
    let mut s = ctx.session()?;
    ctx.confirm_if_protected(&mut s, environment.unwrap_or("development"))?;
    let out = s.import(&ctx.scope, environment, entries)?;
    if ctx.json {
        output::json(&out);
    } else {
        let created = out.iter().filter(|o| o.created).count();
        outln!(
            "imported {} secrets into {} ({} new, {} updated)",
            out.len(),
            environment.unwrap_or("development"),
            created,
            out.len() - created
        );
    }
    Ok(0)
}

/// `coffer completions SHELL`: the shell's completion script, from the same grammar
/// the parser uses.
fn completions(shell: clap_complete::Shell) -> Result<u8> {
    use clap::CommandFactory as _;
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "coffer", &mut out);
    Ok(0)
}

/// `coffer man --out DIR`: `coffer.1` and `coffer-<command>.1` for each visible
/// command (and their own commands), for the package to install.
fn man_pages(out: &std::path::Path) -> Result<u8> {
    use clap::CommandFactory as _;
    std::fs::create_dir_all(out)
        .map_err(|e| Error::Io(format!("could not create {}: {e}", out.display())))?;
    fn write(cmd: clap::Command, name: &str, out: &std::path::Path) -> Result<()> {
        // NAME says the page's name (coffer-run), SYNOPSIS how it is typed (coffer run).
        let cmd = cmd
            .bin_name(name.replace('-', " "))
            .display_name(name.to_string());
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .title(name)
            .render(&mut page)
            .map_err(|e| Error::Io(e.to_string()))?;
        let path = out.join(format!("{name}.1"));
        std::fs::write(&path, page)
            .map_err(|e| Error::Io(format!("could not write {}: {e}", path.display())))?;
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            if sub.get_name() == "help" {
                continue;
            }
            write(sub.clone(), &format!("{name}-{}", sub.get_name()), out)?;
        }
        Ok(())
    }
    write(Cli::command(), "coffer", out)?;
    Ok(0)
}

fn device(ctx: &Ctx, cmd: DeviceCmd) -> Result<u8> {
    let mut s = ctx.session()?;
    match cmd {
        DeviceCmd::Remember => {
            s.remember_device(&OsKeyring)?;
            ctx.say("remembered on this device: the OS keyring now unlocks this vault for you");
        }
        DeviceCmd::Forget => {
            let had = s.forget_device(&OsKeyring)?;
            ctx.say(if had {
                "forgotten: the passphrase is needed again here"
            } else {
                "this device was not remembered"
            });
        }
        DeviceCmd::Status => {
            let store = s.device_store()?;
            if ctx.json {
                output::json(&serde_json::json!({ "remembered": store.is_some(), "store": store }));
            } else {
                ctx.say(match store {
                    Some(st) => format!("remembered on this device ({st})"),
                    None => "not remembered on this device".into(),
                });
            }
        }
    }
    Ok(0)
}
