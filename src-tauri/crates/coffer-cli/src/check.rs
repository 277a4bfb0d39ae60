//! `coffer check`: the run check over definition files.
//!
//! Lists every reference with file:line:column and says whether it resolves in the
//! environments asked for; flags text that looks like an embedded credential and any
//! stored value written out verbatim (found by keyed fingerprint, never by decrypting).
//! A suspect is never printed in full. Exit 1 when anything is wrong.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use coffer_core::detect::{self, FindingKind};
use coffer_core::references::{self, env_var_name, Form, Target};
use coffer_core::{Error, Result, RunCheck, DEFAULT_ENVIRONMENT};
use serde::Serialize;

use crate::cli::CheckArgs;
use crate::commands::Ctx;
use crate::output::{self, outln};

/// Files larger than this are not definitions; they are skipped with a note.
const LARGEST_FILE: u64 = 4 * 1024 * 1024;
/// Directories never worth walking.
/// Directories a walk does not enter: version control, dependencies, build output and
/// caches. Other hidden ones are entered: `.github/workflows`, `.gitlab`, `.circleci`
/// and the like are where definition files live.
const SKIPPED_DIRS: [&str; 11] = [
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "target",
    ".venv",
    ".tox",
    ".cache",
    ".mypy_cache",
    ".pytest_cache",
    "__pycache__",
];

#[derive(Serialize)]
struct RefReport {
    file: String,
    line: usize,
    column: usize,
    reference: String,
    form: Form,
    problems: Vec<String>,
}

#[derive(Serialize)]
struct FindingReport {
    file: String,
    line: usize,
    column: usize,
    kind: FindingKind,
    description: String,
    preview: String,
}

#[derive(Serialize)]
struct StoredReport {
    file: String,
    line: usize,
    column: usize,
    secret: String,
    environment: String,
    version: i64,
    current: bool,
}

#[derive(Serialize)]
struct MalformedReport {
    file: String,
    line: usize,
    column: usize,
    message: String,
}

#[derive(Serialize, Default)]
struct Report {
    files: usize,
    references: Vec<RefReport>,
    malformed: Vec<MalformedReport>,
    findings: Vec<FindingReport>,
    stored_values: Vec<StoredReport>,
    skipped: Vec<String>,
    problems: usize,
}

/// Where references are checked against: the vault, or this process's environment.
enum Source<'s> {
    Vault(RunCheck<'s>),
    Environment,
}

impl Source<'_> {
    fn problems(&mut self, target: &Target) -> Result<Vec<String>> {
        match self {
            Source::Vault(c) => c.problems(target),
            Source::Environment => Ok(match target {
                Target::Name { name, .. } => {
                    let var = env_var_name(name);
                    if std::env::var_os(&var).is_some() || std::env::var_os(name).is_some() {
                        vec![]
                    } else {
                        vec![format!("{var} is not set in the environment")]
                    }
                }
                Target::Handle(_) => {
                    vec!["a $secret: handle only resolves against the vault".into()]
                }
            }),
        }
    }

    fn stored(&self, token: &str) -> Option<StoredReportParts> {
        match self {
            Source::Vault(c) => c.stored_match(token).map(|m| StoredReportParts {
                secret: m.secret.clone(),
                environment: m.environment.clone(),
                version: m.version,
                current: m.current,
            }),
            Source::Environment => None,
        }
    }
}

struct StoredReportParts {
    secret: String,
    environment: String,
    version: i64,
    current: bool,
}

pub fn check(ctx: &Ctx, a: CheckArgs) -> Result<u8> {
    let mut report = Report::default();
    let files = collect(&a.files, &mut report.skipped)?;
    let mut session = if a.from_env {
        None
    } else {
        Some(ctx.session()?)
    };
    let mut source = match session.as_mut() {
        Some(s) => {
            let environment = match (a.all_envs, a.environment.as_deref()) {
                (true, _) => None,
                (false, e) => Some(e.unwrap_or(DEFAULT_ENVIRONMENT)),
            };
            Source::Vault(s.run_check(&ctx.scope, environment)?)
        }
        None => Source::Environment,
    };
    if let (true, Source::Vault(c)) = (a.record, &mut source) {
        c.require_record()?;
    }
    if let Source::Vault(c) = &source {
        if !c.compares_values() {
            eprintln!("note: comparing files with stored values needs the use permission; skipped");
        }
    }
    for path in &files {
        let Ok(text) = std::fs::read(path) else {
            report
                .skipped
                .push(format!("{} (unreadable)", path.display()));
            continue;
        };
        let Ok(text) = String::from_utf8(text) else {
            report
                .skipped
                .push(format!("{} (not text)", path.display()));
            continue;
        };
        report.files += 1;
        check_file(path, &text, &mut source, &mut report, a.record)?;
    }
    report.problems = report
        .references
        .iter()
        .filter(|r| !r.problems.is_empty())
        .count()
        + report.malformed.len()
        + report.findings.len()
        + report.stored_values.len();
    if let Source::Vault(c) = source {
        c.finish(report.files, report.problems, a.record)?;
    }
    if ctx.json {
        output::json(&report);
    } else {
        print_human(&report);
    }
    Ok(if report.problems > 0 { 1 } else { 0 })
}

fn check_file(
    path: &Path,
    text: &str,
    source: &mut Source<'_>,
    report: &mut Report,
    record: bool,
) -> Result<()> {
    let file = path.display().to_string();
    let scan = references::scan(text);
    let mut recorded = Vec::new();
    for r in &scan.references {
        let problems = source.problems(&r.target)?;
        if let Target::Name {
            project: None,
            environment,
            name,
        } = &r.target
        {
            recorded.push((name.clone(), r.line, r.column, environment.clone()));
        }
        report.references.push(RefReport {
            file: file.clone(),
            line: r.line,
            column: r.column,
            reference: r.target.to_string(),
            form: r.form,
            problems,
        });
    }
    for m in scan.malformed {
        report.malformed.push(MalformedReport {
            file: file.clone(),
            line: m.line,
            column: m.column,
            message: m.message,
        });
    }
    // A stored value found verbatim says more than "looks like a credential".
    let mut stored_at = HashSet::new();
    for c in detect::candidates(text) {
        if let Some(m) = source.stored(c.token) {
            if stored_at.insert((c.line, c.column)) {
                report.stored_values.push(StoredReport {
                    file: file.clone(),
                    line: c.line,
                    column: c.column,
                    secret: m.secret,
                    environment: m.environment,
                    version: m.version,
                    current: m.current,
                });
            }
        }
    }
    for f in detect::scan(text) {
        if stored_at.contains(&(f.line, f.column)) {
            continue;
        }
        report.findings.push(FindingReport {
            file: file.clone(),
            line: f.line,
            column: f.column,
            description: f.kind.describe().to_string(),
            kind: f.kind,
            preview: f.preview,
        });
    }
    if record {
        if let Source::Vault(c) = source {
            let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            c.record(&absolute.display().to_string(), &recorded)?;
        }
    }
    Ok(())
}

/// The files named, with directories walked (version control, dependency and build
/// directories skipped),
/// in a stable order.
fn collect(roots: &[PathBuf], skipped: &mut Vec<String>) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for root in roots {
        let meta = std::fs::metadata(root)
            .map_err(|_| Error::not_found(format!("file {}", root.display())))?;
        if meta.is_dir() {
            walk(root, &mut out, skipped);
        } else {
            out.push(root.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, skipped: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        skipped.push(format!("{} (unreadable)", dir.display()));
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Ok(kind) = e.file_type() else { continue };
        let name = e.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_ref()) {
                walk(&path, out, skipped);
            }
        } else if kind.is_file() {
            match e.metadata() {
                Ok(m) if m.len() > LARGEST_FILE => {
                    skipped.push(format!("{} (larger than 4 MiB)", path.display()))
                }
                _ => out.push(path),
            }
        }
    }
}

fn print_human(r: &Report) {
    for x in &r.references {
        let state = if x.problems.is_empty() {
            "ok".to_string()
        } else {
            x.problems.join("; ")
        };
        outln!(
            "{}:{}:{}  {}  {state}",
            x.file,
            x.line,
            x.column,
            x.reference
        );
    }
    for m in &r.malformed {
        outln!(
            "{}:{}:{}  malformed reference: {}",
            m.file,
            m.line,
            m.column,
            m.message
        );
    }
    for s in &r.stored_values {
        let which = if s.current {
            format!("the current value of {} in {}", s.secret, s.environment)
        } else {
            format!("version {} of {} in {}", s.version, s.secret, s.environment)
        };
        outln!(
            "{}:{}:{}  {which} is written here in plain text; use {{{{ secrets.{} }}}}",
            s.file,
            s.line,
            s.column,
            s.secret
        );
    }
    for f in &r.findings {
        outln!(
            "{}:{}:{}  looks like {}: {}",
            f.file,
            f.line,
            f.column,
            f.description,
            f.preview
        );
    }
    for s in &r.skipped {
        output::err_line(format!("note: skipped {s}"));
    }
    let refs = r.references.len();
    outln!(
        "{} file{}, {refs} reference{}, {} problem{}",
        r.files,
        plural(r.files),
        plural(refs),
        r.problems,
        plural(r.problems)
    );
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
