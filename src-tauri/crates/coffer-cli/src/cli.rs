//! The command line grammar of DESIGN.md, as clap types. Parsing only; `commands`
//! acts on it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "coffer",
    version,
    about = "Coffer: a local-first secrets manager. Values are stored once, used by name, and never printed unless revealed.",
    after_help = "Passphrase: COFFER_PASSPHRASE, else the device keyring, else a prompt.\n\
                  Exit codes: 0 ok, 1 check found problems, 2 invalid input, 3 not found, 4 denied, 5 conflict, 6 authentication, 7 integrity."
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,
    #[command(subcommand)]
    pub command: Command,
}

/// The options every subcommand takes.
#[derive(Args)]
pub struct Globals {
    /// The vault file [env: COFFER_VAULT; default: the platform data directory]
    #[arg(long, global = true, value_name = "PATH")]
    pub vault: Option<PathBuf>,
    /// Who you are [env: COFFER_MEMBER]
    #[arg(long = "as", global = true, value_name = "MEMBER")]
    pub member: Option<String>,
    /// Workspace [env: COFFER_WORKSPACE; default: default]
    #[arg(long, global = true, value_name = "W")]
    pub workspace: Option<String>,
    /// Project [env: COFFER_PROJECT; default: default]
    #[arg(long, global = true, value_name = "P")]
    pub project: Option<String>,
    /// Machine-readable output (errors too, as {"error":{"code","message"}})
    #[arg(long, global = true)]
    pub json: bool,
}

/// Adds a subcommand's arguments to the (empty) command named after it.
type Augment = fn(clap::Command) -> clap::Command;

/// The everyday subcommands (the ones a session agent serves), each buildable alone.
/// Their variants of [`Command`] carry no `#[command]` settings of their own (the
/// quick tree would lack them): `each_quick_subcommand_is_the_full_trees` checks.
const QUICK: [(&str, Augment); 4] = [
    ("reveal", <RevealArgs as Args>::augment_args),
    ("ls", <LsArgs as Args>::augment_args),
    ("run", <RunArgs as Args>::augment_args),
    ("set", <SetArgs as Args>::augment_args),
];

impl Cli {
    /// The command line, parsed. Building clap's tree of every subcommand costs ~0.4 ms,
    /// a fifth of a `coffer reveal` served by an agent; when the first argument names
    /// an everyday subcommand, only it (and the global options) is built. Anything that
    /// tree does not simply accept — help, a mistake — is parsed again in full, so
    /// messages, help and exit codes are the full tree's.
    pub fn parse_args() -> Result<Cli, clap::Error> {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        if let Some(cli) = Self::quick(&args) {
            return Ok(cli);
        }
        <Cli as Parser>::try_parse_from(args)
    }

    fn quick(args: &[std::ffi::OsString]) -> Option<Cli> {
        use clap::FromArgMatches as _;
        let matches = quick_command(args.get(1)?.to_str()?)?
            .try_get_matches_from(args)
            .ok()?;
        Cli::from_arg_matches(&matches).ok()
    }
}

/// The root with the global options and the one subcommand `name`, when it is one of
/// [`QUICK`].
fn quick_command(name: &str) -> Option<clap::Command> {
    let (name, augment) = QUICK.iter().find(|(n, _)| *n == name)?;
    let root = <Globals as Args>::augment_args(clap::Command::new("coffer"));
    Some(root.subcommand(augment(clap::Command::new(*name))))
}

#[derive(Subcommand)]
pub enum Command {
    /// Create a new vault with its owner
    #[command(
        after_help = "Shows a recovery key once (24 words; on stderr, or in --json): with it, `coffer recover`
                      sets a new passphrase if you forget yours. On a terminal you type three of its words back."
    )]
    Init {
        #[arg(long, value_name = "NAME")]
        owner: String,
        /// Make no recovery key: a forgotten passphrase then loses the vault
        #[arg(long)]
        no_recovery_key: bool,
        /// Argon2id memory per unlock, in MiB, for every key slot of this vault
        /// (default 64; at least 19, or 46 with --kdf-passes 1: OWASP's minimum)
        #[arg(long, value_name = "MIB")]
        kdf_memory: Option<u32>,
        /// Argon2id passes (default 3)
        #[arg(long, value_name = "N")]
        kdf_passes: Option<u32>,
    },
    /// Set a new passphrase with your recovery key (COFFER_RECOVERY_KEY or typed; the
    /// new passphrase from COFFER_NEW_PASSPHRASE or typed twice)
    Recover,
    /// Your recovery key (owners)
    #[command(subcommand)]
    RecoveryKey(RecoveryKeyCmd),
    /// Members of the workspace and their roles
    #[command(subcommand)]
    Member(MemberCmd),
    /// Built-in roles and what each may do
    #[command(subcommand)]
    Role(RoleCmd),
    /// Workspaces (tenants) you belong to
    #[command(subcommand)]
    Workspace(WorkspaceCmd),
    /// Projects of the workspace
    #[command(subcommand)]
    Project(ProjectCmd),
    /// Environments of the project
    #[command(subcommand)]
    Env(EnvCmd),
    /// Create a secret or add a new version (rotate) from stdin or generated
    Set(SetArgs),
    /// List secrets with their state per environment (never values)
    Ls(LsArgs),
    /// Metadata and version history of a secret (never a value)
    Show { name: String },
    /// Print a value (needs the reveal capability; audited). A binary value is written
    /// as its exact bytes (no newline) into a pipe or file, and as base64 on a terminal
    /// and with --json
    Reveal(RevealArgs),
    /// Restore an earlier version (writes it as a new version)
    Rollback {
        name: String,
        #[arg(long = "env", value_name = "E")]
        environment: String,
        #[arg(long, value_name = "N")]
        to: i64,
    },
    /// Delete a secret (recoverable during the recovery window)
    Rm { name: String },
    /// Restore a deleted secret, or the whole vault from a backup or snapshot (give its
    /// path, with a '/', or --from FILE)
    #[command(
        after_help = "coffer restore NAME              a deleted secret, within the recovery window\n\
                      coffer restore ./vault-backup.db the whole vault, from `coffer backup` or `coffer snapshots`\n\n\
                      A vault restore checks the file first (SQLite's integrity check, the signed directory, the\n\
                      whole audit trail) and asks for your passphrase as it was in the file. The vault as it was is\n\
                      kept as a snapshot, and the restore is recorded in the trail."
    )]
    Restore {
        /// A deleted secret, or the path of a backup file (with a '/')
        #[arg(required_unless_present = "from")]
        name: Option<String>,
        /// Restore the whole vault from this backup or snapshot
        #[arg(long, value_name = "FILE", conflicts_with = "name")]
        from: Option<PathBuf>,
        /// Replace this vault with a backup of another vault (this one is kept as a snapshot)
        #[arg(long)]
        replace: bool,
    },
    /// Write a standalone copy of the vault: a snapshot beside it, or --to FILE
    Backup {
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
    /// Share the vault through a PostgreSQL server (a team vault)
    #[command(subcommand)]
    Team(TeamCmd),
    /// The snapshots kept beside the vault, newest first (one before each schema
    /// upgrade and at the first write of each day)
    Snapshots {
        /// Keep the newest daily snapshot of this many days (default 7)
        #[arg(long, value_name = "N")]
        keep_daily: Option<u32>,
        /// ... and of this many weeks (default 4); both 0: no daily snapshots
        #[arg(long, value_name = "N")]
        keep_weekly: Option<u32>,
    },
    /// Remove a deleted secret for good
    Purge { name: String },
    /// Workspace settings: rollback-window, max-versions, recovery-window, auto-lock
    #[command(subcommand)]
    Settings(SettingsCmd),
    /// The audit trail (and `audit verify`)
    Audit(AuditArgs),
    /// Import a .env or JSON file into one environment (all or nothing)
    Import {
        file: PathBuf,
        #[arg(long = "env", value_name = "E")]
        environment: Option<String>,
    },
    /// Export definitions (names and metadata, never values)
    Export,
    /// Remember this vault on this device through the OS keyring
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Your passphrase (`change`: new one from COFFER_NEW_PASSPHRASE or typed twice)
    #[command(subcommand)]
    Passphrase(PassphraseCmd),
    /// Run a command with secrets in its environment, masked in its output
    Run(RunArgs),
    /// Print a short-lived $secret: handle for a secret (for run templates and requests)
    Ref {
        name: String,
        #[arg(long = "env", value_name = "E")]
        environment: Option<String>,
        /// How long the handle stays valid (default 5m, at most 24h)
        #[arg(long, value_name = "DUR")]
        ttl: Option<String>,
        /// Single use: the first run or request that resolves the handle consumes it
        #[arg(long)]
        once: bool,
    },
    /// Send a test request with secrets placed by reference; the response is masked
    Request(crate::request::RequestArgs),
    /// The run check: list references in definition files, flag missing secrets and
    /// embedded credentials (exit 1 on problems)
    Check(CheckArgs),
    /// Keep the vault unlocked for this login session (an agent on a private socket)
    Unlock {
        /// How long, e.g. 15m or 8h (at most 24h)
        #[arg(long = "for", value_name = "DUR")]
        duration: String,
    },
    /// End the unlocked session started by `coffer unlock`
    Lock,
    /// Say what is wrong with this vault and machine, and how to fix it (exit 1 if
    /// something needs action)
    Doctor,
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell)
    #[command(
        after_help = "Installed by the package; by hand, e.g.:\n  coffer completions bash > ~/.local/share/bash-completion/completions/coffer"
    )]
    Completions { shell: clap_complete::Shell },
    /// Write the manual pages (coffer.1 and one per command) into a directory
    #[command(hide = true)]
    Man {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// The session agent itself (started by `coffer unlock`)
    #[command(hide = true)]
    Agent {
        #[arg(long)]
        socket: PathBuf,
        #[arg(long)]
        until_ms: i64,
    },
}

#[derive(Args)]
pub struct LsArgs {
    #[arg(long = "env", value_name = "E")]
    pub environment: Option<String>,
    /// Include soft-deleted secrets
    #[arg(long)]
    pub deleted: bool,
}

#[derive(Args)]
pub struct RevealArgs {
    pub name: String,
    #[arg(long = "env", value_name = "E")]
    pub environment: Option<String>,
    #[arg(long, value_name = "N")]
    pub version: Option<i64>,
    /// Why you need to see it (kept in the audit trail)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Do not print a newline after the value
    #[arg(short = 'n', long)]
    pub no_newline: bool,
}

#[derive(Args)]
pub struct RunArgs {
    #[arg(long = "env", value_name = "E")]
    pub environment: Option<String>,
    /// Only these secrets (comma-separated names)
    #[arg(
        long,
        value_name = "NAMES",
        value_delimiter = ',',
        conflicts_with = "env_file"
    )]
    pub only: Vec<String>,
    /// Exactly the variables this file maps to references (VAR={{ secrets.NAME }})
    #[arg(long, value_name = "TEMPLATE")]
    pub env_file: Option<PathBuf>,
    /// Give a secret as a file (repeatable): its value (a binary one's exact bytes) is
    /// written to a file (mode 0400) in a new private directory (0700) under
    /// $XDG_RUNTIME_DIR/coffer, or $TMPDIR/coffer-UID (/tmp) when XDG_RUNTIME_DIR is
    /// unset; VAR holds the file's path and never the value. `--file SECRET` names the
    /// variable after the secret (payments-key: PAYMENTS_KEY). The directory is removed
    /// when the command exits, is killed, or coffer is stopped by SIGTERM, SIGINT or
    /// SIGHUP; one left by a coffer that was killed is removed by the next `coffer run`
    #[arg(long = "file", value_name = "[VAR=]SECRET")]
    pub files: Vec<String>,
    /// Resolve references from this process's environment instead of the vault
    #[arg(long)]
    pub from_env: bool,
    /// Do not mask values in the output: they may then be printed, so this needs the
    /// reveal capability and each use is audited with masking off
    #[arg(long)]
    pub no_masking: bool,
    /// The command and its arguments, after `--`
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

#[derive(Args)]
pub struct CheckArgs {
    /// Definition files or directories (searched recursively, .github and other hidden
    /// folders included; .git, node_modules, target and caches skipped)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The environment references must resolve in (default: development)
    #[arg(long = "env", value_name = "E")]
    pub environment: Option<String>,
    /// Check every environment of the project instead of one
    #[arg(long, conflicts_with = "environment")]
    pub all_envs: bool,
    /// Remember where each secret is referenced (shown by `show` and the app)
    #[arg(long)]
    pub record: bool,
    /// Resolve references from the process environment instead of the vault
    #[arg(long)]
    pub from_env: bool,
}

#[derive(Subcommand)]
pub enum MemberCmd {
    /// Add a member (passphrase from COFFER_NEW_PASSPHRASE or a prompt)
    Add {
        name: String,
        #[arg(long, value_name = "ROLE")]
        role: String,
    },
    /// The members of this workspace and their roles
    List,
    /// Give a member a role in this workspace (or one project)
    Grant {
        name: String,
        role: String,
        /// Narrow the grant to this project
        #[arg(long = "only-project", value_name = "P")]
        only_project: Option<String>,
    },
    /// Remove a member from this workspace
    Remove { name: String },
}

#[derive(Subcommand)]
pub enum RoleCmd {
    /// The built-in roles and the capabilities of each
    List,
}

#[derive(Subcommand)]
pub enum WorkspaceCmd {
    /// Create a workspace, with you as its owner
    Create { name: String },
    /// The workspaces you belong to
    List,
}

#[derive(Subcommand)]
pub enum ProjectCmd {
    /// Create a project in this workspace (with development, staging and production)
    Create { name: String },
    /// The projects of this workspace
    List,
}

#[derive(Subcommand)]
pub enum EnvCmd {
    /// Create an environment in this project
    Create {
        name: String,
        /// Ask for the passphrase again before any change
        #[arg(long)]
        protected: bool,
    },
    /// The environments of this project, protected ones marked
    List,
    /// Mark an environment protected
    Protect { name: String },
    /// Remove the protection of an environment
    Unprotect { name: String },
}

#[derive(Subcommand)]
pub enum SettingsCmd {
    /// Show one setting, or all of them with their defaults
    Get { key: Option<String> },
    /// Change a setting (needs manage)
    Set { key: String, value: String },
}

#[derive(Subcommand)]
pub enum TeamCmd {
    /// Move this vault onto an empty PostgreSQL database (the vault's owner; the URL's
    /// login must be able to create schemas and roles there; its password from the URL
    /// or PGPASSWORD). This file stays this machine's copy.
    #[command(
        after_help = "URL: postgres://USER@HOST[:PORT]/DATABASE, always over TLS; add ?sslrootcert=FILE to trust
                      the authority that signed the server's certificate instead of the system's.
                      The server receives sealed values, sealed keys, signed rows and the signed trail:
                      never a value or a private key in the clear."
    )]
    Create {
        #[arg(value_name = "URL")]
        url: String,
    },
    /// The team server: online or not, its schema, sequence numbers here and there,
    /// what waits to be pushed
    Status,
    /// Check that the team server still holds what this machine exchanged with it:
    /// records not deleted, edited or rolled back, this machine's audit events all
    /// there in their order, trails whose links join (exit 7 naming what differs)
    Verify,
    /// The whole team's audit trail in this workspace, read from the team server: every
    /// member's events, each checked against its author's signature (who may audit;
    /// exit 7 naming an event that does not check)
    Audit(AuditFilterArgs),
    /// Bring the team server's schema up to this Coffer's (as the database's
    /// administrator, like `create`; each step one transaction, applied once)
    Upgrade {
        #[arg(value_name = "URL")]
        url: String,
    },
    /// Invite someone to join from their own machine with a role in the workspace
    /// (`--workspace`); prints a one-time code to hand them (the vault's owner)
    #[command(
        after_help = "The invitee runs `coffer team join CODE` on their machine: their keys are made there and
their screen shows a fingerprint of them. Admit them with `coffer team admit NAME` once you
have compared that fingerprint (read out in person or on a call, not in the same chat as the code)."
    )]
    Invite {
        name: String,
        #[arg(long, value_parser = ["viewer", "developer", "admin", "auditor", "owner"], required_unless_present = "cancel")]
        role: Option<String>,
        /// How long the code works (default 24h, at most 30d)
        #[arg(long, value_name = "DUR", conflicts_with = "cancel")]
        expires: Option<String>,
        /// Cancel the open invitation for NAME instead
        #[arg(long)]
        cancel: bool,
    },
    /// The open invitations: who, which role, and the fingerprint of the keys they
    /// sent once they joined
    Invitations,
    /// Admit a member who joined with their invitation, after comparing the
    /// fingerprint on their screen: their keys are certified and sealed to, their
    /// login made, and the change synced
    Admit {
        name: String,
        /// The fingerprint shown on their screen (asked on the terminal otherwise)
        #[arg(long, value_name = "FP")]
        fingerprint: Option<String>,
    },
    /// Join a team vault with the code an owner gave you: your keys are made here
    /// (into a new vault file), then wait until the owner admits you
    Join {
        /// The invitation code (leave it out to carry on with a join started here)
        #[arg(value_name = "CODE")]
        code: Option<String>,
        /// Reach the server at this address instead of the one in the code
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// How long to wait for the owner's admission (default 15m; 0: do not wait)
        #[arg(long, value_name = "DUR")]
        wait: Option<String>,
    },
    /// Take the team server's changes into this file, then send this machine's
    /// (a record changed both here and there is a conflict: both are kept)
    Sync,
    /// Settle conflicts: keep this machine's side (sent at the next sync, over the
    /// server's) or the server's (taken here now); all of them, or one `KIND KEY`
    /// as `team sync` names it
    Resolve {
        #[arg(value_name = "KIND", requires = "key")]
        kind: Option<String>,
        #[arg(value_name = "KEY")]
        key: Option<String>,
        /// Whose side to keep
        #[arg(long, value_parser = ["mine", "theirs"], required = true)]
        keep: String,
    },
}

#[derive(Subcommand)]
pub enum RecoveryKeyCmd {
    /// Make a new recovery key (shown once); the old one opens nothing from now on
    Rotate,
}

#[derive(Subcommand)]
pub enum PassphraseCmd {
    /// Set a new passphrase of your own (your keys are sealed again under it)
    Change,
}

#[derive(Subcommand)]
pub enum DeviceCmd {
    /// Keep a device key in the OS keyring so no passphrase is needed here
    Remember,
    /// Remove the device key and its key slot
    Forget,
    /// Say whether this vault is remembered on this device
    Status,
}

#[derive(Args)]
pub struct SetArgs {
    pub name: String,
    #[arg(long = "env", value_name = "E")]
    pub environment: Option<String>,
    /// Read the value from standard input
    #[arg(long, conflicts_with = "generate")]
    pub value_stdin: bool,
    /// Let Coffer generate the value
    #[arg(long)]
    pub generate: bool,
    #[arg(long, value_name = "N", requires = "generate")]
    pub length: Option<usize>,
    /// alnum, alpha, hex, digits, base32, base64url, symbols, or the characters themselves
    #[arg(long, value_name = "A", requires = "generate")]
    pub alphabet: Option<String>,
    #[arg(long, value_name = "D")]
    pub description: Option<String>,
    /// string, multiline, json or binary. Binary: any bytes piped to --value-stdin (at
    /// most 64 KiB; typed at a prompt: their base64), injected by `run --file` as those
    /// bytes and as an environment variable as their base64; --generate makes N random
    /// bytes
    #[arg(long = "type", value_name = "T")]
    pub kind: Option<String>,
    /// workspace or user (private to you)
    #[arg(long, value_name = "S")]
    pub scope: Option<String>,
    #[arg(long, value_name = "DUR")]
    pub expires_in: Option<String>,
    #[arg(long, value_name = "DUR")]
    pub rotate_every: Option<String>,
    /// Only write if the current version is N (0: only if no value yet)
    #[arg(long, value_name = "N")]
    pub if_version: Option<i64>,
    /// A host test requests may send this secret to (repeatable; replaces the list):
    /// api.stripe.com (any port), api.stripe.com:8443 (that port), *.example.com (its
    /// subdomains, not example.com itself), 127.0.0.1, [::1]. No scheme or path.
    /// Members who may reveal send anywhere. Without --value-stdin or --generate, only
    /// the list of an existing secret changes.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// Clear the allowed hosts: test requests with this secret then need reveal
    #[arg(long, conflicts_with = "allow_host")]
    pub no_allowed_hosts: bool,
    /// Refused: values never come from arguments.
    #[arg(long = "value", hide = true, value_name = "VALUE")]
    pub value_arg: Option<String>,
    /// Refused: values never come from arguments.
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub stray: Vec<String>,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub verify: Option<AuditCmd>,
    #[command(flatten)]
    pub filter: AuditFilterArgs,
    #[arg(long, conflicts_with = "jsonl")]
    pub csv: bool,
    /// One JSON object per line (Elastic Common Schema names), streamed, for a SIEM
    #[arg(long)]
    pub jsonl: bool,
    /// With --jsonl: keep printing new events as they come (for a log forwarder)
    #[arg(long, requires = "jsonl")]
    pub follow: bool,
}

/// Which events of the trail to show (`coffer audit`, `coffer team audit`).
#[derive(Args)]
pub struct AuditFilterArgs {
    #[arg(long, value_name = "A")]
    pub actor: Option<String>,
    /// e.g. reveal, secret.update, denied attempts show outcome "denied"
    #[arg(long, value_name = "X")]
    pub action: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub secret: Option<String>,
    /// A duration back from now (7d) or a date (2026-11-01)
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// The newest N
    #[arg(long, value_name = "N")]
    pub limit: Option<i64>,
}

impl From<AuditFilterArgs> for coffer_core::AuditFilter {
    fn from(a: AuditFilterArgs) -> Self {
        coffer_core::AuditFilter {
            actor: a.actor,
            action: a.action,
            secret: a.secret,
            since: a.since,
            limit: a.limit,
        }
    }
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Check the chain of every event; exit 1 naming the first bad one
    Verify {
        /// Verify an exported or archived trail instead, offline, with the public keys
        /// it carries (no vault needed)
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// With --file: the root key fingerprint the file must chain to
        #[arg(long, value_name = "FINGERPRINT", requires = "file")]
        root: Option<String>,
    },
    /// Verify, then sign a checkpoint naming the head (owners and auditors)
    Checkpoint,
    /// Write the whole trail as a file anyone can verify offline with `verify --file`
    Export {
        /// Where to write it (standard output when absent)
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
    /// Move events before a date to a verifiable archive file (owners)
    Archive {
        /// A date (2026-01-01) or a duration back from now (365d)
        #[arg(long, value_name = "T")]
        before: String,
        /// The new archive file
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    /// Each quick subcommand is the full tree's once clap has built both (global
    /// options propagated, help added): every setting and argument, by `Debug`, all
    /// but the description the full tree takes from the enum's doc comments and the
    /// place among its siblings in help.
    #[test]
    fn each_quick_subcommand_is_the_full_trees() {
        let mut full = Cli::command();
        full.build();
        for (name, _) in QUICK {
            let mut quick = quick_command(name).unwrap();
            quick.build();
            let describe = |c: &clap::Command| {
                let sub = c.find_subcommand(name).unwrap().clone();
                format!("{:?}", sub.about(None).long_about(None).display_order(0))
            };
            assert_eq!(describe(&quick), describe(&full), "{name}");
        }
    }

    /// What the quick tree accepts, the full tree accepts into the same matches (each
    /// value, where it stood and where it came from); what the full tree refuses, the
    /// quick one refuses too — and a refusal or help is then parsed in full.
    #[test]
    fn the_quick_tree_parses_as_the_full_one_or_gives_way() {
        let valid: &[&[&str]] = &[
            &["reveal", "API_KEY"],
            &["reveal", "API_KEY", "--env", "production"],
            &["reveal", "--env=production", "API_KEY", "-n"],
            &[
                "reveal",
                "API_KEY",
                "--json",
                "--as",
                "bob",
                "--workspace",
                "acme",
            ],
            &[
                "reveal",
                "--project",
                "web",
                "API_KEY",
                "--version",
                "3",
                "--reason",
                "a b",
            ],
            &["ls"],
            &["ls", "--env", "development"],
            &["ls", "--deleted", "--json"],
            &["ls", "--vault", "/tmp/v.db", "--env=staging"],
            &["run", "--", "true"],
            &[
                "run",
                "--env",
                "production",
                "--only",
                "A,B",
                "--",
                "sh",
                "-c",
                "echo $A",
            ],
            &[
                "run",
                "--only",
                "A",
                "--only",
                "B",
                "--no-masking",
                "--",
                "prog",
                "--help",
            ],
            &["run", "--file", "CERT", "--from-env", "--", "prog", "-h"],
            &["set", "API_KEY", "--value-stdin"],
            &[
                "set",
                "API_KEY",
                "--generate",
                "--length",
                "40",
                "--env",
                "production",
            ],
            &[
                "set",
                "API_KEY",
                "--allow-host",
                "api.example.com",
                "--allow-host",
                "b.example",
            ],
            &[
                "set",
                "API_KEY",
                "--description",
                "the key",
                "--type",
                "token",
                "--if-version",
                "2",
            ],
        ];
        let refused: &[&[&str]] = &[
            &["reveal"],
            &["reveal", "A", "B"],
            &["reveal", "API_KEY", "--bogus"],
            &["reveal", "API_KEY", "--env"],
            &["reveal", "-h"],
            &["reveal", "--help"],
            &["reveal", "API_KEY", "--version", "x"],
            &["ls", "extra"],
            &["ls", "--help"],
            &["run", "--only"],
            &["set"],
            &["set", "API_KEY", "--value-stdin", "--generate"],
            &["set", "API_KEY", "--length", "4"],
            &["set", "API_KEY", "--allow-host", "a", "--no-allowed-hosts"],
        ];
        fn parse(
            args: &[&'static str],
        ) -> (
            Vec<&'static str>,
            Result<clap::ArgMatches, clap::Error>,
            Result<clap::ArgMatches, clap::Error>,
        ) {
            let argv: Vec<&str> = std::iter::once("coffer")
                .chain(args.iter().copied())
                .collect();
            let quick = quick_command(args[0]).unwrap().try_get_matches_from(&argv);
            let full = Cli::command().try_get_matches_from(&argv);
            (argv, quick, full)
        }
        for args in valid {
            let (argv, quick, full) = parse(args);
            let (quick, full) = (quick.unwrap(), full.unwrap());
            // The subcommand's matches whole; at the root, the global options (the
            // roots differ in what else they could have matched).
            assert_eq!(quick.subcommand(), full.subcommand(), "{argv:?}");
            for id in ["vault", "member", "workspace", "project", "json"] {
                assert_eq!(
                    quick.get_raw(id).map(|v| v.collect::<Vec<_>>()),
                    full.get_raw(id).map(|v| v.collect::<Vec<_>>()),
                    "{argv:?} {id}"
                );
                assert_eq!(
                    quick.value_source(id),
                    full.value_source(id),
                    "{argv:?} {id}"
                );
            }
            let os: Vec<std::ffi::OsString> = argv.iter().map(Into::into).collect();
            assert!(Cli::quick(&os).is_some(), "{argv:?} takes the quick way");
        }
        for args in refused {
            let (argv, quick, full) = parse(args);
            assert!(full.is_err(), "{argv:?} is a mistake or a help request");
            assert!(
                quick.is_err(),
                "{argv:?}: the quick tree gives way to the full one"
            );
        }
        // Global options before the subcommand take the full tree.
        let os: Vec<std::ffi::OsString> =
            ["coffer", "--json", "ls"].iter().map(Into::into).collect();
        assert!(Cli::quick(&os).is_none());
    }
}
