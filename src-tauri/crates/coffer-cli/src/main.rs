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
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let json = cli.globals.json;
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
    output::err_line(format!(
        "error: {} (see coffer --help)",
        usage_message(&e.render().to_string())
    ));
    ExitCode::from(2)
}

/// clap's message as one line: its first paragraph, the lines under the first (the
/// missing arguments, say) joined onto it, without the usage and tips after it.
fn usage_message(rendered: &str) -> String {
    let mut lines = rendered
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim);
    let Some(first) = lines.next() else {
        return "invalid arguments".to_string();
    };
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let rest: Vec<&str> = lines.collect();
    if rest.is_empty() {
        first.to_string()
    } else {
        format!("{first} {}", rest.join(", "))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(args: &[&str]) -> String {
        let argv = std::iter::once("coffer").chain(args.iter().copied());
        match <Cli as clap::Parser>::try_parse_from(argv) {
            Ok(_) => panic!("{args:?} parsed"),
            Err(e) => usage_message(&e.render().to_string()),
        }
    }

    /// A usage mistake is one line that says what is wrong, naming what is missing.
    #[test]
    fn a_usage_mistake_is_one_line_naming_what_is_missing() {
        assert_eq!(
            message(&["reveal"]),
            "the following required arguments were not provided: <NAME>"
        );
        assert_eq!(
            message(&["init"]),
            "the following required arguments were not provided: --owner <NAME>"
        );
        assert_eq!(
            message(&["reveal", "A", "--bogus"]),
            "unexpected argument '--bogus' found"
        );
        for args in [
            &["reveal"][..],
            &["ls", "x"],
            &["set", "A", "--length", "4"],
        ] {
            let m = message(args);
            assert!(!m.contains('\n') && !m.contains("Usage"), "{args:?}: {m}");
        }
    }
}
