//! `coffer team create` and `coffer team status` against a real PostgreSQL 15 (the
//! suite runs under tests/pg/with-postgres.sh): a vault moves onto an empty database
//! with no value, passphrase or private key in the clear; only its owner moves it,
//! only once, only onto an empty database; status says online or offline.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::support::{contains_bytes, random_token, rows, Vault, OWNER_PASSPHRASE};

fn admin_url() -> String {
    std::env::var("COFFER_TEST_PG")
        .expect("the team tests need a PostgreSQL server: run them under tests/pg/with-postgres.sh")
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A new empty database; its URL as the administrator.
pub(crate) fn database() -> (String, String) {
    database_on(&admin_url())
}

/// A new empty database on the server the administrator's `admin` URL reaches.
fn database_on(admin: &str) -> (String, String) {
    let name = format!(
        "cli_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    psql(admin, &format!("CREATE DATABASE {name}"));
    (
        name.clone(),
        admin.replacen("/postgres?", &format!("/{name}?"), 1),
    )
}

pub(crate) fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Everything the server holds, as its administrator would dump it.
pub(crate) fn dump(url: &str) -> Vec<u8> {
    let out = Command::new("pg_dump")
        .arg(url)
        .output()
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The URL without its password, which the command then takes from PGPASSWORD.
fn split_password(url: &str) -> (String, String) {
    let (head, rest) = url.split_once("coffer_admin:").unwrap();
    let (password, tail) = rest.split_once('@').unwrap();
    (format!("{head}coffer_admin@{tail}"), password.to_string())
}

#[test]
fn a_vault_moves_onto_an_empty_server_with_nothing_in_the_clear() {
    let v = Vault::new();
    let stripe = random_token("sk_live_");
    let db_password = random_token("pw-");
    let private = random_token("mine-");
    v.set("STRIPE_KEY", &stripe, &["--env", "production"]);
    v.set("DB_PASSWORD", &db_password, &[]);
    v.set("MY_TOKEN", &private, &["--scope", "user"]);
    let bob = v.add_member("bob", "developer");
    // A mistyped unlock before the move: whatever was typed as the name stays here.
    let typed = random_token("typed-by-mistake-");
    v.cli()
        .member_name(&typed)
        .passphrase("wrong")
        .run(&["ls"])
        .refused(6);
    let (_, url) = database();
    let (url_without, password) = split_password(&url);
    let made = v
        .cli()
        .env("PGPASSWORD", &password)
        .run(&["--json", "team", "create", &url_without])
        .ok()
        .json();
    assert_eq!(made["workspaces"], 1);
    assert_eq!(made["to_join"], serde_json::json!(["bob"]));
    assert!(made["records"].as_i64().unwrap() > 20, "{made}");

    // The server holds what the file holds, sealed: no value, passphrase or password.
    let everything = dump(&url);
    for needle in [
        stripe.as_str(),
        db_password.as_str(),
        private.as_str(),
        OWNER_PASSPHRASE,
        bob.passphrase.as_str(),
        password.as_str(),
    ] {
        assert!(
            !contains_bytes(&everything, needle.as_bytes()),
            "{needle} is on the server"
        );
    }
    assert!(
        !contains_bytes(&everything, typed.as_bytes()),
        "a typed name is on the server"
    );
    // No key slot leaves the machine (they would let the server guess passphrases).
    let slots = psql(
        &url,
        "SELECT count(*) FROM coffer.records WHERE kind = 'key_slot'",
    );
    assert_eq!(slots.trim(), "0");
    // The owner's login is opaque, with a SCRAM verifier only; bob has none yet.
    let logins = psql(
        &url,
        "SELECT login, root FROM coffer.members WHERE login IS NOT NULL",
    );
    assert!(
        logins.trim().starts_with("coffer_m_") && logins.trim().ends_with("|t"),
        "{logins}"
    );
    let secret_rows = psql(
        &url,
        "SELECT count(*) FROM coffer.records WHERE kind = 'secret'",
    );
    assert_eq!(secret_rows.trim(), "3");
    // The user-scoped secret is alice's alone, name included.
    let private_rows = psql(
        &url,
        "SELECT count(*) FROM coffer.records WHERE kind IN ('secret', 'version') AND private_to IS NOT NULL",
    );
    assert_eq!(private_rows.trim(), "2");

    // Status, as the owner's own login (derived from her key).
    let status = v.run(&["team", "status"]).ok();
    assert!(
        status.stdout.contains("online, schema current"),
        "{}",
        status.describe()
    );
    assert!(
        status.stdout.contains("default: 1 here, 1 on the server"),
        "{}",
        status.describe()
    );
    assert!(
        status.stdout.contains("outbox     1 audit event to push"),
        "{}",
        status.describe()
    );
    // The move itself is in the trail.
    let trail = v.run(&["--json", "audit"]).ok().stdout;
    assert!(trail.contains("vault.team-create"), "{trail}");
}

#[test]
fn only_the_owner_moves_the_vault_once_and_only_onto_an_empty_database() {
    let v = Vault::new();
    let bob = v.add_member("bob", "owner");
    let (_, url) = database();
    // An owner of the workspace who is not the vault's owner: refused, and audited.
    v.cli()
        .acting_as(&bob)
        .run(&["team", "create", &url])
        .refused(4);
    let trail = v.run(&["--json", "audit"]).ok().stdout;
    assert!(
        trail.contains("vault.team-create") && trail.contains("denied"),
        "{trail}"
    );
    assert_eq!(
        psql(
            &url,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'coffer'"
        )
        .trim(),
        "0"
    );

    v.run(&["team", "create", &url]).ok();
    let again = v.run(&["team", "create", &url]).refused(5);
    assert!(
        again.message().contains("already on the team server"),
        "{}",
        again.describe()
    );
    assert!(
        !again.stderr.contains("coffer_admin:"),
        "the password is shown"
    );

    // Another vault onto the same database: refused, and that vault stays local.
    let other = Vault::new();
    other.run(&["team", "create", &url]).refused(5);
    let status = other.run(&["team", "status"]).refused(3);
    assert!(
        status.message().contains("team create"),
        "{}",
        status.describe()
    );
}

#[test]
fn bad_urls_and_a_wrong_password_are_refused_clearly() {
    let v = Vault::new();
    let (_, url) = database();
    for bad in [
        "mysql://h/db",
        "postgres://h/db?sslmode=disable",
        "not a url",
    ] {
        v.run(&["team", "create", bad]).refused(2);
    }
    let (url_without, _) = split_password(&url);
    let wrong = v
        .cli()
        .env("PGPASSWORD", "not the password")
        .run(&["team", "create", &url_without])
        .refused(6);
    assert!(!wrong.stderr.contains("not the password"));
    // Nothing was written on either side.
    assert_eq!(
        psql(
            &url,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'coffer'"
        )
        .trim(),
        "0"
    );
    v.run(&["team", "status"]).refused(3);
}

#[test]
fn status_says_offline_when_the_server_is_gone_and_keeps_working_locally() {
    let v = Vault::new();
    let value = random_token("v-");
    v.set("API_KEY", &value, &[]);
    let (name, url) = database();
    v.run(&["team", "create", &url]).ok();
    psql(&admin_url(), &format!("DROP DATABASE {name} WITH (FORCE)"));
    let status = v.run(&["team", "status"]).ok();
    assert!(status.stdout.contains("offline"), "{}", status.describe());
    assert!(
        status.stdout.contains("default: 1 here\n"),
        "{}",
        status.describe()
    );
    // The vault file is this machine's copy: reading works without the server.
    assert_eq!(v.reveal("API_KEY", &[]), value);
}

/// A second home for the same vault: another directory (its own HOME) holding a copy
/// of the first home's file, as a member would carry it to their other machine.
pub(crate) fn second_home(first: &Vault) -> Vault {
    let other = Vault::new();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", other.path.display()));
    }
    std::fs::copy(&first.path, &other.path).expect("copy the vault file");
    other
}

pub(crate) fn sync(v: &Vault) -> crate::support::Run {
    v.run(&["team", "sync"])
}

#[test]
fn two_homes_share_a_vault_through_the_server() {
    let h1 = Vault::new();
    let first = random_token("first-");
    h1.set("API_KEY", &first, &[]);
    let (_, url) = database();
    h1.run(&["team", "create", &url]).ok();
    let h2 = second_home(&h1);

    // Home 1 adds one secret and rotates another; home 2 takes both.
    let added = random_token("added-");
    let second = random_token("second-");
    h1.set("NEW_ONE", &added, &[]);
    h1.set("API_KEY", &second, &[]);
    let out = sync(&h1).ok();
    assert!(out.stdout.contains("out"), "{}", out.describe());
    sync(&h2).ok();
    assert_eq!(h2.reveal("NEW_ONE", &[]), added);
    assert_eq!(h2.reveal("API_KEY", &[]), second);

    // Home 2 rotates and deletes; home 1 takes both.
    let third = random_token("third-");
    h2.set("API_KEY", &third, &[]);
    h2.run(&["rm", "NEW_ONE"]).ok();
    sync(&h2).ok();
    sync(&h1).ok();
    assert_eq!(h1.reveal("API_KEY", &[]), third);
    let names = h1.run(&["--json", "ls"]).ok().stdout;
    assert!(!names.contains("NEW_ONE"), "{names}");
    // Nothing left to exchange; both trails verify; every event reached the server.
    for h in [&h1, &h2] {
        let again = sync(h).ok();
        assert!(
            again.stdout.contains("0 records in, 0 records out"),
            "{}",
            again.describe()
        );
        h.run(&["audit", "verify"]).ok();
        let status = h.run(&["team", "status"]).ok();
        assert!(
            status.stdout.contains("outbox     empty"),
            "{}",
            status.describe()
        );
    }
    let on_server: i64 = psql(&url, "SELECT count(*) FROM coffer.events")
        .trim()
        .parse()
        .unwrap();
    let here = h1.run(&["--json", "audit"]).ok().json();
    assert!(on_server >= here.as_array().map(|a| a.len()).unwrap_or(0) as i64);
    // No value reached the server in the clear.
    let everything = dump(&url);
    for v in [&first, &added, &second, &third] {
        assert!(
            !contains_bytes(&everything, v.as_bytes()),
            "{v} is on the server"
        );
    }
}

#[test]
fn a_value_rotated_on_two_homes_apart_is_a_conflict_and_nothing_is_overwritten() {
    let h1 = Vault::new();
    h1.set("API_KEY", &random_token("start-"), &[]);
    let (_, url) = database();
    h1.run(&["team", "create", &url]).ok();
    let h2 = second_home(&h1);
    let mine = random_token("home1-");
    let theirs = random_token("home2-");
    h1.set("API_KEY", &mine, &[]);
    h2.set("API_KEY", &theirs, &[]);
    sync(&h1).ok();
    let out = sync(&h2).exit(1);
    assert!(
        out.stdout.contains("conflict: version"),
        "{}",
        out.describe()
    );
    // Each home keeps its own; the server keeps the first one pushed.
    assert_eq!(h2.reveal("API_KEY", &[]), theirs);
    sync(&h1).ok();
    assert_eq!(h1.reveal("API_KEY", &[]), mine);
    let status = h2.run(&["team", "status"]).ok();
    assert!(
        !status.stdout.contains("conflicts  none"),
        "{}",
        status.describe()
    );
    // Asked again, the conflict stays a conflict: nothing is pushed over the other.
    sync(&h2).exit(1);
    sync(&h1).ok();
    assert_eq!(h1.reveal("API_KEY", &[]), mine);
}

/// `show --json` of a secret, as JSON.
fn shown(v: &Vault, name: &str) -> serde_json::Value {
    serde_json::from_str(&v.run(&["--json", "show", name]).ok().stdout).expect("show --json")
}

#[test]
fn changes_to_different_fields_of_one_secret_made_apart_merge_and_the_same_field_conflicts() {
    let h1 = Vault::new();
    h1.set("API_KEY", &random_token("start-"), &["--env", "production"]);
    h1.set(
        "API_KEY",
        &random_token("start-"),
        &["--env", "development"],
    );
    let (_, url) = database();
    h1.run(&["team", "create", &url]).ok();
    let h2 = second_home(&h1);

    // Apart: production rotated on one home, development on the other, and the hosts
    // test requests may reach changed on the first. Nothing here is the same field.
    let prod = random_token("prod-");
    let dev = random_token("dev-");
    h1.set("API_KEY", &prod, &["--env", "production"]);
    h1.run(&["set", "API_KEY", "--allow-host", "api.example.com"])
        .ok();
    h2.set("API_KEY", &dev, &["--env", "development"]);
    sync(&h1).ok();
    let merged = sync(&h2).ok();
    assert!(!merged.stdout.contains("conflict"), "{}", merged.describe());
    assert!(
        merged.stdout.contains("merged: 1 record"),
        "{}",
        merged.describe()
    );
    sync(&h1).ok();
    for h in [&h1, &h2] {
        assert_eq!(h.reveal("API_KEY", &["--env", "production"]), prod);
        assert_eq!(h.reveal("API_KEY", &["--env", "development"]), dev);
        let s = shown(h, "API_KEY");
        assert_eq!(
            s["allowed_hosts"],
            serde_json::json!(["api.example.com"]),
            "{s}"
        );
        let status = h.run(&["team", "status"]).ok();
        assert!(
            status.stdout.contains("conflicts  none"),
            "{}",
            status.describe()
        );
        h.run(&["audit", "verify"]).ok();
    }

    // A deletion on one home and a change of hosts on the other both stand.
    h1.run(&["rm", "API_KEY"]).ok();
    h2.run(&["set", "API_KEY", "--allow-host", "api.other.example"])
        .ok();
    sync(&h1).ok();
    sync(&h2).ok();
    sync(&h1).ok();
    for h in [&h1, &h2] {
        let listed = h.run(&["--json", "ls", "--deleted"]).ok().stdout;
        assert!(listed.contains("API_KEY"), "{listed}");
        h.run(&["reveal", "API_KEY"]).exit(3);
        h.run(&["restore", "API_KEY"]).ok();
        let s = shown(h, "API_KEY");
        assert_eq!(
            s["allowed_hosts"],
            serde_json::json!(["api.other.example"]),
            "{s}"
        );
        h.run(&["rm", "API_KEY"]).ok();
        h.run(&["restore", "API_KEY"]).ok();
    }
    sync(&h1).ok();
    sync(&h2).ok();

    // The same field changed to two values apart is a conflict: neither wins silently.
    h1.run(&["set", "API_KEY", "--allow-host", "one.example"])
        .ok();
    h2.run(&["set", "API_KEY", "--allow-host", "two.example"])
        .ok();
    sync(&h1).ok();
    let out = sync(&h2).exit(1);
    assert!(
        out.stdout.contains("conflict: secret"),
        "{}",
        out.describe()
    );
    assert_eq!(
        shown(&h2, "API_KEY")["allowed_hosts"],
        serde_json::json!(["two.example"])
    );
    assert_eq!(
        shown(&h1, "API_KEY")["allowed_hosts"],
        serde_json::json!(["one.example"])
    );
}

#[test]
fn a_lock_held_on_the_server_makes_a_sync_wait_seconds_not_forever() {
    use std::io::Write;
    let h1 = Vault::new();
    h1.set("API_KEY", &random_token("a-"), &[]);
    let (_, url) = database();
    h1.run(&["team", "create", &url]).ok();
    let h2 = second_home(&h1);
    // The administrator locks every workspace's head row and leaves the transaction open.
    let mut holder = Command::new("psql")
        .args([url.as_str(), "-qAt", "-v", "ON_ERROR_STOP=1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("psql runs");
    let mut sql = holder.stdin.take().unwrap();
    writeln!(sql, "BEGIN; SELECT scope FROM coffer.heads FOR UPDATE;").unwrap();
    sql.flush().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while psql(
        &url,
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'",
    )
    .trim()
        == "0"
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the lock was never taken"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let value = random_token("b-");
    h1.set("API_KEY", &value, &[]);
    let started = std::time::Instant::now();
    let waited = sync(&h1).exit(1);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "a sync waited {:?} on a lock",
        started.elapsed()
    );
    assert!(
        waited.stdout.contains("waiting on a lock"),
        "{}",
        waited.describe()
    );
    // Let go: the queued change goes through, once.
    drop(sql);
    let _ = holder.kill();
    let _ = holder.wait();
    sync(&h1).ok();
    sync(&h2).ok();
    assert_eq!(h2.reveal("API_KEY", &[]), value);
}

#[test]
fn a_record_edited_on_the_server_by_its_administrator_is_refused_on_use() {
    let h1 = Vault::new();
    h1.set("API_KEY", &random_token("a-"), &[]);
    h1.set("DB_PASSWORD", &random_token("b-"), &[]);
    let (_, url) = database();
    h1.run(&["team", "create", &url]).ok();
    let h2 = second_home(&h1);
    // The administrator swaps the two values' ciphertexts inside their rows and bumps
    // the rows so that replicas take them.
    psql(
        &url,
        "CREATE TEMP TABLE v AS SELECT key, convert_from(body, 'UTF8')::jsonb AS row
             FROM coffer.records WHERE kind = 'version';
         UPDATE coffer.records r SET
             body = convert_to(jsonb_set(v.row, '{ciphertext}',
                 (SELECT o.row -> 'ciphertext' FROM v o WHERE o.key <> v.key))::text, 'UTF8'),
             seq = (SELECT seq + 1 FROM coffer.heads h WHERE h.scope = r.scope)
         FROM v WHERE r.kind = 'version' AND r.key = v.key;
         UPDATE coffer.heads SET seq = seq + 1 WHERE scope > 0;",
    );
    sync(&h2).ok();
    let reveal = h2.run(&["reveal", "API_KEY"]).refused(7);
    assert!(
        reveal.message().contains("integrity"),
        "{}",
        reveal.describe()
    );
}

#[test]
fn a_conflict_is_settled_by_keeping_one_side_and_both_homes_agree_after() {
    for keep in ["theirs", "mine"] {
        let h1 = Vault::new();
        h1.set("API_KEY", &random_token("start-"), &[]);
        let (_, url) = database();
        h1.run(&["team", "create", &url]).ok();
        let h2 = second_home(&h1);
        let first = random_token("home1-");
        let second = random_token("home2-");
        h1.set("API_KEY", &first, &[]);
        h2.set("API_KEY", &second, &[]);
        sync(&h1).ok();
        sync(&h2).exit(1);
        let settled = h2.run(&["team", "resolve", "--keep", keep]).ok();
        assert!(
            settled.stdout.contains(&format!("kept {keep}")),
            "{}",
            settled.describe()
        );
        sync(&h2).ok();
        sync(&h1).ok();
        let winner = if keep == "theirs" { &first } else { &second };
        assert_eq!(&h2.reveal("API_KEY", &[]), winner, "keep {keep}");
        assert_eq!(&h1.reveal("API_KEY", &[]), winner, "keep {keep}");
        let status = h2.run(&["team", "status"]).ok();
        assert!(
            status.stdout.contains("conflicts  none"),
            "{}",
            status.describe()
        );
        let trail = h2.run(&["--json", "audit"]).ok().stdout;
        assert!(trail.contains("team.resolve"), "{trail}");
        for h in [&h1, &h2] {
            h.run(&["audit", "verify"]).ok();
        }
    }
}

#[test]
fn a_server_cannot_rewrite_what_this_machine_keeps_for_itself() {
    let h1 = Vault::new();
    let (_, url) = database();
    h1.run(&["team", "create", &url]).ok();
    // The administrator plants a "team" record (which would point this machine at
    // another server), then renames the vault: each is refused, nothing is taken.
    let tampers = [
        "INSERT INTO coffer.records (scope, kind, key, project_id, seq, body)
         VALUES (0, 'vault', 'team', 0, 2, convert_to('{\"key\":\"team\",\"value\":{\"$b\":\"e30=\"}}', 'UTF8'));
         UPDATE coffer.heads SET seq = 2 WHERE scope = 0;",
        "DELETE FROM coffer.records WHERE kind = 'vault' AND key = 'team';
         UPDATE coffer.records SET seq = 3, body = convert_to('{\"key\":\"vault_id\",\"value\":{\"$b\":\"b3RoZXI=\"}}', 'UTF8')
         WHERE kind = 'vault' AND key = 'vault_id';
         UPDATE coffer.heads SET seq = 3 WHERE scope = 0;",
    ];
    let tampers = [
        tampers[0],
        tampers[1],
        // A new record under an innocent key whose body names "team".
        "UPDATE coffer.records SET body = convert_to('{\"key\":\"vault_id\",\"value\":{\"$b\":\"AA==\"}}', 'UTF8')
         WHERE kind = 'vault' AND key = 'vault_id';
         INSERT INTO coffer.records (scope, kind, key, project_id, seq, body)
         VALUES (0, 'vault', 'innocent', 0, 4, convert_to('{\"key\":\"team\",\"value\":{\"$b\":\"e30=\"}}', 'UTF8'));
         DELETE FROM coffer.records WHERE kind = 'vault' AND key = 'vault_id';
         UPDATE coffer.heads SET seq = 4 WHERE scope = 0;",
    ];
    for sql in tampers {
        psql(&url, sql);
        let refused = sync(&h1).refused(7);
        assert!(
            refused.message().contains("edited on the server"),
            "{}",
            refused.describe()
        );
        // This machine still knows its own server.
        let status = h1.run(&["team", "status"]).ok();
        assert!(status.stdout.contains("online"), "{}", status.describe());
    }
}

#[test]
fn a_workspace_made_after_the_move_reaches_the_server_with_the_next_sync() {
    let h1 = Vault::new();
    let (_, url) = database();
    h1.run(&["team", "create", &url]).ok();
    let h2 = second_home(&h1);
    h1.run(&["workspace", "create", "acme"]).ok();
    let value = random_token("acme-");
    h1.set("ACME_KEY", &value, &["--workspace", "acme"]);
    let out = sync(&h1).ok();
    assert!(!out.stdout.contains("refused"), "{}", out.describe());
    sync(&h2).ok();
    assert_eq!(h2.reveal("ACME_KEY", &["--workspace", "acme"]), value);
}

/// A home with no vault yet: a member's own machine before they join.
fn empty_home() -> Vault {
    let home = Vault::new();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", home.path.display()));
    }
    home
}

const BOB_PASSPHRASE: &str = "bob's own pass phrase 7";

/// The one-time login and its password inside an invitation code, as a script that
/// read the code would take them.
fn code_login(code: &str) -> (String, String) {
    use base64::Engine;
    let body = code.strip_prefix("coffer-invite:").expect("a code");
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .expect("base64url");
    let v: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
    (
        v["login"].as_str().unwrap().to_string(),
        v["secret"].as_str().unwrap().to_string(),
    )
}

/// `url` logged in as another user.
fn as_login(url: &str, user: &str, password: &str) -> String {
    let (_, rest) = url.split_once("://").unwrap();
    let (_, host) = rest.split_once('@').unwrap();
    format!("postgresql://{user}:{password}@{host}")
}

/// What a psql session as that login gets: its output, or the error it met.
fn psql_as(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .output()
        .expect("psql runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn invite(owner: &Vault, name: &str, role: &str, extra: &[&str]) -> String {
    let mut args = vec!["--json", "team", "invite", name, "--role", role];
    args.extend_from_slice(extra);
    let made = owner.run(&args).ok().json();
    made["code"].as_str().expect("a code").to_string()
}

#[test]
fn a_member_joins_from_their_own_machine_once_the_owner_has_compared_fingerprints() {
    use std::io::BufRead;
    let owner = Vault::new();
    let db_password = random_token("db-");
    let stripe = random_token("sk_live_");
    owner.set("DB_PASSWORD", &db_password, &[]);
    owner.set("STRIPE_KEY", &stripe, &["--scope", "user"]);
    let (_, url) = database();
    owner.run(&["team", "create", &url]).ok();
    let code = invite(&owner, "bob", "developer", &[]);

    // Bob, on his own machine: his keys are made there and he waits to be admitted.
    let bob_home = empty_home();
    let bob = crate::support::Member {
        name: "bob".into(),
        passphrase: BOB_PASSPHRASE.into(),
    };
    let mut joining = bob_home
        .cli()
        .acting_as(&bob)
        .spawn_piped(&["team", "join", &code, "--wait", "60s"]);
    let mut lines = std::io::BufReader::new(joining.stdout.take().unwrap()).lines();
    let fingerprint = loop {
        let line = lines
            .next()
            .expect("join prints the fingerprint")
            .expect("a line");
        if let Some(fp) = line.trim().strip_prefix("your fingerprint: ") {
            break fp.to_string();
        }
    };
    let listed = owner.run(&["--json", "team", "invitations"]).ok().json();
    assert_eq!(listed[0]["name"], "bob");
    assert_eq!(listed[0]["fingerprint"], fingerprint.as_str());
    // Until admitted, the file is only bob's keys: commands say what to do.
    let waiting = bob_home.cli().acting_as(&bob).run(&["ls"]).refused(5);
    assert!(
        waiting.message().contains("coffer team join"),
        "{}",
        waiting.describe()
    );

    // A fingerprint that differs (someone else joined with the code) admits nothing.
    let wrong = "0000-1111-2222-3333-4444";
    owner
        .run(&["team", "admit", "bob", "--fingerprint", wrong])
        .refused(4);
    let members = owner.run(&["--json", "member", "list"]).ok().json();
    assert!(
        !members.to_string().contains("\"bob\""),
        "bob was added: {members}"
    );
    let denied = owner
        .run(&["--json", "audit", "--action", "team.admit"])
        .ok()
        .json();
    assert!(denied.to_string().contains("denied"), "{denied}");

    // The right one: bob is certified, sealed to, given his login; his join finishes.
    owner
        .run(&[
            "team",
            "admit",
            "bob",
            "--fingerprint",
            &fingerprint.to_uppercase(),
        ])
        .ok();
    let status = joining.wait().expect("join ends");
    let rest: Vec<String> = lines.map_while(|l| l.ok()).collect();
    assert!(status.success(), "join failed: {rest:?}");
    assert!(rest.iter().any(|l| l.contains("joined")), "{rest:?}");

    // Bob uses the value without seeing it; the owner's private secret is not his.
    let check = format!("test \"$DB_PASSWORD\" = '{db_password}'");
    bob_home
        .cli()
        .acting_as(&bob)
        .run(&["run", "--only", "DB_PASSWORD", "--", "sh", "-c", &check])
        .ok();
    bob_home
        .cli()
        .acting_as(&bob)
        .run(&["reveal", "DB_PASSWORD"])
        .refused(4);
    bob_home
        .cli()
        .acting_as(&bob)
        .run(&["run", "--only", "STRIPE_KEY", "--", "true"])
        .refused(3);
    // His file holds his own key slot only, and no value in the clear.
    let slots = rows(&bob_home.db(), "SELECT member_id FROM key_slots");
    assert_eq!(slots.len(), 1);
    let file = std::fs::read(&bob_home.path).unwrap();
    for needle in [&db_password, &stripe] {
        assert!(!contains_bytes(&file, needle.as_bytes()));
    }
    // The server never saw his passphrase.
    assert!(!contains_bytes(&dump(&url), BOB_PASSPHRASE.as_bytes()));

    // A rotation on the owner's machine reaches bob through the server.
    let rotated = random_token("db2-");
    owner.set("DB_PASSWORD", &rotated, &[]);
    sync(&owner).ok();
    bob_home.cli().acting_as(&bob).run(&["team", "sync"]).ok();
    let check = format!("test \"$DB_PASSWORD\" = '{rotated}'");
    bob_home
        .cli()
        .acting_as(&bob)
        .run(&["run", "--only", "DB_PASSWORD", "--", "sh", "-c", &check])
        .ok();
    // Bob's join and uses reach the server's trail with his next sync.
    bob_home.cli().acting_as(&bob).run(&["team", "sync"]).ok();
    let events = psql(
        &url,
        "SELECT string_agg(encode(body, 'escape'), ' ') FROM coffer.events",
    );
    assert!(events.contains("team.join"), "{events}");
    assert!(events.contains("secret.use"), "{events}");

    // The code is spent: nobody else joins with it.
    let eve_home = empty_home();
    eve_home
        .cli()
        .member_name("eve")
        .passphrase("eve's pass phrase 99")
        .run(&["team", "join", &code, "--wait", "0"])
        .refused(6);
    assert!(!eve_home.path.exists(), "a refused join left a file behind");
}

#[test]
fn an_invitation_is_used_once_reads_nothing_and_ends_when_cancelled_or_expired() {
    let owner = Vault::new();
    let (_, url) = database();
    owner.run(&["team", "create", &url]).ok();
    // The schema is this build's already: an upgrade changes nothing.
    let up = owner.run(&["--json", "team", "upgrade", &url]).ok().json();
    assert_eq!(up["applied"], 0, "{up}");
    let code = invite(&owner, "carol", "viewer", &[]);

    // Its login reads no table and writes nothing: it may only ask to join.
    let (login, secret) = code_login(&code);
    let inv = as_login(&url, &login, &secret);
    for sql in [
        "SELECT count(*) FROM coffer.records",
        "SELECT count(*) FROM coffer.invitations",
        "SELECT count(*) FROM coffer.members",
        "SELECT coffer.create_workspace(99)",
        "SELECT coffer.admit('coffer_i_0000000000000000', 5)",
    ] {
        let err = psql_as(&inv, sql).expect_err(sql);
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }

    // Carol joins; a second join with the same code is refused and leaves nothing.
    let carol = empty_home();
    let started = carol
        .cli()
        .member_name("carol")
        .passphrase("carol's pass phrase 3")
        .run(&["--json", "team", "join", &code, "--wait", "0"])
        .ok()
        .json();
    assert_eq!(started["name"], "carol");
    assert_eq!(started["role"], "viewer");
    let again = empty_home();
    again
        .cli()
        .member_name("mallory")
        .passphrase("mallory pass phrase 1")
        .run(&["team", "join", &code, "--wait", "0"])
        .refused(5);
    assert!(!again.path.exists());
    // Not admitted yet: carrying on waits, with the wrong passphrase it is refused.
    carol
        .cli()
        .member_name("carol")
        .passphrase("carol's pass phrase 3")
        .run(&["team", "join", "--wait", "0"])
        .exit(1);
    carol
        .cli()
        .member_name("carol")
        .passphrase("not carol's")
        .run(&["team", "join", "--wait", "0"])
        .refused(6);

    // Cancelled: there is nothing left to admit, and the code opens nothing.
    owner.run(&["team", "invite", "carol", "--cancel"]).ok();
    owner
        .run(&["team", "admit", "carol", "--fingerprint", "0000"])
        .refused(3);
    assert!(psql_as(&inv, "SELECT 1").is_err());

    // Expired: the server refuses its login.
    let late = invite(&owner, "dave", "viewer", &["--expires", "1s"]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    empty_home()
        .cli()
        .member_name("dave")
        .passphrase("dave's pass phrase 4")
        .run(&["team", "join", &late, "--wait", "0"])
        .refused(6);

    // Only the vault's root owner invites; names are checked before anything.
    let (admin_home, admin) = joined(&owner, "erin", "admin");
    admin_home
        .cli()
        .acting_as(&admin)
        .run(&["team", "invite", "frank", "--role", "viewer"])
        .refused(4);
    // A member made here, keys and all, would have no login on the server.
    let made_here = owner
        .cli()
        .env("COFFER_NEW_PASSPHRASE", "frank pass phrase 42")
        .run(&["member", "add", "frank", "--role", "viewer"])
        .refused(2);
    assert!(
        made_here
            .message()
            .contains("coffer team invite frank --role viewer"),
        "{}",
        made_here.describe()
    );
    owner
        .run(&["team", "invite", "bad name!", "--role", "viewer"])
        .refused(2);
    owner
        .run(&["team", "invite", "erin", "--role", "viewer"])
        .refused(5);
}

/// `name` joins `owner`'s team vault with `role` from a home of their own, the way
/// the README tells it; returns that home and how to act as them there.
pub(crate) fn joined(owner: &Vault, name: &str, role: &str) -> (Vault, crate::support::Member) {
    let (home, member) = admitted(owner, name, role);
    home.cli()
        .acting_as(&member)
        .run(&["team", "join", "--wait", "10s"])
        .ok();
    (home, member)
}

/// A member invited, joined from a home of their own and admitted by the owner: the
/// join waits there to be finished.
fn admitted(owner: &Vault, name: &str, role: &str) -> (Vault, crate::support::Member) {
    let code = invite(owner, name, role, &[]);
    let home = empty_home();
    let member = crate::support::Member {
        name: name.into(),
        passphrase: format!("{name}'s own pass phrase 5"),
    };
    let started = home
        .cli()
        .acting_as(&member)
        .run(&["--json", "team", "join", &code, "--wait", "0"])
        .ok()
        .json();
    let fp = started["fingerprint"].as_str().unwrap().to_string();
    owner
        .run(&["team", "admit", name, "--fingerprint", &fp])
        .ok();
    (home, member)
}

#[test]
fn a_removed_member_is_cut_off_on_the_server_and_gets_nothing_written_after() {
    let owner = Vault::new();
    let before = random_token("before-");
    owner.set("DB_PASSWORD", &before, &[]);
    let (_, url) = database();
    owner.run(&["team", "create", &url]).ok();
    let (bob_home, bob) = joined(&owner, "bob", "developer");
    bob_home.cli().acting_as(&bob).run(&["team", "sync"]).ok();
    let bob_id = psql(
        &url,
        "SELECT id FROM coffer.members WHERE NOT root AND login IS NOT NULL",
    );
    let bob_id = bob_id.trim();
    let sealed_to_bob = format!(
        "SELECT count(*) FROM coffer.records WHERE private_to = {bob_id} AND body IS NOT NULL"
    );
    assert_ne!(psql(&url, &sealed_to_bob).trim(), "0");

    // Removed from his only workspace: the server disables his login and drops what
    // was sealed to him, in the same command.
    let removed = owner.run(&["member", "remove", "bob"]).ok();
    assert!(
        removed.stdout.contains("can no longer log in"),
        "{}",
        removed.stdout
    );
    assert_eq!(psql(&url, &sealed_to_bob).trim(), "0");
    assert_eq!(
        psql(
            &url,
            &format!("SELECT rolcanlogin FROM pg_roles r JOIN coffer.members m ON m.login = r.rolname WHERE m.id = {bob_id}")
        )
        .trim(),
        "f"
    );
    bob_home
        .cli()
        .acting_as(&bob)
        .run(&["team", "sync"])
        .refused(6);

    // A value written after is sealed under keys bob never held: his kept copy, and
    // the server's records, open nothing of it.
    let after = random_token("after-");
    owner.set("DB_PASSWORD", &after, &[]);
    sync(&owner).ok();
    let check = format!("test \"$DB_PASSWORD\" = '{after}'");
    bob_home
        .cli()
        .acting_as(&bob)
        .run(&["run", "--only", "DB_PASSWORD", "--", "sh", "-c", &check])
        .exit(1);
    assert!(!contains_bytes(&dump(&url), after.as_bytes()));
    // What bob's old keys opened before stays his (he could use it then): only what
    // came after is out of reach.
}

#[test]
fn a_removal_made_offline_reaches_the_server_at_the_next_sync() {
    let owner = Vault::new();
    let (_, url) = database();
    owner.run(&["team", "create", &url]).ok();
    let (_carol_home, _) = joined(&owner, "carol", "viewer");
    let login_ok = "SELECT bool_and(r.rolcanlogin) FROM pg_roles r JOIN coffer.members m ON m.login = r.rolname";
    assert_eq!(psql(&url, login_ok).trim(), "t");
    // Another route to the server that goes nowhere: the removal is kept for later.
    let link: Vec<u8> = owner
        .db()
        .query_row("SELECT value FROM meta WHERE key = 'team'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let text = String::from_utf8(link.clone()).unwrap();
    let port = text
        .split("127.0.0.1:")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let elsewhere = text.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:1");
    owner
        .db()
        .execute(
            "UPDATE meta SET value = ?1 WHERE key = 'team'",
            [elsewhere.as_bytes()],
        )
        .unwrap();
    let removed = owner.run(&["member", "remove", "carol"]).ok();
    assert!(
        removed.stdout.contains("next `coffer team sync`"),
        "{}",
        removed.stdout
    );
    assert_eq!(psql(&url, login_ok).trim(), "t");
    owner
        .db()
        .execute("UPDATE meta SET value = ?1 WHERE key = 'team'", [link])
        .unwrap();
    let done = owner.run(&["--json", "team", "sync"]).ok().json();
    assert_eq!(done["removed"], 1, "{done}");
    assert_eq!(psql(&url, login_ok).trim(), "f");
}

#[test]
fn rows_added_on_two_homes_apart_never_collide_and_the_same_name_is_a_conflict() {
    let h1 = Vault::new();
    let (_, url) = database();
    h1.run(&["team", "create", &url]).ok();
    let h2 = second_home(&h1);
    sync(&h2).ok();
    // Between two syncs each home adds its own secret, environment and project.
    let (a, b) = (random_token("home1-"), random_token("home2-"));
    h1.set("FROM_HOME_1", &a, &[]);
    h2.set("FROM_HOME_2", &b, &[]);
    h1.run(&["env", "create", "qa-one"]).ok();
    h2.run(&["env", "create", "qa-two"]).ok();
    h1.run(&["project", "create", "one"]).ok();
    h2.run(&["project", "create", "two"]).ok();
    for home in [&h1, &h2, &h1] {
        let done = home.run(&["--json", "team", "sync"]).ok().json();
        assert_eq!(done["conflicts"], serde_json::json!([]), "{done}");
    }
    for home in [&h1, &h2] {
        assert_eq!(home.reveal("FROM_HOME_1", &[]), a);
        assert_eq!(home.reveal("FROM_HOME_2", &[]), b);
        let envs = home.run(&["env", "list"]).ok().stdout;
        assert!(envs.contains("qa-one") && envs.contains("qa-two"), "{envs}");
        let projects = home.run(&["project", "list"]).ok().stdout;
        assert!(
            projects.contains("one") && projects.contains("two"),
            "{projects}"
        );
    }
    // The same name made on both: one record changed on both sides, kept on both.
    h1.set("SAME_NAME", &random_token("one-"), &[]);
    h2.set("SAME_NAME", &random_token("two-"), &[]);
    sync(&h1).ok();
    let second = h2.run(&["--json", "team", "sync"]).exit(1).json();
    assert!(
        second["conflicts"].to_string().contains("secret"),
        "{second}"
    );
}

/// Puts the server back to `dump` (taken by [`dump`]), as its administrator restoring
/// a backup would.
pub(crate) fn restore(url: &str, dump: &[u8]) {
    use std::io::Write;
    psql(url, "DROP SCHEMA coffer CASCADE");
    let mut child = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("psql runs");
    child.stdin.take().unwrap().write_all(dump).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn what_the_servers_administrator_deletes_reorders_truncates_or_rolls_back_is_caught() {
    let h1 = Vault::new();
    let values: Vec<String> = (0..3).map(|i| random_token(&format!("v{i}-"))).collect();
    for (i, v) in values.iter().enumerate() {
        h1.set(&format!("KEY_{i}"), v, &[]);
    }
    // A failed unlock is audited here, unsigned, and stays on this machine: not
    // something the server lost.
    h1.cli()
        .passphrase("not the pass phrase 9")
        .run(&["ls"])
        .refused(6);
    let (_, url) = database();
    h1.run(&["team", "create", &url]).ok();
    h1.cli()
        .passphrase("not the pass phrase 9")
        .run(&["ls"])
        .refused(6);
    h1.set("KEY_0", &random_token("again-"), &[]);
    sync(&h1).ok();
    let verified = h1.run(&["team", "verify"]).ok();
    assert!(
        verified
            .stdout
            .contains("holds what this machine exchanged"),
        "{}",
        verified.describe()
    );
    let good = dump(&url);
    // The workspace's scope: the one with the most events.
    let ws = psql(
        &url,
        "SELECT scope FROM coffer.events GROUP BY scope ORDER BY count(*) DESC LIMIT 1",
    );
    let ws = ws.trim();

    // Each edit below is one a database administrator can make; each is named, with
    // exit 7, and no value is in the message. The backup puts the server back after.
    let caught = |edit: &str, command: &[&str], expect: &str| {
        psql(&url, edit);
        let refused = h1.run(command).refused(7);
        assert!(
            refused.message().contains(expect),
            "{edit}\n{}",
            refused.describe()
        );
        for v in &values {
            assert!(!refused.stderr.contains(v.as_str()));
        }
        restore(&url, &good);
        h1.run(&["team", "verify"]).ok();
    };
    caught(
        "DELETE FROM coffer.records WHERE kind = 'secret' AND body IS NOT NULL
             AND key = (SELECT min(key) FROM coffer.records WHERE kind = 'secret')",
        &["team", "verify"],
        "was deleted on the server",
    );
    // The server's own answer to "may I read this?" made to lie, hiding a project's
    // records: this machine's signed grants say otherwise.
    caught(
        "CREATE OR REPLACE FUNCTION coffer.may_read(p_scope bigint, p_project bigint, p_private bigint, p_about bigint)
             RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
             AS $$ SELECT coffer.me() IS NOT NULL AND (p_project = 0 OR coalesce(p_private = coffer.me(), false)) $$;",
        &["team", "verify"],
        "is hidden from you on the server, though your grants let you read it",
    );
    // An answer of a type (or a NULL) no Coffer server gives: said, not a crash.
    caught(
        "CREATE OR REPLACE FUNCTION coffer.may_read(p_scope bigint, p_project bigint, p_private bigint, p_about bigint)
             RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
             AS $$ SELECT CASE WHEN p_project = 0 THEN true END $$;",
        &["team", "verify"],
        "the team server answered with something unexpected",
    );
    caught(
        "UPDATE coffer.records SET body = convert_to(replace(convert_from(body, 'UTF8'), 'KEY_1', 'KEY_9'), 'UTF8')
             WHERE kind = 'secret' AND convert_from(body, 'UTF8') LIKE '%KEY_1%'",
        &["team", "verify"],
        "was edited on the server",
    );
    // Two events swapped, their links mended so the chain still joins: the order of
    // this machine's own events gives it away.
    caught(
        &format!(
            "CREATE TEMP TABLE two AS SELECT seq, n, hash, body FROM coffer.events
                 WHERE scope = {ws} ORDER BY seq, n LIMIT 2;
             UPDATE coffer.events e SET hash = o.hash, body = o.body
                 FROM two t, two o
                 WHERE e.scope = {ws} AND (e.seq, e.n) = (t.seq, t.n) AND (o.seq, o.n) <> (t.seq, t.n);
             UPDATE coffer.events x SET prev = (SELECT y.hash FROM coffer.events y
                 WHERE y.scope = x.scope AND (y.seq, y.n) < (x.seq, x.n)
                 ORDER BY y.seq DESC, y.n DESC LIMIT 1) WHERE x.scope = {ws};"
        ),
        &["team", "verify"],
        "out of its order",
    );
    // An event's body rewritten, its hash and links left as they were.
    caught(
        &format!(
            "UPDATE coffer.events SET body = body || '\\x00'::bytea WHERE (scope, seq, n) =
                 (SELECT scope, seq, n FROM coffer.events WHERE scope = {ws} ORDER BY seq, n LIMIT 1)"
        ),
        &["team", "verify"],
        "was edited on the server",
    );
    // The newest event deleted and the head moved back onto the one before.
    caught(
        &format!(
            "DELETE FROM coffer.events WHERE scope = {ws} AND (seq, n) =
                 (SELECT seq, n FROM coffer.events WHERE scope = {ws} ORDER BY seq DESC, n DESC LIMIT 1);
             UPDATE coffer.heads SET chain = (SELECT hash FROM coffer.events WHERE scope = {ws}
                 ORDER BY seq DESC, n DESC LIMIT 1) WHERE scope = {ws};"
        ),
        &["team", "verify"],
        "is missing on the server",
    );
    caught(
        "UPDATE coffer.events SET prev = NULL WHERE (scope, seq, n) =
             (SELECT scope, seq, n FROM coffer.events WHERE prev IS NOT NULL LIMIT 1)",
        &["team", "verify"],
        "does not join",
    );
    // Emptied: a sync refuses to exchange anything with it.
    caught(
        "TRUNCATE coffer.records, coffer.events; UPDATE coffer.heads SET seq = 0, chain = NULL",
        &["team", "sync"],
        "went back",
    );

    // An older backup restored after this machine pushed more: the sync refuses, and
    // what was written here since stays here, unsent.
    let later = random_token("later-");
    h1.set("KEY_LATER", &later, &[]);
    sync(&h1).ok();
    let secrets = "SELECT count(*) FROM coffer.records WHERE kind = 'secret' AND body IS NOT NULL";
    let newer = psql(&url, secrets);
    restore(&url, &good);
    let older = psql(&url, secrets);
    assert_ne!(newer, older);
    h1.set("KEY_OFFLINE", &random_token("off-"), &[]);
    let refused = sync(&h1).refused(7);
    assert!(
        refused.message().contains("restored from an older copy"),
        "{}",
        refused.describe()
    );
    h1.run(&["team", "verify"]).refused(7);
    assert_eq!(psql(&url, secrets), older);
    assert_eq!(h1.reveal("KEY_LATER", &[]), later);
}

#[test]
fn a_grant_to_another_project_brings_what_was_written_there_before_it() {
    let owner = Vault::new();
    let (_, url) = database();
    owner.run(&["team", "create", &url]).ok();
    let (bob_home, bob) = joined(&owner, "bob", "developer");
    // A second workspace with two projects, each with a value written now.
    owner.run(&["workspace", "create", "two"]).ok();
    let in_two = |args: &[&str]| {
        let mut all = vec!["--workspace", "two"];
        all.extend_from_slice(args);
        owner.run(&all).ok();
    };
    in_two(&["project", "create", "api"]);
    in_two(&["project", "create", "web"]);
    let api = random_token("api-");
    let web = random_token("web-");
    owner.set(
        "API_TOKEN",
        &api,
        &["--workspace", "two", "--project", "api"],
    );
    owner.set(
        "WEB_TOKEN",
        &web,
        &["--workspace", "two", "--project", "web"],
    );
    in_two(&[
        "member",
        "grant",
        "bob",
        "developer",
        "--only-project",
        "api",
    ]);
    sync(&owner).ok();
    let bob_run = |project: &str, name: &str, value: &str| {
        let check = format!("test \"${name}\" = '{value}'");
        bob_home.cli().acting_as(&bob).run(&[
            "--workspace",
            "two",
            "--project",
            project,
            "run",
            "--only",
            name,
            "--",
            "sh",
            "-c",
            &check,
        ])
    };
    bob_home.cli().acting_as(&bob).run(&["team", "sync"]).ok();
    bob_run("api", "API_TOKEN", &api).ok();
    let listed =
        bob_home
            .cli()
            .acting_as(&bob)
            .run(&["--workspace", "two", "--project", "web", "ls"]);
    assert!(
        !listed.stdout.contains("WEB_TOKEN"),
        "{}",
        listed.describe()
    );

    // Granted web too: the record written there before the grant reaches bob.
    in_two(&[
        "member",
        "grant",
        "bob",
        "developer",
        "--only-project",
        "web",
    ]);
    sync(&owner).ok();
    bob_home.cli().acting_as(&bob).run(&["team", "sync"]).ok();
    bob_run("web", "WEB_TOKEN", &web).ok();
}

/// A PostgreSQL server of one test's own (tests/pg/with-postgres.sh, kept running
/// until dropped), for tests that stop, pause and crash it.
struct OwnServer {
    child: std::process::Child,
    env: std::collections::HashMap<String, String>,
}

impl OwnServer {
    fn start() -> OwnServer {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/pg/with-postgres.sh");
        let out = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new("bash")
            .args([
                script,
                "sh",
                "-c",
                "env | grep ^COFFER_TEST_PG > \"$0.tmp\" && mv \"$0.tmp\" \"$0\"; exec cat >/dev/null",
            ])
            .arg(out.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("with-postgres.sh starts");
        let started = std::time::Instant::now();
        let env = loop {
            let text = std::fs::read_to_string(out.path()).unwrap_or_default();
            if text.contains("COFFER_TEST_PG=") {
                break text
                    .lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "the server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        OwnServer { child, env }
    }

    fn url(&self) -> &str {
        &self.env["COFFER_TEST_PG"]
    }

    /// The postmaster's process id.
    fn pid(&self) -> String {
        let pidfile = format!("{}/postmaster.pid", self.env["COFFER_TEST_PG_DATA"]);
        let text = std::fs::read_to_string(pidfile).expect("the server runs");
        text.lines().next().unwrap().trim().to_string()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    /// `pg_ctl ARGS` as the cluster's owner.
    fn ctl(&self, args: &[&str]) {
        let mut argv: Vec<String> = self.env["COFFER_TEST_PG_AS"]
            .split_whitespace()
            .map(String::from)
            .collect();
        argv.push(self.env["COFFER_TEST_PG_CTL"].clone());
        argv.extend(["-D".to_string(), self.env["COFFER_TEST_PG_DATA"].clone()]);
        argv.extend(args.iter().map(|a| a.to_string()));
        let ok = Command::new(&argv[0])
            .args(&argv[1..])
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "pg_ctl {args:?}");
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        // Its stdin closed, the script stops the server and removes it.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

#[test]
fn a_server_that_stops_answering_or_crashes_loses_no_write_and_doubles_no_event() {
    use std::sync::atomic::AtomicBool;
    use std::sync::Mutex;
    use std::time::Duration;

    let pg = OwnServer::start();
    // The suite's server trades durability for speed; this one must not lose a
    // commit it acknowledged when it crashes.
    psql(pg.url(), "ALTER SYSTEM SET synchronous_commit = on");
    psql(pg.url(), "SELECT pg_reload_conf()");
    let (_, url) = database_on(pg.url());
    let h1 = Vault::new();
    h1.set("API_KEY", &random_token("start-"), &[]);
    h1.run(&["team", "create", &url]).ok();
    let h2 = second_home(&h1);
    sync(&h2).ok();

    // The server stops answering (its postmaster paused): this machine says offline
    // within the connect deadline, keeps working, and queues what it writes.
    pg.signal("STOP");
    // (The bounds catch a hang, with room for a loaded 2-core machine: the connect
    // deadline is 3 s, an unlock and a process start come on top.)
    let status = h1.run(&["team", "status"]).ok();
    assert!(status.stdout.contains("offline"), "{}", status.describe());
    assert!(
        status.elapsed < Duration::from_secs(8),
        "{}",
        status.describe()
    );
    let during = random_token("during-");
    h1.set("DURING_PAUSE", &during, &[]);
    let failed = sync(&h1);
    assert_ne!(failed.code(), Some(0), "{}", failed.describe());
    assert!(
        failed.elapsed < Duration::from_secs(8),
        "{}",
        failed.describe()
    );
    let status = h1.run(&["team", "status"]).ok();
    assert!(
        !status.stdout.contains("outbox     empty"),
        "{}",
        status.describe()
    );
    pg.signal("CONT");
    sync(&h1).ok();
    sync(&h2).ok();
    assert_eq!(h2.reveal("DURING_PAUSE", &[]), during);

    // A crash under load: home 2 writes and syncs without pause while the server
    // stops at once and comes back. Every write is kept here first, so every one
    // arrives; no audit event reaches the server twice.
    let written = Mutex::new(Vec::new());
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0;
            while !done.load(Ordering::Relaxed) {
                let value = random_token("load-");
                h2.set(&format!("LOAD_{i}"), &value, &[]);
                written.lock().unwrap().push((format!("LOAD_{i}"), value));
                let _ = sync(&h2);
                i += 1;
            }
        });
        std::thread::sleep(Duration::from_secs(1));
        pg.ctl(&["-m", "immediate", "stop"]);
        std::thread::sleep(Duration::from_secs(1));
        pg.ctl(&["-w", "-t", "30", "start"]);
        std::thread::sleep(Duration::from_secs(1));
        done.store(true, Ordering::Relaxed);
    });
    let written = written.into_inner().unwrap();
    assert!(written.len() >= 3, "the load ran: {written:?}");
    sync(&h2).ok();
    sync(&h1).ok();
    for (name, value) in &written {
        assert_eq!(&h1.reveal(name, &[]), value, "{name}");
    }
    assert_eq!(
        psql(
            &url,
            "SELECT count(*) - count(DISTINCT (scope, hash)) FROM coffer.events"
        )
        .trim(),
        "0"
    );
    for h in [&h1, &h2] {
        h.run(&["team", "verify"]).ok();
        h.run(&["audit", "verify"]).ok();
    }
}

#[test]
fn a_join_that_meets_records_taken_apart_on_the_server_takes_nothing_and_says_so() {
    let owner = Vault::new();
    owner.set("API_KEY", &random_token("a-"), &[]);
    owner.set("DB_PASSWORD", &random_token("b-"), &[]);
    let (_, url) = database();
    owner.run(&["team", "create", &url]).ok();
    // The administrator deletes one secret's record; its versions stay behind.
    psql(
        &url,
        "DELETE FROM coffer.records WHERE kind = 'secret'
             AND key = (SELECT min(key) FROM coffer.records WHERE kind = 'secret')",
    );
    let (home, eve) = admitted(&owner, "eve", "developer");
    let refused = home
        .cli()
        .acting_as(&eve)
        .run(&["team", "join", "--wait", "10s"])
        .refused(7);
    assert!(
        refused.message().contains("do not hang together"),
        "{}",
        refused.describe()
    );
    // Nothing was taken: the file still waits for a join that can finish.
    let again = home
        .cli()
        .acting_as(&eve)
        .run(&["team", "join", "--wait", "0"]);
    assert_eq!(again.code(), Some(7), "{}", again.describe());
}
