//! The trail as a SIEM reads it: `coffer audit --jsonl` writes one JSON object per line
//! with Elastic Common Schema names, which `jq` takes as is, never a value; `--since`
//! filters it and `--follow` keeps printing new events for a log forwarder.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use super::support::{jq, random_token, Vault};

#[test]
fn jsonl_lines_carry_ecs_fields_and_jq_reads_them_as_they_are() {
    let vault = Vault::new();
    let value = random_token("sk_live_");
    vault.set("API_KEY", &value, &[]);
    vault.reveal("API_KEY", &["--reason", "incident 42"]);
    let bob = vault.add_member("bob", "viewer");
    vault
        .cli()
        .acting_as(&bob)
        .run(&["reveal", "API_KEY"])
        .refused(4);
    let out = vault.run(&["audit", "--jsonl"]).ok().stdout;
    assert!(!out.contains(&value), "a value in the export");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    assert!(lines.len() >= 4, "{out}");
    for (i, e) in lines.iter().enumerate() {
        assert_eq!(e["event"]["sequence"], i as i64 + 1);
        assert!(e["@timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(e["coffer"]["hash"].as_str().unwrap().len(), 64);
    }
    let denied = lines
        .iter()
        .find(|e| e["user"]["name"] == "bob")
        .expect("bob's refused reveal");
    assert_eq!(denied["event"]["action"], "secret.reveal");
    assert_eq!(denied["event"]["outcome"], "failure");
    assert_eq!(denied["coffer"]["outcome"], "denied");
    assert!(
        denied["coffer"]["signature"].is_string(),
        "a one-event commit is signed"
    );

    // jq, as a pipeline would use it.
    let found = jq(
        r#"select(.event.action == "secret.reveal" and .event.outcome == "success") | .user.name + " " + .coffer.detail.reason"#,
        &out,
    );
    assert_eq!(found.trim(), "alice incident 42");

    // --since takes the same forms as the table does.
    let later = vault
        .run(&["audit", "--jsonl", "--since", "2999-01-01"])
        .ok();
    assert_eq!(later.stdout, "");
}

#[test]
fn follow_prints_new_events_as_they_come() {
    let vault = Vault::new();
    vault.set("API_KEY", "value-1", &[]);
    let mut child = vault.cli().spawn_piped(&["audit", "--jsonl", "--follow"]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["event"]["sequence"], 1);
    let start = Instant::now();
    vault.set("LATER", "later-value", &[]);
    let mut saw = false;
    for line in lines.by_ref() {
        let e: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if e["coffer"]["secret"] == "LATER" {
            saw = true;
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20));
    }
    assert!(saw, "the new event reached the follower");
    let _ = child.kill();
    let _ = child.wait();
}
