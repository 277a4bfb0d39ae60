//! Use without reveal, end to end: `coffer run` injects and masks, passes stdin, exit
//! codes and signals through; `ref` handles resolve only for their member and time;
//! `unlock --for` spares the passphrase until `lock`.

use std::io::{BufRead, BufReader, Read};
use std::process::Command;
use std::time::Duration;

use super::support::{contains_bytes, random_token, Vault};

/// The forms of a value masking must catch, as the child prints them.
const FORMS_SCRIPT: &str = r#"
v="$PAYMENTS_API_KEY"
printf 'raw=%s\n' "$v"
printf 'b64=%s\n' "$(printf %s "$v" | base64 -w0)"
printf 'hex=%s\n' "$(printf %s "$v" | od -An -tx1 | tr -d ' \n')"
printf 'json={"k":"%s"}\n' "$v"
printf 'err=%s\n' "$v" >&2
"#;

#[test]
fn run_injects_environment_safe_names_and_masks_every_form() {
    let vault = Vault::new();
    let value = random_token("sk_live_");
    vault.set("payments-api-key", &value, &[]);
    let run = vault.run(&["run", "--", "sh", "-c", FORMS_SCRIPT]).ok();
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("raw=********"), "{}", run.describe());
    assert!(run.stderr.contains("err=********"), "{}", run.describe());
    for needle in [value.clone(), base64(&value), hex(&value)] {
        assert!(!all.contains(&needle), "a form leaked: {}", run.describe());
    }
    // The child really had the value: compare inside the child, print only a verdict.
    let check = format!("[ \"$PAYMENTS_API_KEY\" = '{value}' ] && echo same");
    let run = vault.run(&["run", "--", "sh", "-c", &check]).ok();
    assert_eq!(run.stdout.trim(), "same", "{}", run.describe());
}

#[test]
fn a_value_split_across_writes_is_still_masked() {
    let vault = Vault::new();
    let value = random_token("tok_");
    vault.set("split", &value, &[]);
    let script =
        r#"printf %s "$SPLIT" | head -c 9; sleep 0.3; printf %s "$SPLIT" | tail -c +10; echo"#;
    let run = vault.run(&["run", "--", "sh", "-c", script]).ok();
    assert!(!run.stdout.contains(&value[9..]), "{}", run.describe());
    assert!(!run.stdout.contains(&value[..9]), "{}", run.describe());
    assert_eq!(run.stdout.trim(), "********", "{}", run.describe());
}

#[test]
fn exit_codes_stdin_and_the_passphrase_are_handled_like_a_shell() {
    let vault = Vault::new();
    vault.set("k", &random_token("v_"), &[]);
    vault.run(&["run", "--", "sh", "-c", "exit 42"]).exit(42);
    vault
        .run(&["run", "--", "sh", "-c", "kill -TERM $$"])
        .exit(128 + 15);
    let run = vault
        .cli()
        .stdin("piped through\n")
        .run(&["run", "--", "cat"])
        .ok();
    assert_eq!(run.stdout, "piped through\n");
    let run = vault
        .run(&[
            "run",
            "--",
            "sh",
            "-c",
            "echo \"[${COFFER_PASSPHRASE:-none}]\"",
        ])
        .ok();
    assert_eq!(
        run.stdout.trim(),
        "[none]",
        "the child must not get the passphrase"
    );
    let run = vault.run(&["run", "--", "no-such-program-here"]).exit(127);
    assert!(run.stderr.contains("cannot run"), "{}", run.describe());
}

#[test]
fn only_limits_what_is_injected_and_a_missing_name_is_not_found() {
    let vault = Vault::new();
    vault.set("a-key", &random_token("a_"), &[]);
    vault.set("b-key", &random_token("b_"), &[]);
    let run = vault
        .run(&[
            "run",
            "--only",
            "a-key",
            "--",
            "sh",
            "-c",
            "echo ${A_KEY:+a} ${B_KEY:+b}",
        ])
        .ok();
    assert_eq!(run.stdout.trim(), "a");
    vault
        .run(&["run", "--only", "nope", "--", "true"])
        .refused(3);
}

/// Without `--only`, `run` injects every value usable now in its environment: not a
/// deleted secret, not an expired value, not one set only in another environment; and
/// two names that would become one variable are refused, naming both.
#[test]
fn run_injects_every_usable_value_and_refuses_two_names_for_one_variable() {
    let vault = Vault::new();
    let set_at = std::time::Instant::now();
    vault.set("live-key", &random_token("l_"), &[]);
    vault.set("gone-key", &random_token("g_"), &[]);
    vault.set("brief-key", &random_token("b_"), &["--expires-in", "1s"]);
    vault.set("prod-key", &random_token("p_"), &["--env", "production"]);
    vault.run(&["rm", "gone-key"]).ok();
    std::thread::sleep(Duration::from_secs(2).saturating_sub(set_at.elapsed()));
    let script = "env | grep -oE '^(LIVE|GONE|BRIEF|PROD)_KEY=' | sort";
    let run = vault.run(&["run", "--", "sh", "-c", script]).ok();
    assert_eq!(run.stdout.trim(), "LIVE_KEY=", "{}", run.describe());
    let run = vault
        .run(&["run", "--env", "production", "--", "sh", "-c", script])
        .ok();
    assert_eq!(run.stdout.trim(), "PROD_KEY=", "{}", run.describe());

    vault.set("LIVE-KEY", &random_token("u_"), &[]);
    let run = vault.run(&["run", "--", "true"]).refused(2);
    assert!(
        run.message().contains("LIVE-KEY and live-key"),
        "{}",
        run.describe()
    );
}

#[test]
fn more_values_than_a_program_can_start_with_are_refused_before_any_use_is_audited() {
    let vault = Vault::new();
    // 40 values of 60 KiB: 2.4 MB, over the 2 MiB Linux gives one execve by default.
    let file = vault.dir().join("big.env");
    let body: String = (0..40)
        .map(|i| format!("BIG_{i:02}={}\n", "x".repeat(60 * 1024)))
        .collect();
    std::fs::write(&file, body).unwrap();
    vault.run(&["import", file.to_str().unwrap()]).ok();
    let uses = |vault: &Vault| {
        vault
            .run(&["--json", "audit", "--action", "use"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len()
    };
    let before = uses(&vault);
    let run = vault.run(&["run", "--", "true"]);
    assert_eq!(run.code(), Some(2), "{}", run.describe());
    assert!(run.stderr.contains("ARG_MAX"), "{}", run.describe());
    assert!(run.stderr.contains("--only"), "{}", run.describe());
    assert!(!run.stderr.contains("xxxxxxxx"), "no value in the error");
    assert_eq!(
        uses(&vault),
        before,
        "nothing was used, so nothing is audited"
    );
    // A few of them start fine, and those uses are audited.
    vault
        .run(&["run", "--only", "BIG_01", "--only", "BIG_02", "--", "true"])
        .ok();
    assert_eq!(uses(&vault), before + 2);
}

#[test]
fn signals_reach_the_child() {
    let vault = Vault::new();
    vault.set("k", &random_token("v_"), &[]);
    let script = "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done";
    let mut child = vault.cli().spawn_piped(&["run", "--", "sh", "-c", script]);
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("ready line");
    assert_eq!(line.trim(), "ready");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut rest = String::new();
    out.read_to_string(&mut rest).expect("rest of output");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(3), "output: {rest}");
    assert!(rest.contains("got-term"), "{rest}");
}

#[test]
fn a_template_maps_variables_to_references_and_from_env_resolves_it_locally() {
    let vault = Vault::new();
    let value = random_token("sk_live_");
    vault.set("payments-api-key", &value, &[]);
    let template = vault.dir().join("run.env");
    std::fs::write(
        &template,
        "# comment\nSTRIPE_KEY={{ secrets.payments-api-key }}\nURL=\"https://x/?k={{ secrets.payments-api-key }}\"\nPLAIN=visible\n",
    )
    .unwrap();
    let t = template.to_str().unwrap();
    let check = format!(
        "[ \"$STRIPE_KEY\" = '{value}' ] && [ \"$URL\" = 'https://x/?k={value}' ] && [ -z \"$PAYMENTS_API_KEY\" ] && echo same $PLAIN"
    );
    let run = vault
        .run(&["run", "--env-file", t, "--", "sh", "-c", &check])
        .ok();
    assert_eq!(run.stdout.trim(), "same visible", "{}", run.describe());
    // Local mode: no vault at all, the value comes from the environment.
    let local = random_token("local_");
    let check = format!("[ \"$STRIPE_KEY\" = '{local}' ] && echo same; echo \"$STRIPE_KEY\"");
    let run = vault
        .cli()
        .env("COFFER_VAULT", "/nonexistent/vault.db")
        .env("PAYMENTS_API_KEY", &local)
        .run(&[
            "run",
            "--from-env",
            "--env-file",
            t,
            "--",
            "sh",
            "-c",
            &check,
        ])
        .ok();
    assert!(run.stdout.starts_with("same\n"), "{}", run.describe());
    assert!(!run.stdout.contains(&local), "local values are masked too");
    let run = vault
        .cli()
        .env("COFFER_VAULT", "/nonexistent/vault.db")
        .run(&["run", "--from-env", "--env-file", t, "--", "true"])
        .refused(3);
    assert!(
        run.message().contains("PAYMENTS_API_KEY"),
        "{}",
        run.describe()
    );
    std::fs::write(&template, "OK=1\nBAD={{ secrets.has space }}\n").unwrap();
    let run = vault
        .run(&["run", "--env-file", t, "--", "true"])
        .refused(2);
    assert!(run.message().contains("run.env:2:"), "{}", run.describe());
}

#[test]
fn a_developer_runs_but_cannot_reveal_and_an_auditor_can_do_neither() {
    let vault = Vault::new();
    let value = random_token("sk_live_");
    vault.set("api", &value, &[]);
    let dev = vault.add_member("dora", "developer");
    let auditor = vault.add_member("audrey", "auditor");
    vault
        .cli()
        .acting_as(&dev)
        .run(&["run", "--", "sh", "-c", "test -n \"$API\""])
        .ok();
    vault
        .cli()
        .acting_as(&dev)
        .run(&["reveal", "api"])
        .refused(4);
    vault
        .cli()
        .acting_as(&auditor)
        .run(&["run", "--", "true"])
        .refused(4);
    vault
        .cli()
        .acting_as(&auditor)
        .run(&["reveal", "api"])
        .refused(4);
    let run = vault
        .run(&["audit", "--json", "--action", "secret.use"])
        .ok();
    let events = run.json();
    let used = &events.as_array().unwrap()[0];
    assert_eq!(used["actor"], "dora");
    assert_eq!(used["capability"], "use");
    assert_eq!(used["detail"]["program"], "sh", "with the program's name");
    assert!(!run.stdout.contains("test -n"), "never its arguments");
    assert!(!run.stdout.contains(&value));
}

#[test]
fn handles_resolve_for_their_member_until_they_expire() {
    let vault = Vault::new();
    let value = random_token("sk_live_");
    vault.set("api", &value, &[]);
    let handle = vault
        .run(&["ref", "api", "--ttl", "2s"])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert!(
        handle.starts_with("$secret:") && !handle.contains(&value),
        "{handle}"
    );
    let template = vault.dir().join("h.env");
    std::fs::write(&template, format!("TOKEN={handle}\n")).unwrap();
    let t = template.to_str().unwrap();
    let check = format!("[ \"$TOKEN\" = '{value}' ] && echo same");
    let run = vault
        .run(&["run", "--env-file", t, "--", "sh", "-c", &check])
        .ok();
    assert_eq!(run.stdout.trim(), "same");
    vault.run(&["reveal", &handle]).exit(2);
    let dev = vault.add_member("dora", "developer");
    vault
        .cli()
        .acting_as(&dev)
        .run(&["run", "--env-file", t, "--", "true"])
        .refused(3);
    std::thread::sleep(Duration::from_millis(2200));
    vault
        .run(&["run", "--env-file", t, "--", "true"])
        .refused(3);
    vault.run(&["ref", "api", "--ttl", "0s"]).refused(2);
    vault.run(&["ref", "missing"]).refused(3);
}

/// `ref --once` is response wrapping: the first run that resolves the handle
/// consumes it (with its use audit, in one transaction); a second finds nothing.
#[test]
fn a_once_handle_resolves_once_and_a_plain_one_repeatedly() {
    let vault = Vault::new();
    let value = random_token("sk_live_");
    vault.set("api", &value, &[]);
    let mint = |extra: &[&str]| {
        let mut args = vec!["ref", "api"];
        args.extend_from_slice(extra);
        vault.run(&args).ok().stdout.trim().to_string()
    };
    let check = format!("[ \"$TOKEN\" = '{value}' ] && echo same");
    let run_with = |handle: &str, file: &str| {
        let template = vault.dir().join(file);
        std::fs::write(&template, format!("TOKEN={handle}\n")).unwrap();
        let t = template.to_str().unwrap().to_string();
        vault
            .cli()
            .run(&["run", "--env-file", &t, "--", "sh", "-c", &check])
    };
    let once = mint(&["--once"]);
    assert!(
        once.starts_with("$secret:") && !once.contains(&value),
        "{once}"
    );
    assert_eq!(run_with(&once, "once.env").ok().stdout.trim(), "same");
    run_with(&once, "once.env").refused(3);
    let plain = mint(&[]);
    for _ in 0..2 {
        assert_eq!(run_with(&plain, "plain.env").ok().stdout.trim(), "same");
    }
    let minted = vault
        .run(&["audit", "--action", "secret.ref", "--json"])
        .ok()
        .json();
    let once_flags: Vec<bool> = minted
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"]["once"].as_bool().unwrap_or(false))
        .collect();
    assert_eq!(once_flags.iter().filter(|o| **o).count(), 1, "{minted}");
    let uses = vault
        .run(&["audit", "--action", "secret.use", "--json"])
        .ok()
        .json();
    assert_eq!(
        uses.as_array().unwrap().len(),
        3,
        "one use per run that got it"
    );
}

#[test]
fn unlock_for_spares_the_passphrase_until_lock() {
    let vault = Vault::new();
    let value = random_token("v_");
    vault.set("k", &value, &[]);
    let runtime = vault.dir().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    let rt = runtime.to_str().unwrap();
    let run = vault
        .cli()
        .env("XDG_RUNTIME_DIR", rt)
        .run(&["unlock", "--for", "2m"])
        .ok();
    assert!(run.stdout.contains("unlocked"), "{}", run.describe());
    // No passphrase at all: the agent answers.
    let run = vault
        .cli()
        .env("XDG_RUNTIME_DIR", rt)
        .passphrase("")
        .run(&["run", "--", "sh", "-c", "test -n \"$K\" && echo injected"])
        .ok();
    assert_eq!(run.stdout.trim(), "injected");
    // The socket is private.
    let socket = std::fs::read_dir(runtime.join("coffer"))
        .unwrap()
        .flatten()
        .next()
        .expect("agent socket")
        .path();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(runtime.join("coffer"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    assert!(!contains_bytes(
        &std::fs::read(&vault.path).unwrap(),
        value.as_bytes()
    ));
    vault.cli().env("XDG_RUNTIME_DIR", rt).run(&["lock"]).ok();
    assert!(!socket.exists(), "lock removes the socket");
    vault
        .cli()
        .env("XDG_RUNTIME_DIR", rt)
        .passphrase("wrong pass phrase 0")
        .run(&["run", "--", "true"])
        .refused(6);
    let run = vault.cli().env("XDG_RUNTIME_DIR", rt).run(&["lock"]).ok();
    assert!(run.stdout.contains("no unlocked session"));
    vault
        .cli()
        .env("XDG_RUNTIME_DIR", rt)
        .run(&["unlock", "--for", "25h"])
        .refused(2);
}

fn base64(s: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", "printf %s \"$0\" | base64 -w0", s])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn on_a_terminal_the_child_gets_one_too_and_output_is_still_masked() {
    let vault = Vault::new();
    let value = random_token("tty_");
    vault.set("k", &value, &[]);
    let bin = super::support::coffer_bin();
    let inner = format!(
        "{} run -- sh -c '[ -t 1 ] && echo child-has-a-tty; echo \"$K\"; printf \"\\033[31mred\\033[0m\\n\"; exit 5'",
        bin.display()
    );
    let run = vault.run_in_terminal(&inner);
    assert_eq!(run.code(), Some(5), "{}", run.describe());
    assert!(run.stdout.contains("child-has-a-tty"), "{}", run.describe());
    assert!(
        run.stdout.contains("\u{1b}[31mred"),
        "colours survive: {}",
        run.describe()
    );
    assert!(!run.stdout.contains(&value), "{}", run.describe());
}
