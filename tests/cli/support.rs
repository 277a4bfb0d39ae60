//! Running the real `coffer` binary: one fresh vault per test in a temporary directory,
//! every invocation with a clean environment, its output, exit status and duration
//! captured, and a transcript of all of them kept for leak checks.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

pub const OWNER: &str = "alice";
pub const OWNER_PASSPHRASE: &str = "owner pass phrase 1";

/// A run that takes longer than this is stuck (a prompt, a lock): it is killed.
const TIMEOUT: Duration = Duration::from_secs(90);

/// The binary under test: `COFFER_BIN`, else `$CARGO_TARGET_DIR/debug/coffer`, else the
/// workspace's `target/debug/coffer`.
pub fn coffer_bin() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = if let Some(p) = std::env::var_os("COFFER_BIN").filter(|p| !p.is_empty()) {
        PathBuf::from(p)
    } else if let Some(t) = std::env::var_os("CARGO_TARGET_DIR").filter(|p| !p.is_empty()) {
        workspace.join(t).join("debug").join("coffer")
    } else {
        workspace.join("target").join("debug").join("coffer")
    };
    assert!(
        path.is_file(),
        "no coffer binary at {}: build it with cargo build --bins (or point COFFER_BIN at one)",
        path.display()
    );
    path
}

/// Random lowercase hex with a prefix, e.g. `sk_live_3f9a…`: a value no test prints.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// One finished invocation of the binary.
#[derive(Debug, Clone)]
pub struct Run {
    pub args: Vec<String>,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The invocation and its output, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "`coffer {}` exited with {} after {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.status,
            self.elapsed,
            clip(&self.stdout),
            clip(&self.stderr)
        )
    }

    /// Asserts success.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert!(
            self.status.success(),
            "expected success: {}",
            self.describe()
        );
        self
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn exit(self, code: i32) -> Self {
        assert_eq!(self.code(), Some(code), "{}", self.describe());
        self
    }

    /// Asserts a refusal as the contract has it: exit `code`, exactly one line on
    /// stderr, `error: <message>`, and nothing on stdout — or, with `--json`, the
    /// same message as `{"error":{"code","message"}}`.
    #[track_caller]
    pub fn refused(self, code: i32) -> Self {
        let run = self.exit(code);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert!(
            lines.len() == 1 && lines[0].starts_with("error: ") && lines[0].len() > 7,
            "expected exactly one `error: ...` line on stderr: {}",
            run.describe()
        );
        if run.args.iter().any(|a| a == "--json") {
            let doc = run.json();
            let name = match code {
                2 => "invalid",
                3 => "not_found",
                4 => "denied",
                5 => "conflict",
                6 => "auth",
                7 => "integrity",
                _ => "internal",
            };
            assert_eq!(doc["error"]["code"], name, "{}", run.describe());
            assert_eq!(doc["error"]["message"], run.message(), "{}", run.describe());
        } else {
            assert!(
                run.stdout.trim().is_empty(),
                "a refusal prints nothing on stdout: {}",
                run.describe()
            );
        }
        run
    }

    /// The single error message (without `error: `).
    pub fn message(&self) -> &str {
        self.stderr.trim().trim_start_matches("error: ")
    }

    #[track_caller]
    /// The event a failed `audit verify` names ("BROKEN at event N").
    pub fn broken_at(&self) -> Option<i64> {
        let at = self.stderr.find("BROKEN at event ")?;
        self.stderr[at + 16..]
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.describe()))
    }
}

fn clip(text: &str) -> String {
    const MAX: usize = 4000;
    if text.len() <= MAX {
        text.to_string()
    } else {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes in all)", &text[..end], text.len())
    }
}

/// Someone who can unlock the vault.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub passphrase: String,
}

/// A vault created by `coffer init --owner alice` in its own temporary directory.
pub struct Vault {
    dir: tempfile::TempDir,
    pub path: PathBuf,
    env: Vec<(String, String)>,
    transcript: Mutex<Vec<Run>>,
}

impl Vault {
    pub fn new() -> Vault {
        Vault::with_env(&[])
    }

    /// A vault whose every invocation also gets `env` (e.g. `COFFER_LOG=trace`).
    pub fn with_env(env: &[(&str, &str)]) -> Vault {
        Vault::made(env, &[])
    }

    /// A vault made with more `init` flags (e.g. a cheaper `--kdf-memory`, for a test
    /// that unlocks hundreds of times).
    pub fn with_init(flags: &[&str]) -> Vault {
        Vault::made(&[], flags)
    }

    fn made(env: &[(&str, &str)], flags: &[&str]) -> Vault {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir_all(dir.path().join("home")).expect("home directory");
        let vault = Vault {
            path: dir.path().join("vault.db"),
            dir,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            transcript: Mutex::new(Vec::new()),
        };
        let mut init = vec!["init", "--owner", OWNER];
        init.extend_from_slice(flags);
        vault.run(&init).ok();
        vault
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// An invocation as the owner; change it with the builder methods.
    pub fn cli(&self) -> Invocation<'_> {
        Invocation {
            vault: self,
            member: Some(OWNER.into()),
            passphrase: Some(OWNER_PASSPHRASE.into()),
            env: Vec::new(),
            stdin: None,
        }
    }

    /// Runs `args` as the owner with no input.
    pub fn run(&self, args: &[&str]) -> Run {
        self.cli().run(args)
    }

    /// Sets `name` to `value` through stdin as the owner; `extra` are more flags.
    pub fn set(&self, name: &str, value: &str, extra: &[&str]) -> Run {
        let mut args = vec!["set", name, "--value-stdin"];
        args.extend_from_slice(extra);
        self.cli().stdin(value).run(&args).ok()
    }

    /// The owner's reveal of `name` (`extra`: `--env`, `--version`), without newline.
    pub fn reveal(&self, name: &str, extra: &[&str]) -> String {
        let mut args = vec!["reveal", name, "-n"];
        args.extend_from_slice(extra);
        self.run(&args).ok().stdout
    }

    /// Adds a member with `role` in the default workspace; returns how to act as them.
    pub fn add_member(&self, name: &str, role: &str) -> Member {
        self.add_member_with(name, role, &format!("{name} pass phrase 42"))
    }

    pub fn add_member_with(&self, name: &str, role: &str, passphrase: &str) -> Member {
        let passphrase = passphrase.to_string();
        self.cli()
            .env("COFFER_NEW_PASSPHRASE", &passphrase)
            .run(&["member", "add", name, "--role", role])
            .ok();
        Member {
            name: name.into(),
            passphrase,
        }
    }

    /// Runs `command_line` (a shell line starting the binary) with a terminal as its
    /// stdout, through util-linux `script`, so the binary sees what a person would.
    pub fn run_in_terminal(&self, command_line: &str) -> Run {
        assert!(
            Command::new("script").arg("--version").output().is_ok(),
            "util-linux `script` is missing (Debian's bsdutils package)"
        );
        self.cli()
            .run_program("script", &["-qec", command_line, "/dev/null"])
    }

    /// Every invocation so far, in order.
    pub fn transcript(&self) -> Vec<Run> {
        self.transcript.lock().expect("transcript lock").clone()
    }

    /// A direct SQLite connection to the vault file (for inspection and tampering).
    pub fn db(&self) -> Connection {
        Connection::open(&self.path).expect("open the vault with rusqlite")
    }

    /// The state a refused command must not change: the rows of the tables that hold
    /// secrets, versions, members, grants and key slots (the unlock throttle's counters
    /// excepted), and the owner's `ls --json`.
    pub fn snapshot(&self) -> String {
        let db = self.db();
        let mut out = String::new();
        for (label, sql) in [
            ("secrets", "SELECT * FROM secrets ORDER BY id"),
            ("versions", "SELECT * FROM versions ORDER BY id"),
            (
                "members",
                "SELECT id, name, created_at FROM members ORDER BY id",
            ),
            ("grants", "SELECT * FROM grants ORDER BY rowid"),
            ("key_slots", "SELECT * FROM key_slots ORDER BY id"),
        ] {
            out.push_str(&format!("== {label}\n"));
            for row in rows(&db, sql) {
                out.push_str(&format!("{row:?}\n"));
            }
        }
        drop(db);
        out.push_str("== ls --json\n");
        out.push_str(&self.run(&["ls", "--json", "--deleted"]).ok().stdout);
        out
    }

    fn record(&self, run: &Run) {
        self.transcript
            .lock()
            .expect("transcript lock")
            .push(run.clone());
    }
}

/// All rows of a query, each as a list of SQLite values.
pub fn rows(db: &Connection, sql: &str) -> Vec<Vec<SqlValue>> {
    let mut stmt = db.prepare(sql).expect("prepare");
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, SqlValue>(i)).collect())
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows")
}

/// One invocation being prepared.
pub struct Invocation<'v> {
    vault: &'v Vault,
    member: Option<String>,
    passphrase: Option<String>,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
}

impl Invocation<'_> {
    pub fn acting_as(mut self, m: &Member) -> Self {
        self.member = Some(m.name.clone());
        self.passphrase = Some(m.passphrase.clone());
        self
    }

    pub fn member_name(mut self, name: &str) -> Self {
        self.member = Some(name.into());
        self
    }

    pub fn passphrase(mut self, p: &str) -> Self {
        self.passphrase = Some(p.into());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(data.into());
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        self.command_of(&coffer_bin(), args)
    }

    fn command_of(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.vault.dir().join("home"))
            .env("COFFER_VAULT", &self.vault.path);
        if let Some(m) = &self.member {
            cmd.env("COFFER_MEMBER", m);
        }
        if let Some(p) = &self.passphrase {
            cmd.env("COFFER_PASSPHRASE", p);
        }
        for (k, v) in self.vault.env.iter().chain(&self.env) {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs to completion (killed after a generous timeout) and records the run.
    pub fn run(self, args: &[&str]) -> Run {
        let cmd = self.command(args);
        self.run_command(cmd, args)
    }

    /// Runs another program (e.g. `script`, to give coffer a terminal) in the same
    /// environment as the binary would get.
    pub fn run_program(self, program: &str, args: &[&str]) -> Run {
        let cmd = self.command_of(Path::new(program), args);
        self.run_command(cmd, args)
    }

    fn run_command(self, mut cmd: Command, args: &[&str]) -> Run {
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let start = Instant::now();
        let mut child = cmd.spawn().expect("spawn coffer");
        let feeder = self.stdin.map(|data| {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            // The binary may stop reading early (a value over the limit): ignore EPIPE.
            std::thread::spawn(move || {
                let _ = pipe.write_all(&data);
            })
        });
        let out = drain(child.stdout.take().expect("stdout pipe"));
        let err = drain(child.stderr.take().expect("stderr pipe"));
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait for coffer") {
                break s;
            }
            if start.elapsed() > TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`coffer {}` ran over {TIMEOUT:?} and was killed",
                    args.join(" ")
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let elapsed = start.elapsed();
        if let Some(f) = feeder {
            let _ = f.join();
        }
        let run = Run {
            args: args.iter().map(|a| a.to_string()).collect(),
            status,
            stdout: String::from_utf8_lossy(&out.join().expect("stdout reader")).into_owned(),
            stderr: String::from_utf8_lossy(&err.join().expect("stderr reader")).into_owned(),
            elapsed,
        };
        self.vault.record(&run);
        run
    }

    /// Starts the binary with its output discarded, for tests that kill it.
    pub fn spawn(self, args: &[&str]) -> Child {
        let mut cmd = self.command(args);
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn coffer");
        if let Some(data) = self.stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            let _ = pipe.write_all(&data);
        }
        child
    }

    /// Starts the binary with stdout piped, for tests of how it treats its output.
    pub fn spawn_piped(self, args: &[&str]) -> Child {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().expect("spawn coffer")
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// `jq -r FILTER` over `input`, as a pipeline would run it; its output.
pub fn jq(filter: &str, input: &str) -> String {
    use std::io::Write as _;
    let mut jq = Command::new("jq")
        .args(["-r", filter])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("jq is installed (tests/setup-machine.sh)");
    jq.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = jq.wait_with_output().unwrap();
    assert!(out.status.success(), "jq {filter} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
