//! Secrets as files, end to end: `coffer run --file` writes each value to a private
//! file whose path the variable holds, and the file is gone when the child is, however
//! it ended — a normal exit, a SIGKILL of the child, a signal to coffer, or (at the
//! next run) a SIGKILL of coffer itself. Binary values keep every byte.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use sha2::{Digest, Sha256};

use super::support::{contains_bytes, random_token, Invocation, Vault};

/// A vault whose runs get their own `XDG_RUNTIME_DIR` (0700, as a login gives).
fn vault_with_runtime_dir() -> (Vault, PathBuf) {
    let vault = Vault::new();
    let runtime = vault.dir().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    (vault, runtime)
}

fn cli<'v>(vault: &'v Vault, runtime: &Path) -> Invocation<'v> {
    vault
        .cli()
        .env("XDG_RUNTIME_DIR", runtime.to_str().unwrap())
}

/// The run directories under a root (`…/coffer/run-*`).
fn run_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("run-"))
        })
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Bytes no text secret could hold: NUL, invalid UTF-8, a newline, high bytes.
fn binary_value() -> Vec<u8> {
    let mut bytes = vec![0x00, 0xff, 0xfe, b'\n', 0xc3, 0x28, 0x80, 0x00];
    bytes.extend(random_token("key_").as_bytes());
    bytes.extend([0xf0, 0x28, 0x8c, 0xbc, 0x00]);
    bytes
}

/// Reads the first line the child prints through a spawned coffer.
fn first_line(child: &mut Child) -> (String, BufReader<std::process::ChildStdout>) {
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("a first line");
    (line.trim().to_string(), out)
}

fn kill(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{signal} {pid}");
}

#[test]
fn a_file_holds_the_value_privately_and_is_removed_when_the_child_exits() {
    let (vault, runtime) = vault_with_runtime_dir();
    let kube = format!(
        "apiVersion: v1\nclusters: []\ntoken: {}\n",
        random_token("k_")
    );
    let key = random_token("tls_");
    vault.set("kubeconfig", &kube, &["--type", "multiline"]);
    vault.set("TLS_KEY", &key, &[]);
    let script = r#"
        for f in "$KUBECONFIG" "$TLS_KEY"; do
            printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -d' ' -f1)"
        done
        printf 'dir %s\n' "$(stat -c %a "$(dirname "$KUBECONFIG")")"
        if env | grep -q -F -- "$(cat "$TLS_KEY")"; then echo in-env; else echo not-in-env; fi
        cat "$KUBECONFIG" "$TLS_KEY"
    "#;
    let run = cli(&vault, &runtime)
        .run(&[
            "run",
            "--file",
            "KUBECONFIG=kubeconfig",
            "--file",
            "TLS_KEY",
            "--",
            "sh",
            "-c",
            script,
        ])
        .ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    let root = runtime.join("coffer");
    for (line, (var, value)) in lines.iter().zip([("KUBECONFIG", &kube), ("TLS_KEY", &key)]) {
        let fields: Vec<&str> = line.split(' ').collect();
        let path = Path::new(fields[0]);
        assert_eq!(path.file_name().unwrap(), var, "{}", run.describe());
        assert_eq!(
            path.parent().unwrap().parent().unwrap(),
            root,
            "under $XDG_RUNTIME_DIR/coffer: {}",
            run.describe()
        );
        assert_eq!(fields[1], "400", "file mode: {}", run.describe());
        assert_eq!(fields[2], sha256_hex(value.as_bytes()), "content of {var}");
        assert!(!path.exists(), "{} is left after the run", path.display());
    }
    assert_eq!(lines[2], "dir 700", "{}", run.describe());
    assert_eq!(lines[3], "not-in-env", "a file secret is not also a value");
    assert!(run_dirs(&root).is_empty(), "{:?}", run_dirs(&root));
    assert_eq!(mode(&root), 0o700);
    // What the child printed from the files is masked like any value.
    for leaked in [&kube, &key] {
        assert!(!run.stdout.contains(leaked.trim()), "{}", run.describe());
    }
    assert!(run.stdout.contains("********"), "{}", run.describe());
}

#[test]
fn the_files_go_when_the_child_is_killed() {
    let (vault, runtime) = vault_with_runtime_dir();
    vault.set("token", &random_token("t_"), &[]);
    let run = cli(&vault, &runtime)
        .run(&[
            "run",
            "--file",
            "token",
            "--",
            "sh",
            "-c",
            r#"echo "$TOKEN"; kill -KILL $$"#,
        ])
        .exit(128 + 9);
    let path = PathBuf::from(run.stdout.trim());
    assert!(
        path.starts_with(runtime.join("coffer")),
        "{}",
        run.describe()
    );
    assert!(!path.exists(), "left after SIGKILL of the child");
    assert!(run_dirs(&runtime.join("coffer")).is_empty());
}

#[test]
fn the_files_go_when_coffer_gets_sigterm_sigint_or_sighup() {
    let (vault, runtime) = vault_with_runtime_dir();
    vault.set("token", &random_token("t_"), &[]);
    for (signal, number) in [("TERM", 15), ("INT", 2), ("HUP", 1)] {
        let mut coffer = cli(&vault, &runtime).spawn_piped(&[
            "run",
            "--file",
            "token",
            "--",
            "sh",
            "-c",
            r#"echo "$TOKEN"; exec sleep 30"#,
        ]);
        let (line, mut rest) = first_line(&mut coffer);
        let path = PathBuf::from(line);
        assert!(
            path.is_file(),
            "{signal}: the file exists while the child runs"
        );
        kill(signal, coffer.id());
        let mut tail = String::new();
        rest.read_to_string(&mut tail).unwrap();
        let status = coffer.wait().unwrap();
        assert_eq!(status.code(), Some(128 + number), "{signal}: {tail}");
        assert!(!path.exists(), "{signal}: left after coffer was stopped");
        assert!(path.parent().is_some_and(|d| !d.exists()), "{signal}");
    }
}

#[test]
fn a_killed_coffers_files_are_removed_by_the_next_run() {
    let (vault, runtime) = vault_with_runtime_dir();
    vault.set("token", &random_token("t_"), &[]);
    let mut coffer = cli(&vault, &runtime).spawn_piped(&[
        "run",
        "--file",
        "token",
        "--",
        "sh",
        "-c",
        r#"echo "$TOKEN $$"; exec sleep 30"#,
    ]);
    let (line, _rest) = first_line(&mut coffer);
    let (path, child_pid) = line.split_once(' ').unwrap();
    let path = PathBuf::from(path);
    kill("KILL", coffer.id());
    coffer.wait().unwrap();
    kill("KILL", child_pid.parse().unwrap());
    assert!(path.is_file(), "nothing can clean up after SIGKILL");
    // A live run's directory (this test's pid, its start time) is not touched.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let start = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .to_string();
    let live = runtime
        .join("coffer")
        .join(format!("run-{}-{start}-1", std::process::id()));
    std::fs::create_dir(&live).unwrap();
    cli(&vault, &runtime).run(&["run", "--", "true"]).ok();
    assert!(!path.exists(), "the stale file is removed at the next run");
    assert!(!path.parent().unwrap().exists(), "and its directory");
    assert!(live.is_dir(), "a live owner's directory is kept");
    std::fs::remove_dir(&live).unwrap();
}

#[test]
fn without_xdg_runtime_dir_the_files_go_to_a_private_temporary_directory() {
    let vault = Vault::new();
    vault.set("token", &random_token("t_"), &[]);
    let tmp = vault.dir().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let run = vault
        .cli()
        .env("TMPDIR", tmp.to_str().unwrap())
        .run(&[
            "run",
            "--file",
            "token",
            "--",
            "sh",
            "-c",
            r#"echo "$TOKEN""#,
        ])
        .ok();
    let path = PathBuf::from(run.stdout.trim());
    let root = path.parent().unwrap().parent().unwrap();
    assert_eq!(root.parent().unwrap(), tmp, "{}", run.describe());
    let root_name = root.file_name().unwrap().to_str().unwrap();
    assert!(root_name.starts_with("coffer-"), "{root_name}");
    assert_eq!(mode(root), 0o700);
    assert!(!path.exists());
    assert!(
        run.stderr.is_empty(),
        "unset is not worth a note: {}",
        run.describe()
    );
}

#[test]
fn binary_values_round_trip_as_a_file_as_base64_and_through_reveal() {
    let (vault, runtime) = vault_with_runtime_dir();
    let bytes = binary_value();
    vault
        .cli()
        .stdin(bytes.clone())
        .run(&["set", "tls-key", "--type", "binary", "--value-stdin"])
        .ok();
    // As a file: exactly the bytes.
    let run = cli(&vault, &runtime)
        .run(&[
            "run",
            "--file",
            "tls-key",
            "--",
            "sh",
            "-c",
            r#"sha256sum < "$TLS_KEY" | cut -d' ' -f1; wc -c < "$TLS_KEY"; cat "$TLS_KEY""#,
        ])
        .ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], sha256_hex(&bytes), "{}", run.describe());
    assert_eq!(lines[1].trim(), bytes.len().to_string());
    assert_eq!(
        lines[2],
        "********",
        "the raw bytes are masked: {}",
        run.describe()
    );
    // As a variable: its base64, which decodes to the bytes.
    let encoded = base64(&bytes);
    let check = format!(
        r#"[ "$TLS_KEY" = '{encoded}' ] && echo same; printf %s "$TLS_KEY" | base64 -d | sha256sum | cut -d' ' -f1; echo "$TLS_KEY""#
    );
    let run = vault
        .run(&["run", "--only", "tls-key", "--", "sh", "-c", &check])
        .ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        ["same", &sha256_hex(&bytes), "********"],
        "{}",
        run.describe()
    );
    // Revealed into a pipe: the bytes, no newline; with --json: base64, said so.
    let mut reveal = vault.cli().spawn_piped(&["reveal", "tls-key"]);
    let mut out = Vec::new();
    reveal.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    assert!(reveal.wait().unwrap().success());
    assert_eq!(out, bytes);
    let doc = vault.run(&["--json", "reveal", "tls-key"]).ok().json();
    assert_eq!(doc["value"], encoded.as_str());
    assert_eq!(doc["encoding"], "base64");
    // On a terminal: base64 and a note, never raw bytes on the screen.
    let bin = super::support::coffer_bin();
    let run = vault.run_in_terminal(&format!("{} reveal tls-key", bin.display()));
    assert!(run.stdout.contains(&encoded), "{}", run.describe());
    assert!(run.stdout.contains("binary"), "{}", run.describe());
    // A binary secret keeps its type.
    let run =
        vault
            .cli()
            .stdin("text now")
            .run(&["set", "tls-key", "--type", "string", "--value-stdin"]);
    assert!(
        run.message().contains("keep their type"),
        "{}",
        run.refused(2).describe()
    );
}

#[test]
fn a_binary_value_is_at_most_64_kib() {
    let vault = Vault::new();
    vault
        .cli()
        .stdin(vec![0xa5u8; 64 * 1024])
        .run(&["set", "big", "--type", "binary", "--value-stdin"])
        .ok();
    let run = vault
        .cli()
        .stdin(vec![0xa5u8; 64 * 1024 + 1])
        .run(&["set", "bigger", "--type", "binary", "--value-stdin"])
        .refused(2);
    assert!(run.message().contains("64 KiB"), "{}", run.describe());
    let mut reveal = vault.cli().spawn_piped(&["reveal", "big"]);
    let mut out = Vec::new();
    reveal.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    assert!(reveal.wait().unwrap().success());
    assert_eq!(out, vec![0xa5u8; 64 * 1024]);
}

#[test]
fn a_file_secret_is_audited_as_a_use_and_never_shown_in_errors_logs_or_the_trail() {
    let vault = Vault::with_env(&[("COFFER_LOG", "trace")]);
    let runtime = vault.dir().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let value = random_token("sk_file_");
    let bytes = binary_value();
    vault.set("api-key", &value, &[]);
    vault
        .cli()
        .stdin(bytes.clone())
        .run(&["set", "der", "--type", "binary", "--value-stdin"])
        .ok();
    let uses = |vault: &Vault| {
        vault
            .run(&["--json", "audit", "--action", "secret.use"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .clone()
    };
    let before = uses(&vault).len();
    let run = cli(&vault, &runtime)
        .run(&[
            "run",
            "--file",
            "KEY=api-key",
            "--file",
            "der",
            "--",
            "sh",
            "-c",
            r#"cat "$KEY"; cat "$KEY" >&2; cat "$DER""#,
        ])
        .ok();
    let events = uses(&vault);
    let new: Vec<_> = events[before..].to_vec();
    let mut secrets: Vec<&str> = new.iter().map(|e| e["secret"].as_str().unwrap()).collect();
    secrets.sort();
    assert_eq!(secrets, ["api-key", "der"], "{new:?}");
    for e in &new {
        assert_eq!(e["detail"]["via"], "run");
        assert_eq!(e["detail"]["program"], "sh");
    }
    // Refusals name variables and secrets, never values.
    let refused = cli(&vault, &runtime)
        .run(&[
            "run",
            "--only",
            "api-key",
            "--file",
            "API_KEY=der",
            "--",
            "true",
        ])
        .refused(2);
    assert!(
        refused.message().contains("API_KEY"),
        "{}",
        refused.describe()
    );
    cli(&vault, &runtime)
        .run(&["run", "--file", "1BAD=api-key", "--", "true"])
        .refused(2);
    cli(&vault, &runtime)
        .run(&["run", "--file", "missing", "--", "true"])
        .refused(3);
    let mut everything = Vec::new();
    for r in vault.transcript() {
        everything.extend(r.stdout.as_bytes());
        everything.extend(r.stderr.as_bytes());
    }
    let trail = vault.run(&["--json", "audit"]).ok().stdout;
    everything.extend(trail.as_bytes());
    assert!(
        !contains_bytes(&everything, value.as_bytes()),
        "{}",
        run.describe()
    );
    assert!(!contains_bytes(&everything, base64(&bytes).as_bytes()));
    let token = &bytes[8..bytes.len() - 5];
    assert!(!contains_bytes(&everything, token), "{}", run.describe());
    assert!(run.stdout.contains("********") && run.stderr.contains("********"));
    assert!(run_dirs(&runtime.join("coffer")).is_empty());
}
