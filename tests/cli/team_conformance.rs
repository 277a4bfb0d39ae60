//! Conformance of the two backends: the same script of operations runs on a vault file
//! alone and on a team vault on PostgreSQL (synced after every step), and a second
//! machine of the team pulls each step. After every step the three must answer alike:
//! the same exit code and output for the step, and the same secrets, versions,
//! metadata, values, environments, projects, members and settings. Only what cannot be
//! equal (times, row ids) is compared as "set or not".

use serde_json::Value;

use crate::support::{random_token, Vault};
use crate::team::{database, joined, second_home, sync};

/// One operation: its arguments, its standard input, extra environment.
struct Step {
    args: Vec<String>,
    stdin: Option<String>,
    env: Vec<(&'static str, String)>,
}

fn step(args: &[&str]) -> Step {
    Step {
        args: args.iter().map(|a| a.to_string()).collect(),
        stdin: None,
        env: Vec::new(),
    }
}

impl Step {
    fn stdin(mut self, s: &str) -> Step {
        self.stdin = Some(s.to_string());
        self
    }

    fn env(mut self, k: &'static str, v: &str) -> Step {
        self.env.push((k, v.to_string()));
        self
    }

    fn run(&self, v: &Vault) -> crate::support::Run {
        let mut cli = v.cli();
        if let Some(s) = &self.stdin {
            cli = cli.stdin(s.as_bytes().to_vec());
        }
        for (k, val) in &self.env {
            cli = cli.env(k, val);
        }
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        cli.run(&args)
    }
}

/// What may differ between two vaults that did the same: times (kept as "set or not"),
/// row ids, fingerprints of keys, where the vault file is.
fn normal(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "id" | "vault" | "vault_id" | "path" | "key_fingerprint"
                    )
                })
                .map(|(k, v)| {
                    if k.ends_with("_at") || k.ends_with("_until") || k == "at" {
                        (k, Value::Bool(!v.is_null()))
                    } else {
                        (k, normal(v))
                    }
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(normal).collect()),
        other => other,
    }
}

/// Text with its times (`2026-12-10T11:07:39Z`) blanked: two runs a moment apart.
fn untimed(s: &str) -> String {
    let shape = b"dddd-dd-ddTdd:dd:ddZ";
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let fits = b.len() - i >= shape.len()
            && shape.iter().zip(&b[i..]).all(|(p, c)| {
                if *p == b'd' {
                    c.is_ascii_digit()
                } else {
                    p == c
                }
            });
        if fits {
            out.push_str("<time>");
            i += shape.len();
        } else {
            let ch = s[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn json_of(v: &Vault, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = v.run(&all).ok();
    normal(serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.describe())))
}

/// Everything a member can see of the vault, for one project, without times or ids;
/// values by name and environment.
fn view(v: &Vault, projects: &[&str], values: &[(&str, &str, &str)]) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("members".into(), json_of(v, &["member", "list"]));
    out.insert("settings".into(), json_of(v, &["settings", "get"]));
    out.insert("projects".into(), json_of(v, &["project", "list"]));
    for p in projects {
        let listed = json_of(v, &["--project", p, "ls", "--deleted"]);
        let names: Vec<String> = listed
            .as_array()
            .or_else(|| listed.get("secrets").and_then(Value::as_array))
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.get("name").and_then(Value::as_str).map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        out.insert(
            format!("{p}/envs"),
            json_of(v, &["--project", p, "env", "list"]),
        );
        out.insert(format!("{p}/ls"), listed);
        for n in names {
            out.insert(
                format!("{p}/show {n}"),
                json_of(v, &["--project", p, "show", &n]),
            );
        }
    }
    for (p, name, env) in values {
        let r = v.run(&["--project", p, "reveal", name, "--env", env, "-n"]);
        let got = if r.code() == Some(0) {
            r.stdout.clone()
        } else {
            format!("exit {:?}", r.code())
        };
        out.insert(format!("{p}/{name}@{env}"), Value::String(got));
    }
    Value::Object(out)
}

/// Where two values differ, one line per place: `path: file … team …`.
fn differences(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let null = Value::Null;
                differences(
                    &format!("{path}/{k}"),
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(&format!("{path}[{i}]"), p, q, out);
            }
        }
        _ if a != b => out.push(format!("{path}: file {a} vs {b}")),
        _ => {}
    }
}

#[test]
fn a_vault_file_and_a_team_vault_answer_every_operation_alike() {
    // Hundreds of unlocks: the cheapest Argon2id OWASP accepts (the cost is not what
    // this test is about).
    let cheap = ["--kdf-memory", "19", "--kdf-passes", "2"];
    let local = Vault::with_init(&cheap);
    let team = Vault::with_init(&cheap);
    let (_, url) = database();
    team.run(&["team", "create", &url]).ok();
    let other = second_home(&team);
    let dotenv = local.dir().join("import.env");
    std::fs::write(
        &dotenv,
        "IMPORTED_ONE=first value\nIMPORTED_TWO=\"second value\"\n",
    )
    .unwrap();
    let dotenv = dotenv.display().to_string();
    let (v1, v2, v3, v4, v5, v6) = (
        random_token("v1-"),
        random_token("v2-"),
        random_token("v3-"),
        random_token("v4-"),
        random_token("v5-"),
        random_token("v6-"),
    );

    let steps = vec![
        step(&["set", "API_KEY", "--value-stdin", "--env", "production"]).stdin(&v1),
        step(&[
            "set",
            "API_KEY",
            "--value-stdin",
            "--env",
            "development",
            "--description",
            "payments",
        ])
        .stdin(&v2),
        step(&[
            "set",
            "DB_URL",
            "--value-stdin",
            "--env",
            "staging",
            "--rotate-every",
            "30d",
        ])
        .stdin(&v3),
        step(&["set", "API_KEY", "--value-stdin", "--env", "production"]).stdin(&v4),
        step(&["rollback", "API_KEY", "--env", "production", "--to", "1"]),
        step(&["set", "API_KEY", "--allow-host", "api.example.com"]),
        // A stale write is a conflict on both.
        step(&[
            "set",
            "API_KEY",
            "--value-stdin",
            "--env",
            "production",
            "--if-version",
            "1",
        ])
        .stdin(&v5),
        // Bad input is refused alike.
        step(&["set", "BAD NAME", "--value-stdin"]).stdin("x"),
        step(&["reveal", "NOPE"]),
        step(&["rm", "DB_URL"]),
        step(&["restore", "DB_URL"]),
        step(&["rm", "DB_URL"]),
        step(&["purge", "DB_URL"]),
        step(&["import", &dotenv, "--env", "development"]),
        step(&["env", "create", "qa"]),
        step(&["set", "API_KEY", "--value-stdin", "--env", "qa"]).stdin(&v6),
        step(&["env", "protect", "production"]),
        step(&["set", "API_KEY", "--value-stdin", "--env", "production"]).stdin(&v5),
        step(&["project", "create", "billing"]),
        step(&[
            "--project",
            "billing",
            "set",
            "STRIPE",
            "--value-stdin",
            "--env",
            "production",
        ])
        .stdin(&v3),
        step(&["member", "add", "bob", "--role", "developer"])
            .env("COFFER_NEW_PASSPHRASE", "bob pass phrase 42"),
        step(&["member", "grant", "bob", "viewer"]),
        step(&["settings", "set", "max-versions", "5"]),
        step(&["settings", "set", "rollback-window", "2d"]),
        step(&["member", "remove", "bob"]),
        step(&["--project", "billing", "rm", "STRIPE"]),
    ];
    let values: Vec<(&str, &str, &str)> = vec![
        ("default", "API_KEY", "production"),
        ("default", "API_KEY", "development"),
        ("default", "API_KEY", "qa"),
        ("default", "DB_URL", "staging"),
        ("default", "IMPORTED_ONE", "development"),
        ("default", "IMPORTED_TWO", "development"),
        ("billing", "STRIPE", "production"),
    ];

    let mut joiners = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let what = format!("step {i}: coffer {}", s.args.join(" "));
        let a = s.run(&local);
        if s.args
            .starts_with(&["member".to_string(), "add".to_string()])
        {
            // The one difference: on a team server a member makes their own keys on
            // their own machine, so they are invited instead (and end up alike).
            a.ok();
            let b = s.run(&team).refused(2);
            assert!(
                b.message().contains("coffer team invite bob"),
                "{}",
                b.describe()
            );
            joiners.push(joined(&team, "bob", "developer"));
        } else {
            let b = s.run(&team);
            assert_eq!(
                a.code(),
                b.code(),
                "{what}\nfile: {}\nteam: {}",
                a.describe(),
                b.describe()
            );
            // The team vault may add what the server did (`member remove` says the
            // removed member's login is gone); the rest is the same.
            let said: Vec<&str> = b
                .stdout
                .lines()
                .filter(|l| !l.starts_with("the team server"))
                .collect();
            let file_said: Vec<&str> = a.stdout.lines().collect();
            assert_eq!(
                untimed(&file_said.join("\n")),
                untimed(&said.join("\n")),
                "{what}"
            );
            assert_eq!(untimed(a.message()), untimed(b.message()), "{what}");
        }
        for home in [&team, &other] {
            let synced = sync(home);
            assert_eq!(synced.code(), Some(0), "{what}: {}", synced.describe());
        }
        let projects: &[&str] = if i >= 18 {
            &["default", "billing"]
        } else {
            &["default"]
        };
        let want = view(&local, projects, &values);
        for (who, home) in [("the team vault", &team), ("the other machine", &other)] {
            let got = view(home, projects, &values);
            let mut diff = Vec::new();
            differences("", &want, &got, &mut diff);
            assert!(
                diff.is_empty(),
                "{what}: {who} differs from the file:\n{}",
                diff.join("\n")
            );
        }
    }
    // Every trail still verifies, and the team's two machines agree with the server.
    for v in [&local, &team, &other] {
        v.run(&["audit", "verify"]).ok();
    }
    for v in [&team, &other] {
        v.run(&["team", "verify"]).ok();
    }
}
