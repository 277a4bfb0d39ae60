//! The team server's schema against a real PostgreSQL 15, tried as each member, as a
//! member of another workspace, as a removed member and as the database administrator.
//!
//! Run beside a throw-away server: `bash tests/pg/with-postgres.sh cargo nextest run
//! -p coffer-core --test team_server` (`.ci/run` does).

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use coffer_core::access::{Capability, Role};
use coffer_core::team::{scram_verifier, Change, Event, Record, SchemaState, Server, ServerUrl};
use coffer_core::{Error, ErrorCode};

/// The superuser URL the harness exported.
fn admin_url() -> String {
    std::env::var("COFFER_TEST_PG")
        .expect("these tests need a PostgreSQL server: run them under tests/pg/with-postgres.sh")
}

/// The administrator's own connection over the local socket, for set-up and for
/// playing the database administrator who edits rows.
fn dba(db: &str) -> postgres::Client {
    let url = admin_url();
    let base = url.split('?').next().unwrap();
    let mut config = postgres::Config::from_str(base).unwrap();
    config.host_path(std::env::var("COFFER_TEST_PG_SOCKET").unwrap());
    config.dbname(db);
    config.connect(postgres::NoTls).unwrap()
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh database of its own for one test, and its URL as the administrator.
fn fresh_database() -> (String, ServerUrl) {
    let name = format!(
        "t_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    dba("postgres")
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let url = admin_url().replacen("/postgres?", &format!("/{name}?"), 1);
    (name, ServerUrl::parse(&url).unwrap())
}

fn login_name(member: i64) -> String {
    format!(
        "coffer_m_{:016x}",
        (std::process::id() as u64) << 32 | member as u64
    )
}

fn password(member: i64) -> String {
    format!("test password of member {member}")
}

fn connect_as(url: &ServerUrl, member: i64) -> Result<Server, Error> {
    url.with_login(&login_name(member), &password(member))
        .connect()
}

fn record(kind: &str, key: &str, project: i64, body: Option<&str>) -> Change {
    Change {
        kind: kind.into(),
        key: key.into(),
        project,
        private_to: None,
        about: None,
        expect: None,
        body: body.map(|b| b.as_bytes().to_vec()),
    }
}

/// A grant row as a client commits it (the server reads its role).
fn grant_body(role: &str) -> String {
    format!(r#"{{"role":"{role}","signer":1,"sig":{{"$b":"AAAA"}}}}"#)
}

fn code(r: Result<impl Sized, Error>) -> Option<ErrorCode> {
    r.err().map(|e| e.code())
}

const ROOT: i64 = 1;
const ADMIN: i64 = 2;
const DEV: i64 = 3;
const VIEWER: i64 = 4;
const AUDITOR: i64 = 5;
const OTHER_TENANT: i64 = 6;
const PROJECT_ADMIN: i64 = 7;
const WS: i64 = 10;
const OTHER_WS: i64 = 20;
const PAYMENTS: i64 = 100;
const BILLING: i64 = 200;

/// A team vault with the root owner, workspace 10 (projects 100 and 200) with one member
/// per role, a project-only admin of 100, and workspace 20 owned by another tenant.
struct Team {
    db: String,
    url: ServerUrl,
}

impl Team {
    fn new() -> Team {
        let (db, url) = fresh_database();
        let mut admin = url.connect().unwrap();
        assert_eq!(
            admin.migrate().unwrap(),
            coffer_core::team::SCHEMA_VERSION as usize
        );
        admin
            .bootstrap(ROOT, &login_name(ROOT), &scram_verifier(&password(ROOT)))
            .unwrap();
        let mut root = connect_as(&url, ROOT).unwrap();
        root.create_workspace(WS).unwrap();
        for m in [ADMIN, DEV, VIEWER, AUDITOR, OTHER_TENANT, PROJECT_ADMIN] {
            root.add_login(m, &login_name(m), &scram_verifier(&password(m)))
                .unwrap();
        }
        let grants = [
            (ADMIN, 0, "admin"),
            (DEV, 0, "developer"),
            (VIEWER, 0, "viewer"),
            (AUDITOR, 0, "auditor"),
            (PROJECT_ADMIN, PAYMENTS, "admin"),
        ];
        let changes: Vec<Change> = grants
            .iter()
            .map(|(m, p, role)| record("grant", &format!("{m}:{p}"), *p, Some(&grant_body(role))))
            .collect();
        root.commit(WS, &changes, &[]).unwrap();
        let mut other = connect_as(&url, OTHER_TENANT).unwrap();
        other.create_workspace(OTHER_WS).unwrap();
        other
            .commit(
                OTHER_WS,
                &[record(
                    "secret",
                    "acme/API_KEY",
                    300,
                    Some("acme's metadata"),
                )],
                &[],
            )
            .unwrap();
        root.commit(
            WS,
            &[
                record("project", "payments", PAYMENTS, Some("payments")),
                record("project", "billing", BILLING, Some("billing")),
                record("secret", "payments/DB_URL", PAYMENTS, Some("meta")),
                record(
                    "version",
                    "payments/DB_URL/prod/1",
                    PAYMENTS,
                    Some("sealed-1"),
                ),
                record("secret", "billing/TOKEN", BILLING, Some("meta")),
                Change {
                    private_to: Some(DEV),
                    ..record("env_key_seal", "prod/1/3", PAYMENTS, Some("sealed to dev"))
                },
            ],
            &[Event {
                prev: None,
                hash: vec![1; 32],
                body: b"secret.set".to_vec(),
            }],
        )
        .unwrap();
        // Vault-wide records about each member (their public keys).
        let about: Vec<Change> = [ROOT, ADMIN, DEV, OTHER_TENANT]
            .iter()
            .map(|m| Change {
                about: Some(*m),
                ..record("member_pk", &m.to_string(), 0, Some("public keys"))
            })
            .collect();
        root.commit(0, &about, &[]).unwrap();
        Team { db, url }
    }

    fn as_member(&self, m: i64) -> Server {
        connect_as(&self.url, m).unwrap()
    }

    fn keys(&self, m: i64, scope: i64) -> BTreeSet<String> {
        self.as_member(m)
            .pull(scope, 0)
            .unwrap()
            .into_iter()
            .filter(|r| r.body.is_some())
            .map(|r| format!("{}:{}", r.kind, r.key))
            .collect()
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_schema_applies_once_even_when_two_clients_create_it_at_once() {
    let (_, url) = fresh_database();
    assert_eq!(
        url.connect().unwrap().schema_state().unwrap(),
        SchemaState::Empty
    );
    let applied: Vec<usize> = std::thread::scope(|s| {
        let a = s.spawn(|| url.connect().unwrap().migrate().unwrap());
        let b = s.spawn(|| url.connect().unwrap().migrate().unwrap());
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    // Each step once, whichever client applied it.
    assert_eq!(
        applied.iter().sum::<usize>(),
        coffer_core::team::SCHEMA_VERSION as usize,
        "{applied:?}"
    );
    let mut again = url.connect().unwrap();
    assert_eq!(again.migrate().unwrap(), 0);
    assert_eq!(again.schema_state().unwrap(), SchemaState::Current);
}

#[test]
fn an_older_schema_keeps_working_and_upgrades_in_place_keeping_everything() {
    let (_, url) = fresh_database();
    let mut admin = url.connect().unwrap();
    assert_eq!(admin.migrate_to(1).unwrap(), 1);
    admin
        .bootstrap(ROOT, &login_name(ROOT), &scram_verifier(&password(ROOT)))
        .unwrap();
    let mut root = connect_as(&url, ROOT).unwrap();
    root.create_workspace(WS).unwrap();
    root.commit(WS, &[record("secret", "default/API", 0, Some("meta"))], &[])
        .unwrap();
    assert_eq!(
        root.schema_state().unwrap(),
        SchemaState::Older { found: 1 }
    );
    // The administrator upgrades while the member stays connected.
    let applied = url.connect().unwrap().migrate().unwrap();
    assert_eq!(applied as i32, coffer_core::team::SCHEMA_VERSION - 1);
    assert_eq!(root.schema_state().unwrap(), SchemaState::Current);
    let kept: Vec<String> = root
        .pull(WS, 0)
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(kept, vec!["default/API".to_string()]);
    root.commit(
        WS,
        &[record("secret", "default/API2", 0, Some("meta"))],
        &[],
    )
    .unwrap();
    assert_eq!(url.connect().unwrap().migrate().unwrap(), 0);
}

#[test]
fn a_schema_newer_than_this_build_is_read_only_and_says_upgrade() {
    let team = Team::new();
    dba(&team.db)
        .batch_execute("INSERT INTO coffer.migrations (version, by_coffer) VALUES (99, 'future')")
        .unwrap();
    let mut dev = team.as_member(DEV);
    let state = dev.schema_state().unwrap();
    assert_eq!(state, SchemaState::Newer { found: 99 });
    assert!(!state.writable());
    let err = team.url.connect().unwrap().migrate().unwrap_err();
    assert!(err.to_string().contains("upgrade Coffer"), "{err}");
}

#[test]
fn only_tls_with_a_trusted_certificate_connects() {
    let url = admin_url();
    let err = ServerUrl::parse(&url.replace("sslmode=verify-full", "sslmode=disable"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("TLS only"), "{err}");
    // Without the harness's authority, the self-signed certificate is not trusted.
    let untrusted = url.split("&sslrootcert").next().unwrap();
    let err = ServerUrl::parse(untrusted)
        .unwrap()
        .connect()
        .err()
        .unwrap();
    assert!(err.to_string().contains("not trusted"), "{err}");
    assert!(!err.to_string().contains(password_in(&url)), "{err}");
    // The server itself has no line for a connection without TLS.
    let ok = ServerUrl::parse(&url).unwrap().connect();
    assert!(ok.is_ok());
}

fn password_in(url: &str) -> &str {
    let after = url.split_once("coffer_admin:").unwrap().1;
    after.split_once('@').unwrap().0
}

#[test]
fn the_servers_role_matrix_is_the_one_of_access_rs() {
    let team = Team::new();
    let mut db = dba(&team.db);
    for role in Role::ALL {
        for cap in Capability::ALL {
            let allows: bool = db
                .query_one(
                    "SELECT coffer.role_allows($1, $2)",
                    &[&role.as_str(), &cap.as_str()],
                )
                .unwrap()
                .get(0);
            assert_eq!(allows, role.allows(cap), "{role} {}", cap.as_str());
        }
    }
}

#[test]
fn each_member_reads_only_their_workspaces_projects_and_envelopes() {
    let team = Team::new();
    let everything = set(&[
        "grant:2:0",
        "grant:3:0",
        "grant:4:0",
        "grant:5:0",
        "grant:7:100",
        "project:billing",
        "project:payments",
        "secret:billing/TOKEN",
        "secret:payments/DB_URL",
        "version:payments/DB_URL/prod/1",
    ]);
    for m in [ROOT, ADMIN, VIEWER, AUDITOR] {
        assert_eq!(team.keys(m, WS), everything, "member {m}");
    }
    let mut dev_sees = everything.clone();
    dev_sees.insert("env_key_seal:prod/1/3".into());
    assert_eq!(team.keys(DEV, WS), dev_sees);
    // A project-only grant: that project's rows and the workspace's own, not billing.
    assert_eq!(
        team.keys(PROJECT_ADMIN, WS),
        set(&[
            "grant:2:0",
            "grant:3:0",
            "grant:4:0",
            "grant:5:0",
            "grant:7:100",
            "project:payments",
            "secret:payments/DB_URL",
            "version:payments/DB_URL/prod/1",
        ])
    );
    // Another tenant: workspace 10 does not exist for them, nor its members.
    assert!(team.keys(OTHER_TENANT, WS).is_empty());
    let mut other = team.as_member(OTHER_TENANT);
    assert_eq!(other.heads().unwrap(), vec![(0, 1), (OTHER_WS, 1)]);
    assert_eq!(team.keys(OTHER_TENANT, 0), set(&["member_pk:6"]));
    for m in [ADMIN, DEV, VIEWER] {
        assert!(team.keys(m, OTHER_WS).is_empty(), "member {m}");
        let scopes: Vec<i64> = team
            .as_member(m)
            .heads()
            .unwrap()
            .iter()
            .map(|h| h.0)
            .collect();
        assert_eq!(scopes, vec![0, WS], "member {m}");
        assert_eq!(
            team.keys(m, 0),
            set(&["member_pk:1", "member_pk:2", "member_pk:3"]),
            "member {m}"
        );
    }
    // The audit trail: those who may audit.
    for (m, sees) in [
        (ROOT, 1),
        (AUDITOR, 1),
        (ADMIN, 0),
        (DEV, 0),
        (VIEWER, 0),
        (OTHER_TENANT, 0),
    ] {
        assert_eq!(
            team.as_member(m).events(WS, 0).unwrap().len(),
            sees,
            "member {m}"
        );
    }
}

#[test]
fn members_write_only_through_the_functions_and_only_what_their_role_may() {
    let team = Team::new();
    // No member writes a table directly, whatever their role.
    for m in [ROOT, ADMIN, DEV, OTHER_TENANT] {
        let mut s = team.as_member(m);
        for sql in [
            "INSERT INTO coffer.access (member_id, scope, project_id, role) VALUES (4, 10, 0, 'owner')",
            "UPDATE coffer.access SET role = 'owner'",
            "UPDATE coffer.records SET body = 'x'",
            "DELETE FROM coffer.events",
            "UPDATE coffer.members SET root = true",
            "UPDATE coffer.heads SET seq = 0",
            "INSERT INTO coffer.kinds VALUES ('evil', 'list', true)",
            "SELECT coffer.make_login('coffer_m_00000000000000aa', 'SCRAM-SHA-256$4096:x')",
            "SELECT coffer.apply_grant(10, '4:0', convert_to('{\"role\":\"owner\"}', 'UTF8'))",
        ] {
            let err = raw(&team, m, sql);
            assert!(err.contains("permission denied"), "member {m}: {sql}: {err}");
        }
        drop(s.heads());
    }
    let version = |n: u32| {
        record(
            "version",
            &format!("payments/DB_URL/prod/{n}"),
            PAYMENTS,
            Some("sealed"),
        )
    };
    let billing = record("version", "billing/TOKEN/prod/1", BILLING, Some("sealed"));
    let grant = record("grant", "4:0", 0, Some(&grant_body("owner")));
    let cases: Vec<(i64, Change, Option<ErrorCode>)> = vec![
        (ADMIN, version(2), None),
        (PROJECT_ADMIN, version(3), None),
        (ROOT, version(4), None),
        (DEV, version(5), Some(ErrorCode::Denied)),
        (VIEWER, version(5), Some(ErrorCode::Denied)),
        (AUDITOR, version(5), Some(ErrorCode::Denied)),
        (OTHER_TENANT, version(5), Some(ErrorCode::Denied)),
        (PROJECT_ADMIN, billing.clone(), Some(ErrorCode::Denied)),
        (ADMIN, billing, None),
        // Granting needs manage: an admin cannot make a viewer an owner.
        (ADMIN, grant.clone(), Some(ErrorCode::Denied)),
        (PROJECT_ADMIN, grant, Some(ErrorCode::Denied)),
        // Workspace rows need manage over the whole workspace.
        (
            PROJECT_ADMIN,
            record("project", "payments", 0, Some("renamed")),
            Some(ErrorCode::Denied),
        ),
        // Vault-wide: the root owner, or a manager for members.
        (
            DEV,
            Change {
                about: Some(DEV),
                ..record("member_pk", "3", 0, Some("my new keys"))
            },
            Some(ErrorCode::Denied),
        ),
        (
            ADMIN,
            record("vault", "root", 0, Some("forged root")),
            Some(ErrorCode::Denied),
        ),
        // A grant of a role that does not exist.
        (
            ROOT,
            record("grant", "5:100", PAYMENTS, Some(&grant_body("god"))),
            Some(ErrorCode::Invalid),
        ),
        // Unknown kinds are refused.
        (
            ROOT,
            record("rootkit", "x", 0, Some("x")),
            Some(ErrorCode::Invalid),
        ),
    ];
    for (m, change, want) in cases {
        let scope = if change.kind == "member_pk" || change.kind == "vault" {
            0
        } else {
            WS
        };
        let got = code(
            team.as_member(m)
                .commit(scope, std::slice::from_ref(&change), &[]),
        );
        assert_eq!(
            got, want,
            "member {m} writing {} {}",
            change.kind, change.key
        );
    }
    // Moving a record does not launder it: a payments admin cannot take over billing's
    // secret by naming their own project.
    let mut pa = team.as_member(PROJECT_ADMIN);
    let seq = seq_of(&mut team.as_member(ROOT), WS, "secret", "billing/TOKEN");
    let moved = Change {
        expect: Some(seq),
        ..record("secret", "billing/TOKEN", PAYMENTS, Some("mine now"))
    };
    assert_eq!(code(pa.commit(WS, &[moved], &[])), Some(ErrorCode::Denied));
    // Another member's private envelope is not a writer's to replace.
    let seq = seq_of(&mut team.as_member(DEV), WS, "env_key_seal", "prod/1/3");
    let stolen = Change {
        expect: Some(seq),
        private_to: None,
        ..record(
            "env_key_seal",
            "prod/1/3",
            PAYMENTS,
            Some("sealed to the admin"),
        )
    };
    assert_eq!(
        code(team.as_member(ADMIN).commit(WS, &[stolen], &[])),
        Some(ErrorCode::Denied)
    );
    // Deleting what `write` writes needs `delete`: the admin may, nobody else below.
    let seq = seq_of(
        &mut team.as_member(ROOT),
        WS,
        "version",
        "payments/DB_URL/prod/1",
    );
    let gone = Change {
        expect: Some(seq),
        ..record("version", "payments/DB_URL/prod/1", PAYMENTS, None)
    };
    assert_eq!(
        code(
            team.as_member(DEV)
                .commit(WS, std::slice::from_ref(&gone), &[])
        ),
        Some(ErrorCode::Denied)
    );
    assert_eq!(code(team.as_member(ADMIN).commit(WS, &[gone], &[])), None);
    // The root owner's grant is what the server enforces next: the viewer may now write.
    let mut root = team.as_member(ROOT);
    let seq = seq_of(&mut root, WS, "grant", "4:0");
    root.commit(
        WS,
        &[Change {
            expect: Some(seq),
            ..record("grant", "4:0", 0, Some(&grant_body("admin")))
        }],
        &[],
    )
    .unwrap();
    assert_eq!(
        code(team.as_member(VIEWER).commit(WS, &[version(9)], &[])),
        None
    );
}

/// Runs `sql` as member `m` straight on the tables; returns the error it met.
fn raw(team: &Team, m: i64, sql: &str) -> String {
    raw_as(team, &login_name(m), &password(m), sql)
}

/// Runs `sql` as any login; returns the error it met ("it worked" when none).
fn raw_as(team: &Team, login: &str, pass: &str, sql: &str) -> String {
    let mut c = socket_client(team, login, pass).unwrap();
    match c.batch_execute(sql) {
        Ok(()) => "it worked".into(),
        Err(e) => e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or(e.to_string()),
    }
}

/// A plain client as `login` over the server's socket.
fn socket_client(
    team: &Team,
    login: &str,
    pass: &str,
) -> Result<postgres::Client, postgres::Error> {
    let url = admin_url().replacen("/postgres?", &format!("/{}?", team.db), 1);
    let url = url.replacen("coffer_admin:", "", 1);
    let base = url.split('?').next().unwrap();
    let mut config = postgres::Config::from_str(base).unwrap();
    config.user(login);
    config.password(pass);
    config.host_path(std::env::var("COFFER_TEST_PG_SOCKET").unwrap());
    config.dbname(&team.db);
    config.connect(postgres::NoTls)
}

/// The first column of `sql`'s first row as text, read as `login`.
fn read_as(team: &Team, login: &str, pass: &str, sql: &str) -> Result<String, String> {
    let mut c = socket_client(team, login, pass).map_err(|e| e.to_string())?;
    c.query_one(sql, &[])
        .map(|r| r.get::<_, String>(0))
        .map_err(|e| {
            e.as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or(e.to_string())
        })
}

#[test]
fn invitations_are_the_root_owners_and_their_logins_may_only_join_once() {
    let team = Team::new();
    let inv_login = |n: u64| format!("coffer_i_{:016x}", (std::process::id() as u64) << 32 | n);
    let invite = |login: &str| {
        format!(
            "SELECT coffer.invite('{login}', '{}', {WS}, 'developer', 'zed', '1 hour')",
            scram_verifier("invitation secret")
        )
    };
    // Only the root owner invites, admits, cancels and reads invitations.
    for m in [ADMIN, DEV, OTHER_TENANT] {
        for sql in [
            invite(&inv_login(90 + m as u64)),
            "SELECT coffer.admit('coffer_i_0000000000000000', 9)".into(),
            "SELECT coffer.cancel_invitation('zed')".into(),
            "UPDATE coffer.invitations SET role = 'owner'".into(),
            "SELECT coffer.drop_invitation_login('coffer_i_0000000000000000')".into(),
        ] {
            let err = raw(&team, m, &sql);
            assert!(
                err.contains("permission denied"),
                "member {m}: {sql}: {err}"
            );
        }
    }
    let first = inv_login(1);
    assert_eq!(raw(&team, ROOT, &invite(&first)), "it worked");
    // One open invitation per name.
    assert!(raw(&team, ROOT, &invite(&inv_login(2))).contains("open invitation"));
    for m in [ADMIN, DEV, OTHER_TENANT] {
        let seen = read_as(
            &team,
            &login_name(m),
            &password(m),
            "SELECT count(*)::text FROM coffer.invitations",
        );
        assert_eq!(seen.as_deref(), Ok("0"), "member {m}");
    }

    // The invitation's login reads nothing and may only join, once.
    let secret = "invitation secret";
    for sql in [
        "SELECT count(*)::text FROM coffer.records",
        "SELECT count(*)::text FROM coffer.invitations",
        "SELECT coffer.create_workspace(77)::text",
        "SELECT coffer.me()::text",
    ] {
        let err = read_as(&team, &first, secret, sql).expect_err(sql);
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    let newcomer = login_name(8);
    let join = format!(
        "SELECT name FROM coffer.join('\\x{}'::bytea, '\\x{}'::bytea, '{newcomer}', '{}')",
        "11".repeat(32),
        "22".repeat(32),
        scram_verifier(&password(8))
    );
    assert_eq!(read_as(&team, &first, secret, &join).as_deref(), Ok("zed"));
    let again = read_as(&team, &first, secret, &join).unwrap_err();
    assert!(again.contains("used already"), "{again}");
    // Not a member until admitted.
    assert!(socket_client(&team, &newcomer, &password(8)).is_err());
    assert!(
        raw(&team, ADMIN, &format!("SELECT coffer.admit('{first}', 8)"))
            .contains("permission denied")
    );
    assert_eq!(
        raw(&team, ROOT, &format!("SELECT coffer.admit('{first}', 8)")),
        "it worked"
    );
    // Admitted: their own login works, the invitation's is gone.
    assert!(socket_client(&team, &newcomer, &password(8)).is_ok());
    assert!(socket_client(&team, &first, secret).is_err());
    assert!(raw(&team, ROOT, &format!("SELECT coffer.admit('{first}', 8)")).contains("not found"));

    // Cancelled before anyone joined: the login goes at once.
    let second = inv_login(3);
    assert_eq!(raw(&team, ROOT, &invite(&second)), "it worked");
    assert!(socket_client(&team, &second, secret).is_ok());
    assert_eq!(
        raw(&team, ROOT, "SELECT coffer.cancel_invitation('zed')"),
        "it worked"
    );
    assert!(socket_client(&team, &second, secret).is_err());
    // And one past its time cannot log in.
    let third = inv_login(4);
    let short = invite(&third).replace("'1 hour'", "'1 second'");
    assert_eq!(raw(&team, ROOT, &short), "it worked");
    std::thread::sleep(Duration::from_millis(1200));
    assert!(socket_client(&team, &third, secret).is_err());
}

fn seq_of(s: &mut Server, scope: i64, kind: &str, key: &str) -> i64 {
    s.pull(scope, 0)
        .unwrap()
        .into_iter()
        .find(|r: &Record| r.kind == kind && r.key == key)
        .unwrap_or_else(|| panic!("{kind} {key} not visible"))
        .seq
}

#[test]
fn a_stale_write_or_a_moved_trail_is_a_conflict_and_lands_nothing() {
    let team = Team::new();
    let mut a = team.as_member(ADMIN);
    let mut b = team.as_member(ROOT);
    let seq = seq_of(&mut a, WS, "secret", "payments/DB_URL");
    let edit = |text: &str| Change {
        expect: Some(seq),
        ..record("secret", "payments/DB_URL", PAYMENTS, Some(text))
    };
    let first = a.commit(WS, &[edit("from a")], &[]).unwrap();
    let err = b.commit(WS, &[edit("from b")], &[]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    // Creating what exists is a conflict too (two rotations to the same number).
    let again = record(
        "version",
        "payments/DB_URL/prod/1",
        PAYMENTS,
        Some("sealed again"),
    );
    assert_eq!(code(b.commit(WS, &[again], &[])), Some(ErrorCode::Conflict));
    // An event that does not follow the chain's head: nothing of its commit lands.
    let stale = Event {
        prev: Some(vec![9; 32]),
        hash: vec![2; 32],
        body: b"x".to_vec(),
    };
    let with_record = record("secret", "payments/NEW", PAYMENTS, Some("meta"));
    let err = b.commit(WS, &[with_record], &[stale]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(!team.keys(ROOT, WS).contains("secret:payments/NEW"));
    let next = Event {
        prev: Some(vec![1; 32]),
        hash: vec![2; 32],
        body: b"y".to_vec(),
    };
    let n = b.commit(WS, &[], &[next]).unwrap();
    assert_eq!(n, first + 1, "sequence numbers are contiguous");
    let body = a
        .pull(WS, 0)
        .unwrap()
        .into_iter()
        .find(|r| r.key == "payments/DB_URL")
        .unwrap();
    assert_eq!(body.body.as_deref(), Some(&b"from a"[..]));
}

#[test]
fn a_commit_is_announced_on_its_workspace_channel_with_its_number_alone() {
    let team = Team::new();
    let mut listener = team.as_member(DEV);
    listener.listen(WS).unwrap();
    let mut writer = team.as_member(ADMIN);
    let started = Instant::now();
    let n = writer
        .commit(
            WS,
            &[record("secret", "payments/LIVE", PAYMENTS, Some("meta"))],
            &[],
        )
        .unwrap();
    assert_eq!(
        listener.next_commit(Duration::from_secs(2)).unwrap(),
        Some(n)
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    // Another tenant cannot even find the channel.
    let err = team.as_member(OTHER_TENANT).listen(WS).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[test]
fn a_removed_member_is_cut_off_at_once_and_their_envelopes_are_gone() {
    let team = Team::new();
    let mut dev = team.as_member(DEV);
    assert!(team.keys(DEV, WS).contains("env_key_seal:prod/1/3"));
    let mut root = team.as_member(ROOT);
    // A viewer cannot remove anyone; the admin has no manage either.
    assert_eq!(
        code(team.as_member(VIEWER).remove_member(DEV)),
        Some(ErrorCode::Denied)
    );
    assert_eq!(
        code(team.as_member(ADMIN).remove_member(DEV)),
        Some(ErrorCode::Denied)
    );
    let started = Instant::now();
    root.remove_member(DEV).unwrap();
    // The open session is ended by the server.
    assert!(!dev.is_alive(Duration::from_secs(2)));
    assert!(started.elapsed() < Duration::from_secs(1));
    let err = connect_as(&team.url, DEV).err().unwrap();
    assert_eq!(err.code(), ErrorCode::Auth, "{err}");
    // Their key envelope is gone from the server (as the administrator sees it).
    let left: Option<Vec<u8>> = dba(&team.db)
        .query_one(
            "SELECT body FROM coffer.records WHERE key = 'prod/1/3'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, None);
    assert!(!team.keys(ROOT, WS).contains("env_key_seal:prod/1/3"));
    // The root owner cannot be removed.
    assert_eq!(code(root.remove_member(ROOT)), Some(ErrorCode::Denied));
}

/// 50 clients × 200 random operations at once (compare-and-set writes of a few shared
/// records, appends to the audit chain, reads): no acknowledged write is lost, every
/// refusal is a conflict, commit numbers are contiguous and the chain links up.
#[test]
fn fifty_concurrent_clients_lose_no_update_and_keep_the_chain() {
    const CLIENTS: i64 = 50;
    const OPS: usize = 200;
    const KEYS: usize = 8;
    let team = Team::new();
    let mut root = team.as_member(ROOT);
    let first = 1000;
    let mut grants = Vec::new();
    for c in 0..CLIENTS {
        let m = first + c;
        root.add_login(m, &login_name(m), &scram_verifier(&password(m)))
            .unwrap();
        grants.push(record(
            "grant",
            &format!("{m}:0"),
            0,
            Some(&grant_body("owner")),
        ));
    }
    root.commit(WS, &grants, &[]).unwrap();
    let base = root
        .heads()
        .unwrap()
        .into_iter()
        .find(|h| h.0 == WS)
        .unwrap()
        .1;

    // What each client saw acknowledged: (key, expected seq, new seq, body) and events.
    type Acked = (
        Vec<(String, Option<i64>, i64, String)>,
        Vec<(i64, Vec<u8>)>,
        usize,
    );
    let started = Instant::now();
    let results: Vec<Acked> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let team = &team;
                s.spawn(move || {
                    let mut server = team.as_member(first + c);
                    let mut rng = (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    let mut next = move || {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        rng
                    };
                    let (mut writes, mut events, mut conflicts) = (Vec::new(), Vec::new(), 0);
                    // The newest event this client has read, and its commit.
                    let (mut head, mut head_seq) = (None, 0);
                    for op in 0..OPS {
                        let key = format!("payments/SHARED_{}", next() as usize % KEYS);
                        let body = format!("client {c} op {op}");
                        let (changes, evs) = if next() % 3 == 0 {
                            // Append onto the head this client knows of.
                            if let Some(e) = server.events(WS, head_seq).unwrap().last() {
                                head = Some(e.hash.clone());
                                head_seq = e.seq;
                            }
                            let mut hash = [0u8; 32];
                            hash[..8].copy_from_slice(&(c as u64).to_le_bytes());
                            hash[8..16].copy_from_slice(&(op as u64).to_le_bytes());
                            (
                                vec![],
                                vec![Event {
                                    prev: head.clone(),
                                    hash: hash.to_vec(),
                                    body: body.clone().into_bytes(),
                                }],
                            )
                        } else {
                            let seen = server.get(WS, "secret", &key).unwrap().map(|r| r.seq);
                            let change = Change {
                                expect: seen,
                                ..record("secret", &key, PAYMENTS, Some(&body))
                            };
                            (vec![change], vec![])
                        };
                        match server.commit(WS, &changes, &evs) {
                            Ok(seq) => {
                                if let Some(ch) = changes.first() {
                                    writes.push((ch.key.clone(), ch.expect, seq, body));
                                } else {
                                    events.push((seq, evs[0].hash.clone()));
                                }
                            }
                            Err(e) => {
                                assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
                                conflicts += 1;
                            }
                        }
                    }
                    (writes, events, conflicts)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    let mut writes: Vec<_> = results.iter().flat_map(|r| r.0.clone()).collect();
    let events: Vec<_> = results.iter().flat_map(|r| r.1.clone()).collect();
    let conflicts: usize = results.iter().map(|r| r.2).sum();
    let committed = writes.len() + events.len();
    assert_eq!(committed + conflicts, CLIENTS as usize * OPS);
    eprintln!(
        "{committed} commits and {conflicts} conflicts in {elapsed:?}: {:.0} committed writes/s",
        committed as f64 / elapsed.as_secs_f64()
    );

    // Contiguous: every acknowledged commit has its own number, and they fill the range.
    let mut seqs: Vec<i64> = writes
        .iter()
        .map(|w| w.2)
        .chain(events.iter().map(|e| e.0))
        .collect();
    seqs.sort_unstable();
    let want: Vec<i64> = (base + 1..=base + committed as i64).collect();
    assert_eq!(seqs, want);
    // No lost update: per record, each acknowledged write expected the one before it,
    // and what the record holds now is the last of them.
    writes.sort_by_key(|w| w.2);
    let now = root.pull(WS, 0).unwrap();
    for k in 0..KEYS {
        let key = format!("payments/SHARED_{k}");
        let mut prev = None;
        let mut last = None;
        for (_, expect, seq, body) in writes.iter().filter(|w| w.0 == key) {
            assert_eq!(
                *expect, prev,
                "{key}: a write acknowledged over another one"
            );
            prev = Some(*seq);
            last = Some(body.clone());
        }
        let held = now
            .iter()
            .find(|r| r.key == key)
            .map(|r| r.body.clone().unwrap());
        assert_eq!(held, last.map(String::into_bytes), "{key}");
    }
    // The chain: the server's events, in order, each naming the one before.
    let stored = root.events(WS, 0).unwrap();
    assert_eq!(stored.len(), events.len() + 1);
    for pair in stored.windows(2) {
        assert_eq!(pair[1].prev.as_ref(), Some(&pair[0].hash));
    }
}

/// Escalations a reviewer found: a member who creates a workspace must not become the
/// vault's manager (and take over a member who has not joined yet); events and
/// self-written records do not go into another tenant's workspace; a project owner
/// cannot grant themselves the whole workspace by naming project 0 in the key.
#[test]
fn owning_a_workspace_one_made_or_a_project_reaches_nothing_beyond_it() {
    let team = Team::new();
    let mut dev = team.as_member(DEV);
    dev.create_workspace(999).unwrap();
    // Not a vault manager: no login for anyone, no vault-wide record, no vault trail.
    let err = dev
        .add_login(42, &login_name(42), &scram_verifier("mine now"))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Denied, "{err}");
    let member_pk = Change {
        about: Some(ROOT),
        ..record("member_pk", "1", 0, Some("forged keys"))
    };
    assert_eq!(
        code(dev.commit(0, &[member_pk], &[])),
        Some(ErrorCode::Denied)
    );
    assert!(dev.events(0, 0).unwrap().is_empty());

    // Another tenant writes nothing into workspace 10, events and own-kind records too.
    let mut other = team.as_member(OTHER_TENANT);
    let event = Event {
        prev: None,
        hash: vec![7; 32],
        body: b"forged".to_vec(),
    };
    assert_eq!(
        code(other.commit(WS, &[], &[event])),
        Some(ErrorCode::Denied)
    );
    let slot = Change {
        private_to: Some(OTHER_TENANT),
        ..record("key_slot", "probe", 0, Some("x"))
    };
    assert_eq!(
        code(other.commit(WS, &[slot], &[])),
        Some(ErrorCode::Denied)
    );

    // A project's owner grants within the project only.
    const PROJECT_OWNER: i64 = 8;
    let mut root = team.as_member(ROOT);
    root.add_login(
        PROJECT_OWNER,
        &login_name(PROJECT_OWNER),
        &scram_verifier(&password(PROJECT_OWNER)),
    )
    .unwrap();
    root.commit(
        WS,
        &[record(
            "grant",
            "8:100",
            PAYMENTS,
            Some(&grant_body("owner")),
        )],
        &[],
    )
    .unwrap();
    let mut po = team.as_member(PROJECT_OWNER);
    let whole = record("grant", "8:0", PAYMENTS, Some(&grant_body("owner")));
    assert_eq!(code(po.commit(WS, &[whole], &[])), Some(ErrorCode::Invalid));
    let whole = record("grant", "8:0", 0, Some(&grant_body("owner")));
    assert_eq!(code(po.commit(WS, &[whole], &[])), Some(ErrorCode::Denied));
    let roles: Vec<(i64, String)> = dba(&team.db)
        .query(
            "SELECT project_id, role FROM coffer.access WHERE member_id = 8",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(roles, vec![(PAYMENTS, "owner".to_string())]);
}

#[test]
fn a_commit_retried_after_its_answer_was_lost_appends_no_event_twice() {
    let team = Team::new();
    let mut a = team.as_member(ADMIN);
    let event = |h: u8| Event {
        prev: None,
        hash: vec![h; 32],
        body: vec![h],
    };
    let count = |s: &mut Server| s.events(WS, 0).unwrap().len();
    let mut root = team.as_member(ROOT);
    let before = count(&mut root);
    // The first try committed; its answer never came back.
    let first = a
        .commit(
            WS,
            &[record("secret", "payments/RETRY", PAYMENTS, Some("meta"))],
            &[event(40), event(41)],
        )
        .unwrap();
    // The retry of the events alone adds nothing and takes no new number.
    assert_eq!(a.commit(WS, &[], &[event(40), event(41)]).unwrap(), first);
    assert_eq!(count(&mut root), before + 2);
    // With a newer event behind them, only that one is appended, onto the head.
    let next = a
        .commit(WS, &[], &[event(40), event(41), event(42)])
        .unwrap();
    assert_eq!(next, first + 1);
    let trail = root.events(WS, 0).unwrap();
    assert_eq!(trail.len(), before + 3);
    let last = trail.last().unwrap();
    assert_eq!(last.hash, vec![42; 32]);
    assert_eq!(last.prev, Some(vec![41; 32]));
    let (_, head) = root.trail_head(WS).unwrap();
    assert_eq!(head, Some(vec![42; 32]));
}
