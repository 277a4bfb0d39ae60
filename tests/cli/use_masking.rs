//! Masking through the real binary: whatever a child prints — in pieces with pauses,
//! on stderr, through a terminal, in base64 at any offset, a key a few lines at a
//! time — no byte of a value reaches the output; switching masking off needs `reveal`.

use super::support::{random_token, Vault};

const MASK: &str = "********";

/// A script printing `$var` in pieces (cut after each of `cuts`) with a pause after
/// each; no single quotes, so it can be nested in one.
fn paused_printf(var: &str, cuts: &[usize], to_stderr: bool) -> String {
    let redirect = if to_stderr { " >&2" } else { "" };
    let mut script = String::new();
    let mut from = 1;
    for &cut in cuts {
        script.push_str(&format!(
            "printf %s \"${var}\" | cut -c{from}-{cut} | tr -d \\\\n{redirect}; sleep 0.15; "
        ));
        from = cut + 1;
    }
    script.push_str(&format!(
        "printf %s \"${var}\" | cut -c{from}- | tr -d \\\\n{redirect}; echo{redirect}"
    ));
    script
}

#[test]
fn no_byte_of_a_value_follows_its_mask() {
    let vault = Vault::new();
    // The issue's leak: a write ending right after the value printed its tail again.
    for value in [
        format!("{}s", random_token("sk_live_")),
        random_token("aaaa"),
        "ab".repeat(8000),
    ] {
        vault.set("token", &value, &[]);
        let run = vault
            .run(&["run", "--", "sh", "-c", "printf %s \"$TOKEN\""])
            .ok();
        assert_eq!(
            run.stdout,
            MASK,
            "{}",
            &run.describe()[..200.min(run.describe().len())]
        );
    }
}

#[test]
fn values_written_in_pieces_with_pauses_on_stdout_and_stderr() {
    let vault = Vault::new();
    let value = random_token("whsec_");
    vault.set("hook", &value, &[]);
    for to_stderr in [false, true] {
        let script = paused_printf("HOOK", &[3, 11, 12], to_stderr);
        let run = vault.run(&["run", "--", "sh", "-c", &script]).ok();
        let out = if to_stderr { &run.stderr } else { &run.stdout };
        assert_eq!(out.trim_end(), MASK, "{}", run.describe());
        assert!(!run.stdout.contains(&value[3..]) && !run.stderr.contains(&value[3..]));
    }
}

#[test]
fn basic_auth_base64_at_every_offset_is_masked() {
    let vault = Vault::new();
    let value = random_token("pw_");
    vault.set("db-pass", &value, &[]);
    let script = r#"for u in '' u us usr user user1; do printf '%s:%s' "$u" "$DB_PASS" | base64 -w0; echo; done"#;
    let run = vault.run(&["run", "--", "sh", "-c", script]).ok();
    for (line, user) in run
        .stdout
        .lines()
        .zip(["", "u", "us", "usr", "user", "user1"])
    {
        assert!(line.contains(MASK), "user {user:?}: {line}");
        let plain = format!("{user}:{value}");
        // What is left visible decodes to at most the user name and a byte or two.
        let encoded = base64_std(&plain);
        assert_ne!(line, encoded);
        assert!(line.len() < encoded.len(), "user {user:?}: {line}");
    }
}

#[test]
fn overlapping_values_are_masked_as_their_union() {
    let vault = Vault::new();
    vault.set("first", "bcdefghijklmnop1", &[]);
    vault.set("second", "ghijklmnop1qrstuv2", &[]);
    let run = vault
        .run(&["run", "--", "sh", "-c", "echo abcdefghijklmnop1qrstuv2w"])
        .ok();
    assert_eq!(run.stdout, format!("a{MASK}w\n"));
}

#[test]
fn a_key_printed_a_few_lines_at_a_time_is_masked_line_by_line() {
    let vault = Vault::new();
    let body: Vec<String> = (0..4).map(|i| random_token(&format!("MII{i}"))).collect();
    let key = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        body.join("\n")
    );
    vault.set("tls-key", &key, &["--type", "multiline"]);
    let run = vault
        .run(&["run", "--", "sh", "-c", "printf %s \"$TLS_KEY\" | head -3"])
        .ok();
    assert_eq!(
        run.stdout,
        format!("-----BEGIN PRIVATE KEY-----\n{MASK}\n{MASK}\n"),
        "{}",
        run.describe()
    );
}

#[test]
fn through_a_terminal_pieces_with_pauses_are_masked() {
    let vault = Vault::new();
    let value = random_token("tty_");
    vault.set("k", &value, &[]);
    let inner = format!(
        "{} run -- sh -c '{}'",
        super::support::coffer_bin().display(),
        paused_printf("K", &[2, 9], false)
    );
    let run = vault.run_in_terminal(&inner);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    assert!(run.stdout.contains(MASK), "{}", run.describe());
    assert!(!run.stdout.contains(&value[2..]), "{}", run.describe());
    assert!(!run.stdout.contains(&value[..9]), "{}", run.describe());
}

#[test]
fn a_short_value_is_masked_and_warned_about_once() {
    let vault = Vault::new();
    vault.set("pin", "4711", &[]);
    let run = vault
        .run(&["run", "--", "sh", "-c", "echo $PIN; echo $PIN; echo $PIN"])
        .ok();
    assert_eq!(run.stdout, format!("{MASK}\n{MASK}\n{MASK}\n"));
    assert_eq!(
        run.stderr.matches("warning:").count(),
        1,
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains("PIN"), "the warning names the secret");
}

#[test]
fn switching_masking_off_needs_reveal_and_is_audited() {
    let vault = Vault::new();
    let value = random_token("nm_");
    vault.set("k", &value, &[]);
    let dev = vault.add_member("dora", "developer");
    let run = vault
        .cli()
        .acting_as(&dev)
        .run(&["run", "--no-masking", "--", "sh", "-c", "echo $K"])
        .refused(4);
    assert!(!run.stdout.contains(&value) && !run.stderr.contains(&value));
    assert!(run.message().contains("reveal"), "{}", run.describe());
    // With masking the developer may run.
    vault
        .cli()
        .acting_as(&dev)
        .run(&["run", "--", "sh", "-c", "echo $K"])
        .ok();
    // The owner may switch it off; the value is printed and the use says so.
    let run = vault
        .run(&["run", "--no-masking", "--", "sh", "-c", "echo $K"])
        .ok();
    assert_eq!(run.stdout.trim(), value);
    let trail = vault.run(&["audit", "--json"]).ok().json();
    let events = trail.as_array().expect("events");
    let denied = events
        .iter()
        .find(|e| e["action"] == "secret.use.unmasked")
        .expect("the refused attempt is audited");
    assert_eq!(denied["actor"], "dora");
    let uses: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["action"] == "secret.use" && e["outcome"] == "ok")
        .collect();
    assert!(uses.iter().any(|e| e["detail"]["masking"] == "off"));
    assert!(uses.iter().any(|e| e["detail"].get("masking").is_none()));
}

fn base64_std(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
        for _ in c.len()..3 {
            out.push('=');
        }
    }
    out
}
