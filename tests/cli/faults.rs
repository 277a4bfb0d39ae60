//! Faults: processes killed with SIGKILL in the middle of writing, and processes
//! writing at the same time. Afterwards the vault opens, its audit chain verifies, and
//! only whole changes exist.

use std::path::PathBuf;
use std::sync::Barrier;
use std::time::Duration;

use super::support::{random_token, Run, Vault};

const ROUNDS: usize = 15;

/// Kill delays spread over 0.15×–1.35× of an uninterrupted run, in a shuffled order.
fn kill_delay(round: usize, uninterrupted: Duration) -> Duration {
    let spread = ((round * 7) % ROUNDS) as f64 / (ROUNDS - 1) as f64;
    uninterrupted.mul_f64(0.15 + 1.2 * spread)
}

/// Starts the binary, kills it (SIGKILL) after `delay` unless it has finished.
/// Returns whether it completed on its own.
fn kill_after(mut child: std::process::Child, delay: Duration) -> bool {
    std::thread::sleep(delay);
    let finished = child.try_wait().expect("poll coffer").is_some();
    if !finished {
        child.kill().expect("SIGKILL coffer");
    }
    let status = child.wait().expect("reap coffer");
    finished && status.success()
}

fn integrity_check(vault: &Vault) {
    let db = vault.db();
    let result: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(result, "ok", "SQLite finds the file damaged");
}

#[test]
fn sigkill_during_large_imports_leaves_each_import_whole_or_absent() {
    const ENTRIES: usize = 2000;
    let vault = Vault::new();
    let write_file = |tag: &str| -> (PathBuf, Vec<String>) {
        let salt = random_token("");
        let values: Vec<String> = (0..ENTRIES)
            .map(|i| format!("imp-{tag}-{i:04}-{salt}"))
            .collect();
        let text: String = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{tag}_{i:04}={v}\n"))
            .collect();
        let path = vault.dir().join(format!("{tag}.env"));
        std::fs::write(&path, text).expect("write .env");
        (path, values)
    };
    let (warm, _) = write_file("W");
    let uninterrupted = vault.run(&["import", warm.to_str().unwrap()]).ok().elapsed;

    let mut rounds = Vec::new();
    for r in 0..ROUNDS {
        let tag = format!("R{r:02}");
        let (file, values) = write_file(&tag);
        let child = vault.cli().spawn(&["import", file.to_str().unwrap()]);
        let completed = kill_after(child, kill_delay(r, uninterrupted));
        rounds.push((tag, values, completed));
    }

    integrity_check(&vault);
    vault.run(&["ls", "--json"]).ok();
    vault.run(&["audit", "verify"]).ok();
    let db = vault.db();
    let count = |sql: &str, tag: &str| -> usize {
        db.query_row(sql, [format!("{tag}_")], |r| r.get::<_, i64>(0))
            .expect("count") as usize
    };
    let unsealed: i64 = db
        .query_row(
            "SELECT count(*) FROM versions WHERE ciphertext IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        unsealed, 0,
        "a fresh import left versions without ciphertext"
    );
    let mut whole = Vec::new();
    for (tag, values, completed) in &rounds {
        let secrets = count(
            "SELECT count(*) FROM secrets WHERE substr(name, 1, 4) = ?1",
            tag,
        );
        let versions = count(
            "SELECT count(*) FROM versions v JOIN secrets s ON s.id = v.secret_id \
             WHERE substr(s.name, 1, 4) = ?1 AND v.ciphertext IS NOT NULL",
            tag,
        );
        let events = count(
            "SELECT count(*) FROM audit_events \
             WHERE action = 'secret.import' AND substr(secret, 1, 4) = ?1",
            tag,
        );
        assert!(
            (secrets, versions, events) == (0, 0, 0)
                || (secrets, versions, events) == (ENTRIES, ENTRIES, ENTRIES),
            "import {tag} is partly there: {secrets} secrets, {versions} versions, \
             {events} audit events of {ENTRIES}"
        );
        if *completed {
            assert_eq!(secrets, ENTRIES, "import {tag} exited 0 but is not there");
        }
        if secrets == ENTRIES {
            whole.push((tag, values));
        }
    }
    drop(db);
    eprintln!(
        "{} of {ROUNDS} killed imports had committed (uninterrupted run: {uninterrupted:?})",
        whole.len()
    );
    // The last entry written is where a torn write would show; the first and one
    // in the middle check the rest.
    for (k, (tag, values)) in whole.iter().enumerate() {
        for i in [0, (k * 131 + 7) % ENTRIES, ENTRIES - 1] {
            let name = format!("{tag}_{i:04}");
            assert_eq!(vault.reveal(&name, &[]), values[i], "{name}");
        }
    }
}

#[test]
fn sigkill_during_a_loop_of_rotations_leaves_only_complete_versions() {
    let vault = Vault::new();
    // Keep every version's ciphertext so each can be revealed afterwards.
    vault.run(&["settings", "set", "max-versions", "100"]).ok();
    let mut written = vec![random_token("rot-00-")];
    let uninterrupted = vault.set("ROTATING", &written[0], &[]).elapsed;
    for r in 1..=ROUNDS {
        let value = random_token(&format!("rot-{r:02}-"));
        let child = vault
            .cli()
            .stdin(value.clone())
            .spawn(&["set", "ROTATING", "--value-stdin"]);
        kill_after(child, kill_delay(r, uninterrupted));
        written.push(value);
    }

    integrity_check(&vault);
    vault.run(&["audit", "verify"]).ok();
    let db = vault.db();
    let mut stmt = db
        .prepare(
            "SELECT v.version, v.ciphertext IS NOT NULL FROM versions v \
             JOIN secrets s ON s.id = v.secret_id WHERE s.name = 'ROTATING' ORDER BY v.version",
        )
        .unwrap();
    let versions: Vec<(i64, bool)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(stmt);
    let numbers: Vec<i64> = versions.iter().map(|v| v.0).collect();
    let expected: Vec<i64> = (1..=versions.len() as i64).collect();
    assert_eq!(numbers, expected, "versions run without gaps");
    assert!(
        versions.iter().all(|v| v.1),
        "every kept version has ciphertext"
    );
    let audited: i64 = db
        .query_row(
            "SELECT count(*) FROM audit_events WHERE secret = 'ROTATING' \
             AND action IN ('secret.create', 'secret.update') AND outcome = 'ok'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        audited,
        versions.len() as i64,
        "one audit event per version"
    );
    drop(db);

    // Each version reveals, holds a value that was written, in the order written.
    let mut previous: Option<usize> = None;
    for (n, _) in &versions {
        let value = vault.reveal("ROTATING", &["--version", &n.to_string()]);
        let index = written
            .iter()
            .position(|w| *w == value)
            .unwrap_or_else(|| panic!("version {n} holds a value never written"));
        assert!(
            previous.is_none_or(|p| p < index),
            "version {n} is out of order"
        );
        previous = Some(index);
    }
    eprintln!(
        "{} of {ROUNDS} killed rotations had committed (uninterrupted run: {uninterrupted:?})",
        versions.len() - 1
    );
    let current = vault.reveal("ROTATING", &[]);
    assert_eq!(Some(&current), previous.map(|p| &written[p]));
}

/// A concurrent writer either succeeded or was refused cleanly as a conflict.
fn assert_clean(runs: &[Run]) {
    for run in runs {
        // SQLite's own words must never reach the user; a vault that stayed busy
        // too long is a clean conflict (exit 5).
        assert!(
            !run.stderr.to_lowercase().contains("is locked"),
            "{}",
            run.describe()
        );
        if !run.status.success() {
            run.clone().refused(5);
        }
    }
}

/// Runs `per_side` sets on each of two threads at once; `name(side, i)` picks the name.
fn two_writers(vault: &Vault, per_side: usize, name: fn(char, usize) -> String) -> Vec<Run> {
    let start = Barrier::new(2);
    std::thread::scope(|s| {
        let handles: Vec<_> = ['a', 'b']
            .into_iter()
            .map(|side| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    (0..per_side)
                        .map(|i| {
                            vault.cli().stdin(format!("value-{side}-{i}")).run(&[
                                "set",
                                &name(side, i),
                                "--value-stdin",
                            ])
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("writer thread"))
            .collect()
    })
}

#[test]
fn two_processes_writing_different_names_at_once_all_land() {
    let vault = Vault::new();
    let runs = two_writers(&vault, 10, |side, i| format!("{side}_{i:02}"));
    assert_clean(&runs);
    let listed = vault.run(&["ls", "--json"]).ok().json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for run in &runs {
        let name = run.args[1].as_str();
        assert_eq!(
            names.contains(&name),
            run.status.success(),
            "{name} is listed exactly when its set succeeded"
        );
    }
    assert!(
        runs.iter().filter(|r| r.status.success()).count() >= 18,
        "writers of different names should not need to give up"
    );
    vault.run(&["audit", "verify"]).ok();
    assert_eq!(vault.reveal("b_09", &[]), "value-b-9");
}

#[test]
fn two_processes_rotating_the_same_name_at_once_lose_no_version() {
    let vault = Vault::new();
    vault.set("SHARED", "value-initial", &[]);
    vault.run(&["settings", "set", "max-versions", "100"]).ok();
    let runs = two_writers(&vault, 10, |_, _| "SHARED".to_string());
    assert_clean(&runs);
    let mut won: Vec<(i64, &str)> = runs
        .iter()
        .filter(|r| r.status.success())
        .map(|r| {
            let version = r
                .stdout
                .trim()
                .rsplit("version ")
                .next()
                .and_then(|v| v.trim_end_matches(')').parse().ok())
                .unwrap_or_else(|| panic!("no version in {}", r.describe()));
            (version, r.args[1].as_str())
        })
        .collect();
    won.sort();
    let numbers: Vec<i64> = won.iter().map(|w| w.0).collect();
    let expected: Vec<i64> = (2..2 + won.len() as i64).collect();
    assert_eq!(numbers, expected, "each success got its own next version");
    let show = vault.run(&["show", "SHARED", "--json"]).ok().json();
    assert_eq!(
        show["environments"][0]["version"],
        1 + won.len() as i64,
        "the current version counts every success"
    );
    vault.run(&["audit", "verify"]).ok();
}

#[test]
fn racing_check_and_set_writers_get_one_success_and_one_conflict() {
    let vault = Vault::new();
    vault.set("CAS", "value-0", &[]);
    for round in 1..=5i64 {
        let start = Barrier::new(2);
        let runs: Vec<Run> = std::thread::scope(|s| {
            let handles: Vec<_> = ["left", "right"]
                .into_iter()
                .map(|who| {
                    let start = &start;
                    let vault = &vault;
                    s.spawn(move || {
                        start.wait();
                        vault.cli().stdin(format!("{who}-{round}")).run(&[
                            "set",
                            "CAS",
                            "--value-stdin",
                            "--if-version",
                            &round.to_string(),
                        ])
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_clean(&runs);
        let wins = runs.iter().filter(|r| r.status.success()).count();
        assert_eq!(
            wins,
            1,
            "round {round}: exactly one writer wins:\n{}\n{}",
            runs[0].describe(),
            runs[1].describe()
        );
    }
    let show = vault.run(&["show", "CAS", "--json"]).ok().json();
    assert_eq!(show["environments"][0]["version"], 6);
}
