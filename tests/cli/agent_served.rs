//! The commands a session agent runs for the CLI (`reveal`, `run`, `set`, `ls`): what
//! they print, their exit codes and their audit events are the ones the usual way
//! gives; a change to a protected environment still asks for the passphrase; a member
//! removed while their agent serves is refused and the agent ends; a vault file
//! replaced under a running agent is the one it serves from.

use super::support::{random_token, Member, Run, Vault};

/// An unlocked session for `member` (the owner when `None`) in its own runtime
/// directory; `with` runs a command through it, without any passphrase.
struct Agent<'v> {
    vault: &'v Vault,
    member: Option<Member>,
    runtime: String,
}

impl<'v> Agent<'v> {
    fn start(vault: &'v Vault, member: Option<Member>, name: &str) -> Agent<'v> {
        let runtime = vault.dir().join(name);
        std::fs::create_dir_all(&runtime).unwrap();
        let agent = Agent {
            vault,
            member,
            runtime: runtime.to_str().unwrap().to_string(),
        };
        let mut cli = vault.cli().env("XDG_RUNTIME_DIR", &agent.runtime);
        if let Some(m) = &agent.member {
            cli = cli.acting_as(m);
        }
        cli.run(&["unlock", "--for", "5m"]).ok();
        assert_eq!(agent.sockets(), 1);
        agent
    }

    fn cli(&self) -> super::support::Invocation<'v> {
        let mut cli = self.vault.cli().env("XDG_RUNTIME_DIR", &self.runtime);
        if let Some(m) = &self.member {
            cli = cli.acting_as(m);
        }
        cli.passphrase("")
    }

    fn run(&self, args: &[&str]) -> Run {
        self.cli().run(args)
    }

    fn sockets(&self) -> usize {
        std::fs::read_dir(std::path::Path::new(&self.runtime).join("coffer"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".sock"))
                    .count()
            })
            .unwrap_or(0)
    }
}

impl Drop for Agent<'_> {
    fn drop(&mut self) {
        let _ = self.cli().run(&["lock"]);
    }
}

/// The usual way: the passphrase given, no agent to ask.
fn without_agent(vault: &Vault) -> super::support::Invocation<'_> {
    let runtime = vault.dir().join("no-agent");
    std::fs::create_dir_all(&runtime).unwrap();
    vault
        .cli()
        .env("XDG_RUNTIME_DIR", runtime.to_str().unwrap())
}

fn usual(vault: &Vault, args: &[&str]) -> Run {
    without_agent(vault).run(args)
}

fn same(served: &Run, usual: &Run) {
    assert_eq!(
        (served.code(), &served.stdout, &served.stderr),
        (usual.code(), &usual.stdout, &usual.stderr),
        "served:\n{}\nusual:\n{}",
        served.describe(),
        usual.describe()
    );
}

#[test]
fn served_commands_print_and_exit_as_the_usual_way_does() {
    let vault = Vault::new();
    let api = random_token("sk_live_");
    let db = random_token("pg_pw_");
    vault.set("API_KEY", &api, &["--description", "payments ✓"]);
    vault.set("DB_PASSWORD", &db, &["--env", "production"]);
    vault
        .cli()
        .stdin(vec![0u8, 159, 146, 150, 1, 2])
        .run(&["set", "BLOB", "--type", "binary", "--value-stdin"])
        .ok();
    let agent = Agent::start(&vault, None, "runtime");

    for args in [
        &["ls"][..],
        &["ls", "--env", "production"],
        &["--json", "ls"],
        &["ls", "--deleted"],
        &["reveal", "API_KEY"],
        &[
            "reveal",
            "DB_PASSWORD",
            "--env",
            "production",
            "--reason",
            "rotating",
        ],
        &["--json", "reveal", "BLOB"],
        &["reveal", "BLOB"],
        &["reveal", "API_KEY", "--version", "7"],
        &["reveal", "MISSING"],
        &["--json", "reveal", "MISSING"],
        &[
            "run",
            "--only",
            "API_KEY",
            "--",
            "sh",
            "-c",
            "printf '%s|' \"$API_KEY\"; exit 3",
        ],
        &[
            "run",
            "--env",
            "production",
            "--",
            "sh",
            "-c",
            "test \"$DB_PASSWORD\" = \"$0\" && echo same",
            &db,
        ],
        &["run", "--only", "NOPE", "--", "true"],
        &[
            "run",
            "--file",
            "BLOB",
            "--",
            "sh",
            "-c",
            "test -f \"$BLOB\" && echo file",
        ],
        &["--workspace", "nowhere", "ls"],
    ] {
        same(&agent.run(args), &usual(&vault, args));
    }

    // A write: the same answer, and the next version.
    let served = agent
        .cli()
        .stdin("v2-served")
        .run(&["set", "API_KEY", "--value-stdin"]);
    let usual_set =
        without_agent(&vault)
            .stdin("v3-usual")
            .run(&["set", "API_KEY", "--value-stdin"]);
    assert_eq!(
        served.stdout,
        "updated API_KEY in development (version 2)\n",
        "{}",
        served.describe()
    );
    assert_eq!(
        usual_set.stdout,
        "updated API_KEY in development (version 3)\n"
    );
    let json = agent
        .cli()
        .stdin("v4")
        .run(&[
            "--json",
            "set",
            "NEW_ONE",
            "--value-stdin",
            "--type",
            "multiline",
        ])
        .ok()
        .json();
    assert_eq!(json["created"], true, "{json}");
    let stale = ["set", "API_KEY", "--value-stdin", "--if-version", "1"];
    let conflict = agent.cli().stdin("v5").run(&stale);
    assert_eq!(conflict.code(), Some(5), "{}", conflict.describe());
    same(&conflict, &without_agent(&vault).stdin("v5").run(&stale));
    let bad_kind =
        agent
            .cli()
            .stdin("v6")
            .run(&["set", "X", "--value-stdin", "--type", "nonsense"]);
    assert_eq!(bad_kind.code(), Some(2), "{}", bad_kind.describe());
    assert_eq!(vault.reveal("API_KEY", &[]), "v3-usual");
    assert_eq!(vault.reveal("NEW_ONE", &[]), "v4");

    // Each served use is in the trail as a use made the usual way is.
    let trail = vault
        .run(&["--json", "audit", "--action", "secret.reveal"])
        .ok()
        .json();
    let reasons: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["detail"]["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["rotating", "rotating"], "{trail}");
    let uses = vault
        .run(&["--json", "audit", "--action", "secret.use"])
        .ok()
        .json();
    // Each way: API_KEY, DB_PASSWORD in production, then BLOB as a file with API_KEY.
    let used: Vec<&str> = uses
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["secret"].as_str().unwrap())
        .collect();
    let both = [
        "API_KEY",
        "API_KEY",
        "DB_PASSWORD",
        "DB_PASSWORD",
        "API_KEY",
        "BLOB",
        "API_KEY",
        "BLOB",
    ];
    assert_eq!(used, both, "{uses}");
}

#[test]
fn a_protected_environment_still_asks_for_the_passphrase() {
    let vault = Vault::new();
    vault.set("API_KEY", "v1-production", &["--env", "production"]);
    vault.run(&["env", "protect", "production"]).ok();
    let agent = Agent::start(&vault, None, "runtime");
    // Reading needs no passphrase; changing a protected value does.
    assert_eq!(
        agent
            .run(&["reveal", "API_KEY", "--env", "production"])
            .ok()
            .stdout,
        "v1-production\n"
    );
    let refused =
        agent
            .cli()
            .stdin("v2")
            .run(&["set", "API_KEY", "--env", "production", "--value-stdin"]);
    assert_eq!(refused.code(), Some(6), "{}", refused.describe());
    assert!(
        refused.stderr.contains("passphrase"),
        "{}",
        refused.describe()
    );
    agent
        .cli()
        .passphrase(super::support::OWNER_PASSPHRASE)
        .stdin("v2")
        .run(&["set", "API_KEY", "--env", "production", "--value-stdin"])
        .ok();
    assert_eq!(vault.reveal("API_KEY", &["--env", "production"]), "v2");
}

#[test]
fn a_member_removed_while_their_agent_serves_is_refused_and_the_agent_ends() {
    let vault = Vault::new();
    vault.set("API_KEY", &random_token("v_"), &[]);
    let bob = vault.add_member("bob", "developer");
    let agent = Agent::start(&vault, Some(bob), "runtime");
    // Served: the agent has opened its session.
    agent.run(&["run", "--only", "API_KEY", "--", "true"]).ok();
    agent.run(&["ls"]).ok();
    vault.run(&["member", "remove", "bob"]).ok();
    agent.run(&["ls"]).refused(6);
    agent
        .run(&["run", "--only", "API_KEY", "--", "true"])
        .refused(6);
    assert_eq!(agent.sockets(), 0, "the removed member's agent has ended");
}

#[test]
fn a_vault_restored_under_the_agent_is_the_one_served() {
    let vault = Vault::new();
    vault.set("API_KEY", "before-backup", &[]);
    let backup = vault.dir().join("backup.db");
    let backup = backup.to_str().unwrap();
    vault.run(&["backup", "--to", backup]).ok();
    let agent = Agent::start(&vault, None, "runtime");
    agent
        .cli()
        .stdin("after-backup")
        .run(&["set", "API_KEY", "--value-stdin"])
        .ok();
    assert_eq!(
        agent.run(&["reveal", "API_KEY"]).ok().stdout,
        "after-backup\n"
    );
    // Restored in place while the agent keeps the vault open.
    without_agent(&vault).run(&["restore", backup]).ok();
    assert_eq!(
        agent.run(&["reveal", "API_KEY"]).ok().stdout,
        "before-backup\n"
    );

    // A damaged vault is moved aside whole and the copy takes its place.
    agent
        .cli()
        .stdin("after-restore")
        .run(&["set", "API_KEY", "--value-stdin"])
        .ok();
    agent.run(&["lock"]).ok();
    let agent = Agent::start(&vault, None, "runtime2");
    assert_eq!(
        agent.run(&["reveal", "API_KEY"]).ok().stdout,
        "after-restore\n"
    );
    let mut bytes = std::fs::read(&vault.path).unwrap();
    let len = bytes.len();
    bytes.truncate(len / 2);
    std::fs::write(&vault.path, &bytes).unwrap();
    without_agent(&vault).run(&["restore", backup]).ok();
    assert_eq!(
        agent.run(&["reveal", "API_KEY"]).ok().stdout,
        "before-backup\n"
    );
}
