//! The team vault's figures that need two clients at once, against the PostgreSQL of
//! `COFFER_TEST_PG` (run by tests/bench/team.sh under tests/pg/with-postgres.sh):
//!
//! - how long a change takes to be visible on another client that listens (commit on
//!   one home, NOTIFY, the other syncs and holds the new value): p50 and p99;
//! - 1,000 edits made offline, then replayed by one sync;
//! - adding, then removing, a member in a workspace of 500 members (each with its sync).
//!
//! `cargo run --release --example team_figures --features team -- [ROUNDS]`

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coffer_core::access::Role;
use coffer_core::clock::SystemClock;
use coffer_core::crypto::KdfParams;
use coffer_core::team::ServerUrl;
use coffer_core::value::{Passphrase, SecretValue};
use coffer_core::{Scope, Session, SetRequest, ValueSource, Vault};

static NEXT: AtomicU32 = AtomicU32::new(0);

fn database() -> String {
    let admin = std::env::var("COFFER_TEST_PG").expect("run under tests/pg/with-postgres.sh");
    let name = format!(
        "figures_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let ok = std::process::Command::new("psql")
        .args([admin.as_str(), "-qAtc", &format!("CREATE DATABASE {name}")])
        .status()
        .expect("psql runs")
        .success();
    assert!(ok, "CREATE DATABASE failed");
    admin.replacen("/postgres?", &format!("/{name}?"), 1)
}

fn pass() -> Passphrase {
    Passphrase::new("figures pass phrase".into())
}

fn set(s: &mut Session, name: &str, value: &str) {
    let v = ValueSource::Given(SecretValue::from_string(value.to_string()).unwrap());
    s.set_secret(&Scope::default(), SetRequest::new(name, v))
        .unwrap();
}

/// A team vault on a fresh database, and a second home holding a copy of it.
fn two_homes(dir: &std::path::Path) -> (Session, Session) {
    let a_path = dir.join("a.db");
    let mut a = Vault::create(
        &a_path,
        "owner",
        &pass(),
        KdfParams::INSECURE_FAST,
        Arc::new(SystemClock),
    )
    .unwrap();
    set(&mut a, "LIVE", "v0");
    a.team_create(&ServerUrl::parse(&database()).unwrap())
        .unwrap();
    a.team_sync().unwrap();
    let b_path = dir.join("b.db");
    a.backup(Some(&b_path)).unwrap();
    let mut b = Vault::open(&b_path)
        .unwrap()
        .with_kdf(KdfParams::INSECURE_FAST)
        .unlock("owner", &pass())
        .unwrap();
    b.team_sync().unwrap();
    (a, b)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();

    // ---- visibility on a listening client ----
    let (mut a, mut b) = two_homes(dir.path());
    let mut listener = b.team_endpoint().unwrap().unwrap().listen().unwrap();
    let mut seen = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let value = format!("v{}", i + 1);
        set(&mut a, "LIVE", &value);
        a.team_sync().unwrap();
        let committed = Instant::now();
        // Wait for the announcement, then sync until the value is here.
        while !listener.wait(Duration::from_secs(5)).unwrap() {}
        loop {
            b.team_sync().unwrap();
            let v = b
                .reveal(&Scope::default(), "LIVE", None, None, None)
                .unwrap();
            if v.expose() == value {
                break;
            }
        }
        seen.push(committed.elapsed());
    }
    seen.sort();
    println!(
        "change visible on another listening client ({rounds} changes): p50 {}, p99 {}, max {}",
        ms(percentile(&seen, 0.5)),
        ms(percentile(&seen, 0.99)),
        ms(*seen.last().unwrap())
    );
    drop(listener);

    // ---- 1,000 offline edits, replayed ----
    for i in 0..1000 {
        set(
            &mut a,
            &format!("OFFLINE_{:04}", i % 250),
            &format!("edit {i}"),
        );
    }
    let t = Instant::now();
    let report = a.team_sync().unwrap();
    assert!(
        report.refused.is_empty() && report.conflicts.is_empty(),
        "{report:?}"
    );
    println!(
        "1,000 edits made offline (250 secrets), replayed by one sync: {} ({} records, {} events)",
        ms(t.elapsed()),
        report.pushed,
        report.events
    );
    let t = Instant::now();
    b.team_sync().unwrap();
    println!("... and taken by the other home: {}", ms(t.elapsed()));

    // ---- a member added and removed among 500 ----
    // On a team server each member makes their own keys on their own machine: invited,
    // joined from a file of their own, admitted by the owner (whose admission syncs).
    for i in 0..499 {
        admit(&mut a, dir.path(), &format!("m{i:03}"), Role::Viewer);
    }
    a.team_sync().unwrap();
    let t = Instant::now();
    admit(&mut a, dir.path(), "newcomer", Role::Developer);
    println!(
        "adding a member to a workspace of 500 members (invite, their join, admission with its sync): {}",
        ms(t.elapsed())
    );
    let t = Instant::now();
    a.remove_member("default", "newcomer").unwrap();
    let report = a.team_sync().unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    println!(
        "removing them again (new epochs, re-sealed values), with its sync: {}",
        ms(t.elapsed())
    );
}

/// `name` invited by `owner`, joined from a file of their own, admitted.
fn admit(owner: &mut Session, dir: &std::path::Path, name: &str, role: Role) {
    let invited = owner
        .team_invite("default", name, role, Duration::from_secs(3600))
        .unwrap();
    let started = Vault::team_join(
        &dir.join(format!("{name}.db")),
        &invited.code,
        None,
        &Passphrase::new(format!("{name}'s own pass phrase")),
        KdfParams::INSECURE_FAST,
    )
    .unwrap();
    let admitted = owner.team_admit(name, &started.fingerprint).unwrap();
    assert!(
        admitted.sync.refused.is_empty(),
        "{:?}",
        admitted.sync.refused
    );
}
