//! `coffer`: the command line over the same vault as the desktop app.
//!
//! Every command maps to one call of `coffer-core`; this crate parses arguments,
//! gathers credentials, prints results, and turns error codes into exit codes.
#![forbid(unsafe_code)]

mod agent;
mod backups;
mod check;
mod cli;
mod commands;
mod credentials;
mod doctor;
mod output;
mod recovery;
mod request;
mod run;
mod secret_files;
mod served;
mod team;

use std::process::ExitCode;

use clap::Parser;
use coffer_core::{Error, ErrorCode};

/// Exit codes of DESIGN.md's command line contract.
fn exit_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::Invalid => 2,
        ErrorCode::NotFound => 3,
        ErrorCode::Denied => 4,
        ErrorCode::Conflict => 5,
        ErrorCode::Auth => 6,
        ErrorCode::Integrity => 7,
        ErrorCode::Internal => 1,
    }
}

fn main() -> ExitCode {
    // Before anything else: no core dumps, no inspection by same-user processes
    // (a `coffer run` child reading our environment for the passphrase).
    if let Err(e) = coffer_core::hardening::harden_process() {
        output::err_line(format!("warning: {e}"));
    }
    // Logging costs a process start ~0.1 ms of allocations: only when asked for.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("COFFER_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(
                filter
                    // ureq logs URLs (and their queries, which may hold a value) at
                    // trace. The directives are constants, so parsing cannot fail.
                    .add_directive("ureq=info".parse().expect("a valid directive"))
                    .add_directive("ureq_proto=info".parse().expect("a valid directive")),
            )
            .with_writer(std::io::stderr)
            .init();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let json = cli.json;
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => report(&e, json),
    }
}

use cli::Cli;

/// Help and version print in full; a usage mistake is one `error:` line, exit 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
    }
    let text = e.render().to_string();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    output::err_line(format!("error: {first} (see coffer --help)"));
    ExitCode::from(2)
}

fn report(e: &Error, json: bool) -> ExitCode {
    let message = e.to_string();
    output::err_line(format!("error: {message}"));
    if json {
        output::json(
            &serde_json::json!({ "error": { "code": e.code().as_str(), "message": message } }),
        );
    }
    ExitCode::from(exit_code(e.code()))
}
