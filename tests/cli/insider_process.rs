//! What another program of the same user can get from a running Coffer, tried as an
//! insider would, as a plain user (root bypasses the /proc protections): a `coffer
//! run` child reads neither the passphrase from its parent's /proc entry nor a key
//! from the session agent; a script connecting to the agent gets nothing; Coffer's
//! processes write no core files. The agent still serves the `coffer` binary itself.

use std::os::unix::fs::chown;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::support::{coffer_bin, random_token, Vault};

const PASSPHRASE: &str = "insider test pass phrase";

/// Asks the agent's socket for a lease, and to reveal `k` for its member, the way a
/// script would; prints what came back.
const ASK_AGENT: &str = r#"
import glob, socket, sys
paths = glob.glob(sys.argv[1] + "/coffer/*.sock")
print("sockets:", len(paths))
reveal = b'{"member":"ines","workspace":"default","project":"default","op":"reveal","name":"k"}\n'
for path in paths:
    for request in (b"lease\n", reveal):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.sendall(request)
            print("reply:", repr(s.recv(4096)))
        except OSError as e:
            print("refused:", e)
"#;

struct PlainUser {
    ids: Option<(u32, u32)>,
    dir: tempfile::TempDir,
    /// A copy of the binary under test in the user's own directory, so the test does
    /// not depend on whether the checkout's path is open to other users.
    bin: std::path::PathBuf,
}

impl PlainUser {
    /// Ourselves when not root; else the `coffer-test` user of tests/setup-machine.sh.
    fn new() -> PlainUser {
        let dir = tempfile::tempdir().expect("temp dir");
        let ids = (rustix_uid() == 0).then(|| {
            let id = |flag: &str| -> u32 {
                let out = Command::new("id")
                    .args([flag, "coffer-test"])
                    .output()
                    .expect("run id");
                assert!(
                    out.status.success(),
                    "no user coffer-test: run tests/setup-machine.sh as root first"
                );
                String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .expect("a number")
            };
            let (uid, gid) = (id("-u"), id("-g"));
            chown(dir.path(), Some(uid), Some(gid)).expect("chown the test directory");
            (uid, gid)
        });
        std::fs::create_dir(dir.path().join("run")).expect("runtime dir");
        if let Some((uid, gid)) = ids {
            chown(dir.path().join("run"), Some(uid), Some(gid)).expect("chown");
        }
        std::fs::set_permissions(
            dir.path().join("run"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .expect("chmod");
        let bin = dir.path().join("coffer");
        std::fs::copy(coffer_bin(), &bin).expect("copy the coffer binary");
        std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod the binary");
        PlainUser { ids, dir, bin }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `program args` as the plain user with a vault in the test directory.
    fn run(&self, passphrase: Option<&str>, program: &Path, args: &[&str]) -> Output {
        let mut cmd = match self.ids {
            Some((uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.args([
                    format!("--reuid={uid}"),
                    format!("--regid={gid}"),
                    "--clear-groups".into(),
                    "--".into(),
                ])
                .arg(program);
                c
            }
            None => Command::new(program),
        };
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("XDG_RUNTIME_DIR", self.path().join("run"))
            .env("COFFER_VAULT", self.path().join("vault.db"))
            .env("COFFER_MEMBER", "ines")
            .stdin(Stdio::null());
        if let Some(p) = passphrase {
            cmd.env("COFFER_PASSPHRASE", p);
        }
        cmd.output().expect("run as the plain user")
    }

    fn coffer(&self, passphrase: Option<&str>, args: &[&str]) -> Output {
        self.run(passphrase, &self.bin, args)
    }

    fn coffer_ok(&self, passphrase: Option<&str>, args: &[&str], stdin: Option<&str>) -> String {
        let out = match stdin {
            None => self.coffer(passphrase, args),
            Some(text) => {
                let script = format!("printf %s '{text}' | \"$0\" \"$@\"",);
                let mut all = vec!["-c", script.as_str(), self.bin.to_str().expect("utf-8")];
                all.extend_from_slice(args);
                self.run(passphrase, Path::new("/bin/sh"), &all)
            }
        };
        assert!(out.status.success(), "coffer {args:?}: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn rustix_uid() -> u32 {
    // `id -u` rather than a libc call: the tests need no unsafe code either.
    let out = Command::new("id").arg("-u").output().expect("run id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a number")
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn another_program_of_the_same_user_gets_no_key_and_no_passphrase() {
    let user = PlainUser::new();
    let value = random_token("insider_");
    user.coffer_ok(Some(PASSPHRASE), &["init", "--owner", "ines"], None);
    user.coffer_ok(
        Some(PASSPHRASE),
        &["set", "k", "--value-stdin"],
        Some(&value),
    );
    child_cannot_inspect_its_parent(&user);
    user.coffer_ok(Some(PASSPHRASE), &["unlock", "--for", "2m"], None);

    // The agent serves the coffer binary: no passphrase needed now.
    let listed = user.coffer_ok(None, &["ls"], None);
    assert!(listed.contains('k'), "{listed}");

    // A script of the same user asking the agent gets nothing.
    let runtime = user.path().join("run");
    let runtime = runtime.to_str().expect("utf-8");
    let out = user.run(
        None,
        Path::new("/usr/bin/python3"),
        &["-c", ASK_AGENT, runtime],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("sockets: 1"), "{}", describe(&out));
    assert!(
        said.contains("refused") || said.contains("reply: b''"),
        "{}",
        describe(&out)
    );
    assert!(
        !said.contains("key"),
        "the agent handed out a lease: {said}"
    );
    assert!(
        !said.contains(&value) && !said.contains("text"),
        "the agent revealed the value: {said}"
    );
    assert!(
        !said.contains("coffer-agent"),
        "the agent greeted a script: {said}"
    );

    // Nor does a child of `coffer run`, which is the same user too.
    let out = user.coffer(None, &["run", "--", "python3", "-c", ASK_AGENT, runtime]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(said.contains("sockets: 1"), "{}", describe(&out));
    assert!(
        !said.contains("key") && !said.contains("vault_id") && !said.contains("text"),
        "{said}"
    );

    // The same through the agent.
    child_cannot_inspect_its_parent(&user);

    user.coffer_ok(None, &["lock"], None);
    let out = user.coffer(None, &["ls"]);
    assert!(!out.status.success(), "locked again: {}", describe(&out));
}

/// A `coffer run` child can read neither its parent's environment (the passphrase)
/// nor its memory, and the parent writes no core file.
fn child_cannot_inspect_its_parent(user: &PlainUser) {
    let probe = "cat /proc/$PPID/environ >/dev/null 2>&1 && echo environ-readable; \
                 head -c 16 /proc/$PPID/mem >/dev/null 2>&1 && echo mem-readable; \
                 grep 'core file' /proc/$PPID/limits";
    let out = user.coffer(Some(PASSPHRASE), &["run", "--", "sh", "-c", probe]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(!said.contains("readable"), "{said}");
    assert!(!said.contains(PASSPHRASE), "{said}");
    let core = said
        .lines()
        .find(|l| l.contains("core file"))
        .expect("limits line");
    let limits: Vec<&str> = core.split_whitespace().skip(4).take(2).collect();
    assert_eq!(
        limits,
        ["0", "0"],
        "core dumps are off, hard limit too: {core}"
    );
}

#[test]
fn an_agent_ends_when_its_member_is_removed_and_at_its_deadline() {
    let vault = Vault::new();
    vault.set("k", &random_token("v_"), &[]);
    let bob = vault.add_member("bob", "developer");
    let runtime = vault.dir().join("runtime");
    std::fs::create_dir(&runtime).expect("runtime dir");
    let rt = runtime.to_str().expect("utf-8");
    let sockets = || {
        std::fs::read_dir(runtime.join("coffer"))
            .map(|d| d.flatten().count())
            .unwrap_or(0)
    };
    vault
        .cli()
        .acting_as(&bob)
        .env("XDG_RUNTIME_DIR", rt)
        .run(&["unlock", "--for", "2m"])
        .ok();
    assert_eq!(sockets(), 1);
    vault.run(&["member", "remove", "bob"]).ok();
    // Bob's next command finds the agent's key refused, and the agent goes.
    vault
        .cli()
        .acting_as(&bob)
        .passphrase("")
        .env("XDG_RUNTIME_DIR", rt)
        .run(&["ls"])
        .refused(6);
    assert_eq!(sockets(), 0, "the removed member's agent has ended");

    // At its deadline an agent ends the way `lock` ends it: its socket goes too.
    vault
        .cli()
        .env("XDG_RUNTIME_DIR", rt)
        .run(&["unlock", "--for", "1s"])
        .ok();
    assert_eq!(sockets(), 1);
    std::thread::sleep(std::time::Duration::from_millis(1800));
    assert_eq!(sockets(), 0, "the agent removed its socket at the deadline");
    vault
        .cli()
        .env("XDG_RUNTIME_DIR", rt)
        .passphrase("wrong pass phrase 0")
        .run(&["ls"])
        .refused(6);
}

/// An agent whose socket path was taken over by a newer one (its own socket file moved
/// away, as when the binary it runs was replaced and could not reach it) ends at its
/// deadline without locking the newer agent or removing its socket.
#[test]
fn an_agent_at_its_deadline_leaves_a_newer_agent_at_the_same_path_alone() {
    let vault = Vault::new();
    vault.set("k", &random_token("v_"), &[]);
    let runtime = vault.dir().join("runtime");
    std::fs::create_dir(&runtime).expect("runtime dir");
    let rt = runtime.to_str().expect("utf-8");
    let socket = || {
        std::fs::read_dir(runtime.join("coffer"))
            .expect("agent dir")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "sock"))
    };
    vault
        .cli()
        .env("XDG_RUNTIME_DIR", rt)
        .run(&["unlock", "--for", "1s"])
        .ok();
    let first = socket().expect("the first agent's socket");
    std::fs::rename(&first, runtime.join("moved-away")).unwrap();
    vault
        .cli()
        .env("XDG_RUNTIME_DIR", rt)
        .run(&["unlock", "--for", "2m"])
        .ok();
    std::thread::sleep(std::time::Duration::from_millis(1800));
    assert_eq!(
        socket(),
        Some(first),
        "the newer agent's socket is still there"
    );
    vault
        .cli()
        .env("XDG_RUNTIME_DIR", rt)
        .passphrase("")
        .run(&["ls"])
        .ok();
    vault.cli().env("XDG_RUNTIME_DIR", rt).run(&["lock"]).ok();
}
