//! Permissions end to end: DESIGN.md's role matrix through the real binary, every
//! refusal audited as denied, workspaces invisible to non-members, private secrets
//! invisible to everyone but their creator.

use serde_json::Value;

use super::support::{random_token, Member, Vault};

/// What a member tries, what the binary must answer, and (for a denial) the audited action.
struct Try {
    args: &'static [&'static str],
    stdin: Option<&'static str>,
    exit: i32,
    denied_action: Option<&'static str>,
}

const fn allowed(args: &'static [&'static str]) -> Try {
    Try {
        args,
        stdin: None,
        exit: 0,
        denied_action: None,
    }
}

const fn denied(args: &'static [&'static str], action: &'static str) -> Try {
    Try {
        args,
        stdin: None,
        exit: 4,
        denied_action: Some(action),
    }
}

const fn with_input(mut t: Try, stdin: &'static str) -> Try {
    t.stdin = Some(stdin);
    t
}

/// A vault holding `API_KEY` (two versions) and one member with `role`.
fn vault_with(role: &str) -> (Vault, Member, String) {
    let vault = Vault::new();
    let value = random_token("sk_live_");
    vault.set("API_KEY", &random_token("sk_old_"), &[]);
    vault.set("API_KEY", &value, &[]);
    let member = vault.add_member("pat", role);
    (vault, member, value)
}

/// Runs every try as `member`, checks exit codes and that the value never shows, then
/// checks each denial is in the audit trail as `denied`.
fn check(vault: &Vault, member: &Member, value: &str, tries: &[Try]) {
    for t in tries {
        let mut inv = vault.cli().acting_as(member);
        if let Some(s) = t.stdin {
            inv = inv.stdin(s);
        }
        let run = inv.run(t.args);
        let run = if t.exit == 0 {
            run.ok()
        } else {
            run.refused(t.exit)
        };
        assert!(
            !run.stdout.contains(value) && !run.stderr.contains(value),
            "{} saw the value: {}",
            member.name,
            run.describe()
        );
    }
    let events = vault.run(&["audit", "--json"]).ok().json();
    let denials: Vec<&Value> = events
        .as_array()
        .expect("audit --json is a list")
        .iter()
        .filter(|e| e["actor"] == member.name.as_str() && e["outcome"] == "denied")
        .collect();
    let expected: Vec<&str> = tries.iter().filter_map(|t| t.denied_action).collect();
    let found: Vec<&str> = denials
        .iter()
        .map(|e| e["action"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        found, expected,
        "every denial of {} is audited as denied, in order",
        member.name
    );
}

#[test]
fn the_built_in_roles_are_the_matrix_of_the_design() {
    let vault = Vault::new();
    let roles = vault.run(&["role", "list", "--json"]).ok().json();
    let caps = |role: &str| -> Vec<String> {
        roles
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["role"] == role)
            .unwrap_or_else(|| panic!("no role {role} in {roles}"))["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(caps("viewer"), ["list"]);
    assert_eq!(caps("developer"), ["list", "use"]);
    assert_eq!(caps("admin"), ["list", "use", "write", "delete"]);
    assert_eq!(caps("auditor"), ["list", "audit"]);
    assert_eq!(
        caps("owner"),
        ["list", "use", "reveal", "write", "delete", "audit", "manage"]
    );
}

#[test]
fn an_admin_rotates_rolls_back_and_deletes_but_cannot_reveal_audit_or_manage() {
    let (vault, admin, value) = vault_with("admin");
    check(
        &vault,
        &admin,
        &value,
        &[
            allowed(&["ls"]),
            allowed(&["show", "API_KEY", "--json"]),
            with_input(
                allowed(&["set", "API_KEY", "--value-stdin"]),
                "rotated-by-admin",
            ),
            allowed(&["rollback", "API_KEY", "--env", "development", "--to", "2"]),
            denied(&["reveal", "API_KEY"], "secret.reveal"),
            denied(&["reveal", "API_KEY", "--version", "1"], "secret.reveal"),
            denied(&["audit"], "audit.read"),
            denied(&["audit", "verify"], "audit.verify"),
            denied(&["settings", "set", "max-versions", "3"], "settings.set"),
            denied(&["member", "grant", "pat", "owner"], "member.grant"),
            allowed(&["set", "TEMP", "--generate"]),
            allowed(&["rm", "TEMP"]),
            allowed(&["restore", "TEMP"]),
        ],
    );
    // The admin's rollback restored the owner's value, which only the owner may see.
    assert_eq!(vault.reveal("API_KEY", &[]), value);
}

#[test]
fn a_developer_lists_but_cannot_write_roll_back_delete_or_reveal() {
    let (vault, dev, value) = vault_with("developer");
    check(
        &vault,
        &dev,
        &value,
        &[
            allowed(&["ls", "--json"]),
            allowed(&["show", "API_KEY"]),
            allowed(&["export"]),
            with_input(
                denied(&["set", "API_KEY", "--value-stdin"], "secret.update"),
                "dev-overwrite",
            ),
            with_input(
                denied(&["set", "NEW_KEY", "--value-stdin"], "secret.create"),
                "dev-new",
            ),
            denied(
                &["rollback", "API_KEY", "--env", "development", "--to", "1"],
                "secret.rollback",
            ),
            denied(&["rm", "API_KEY"], "secret.delete"),
            denied(&["reveal", "API_KEY"], "secret.reveal"),
            denied(&["audit", "--json"], "audit.read"),
        ],
    );
    assert_eq!(
        vault.reveal("API_KEY", &[]),
        value,
        "nothing was overwritten"
    );
}

#[test]
fn an_auditor_reads_the_trail_and_lists_but_cannot_reveal_or_write() {
    let (vault, auditor, value) = vault_with("auditor");
    check(
        &vault,
        &auditor,
        &value,
        &[
            allowed(&["audit", "--json"]),
            allowed(&["audit", "--csv"]),
            allowed(&["audit", "verify"]),
            allowed(&["ls"]),
            allowed(&["show", "API_KEY"]),
            denied(&["reveal", "API_KEY"], "secret.reveal"),
            with_input(
                denied(&["set", "API_KEY", "--value-stdin"], "secret.update"),
                "auditor-write",
            ),
            denied(&["rm", "API_KEY"], "secret.delete"),
        ],
    );
    // The auditor sees the denials of others too.
    let trail = vault
        .cli()
        .acting_as(&auditor)
        .run(&["audit", "--json", "--actor", "pat"])
        .ok()
        .json();
    assert!(trail
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["outcome"] == "denied" && e["action"] == "secret.reveal"));
}

#[test]
fn a_viewer_only_lists() {
    let (vault, viewer, value) = vault_with("viewer");
    check(
        &vault,
        &viewer,
        &value,
        &[
            allowed(&["ls"]),
            allowed(&["show", "API_KEY", "--json"]),
            denied(&["reveal", "API_KEY"], "secret.reveal"),
            with_input(
                denied(&["set", "API_KEY", "--value-stdin"], "secret.update"),
                "viewer-write",
            ),
            denied(&["rm", "API_KEY"], "secret.delete"),
            denied(&["audit"], "audit.read"),
        ],
    );
}

#[test]
fn a_member_of_one_workspace_cannot_see_that_another_exists() {
    let vault = Vault::new();
    let bob = vault.add_member("bob", "admin");
    vault.run(&["workspace", "create", "acme"]).ok();
    let acme_value = random_token("sk_acme_");
    vault.set("ACME_KEY", &acme_value, &["--workspace", "acme"]);
    let tries: &[&[&str]] = &[
        &["ls"],
        &["show", "ACME_KEY"],
        &["reveal", "ACME_KEY"],
        &["rm", "ACME_KEY"],
        &["rollback", "ACME_KEY", "--env", "development", "--to", "1"],
        &["audit"],
        &["export"],
        &["settings", "get"],
        &["member", "list"],
        &["project", "list"],
        &["env", "list"],
    ];
    for args in tries {
        let as_bob = |ws: &str| {
            let mut full = vec!["--workspace", ws];
            full.extend_from_slice(args);
            vault.cli().acting_as(&bob).run(&full).refused(3)
        };
        let hidden = as_bob("acme");
        let absent = as_bob("no-such-ws");
        assert_eq!(
            hidden.message().replace("acme", "X"),
            absent.message().replace("no-such-ws", "X"),
            "a hidden workspace must look exactly like a missing one"
        );
        assert!(!hidden.stderr.contains(&acme_value));
    }
    vault
        .cli()
        .acting_as(&bob)
        .stdin("bob-into-acme")
        .run(&["--workspace", "acme", "set", "ACME_KEY", "--value-stdin"])
        .refused(3);
    let listed = vault
        .cli()
        .acting_as(&bob)
        .run(&["workspace", "list", "--json"])
        .ok();
    assert!(!listed.stdout.contains("acme"), "{}", listed.describe());
    let ls = vault.cli().acting_as(&bob).run(&["ls", "--json"]).ok();
    assert!(!ls.stdout.contains("ACME_KEY"), "{}", ls.describe());
    // The owner's acme value is intact.
    assert_eq!(
        vault.reveal("ACME_KEY", &["--workspace", "acme"]),
        acme_value
    );
}

#[test]
fn a_user_scoped_secret_is_invisible_to_every_other_member() {
    let vault = Vault::new();
    let private = random_token("sk_private_");
    vault.set("MY_TOKEN", &private, &["--scope", "user"]);
    vault.set("SHARED", "shared-value", &[]);
    let bob = vault.add_member("bob", "admin");
    let carol = vault.add_member("carol", "owner");
    for m in [&bob, &carol] {
        let ls = vault.cli().acting_as(m).run(&["ls", "--json"]).ok();
        let doc = ls.json();
        let names: Vec<&str> = doc
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            names,
            ["SHARED"],
            "{} lists only SHARED: {}",
            m.name,
            ls.describe()
        );
        vault
            .cli()
            .acting_as(m)
            .run(&["show", "MY_TOKEN"])
            .refused(3);
        vault.cli().acting_as(m).run(&["ls", "--deleted"]).ok();
    }
    // Even another owner, who may reveal anything shared, cannot reach it.
    let run = vault
        .cli()
        .acting_as(&carol)
        .run(&["reveal", "MY_TOKEN"])
        .refused(3);
    assert!(!run.stdout.contains(&private));
    vault
        .cli()
        .acting_as(&carol)
        .run(&["rm", "MY_TOKEN"])
        .refused(3);
    let export = vault.cli().acting_as(&carol).run(&["export"]).ok();
    assert!(!export.stdout.contains("MY_TOKEN"), "{}", export.describe());
    // Its creator still has it.
    assert_eq!(vault.reveal("MY_TOKEN", &[]), private);
}

#[test]
fn a_removed_member_can_no_longer_unlock() {
    let vault = Vault::new();
    vault.set("API_KEY", "kept-from-bob", &[]);
    let bob = vault.add_member("bob", "developer");
    vault.cli().acting_as(&bob).run(&["ls"]).ok();
    vault.run(&["member", "remove", "bob"]).ok();
    vault.cli().acting_as(&bob).run(&["ls"]).refused(6);
    // Added again with a new passphrase, the old one opens nothing.
    let again = vault.add_member_with("bob", "viewer", "bob's new pass phrase");
    vault.cli().acting_as(&bob).run(&["ls"]).refused(6);
    vault.cli().acting_as(&again).run(&["ls"]).ok();
    // The last owner cannot be removed or demoted.
    vault.run(&["member", "remove", "alice"]).refused(5);
    vault
        .run(&["member", "grant", "alice", "viewer"])
        .refused(5);
}

#[test]

fn a_refused_workspace_creation_is_audited() {
    let vault = Vault::new();
    let bob = vault.add_member("bob", "admin");
    vault
        .cli()
        .acting_as(&bob)
        .run(&["workspace", "create", "shadow"])
        .refused(4);
    let events = vault.run(&["audit", "--json"]).ok().json();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == "bob" && e["outcome"] == "denied"),
        "DESIGN.md: a denied attempt is itself audited; the trail has none: {events}"
    );
}

#[test]
fn a_name_taken_in_another_tenant_is_only_not_available() {
    let vault = Vault::new();
    let bob = vault.add_member("bob", "admin");
    let carol = acme_owned_by_carol(&vault);
    let as_carol = |args: &[&str]| {
        vault
            .cli()
            .acting_as(&carol)
            .env("COFFER_NEW_PASSPHRASE", "a new one for bob 1")
            .run(args)
    };
    // Carol shares no workspace with bob: his name is only unavailable.
    let r = as_carol(&[
        "--workspace",
        "acme",
        "member",
        "add",
        "bob",
        "--role",
        "viewer",
    ])
    .refused(5);
    assert!(
        r.message().contains("not available") && !r.message().contains("grant"),
        "{}",
        r.describe()
    );
    let r = as_carol(&["workspace", "create", "default"]).refused(5);
    assert!(r.message().contains("not available"), "{}", r.describe());
    assert!(!r.message().contains("already exists"), "{}", r.describe());
    // Alice, in both, is told what she can do about it.
    let r = vault
        .cli()
        .env("COFFER_NEW_PASSPHRASE", "a new one for bob 1")
        .run(&[
            "--workspace",
            "acme",
            "member",
            "add",
            "bob",
            "--role",
            "viewer",
        ])
        .refused(5);
    assert!(r.message().contains("member grant bob"), "{}", r.describe());
    let r = vault.run(&["workspace", "create", "acme"]).refused(5);
    assert!(r.message().contains("already exists"), "{}", r.describe());
    // Another member's private secret: its name cannot be used, and that is all.
    vault
        .cli()
        .acting_as(&bob)
        .stdin("bob-private-value")
        .run(&["set", "BOB_TOKEN", "--value-stdin", "--scope", "user"])
        .ok();
    let r = vault
        .cli()
        .stdin("alice-value")
        .run(&["set", "BOB_TOKEN", "--value-stdin"])
        .refused(5);
    assert!(r.message().contains("not available"), "{}", r.describe());
    assert!(!r.message().contains("taken"), "{}", r.describe());
}

/// Issue 17 item 4: verifying the trail tells a tenant about their own workspace only —
/// how many of its events there are, and what broke only where they may audit.
#[test]
fn another_tenants_activity_is_neither_counted_nor_described() {
    let vault = Vault::new();
    let carol = acme_owned_by_carol(&vault);
    let verify_as_carol = || {
        vault
            .cli()
            .acting_as(&carol)
            .run(&["--workspace", "acme", "--json", "audit", "verify"])
    };
    let before = verify_as_carol().ok().json();
    // Busy elsewhere: alice writes in her own workspace.
    for i in 0..5 {
        vault.set(&format!("K{i}"), "a-value-for-default-1", &[]);
    }
    let after = verify_as_carol().ok().json();
    assert_eq!(
        before["events"], after["events"],
        "acme's count moved with default's activity: {before} → {after}"
    );

    // A broken event in default: carol learns the chain is broken, not where or by whom.
    let last_default: i64 = vault
        .db()
        .query_row(
            "SELECT MAX(e.id) FROM audit_events e JOIN workspaces w ON w.id = e.workspace_id WHERE w.name = 'default'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    vault
        .db()
        .execute(
            "UPDATE audit_events SET actor = 'mallory' WHERE id = ?1",
            [last_default],
        )
        .unwrap();
    let broken = verify_as_carol().json();
    assert_eq!(broken["ok"], false, "{broken}");
    assert!(broken["first_bad"].is_null(), "{broken}");
    let problem = broken["problem"].as_str().unwrap();
    assert!(
        problem.contains("a workspace you may not audit"),
        "{problem}"
    );
    assert!(
        !problem.contains("mallory") && !problem.contains("default"),
        "{problem}"
    );
    // Alice, who audits default, is told exactly.
    let alice = vault.run(&["--json", "audit", "verify"]).json();
    assert_eq!(alice["first_bad"], last_default, "{alice}");
}

/// Issue 17 item 4: a manager of one tenant can neither tell that a member of another
/// exists nor pull them in with `member grant`; the vault's root owner still can.
#[test]
fn a_grant_reaches_only_members_the_granter_shares_a_workspace_with() {
    let vault = Vault::new();
    vault.add_member("bob", "developer");
    let carol = acme_owned_by_carol(&vault);
    let grant_as_carol = |name: &str| {
        vault.cli().acting_as(&carol).run(&[
            "--workspace",
            "acme",
            "member",
            "grant",
            name,
            "viewer",
        ])
    };
    let bob = grant_as_carol("bob").refused(3);
    let nobody = grant_as_carol("nobody").refused(3);
    assert_eq!(
        bob.message().replace("bob", "NAME"),
        nobody.message().replace("nobody", "NAME"),
        "bob in another tenant reads as no one"
    );
    let acme = vault
        .cli()
        .acting_as(&carol)
        .run(&["--workspace", "acme", "--json", "member", "list"])
        .ok()
        .stdout;
    assert!(!acme.contains("bob"), "{acme}");
    // The root owner manages every tenant.
    vault
        .run(&["--workspace", "acme", "member", "grant", "bob", "viewer"])
        .ok();
}

/// A second tenant, `acme`, whose only member is its owner carol.
fn acme_owned_by_carol(vault: &Vault) -> Member {
    vault.run(&["workspace", "create", "acme"]).ok();
    let carol = Member {
        name: "carol".into(),
        passphrase: "carol pass phrase 42".into(),
    };
    vault
        .cli()
        .env("COFFER_NEW_PASSPHRASE", &carol.passphrase)
        .run(&[
            "--workspace",
            "acme",
            "member",
            "add",
            "carol",
            "--role",
            "owner",
        ])
        .ok();
    carol
}
