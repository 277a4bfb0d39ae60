//! `coffer run`: start a command with secrets in its environment and mask every
//! resolved value in what it prints.
//!
//! The values come from the vault (all usable secrets, `--only` some, or exactly the
//! variables of an `--env-file` template) or, with `--from-env`, from this process's
//! own environment, so one definition runs unchanged on a laptop, in CI and against
//! the vault. The use is audited before the child starts, with the program's file name
//! and never its arguments. Secrets named with `--file` reach the child as files
//! instead ([`crate::secret_files`]): their variables hold paths, their values are
//! masked like the others, and their use is audited in the same transaction.

use std::collections::HashMap;
use std::io::{IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};

use coffer_core::masking::{Masker, MIN_SAFE_LEN};
use coffer_core::references::{self, env_var_name, Target};
use coffer_core::value::SecretValue;
use coffer_core::{Error, Purpose, Result, Scope, Session};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::cli::RunArgs;
use crate::commands::Ctx;
use crate::secret_files::{self, FileSpec, RunDir};

/// Variables the child never inherits: they would hand it the vault.
const WITHHELD: [&str; 2] = ["COFFER_PASSPHRASE", "COFFER_NEW_PASSPHRASE"];
/// What the child's output pipes hold and what one read takes (Linux allows up to
/// 1 MiB per pipe for an unprivileged process by default).
const PIPE_BYTES: usize = 1 << 20;
/// Exit status when the command cannot be started, as shells do.
const CANNOT_RUN: u8 = 127;

/// One variable for the child and whether its value is secret (masked).
#[derive(Serialize, Deserialize)]
pub(crate) struct Var {
    name: String,
    #[serde(with = "crate::served::secret_value")]
    value: SecretValue,
    secret: bool,
}

/// A secret the child gets as a file, whose path `var` holds.
#[derive(Serialize, Deserialize)]
pub(crate) struct FileVar {
    var: String,
    #[serde(with = "crate::served::secret_value")]
    value: SecretValue,
}

/// What resolving `run`'s values needs besides a session: built here, resolved here
/// or by the session agent in its session ([`crate::served`]).
#[derive(Serialize, Deserialize)]
pub(crate) struct RunPlan {
    environment: Option<String>,
    /// The program's file name, for the audit trail.
    program: String,
    unmasked: bool,
    template: Option<Vec<TemplateLine>>,
    template_path: std::path::PathBuf,
    only: Vec<String>,
    files: Vec<FileSpec>,
    limits: ExecSizes,
}

/// What the new program would start with besides our values, by size only: checked
/// against `ARG_MAX` before any use is audited.
#[derive(Serialize, Deserialize)]
struct ExecSizes {
    /// The length of each of the program's arguments (the program first).
    args: Vec<usize>,
    /// Each variable it would inherit from this process, by name, with the length of
    /// its value (never the value).
    inherited: Vec<(String, usize)>,
}

impl ExecSizes {
    fn of_this_process(command: &[String]) -> ExecSizes {
        ExecSizes {
            args: command.iter().map(String::len).collect(),
            inherited: std::env::vars_os()
                .filter(|(k, _)| !WITHHELD.iter().any(|w| k == w))
                .map(|(k, v)| (k.to_string_lossy().into_owned(), v.len()))
                .collect(),
        }
    }
}

pub fn run(ctx: &Ctx, a: RunArgs) -> Result<u8> {
    let program = a.command[0].clone();
    let program_name = Path::new(&program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.clone());
    let specs = secret_files::parse_specs(&a.files)?;
    secret_files::sweep_stale();
    let template = a.env_file.as_deref().map(read_template).transpose()?;
    let (vars, files) = if a.from_env {
        let vars = from_environment(&a, template.as_deref())?;
        refuse_overlap(&vars, &specs)?;
        check_exec_limits(&ExecSizes::of_this_process(&a.command), &vars)?;
        let files = files_from_environment(&specs)?;
        (vars, files)
    } else {
        let plan = RunPlan {
            environment: a.environment.clone(),
            program: program_name,
            unmasked: a.no_masking,
            template,
            template_path: a.env_file.clone().unwrap_or_default(),
            only: a.only.clone(),
            files: specs,
            limits: ExecSizes::of_this_process(&a.command),
        };
        match crate::served::ask(ctx, crate::served::Request::Run(&plan)) {
            Some(resolved) => resolved?,
            None => resolve_plan(&mut ctx.session()?, &ctx.scope, &plan)?,
        }
    };
    let secrets = vars
        .iter()
        .filter(|v| v.secret)
        .map(|v| (v.name.as_str(), &v.value))
        .chain(files.iter().map(|f| (f.var.as_str(), &f.value)));
    let mut masked_values = 0;
    for (name, value) in secrets {
        masked_values += 1;
        if shortest_form(value) < MIN_SAFE_LEN {
            eprintln!(
                "warning: {name} is shorter than {MIN_SAFE_LEN} bytes: it is masked, and so is any unrelated output that happens to contain it",
            );
        }
    }
    // Values are never empty, so any value means a pattern to mask.
    let masking = !a.no_masking && masked_values > 0;
    // Caught from before the files exist: a SIGTERM from now on reaches the child, and
    // the files go when it has exited, instead of ending coffer with them left behind.
    let caught = signals::catch();
    let (run_dir, paths) = write_files(&files)?;
    let mut cmd = Command::new(&program);
    cmd.args(&a.command[1..]).stdin(Stdio::inherit());
    for w in WITHHELD {
        cmd.env_remove(w);
    }
    for v in &vars {
        cmd.env(&v.name, v.value.expose());
    }
    for (var, path) in &paths {
        cmd.env(var, path);
    }
    // On a terminal the child gets a pseudo-terminal, so it keeps its colours and
    // progress output while we mask what passes through.
    let terminal = match masking {
        true if std::io::stdout().is_terminal() => terminal::open().ok(),
        _ => None,
    };
    match (&terminal, masking) {
        (Some(t), _) => {
            cmd.stdout(t.child_side()?).stderr(t.child_side()?);
        }
        (None, true) => {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        (None, false) => {}
    }
    let spawned = cmd.spawn();
    // The command holds our copies of the terminal's child side: close them so the
    // reader sees the end when the child exits.
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot run '{program}': {}", plain_io_error(&e));
            return Ok(CANNOT_RUN);
        }
    };
    // The masker of every form of every value is built while the child starts and
    // runs (~0.2 s for 10,000 values); its output waits in the pipe until it is ready.
    let masker = masking.then(|| PendingMasker::build(vars, files));
    let masking = masker.as_ref();
    let forwarder = caught.forward_to(child.id());
    let status = match (terminal, masking) {
        (Some(t), Some(m)) => {
            let reader = t.into_reader();
            std::thread::scope(|scope| {
                scope.spawn(|| pump(reader, unbuffered(std::io::stdout()), m));
                child.wait()
            })
        }
        (_, Some(m)) => pump_masked(&mut child, m),
        (_, None) => child.wait(),
    }
    .map_err(|e| Error::Io(format!("waiting for '{program}': {e}")))?;
    // The child is gone: its files go now, while signals are still caught.
    drop(run_dir);
    drop(forwarder);
    Ok(exit_code(status))
}

/// The shortest form of a value the masker searches for: a binary value's bytes.
fn shortest_form(v: &SecretValue) -> usize {
    if v.is_binary() {
        v.to_bytes().len()
    } else {
        v.len()
    }
}

/// Each file variable with the path it holds.
type FilePaths = Vec<(String, std::path::PathBuf)>;

/// Writes each file secret into a fresh run directory: the directory (removed when
/// dropped) and each variable with its file's path. No directory without files.
fn write_files(files: &[FileVar]) -> Result<(Option<RunDir>, FilePaths)> {
    if files.is_empty() {
        return Ok((None, Vec::new()));
    }
    let dir = RunDir::create()?;
    let mut paths = Vec::with_capacity(files.len());
    for f in files {
        // A binary value as its bytes; text as itself.
        let path = dir.write(&f.var, &f.value.to_bytes())?;
        paths.push((f.var.clone(), path));
    }
    Ok((Some(dir), paths))
}

/// A secret given as a file is never also passed as a value of the same variable.
fn refuse_overlap(vars: &[Var], specs: &[FileSpec]) -> Result<()> {
    match vars.iter().find(|v| specs.iter().any(|s| s.var == v.name)) {
        Some(v) => Err(Error::Invalid(format!(
            "{} would be both a file (--file) and a value (--only or --env-file); give it one way",
            v.name
        ))),
        None => Ok(()),
    }
}

/// `--file` with `--from-env`: each file's value read from this process's environment,
/// as `--only` reads it.
fn files_from_environment(specs: &[FileSpec]) -> Result<Vec<FileVar>> {
    specs
        .iter()
        .map(|s| {
            let var = env_var_name(&s.secret);
            let value = std::env::var(&var)
                .or_else(|_| std::env::var(&s.secret))
                .map_err(|_| {
                    Error::not_found(format!(
                        "environment variable {var} (for {}; --from-env reads secrets from the environment)",
                        s.secret
                    ))
                })?;
            Ok(FileVar {
                var: s.var.clone(),
                value: SecretValue::from_string(Zeroizing::new(value).to_string())?,
            })
        })
        .collect()
}

/// The shell's convention: the child's code, or 128 + the signal that ended it.
fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => c as u8,
        (None, Some(sig)) => 128u8.saturating_add(sig as u8),
        _ => 1,
    }
}

fn plain_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such program".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Copies the child's stdout and stderr through their own maskers until both close,
/// flushing after each read so interactive output is not held back.
fn pump_masked(child: &mut Child, masker: &PendingMasker) -> std::io::Result<ExitStatus> {
    let out = child.stdout.take();
    let err = child.stderr.take();
    // A bigger pipe lets a fast child write more per read: fewer wake-ups for both.
    for fd in [
        out.as_ref().map(|o| o.as_fd()),
        err.as_ref().map(|e| e.as_fd()),
    ]
    .into_iter()
    .flatten()
    {
        let _ = rustix::pipe::fcntl_setpipe_size(fd, PIPE_BYTES);
    }
    std::thread::scope(|scope| {
        if let Some(out) = out {
            scope.spawn(move || pump(out, unbuffered(std::io::stdout()), masker));
        }
        if let Some(err) = err {
            scope.spawn(move || pump(err, unbuffered(std::io::stderr()), masker));
        }
        child.wait()
    })
}

/// Our own stdout or stderr without Rust's line buffering: masked output is already
/// cut into large writes, and a buffer would copy each once more.
fn unbuffered(stream: impl AsFd + Write + Send + 'static) -> Box<dyn Write + Send> {
    match stream.as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(stream),
    }
}

/// A masker being built in its own thread, from values the caller no longer needs.
struct PendingMasker {
    built: OnceLock<Masker>,
    builder: Mutex<Option<std::thread::JoinHandle<Masker>>>,
}

impl PendingMasker {
    fn build(vars: Vec<Var>, files: Vec<FileVar>) -> PendingMasker {
        let builder = std::thread::spawn(move || {
            let values = vars
                .iter()
                .filter(|v| v.secret)
                .map(|v| &v.value)
                .chain(files.iter().map(|f| &f.value));
            Masker::new(values)
        });
        PendingMasker {
            built: OnceLock::new(),
            builder: Mutex::new(Some(builder)),
        }
    }

    /// The masker, waiting for it the first time. A child that prints nothing never
    /// waits; a process that ends meanwhile takes the unfinished one with it.
    fn get(&self) -> &Masker {
        self.built.get_or_init(|| {
            let builder = self
                .builder
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take();
            match builder.map(std::thread::JoinHandle::join) {
                Some(Ok(masker)) => masker,
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => unreachable!("the masker is taken once, inside get_or_init"),
            }
        })
    }
}

/// A pump's read buffer. Raw output may hold a value before it is masked, so the part
/// ever filled is wiped when the pump ends; only that part: wiping all of it would
/// fault in a mebibyte the child never wrote to (~1 ms of every run).
struct ReadBuf {
    bytes: Vec<u8>,
    filled: usize,
}

impl Drop for ReadBuf {
    fn drop(&mut self) {
        self.bytes[..self.filled].zeroize();
    }
}

fn pump(mut from: impl Read, to: impl Write, masker: &PendingMasker) {
    let mut to = to;
    let mut stream = None;
    let mut buf = ReadBuf {
        bytes: vec![0u8; PIPE_BYTES],
        filled: 0,
    };
    let mut masked = Vec::with_capacity(PIPE_BYTES + 64);
    loop {
        let n = match from.read(&mut buf.bytes) {
            Ok(0) => break,
            Ok(n) => {
                buf.filled = buf.filled.max(n);
                n
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        masked.clear();
        stream
            .get_or_insert_with(|| masker.get().stream())
            .push(&buf.bytes[..n], &mut masked);
        // A closed reader (`| head`) is not our error: keep draining so the child is
        // not blocked, but stop writing.
        if to.write_all(&masked).and_then(|_| to.flush()).is_err() {
            std::io::copy(&mut from, &mut std::io::sink()).ok();
            return;
        }
    }
    if let Some(mut stream) = stream {
        masked.clear();
        stream.finish(&mut masked);
        let _ = to.write_all(&masked).and_then(|_| to.flush());
    }
}

/// A template line: `VAR=text with references`, as in a .env file.
#[derive(Clone, Serialize, Deserialize)]
struct TemplateLine {
    line: usize,
    name: String,
    text: String,
}

fn read_template(path: &Path) -> Result<Vec<TemplateLine>> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Invalid(format!("cannot read {shown}: {}", plain_io_error(&e))))?;
    if let Some(m) = references::scan(&text).malformed.first() {
        return Err(Error::Invalid(format!("{shown}:{m}")));
    }
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err(Error::Invalid(format!(
                "{shown}:{}: expected VAR=value",
                i + 1
            )));
        };
        let name = name.trim();
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::Invalid(format!(
                "{shown}:{}: '{name}' is not a valid environment variable name",
                i + 1
            )));
        }
        let value = value.trim();
        let value = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        out.push(TemplateLine {
            line: i + 1,
            name: name.to_string(),
            text: value.to_string(),
        });
    }
    Ok(out)
}

/// Renders each template line with `resolve`; a line without a reference is passed
/// through as a plain (unmasked) variable.
fn render_template(
    template: &[TemplateLine],
    path: &Path,
    mut resolve: impl FnMut(&Target) -> Result<SecretValue>,
) -> Result<Vec<Var>> {
    let mut vars = Vec::with_capacity(template.len());
    for t in template {
        let mut resolved = 0;
        let rendered = references::render(&t.text, |target| {
            resolved += 1;
            resolve(target)
        })
        .map_err(|e| located(e, path, t.line))?;
        let value = SecretValue::from_string(String::clone(&rendered))?;
        vars.push(Var {
            name: t.name.clone(),
            value,
            secret: resolved > 0,
        });
    }
    Ok(vars)
}

/// Prefixes an error with the template line it came from, keeping its code.
fn located(e: Error, path: &Path, line: usize) -> Error {
    let at = format!("{}:{line}", path.display());
    match e {
        Error::Invalid(m) => Error::Invalid(format!("{at}: {m}")),
        Error::NotFound { what } => Error::NotFound {
            what: format!("{what} (at {at})"),
        },
        Error::Expired { what } => Error::Expired {
            what: format!("{what} (at {at})"),
        },
        other => other,
    }
}

/// Resolves the plan's values in `s` and audits their use in one transaction, after
/// checking that the program could start with them.
pub(crate) fn resolve_plan(
    s: &mut Session,
    scope: &Scope,
    plan: &RunPlan,
) -> Result<(Vec<Var>, Vec<FileVar>)> {
    let purpose = Purpose {
        via: "run",
        program: Some(&plan.program),
        unmasked: plan.unmasked,
    };
    let specs = &plan.files;
    let mut r = s.resolver(scope, plan.environment.as_deref(), purpose)?;
    let vars = match &plan.template {
        Some(t) => render_template(t, &plan.template_path, |target| r.resolve(target))?,
        None => {
            let values: Vec<(String, SecretValue)> = if plan.only.is_empty() {
                // All of them, less those given as files (and their variables).
                r.all_available(&|n| {
                    specs
                        .iter()
                        .any(|s| s.secret == n || s.var == env_var_name(n))
                })?
            } else {
                let mut values = Vec::with_capacity(plan.only.len());
                for name in &plan.only {
                    let name = name.trim();
                    values.push((name.to_string(), r.get(name)?));
                }
                values
            };
            let mut vars: Vec<Var> = Vec::with_capacity(values.len());
            // Which secret took each variable: a lookup, not a scan of those so far
            // (a scan made a run of 10,000 values spend ~0.1 s comparing names).
            let mut taken: HashMap<String, String> = HashMap::with_capacity(values.len());
            for (name, value) in values {
                let var = env_var_name(&name);
                if let Some(other) = taken.insert(var.clone(), name.clone()) {
                    return Err(Error::Invalid(format!(
                        "two secrets would both become {var} ({other} and {name}); use --env-file to name them"
                    )));
                }
                vars.push(Var {
                    name: var,
                    value,
                    secret: true,
                });
            }
            vars
        }
    };
    refuse_overlap(&vars, specs)?;
    let mut files = Vec::with_capacity(specs.len());
    for s in specs {
        files.push(FileVar {
            var: s.var.clone(),
            value: r.get(&s.secret)?,
        });
    }
    // Refused before the uses are audited: a program that cannot start used nothing.
    check_exec_limits(&plan.limits, &vars)?;
    // One transaction audits every use, values and files alike.
    r.finish()?;
    Ok((vars, files))
}

/// What Linux lets one string of a new program's arguments or environment hold
/// (`MAX_ARG_STRLEN`, 32 pages).
const MAX_ARG_STRLEN: usize = 32 * 4096;

/// Checks that the program, its arguments and the environment it would get (ours,
/// less what is withheld, plus `vars`) fit what the system lets one `execve` carry
/// (`ARG_MAX`, each string with its pointer), and that no variable is longer than one
/// string may be; otherwise a clear error instead of "Argument list too long".
fn check_exec_limits(sizes: &ExecSizes, vars: &[Var]) -> Result<()> {
    let advice = "pick fewer with --only NAME (repeatable) or name them in an --env-file";
    if let Some(v) = vars
        .iter()
        .find(|v| v.name.len() + v.value.len() + 2 > MAX_ARG_STRLEN)
    {
        return Err(Error::Invalid(format!(
            "{} is {} KiB as an environment variable, and one variable may hold at most {} KiB; {advice}",
            v.name,
            (v.name.len() + v.value.len() + 2).div_ceil(1024),
            MAX_ARG_STRLEN / 1024
        )));
    }
    let arg_max = nix::unistd::sysconf(nix::unistd::SysconfVar::ARG_MAX)
        .ok()
        .flatten()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(2 << 20);
    let pointer = std::mem::size_of::<usize>();
    let inherited: usize = sizes
        .inherited
        .iter()
        .filter(|(k, _)| !vars.iter().any(|v| *k == v.name))
        .map(|(k, len)| k.len() + len + 2 + pointer)
        .sum();
    let ours: usize = vars
        .iter()
        .map(|v| v.name.len() + v.value.len() + 2 + pointer)
        .sum();
    let args: usize = sizes.args.iter().map(|len| len + 1 + pointer).sum();
    let total = inherited + ours + args;
    if total > arg_max {
        return Err(Error::Invalid(format!(
            "{} values ({} KiB with the rest of the environment and the command) are more than the system lets a program start with ({} KiB, ARG_MAX); {advice}",
            vars.len(),
            total.div_ceil(1024),
            arg_max / 1024
        )));
    }
    Ok(())
}

/// `--from-env`: `{{ secrets.payments-api-key }}` reads `PAYMENTS_API_KEY` (or a
/// variable spelled exactly like the name) from this process's environment.
fn from_environment(a: &RunArgs, template: Option<&[TemplateLine]>) -> Result<Vec<Var>> {
    let lookup = |target: &Target| -> Result<SecretValue> {
        let Target::Name { name, .. } = target else {
            return Err(Error::Invalid(
                "a $secret: handle only resolves against the vault, not with --from-env".into(),
            ));
        };
        let var = env_var_name(name);
        let value = std::env::var(&var)
            .or_else(|_| std::env::var(name))
            .map_err(|_| {
                Error::not_found(format!(
                    "environment variable {var} (for {name}; --from-env reads secrets from the environment)"
                ))
            })?;
        SecretValue::from_string(Zeroizing::new(value).to_string())
    };
    match template {
        Some(t) => render_template(t, a.env_file.as_deref().unwrap_or(Path::new("")), lookup),
        None => a
            .only
            .iter()
            .map(|name| {
                let target = Target::Name {
                    project: None,
                    environment: None,
                    name: name.trim().to_string(),
                };
                Ok(Var {
                    name: env_var_name(name.trim()),
                    value: lookup(&target)?,
                    secret: true,
                })
            })
            .collect(),
    }
}

/// A pseudo-terminal sized like ours, for a child whose output we mask.
mod terminal {
    use std::fs::File;
    use std::os::fd::OwnedFd;
    use std::process::Stdio;

    use nix::pty::{openpty, Winsize};

    pub struct Terminal {
        reader: File,
        child: OwnedFd,
    }

    impl Terminal {
        /// What the child writes, as we read it; our child side is closed so the
        /// reader ends (EIO) once the child and its descendants are gone.
        pub fn into_reader(self) -> File {
            self.reader
        }

        pub fn child_side(&self) -> coffer_core::Result<Stdio> {
            self.child
                .try_clone()
                .map(Stdio::from)
                .map_err(|e| coffer_core::Error::Io(format!("pseudo-terminal: {e}")))
        }
    }

    pub fn open() -> nix::Result<Terminal> {
        let stdout = std::io::stdout();
        let size = rustix::termios::tcgetwinsize(&stdout)
            .ok()
            .map(|w| Winsize {
                ws_row: w.ws_row,
                ws_col: w.ws_col,
                ws_xpixel: w.ws_xpixel,
                ws_ypixel: w.ws_ypixel,
            });
        // Our terminal already turns "\n" into "\r\n"; the inner one must not as well.
        let modes = nix::sys::termios::tcgetattr(&stdout).ok().map(|mut t| {
            t.output_flags.remove(nix::sys::termios::OutputFlags::ONLCR);
            t
        });
        let pty = openpty(size.as_ref(), modes.as_ref())?;
        Ok(Terminal {
            reader: File::from(pty.master),
            child: pty.slave,
        })
    }
}

/// Signals sent to `coffer run` go on to the child, so `kill`, a CI runner's timeout
/// or a terminal's Ctrl-C reach the program doing the work.
mod signals {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    use signal_hook::consts::signal::*;
    use signal_hook::iterator::{Handle, Signals};

    pub struct Forwarder(Option<Handle>);

    /// Signals caught (and held) until there is a child to forward them to.
    pub struct Caught(Option<Signals>);

    impl Drop for Forwarder {
        fn drop(&mut self) {
            if let Some(h) = self.0.take() {
                h.close();
            }
        }
    }

    /// From now on these signals no longer end coffer: they wait for the child.
    pub fn catch() -> Caught {
        Caught(Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]).ok())
    }

    impl Caught {
        pub fn forward_to(self, pid: u32) -> Forwarder {
            forward(self.0, pid)
        }
    }

    fn forward(signals: Option<Signals>, pid: u32) -> Forwarder {
        let Some(mut signals) = signals else {
            return Forwarder(None);
        };
        // A terminal sends Ctrl-C and Ctrl-\ to the whole foreground group, child
        // included; forwarding them again would deliver each twice.
        let from_terminal = std::io::IsTerminal::is_terminal(&std::io::stdin());
        let handle = signals.handle();
        let pid = Pid::from_raw(pid as i32);
        std::thread::spawn(move || {
            for sig in signals.forever() {
                if from_terminal && (sig == SIGINT || sig == SIGQUIT) {
                    continue;
                }
                if let Ok(sig) = Signal::try_from(sig) {
                    let _ = kill(pid, sig);
                }
            }
        });
        Forwarder(Some(handle))
    }
}
