//! Benchmarks behind the README's figures, on a vault of 10,000 secrets × 3
//! environments: resolving a value, committing a new version, listing a project,
//! verifying 1,000,000 audit events, appending one, the Argon2id unlock cost, and removing a member
//! of a 20-member workspace (a new epoch: every live value re-sealed).
//!
//! Run: `cargo bench -p coffer-core --bench vault`

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use coffer_core::clock::SystemClock;
use coffer_core::crypto::KdfParams;
use coffer_core::value::{Passphrase, SecretValue};
use coffer_core::{Scope, Session, SetRequest, ValueSource, Vault};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const SECRETS: usize = 10_000;
const PASS: &str = "bench pass phrase";

fn value(i: usize, env: &str) -> SecretValue {
    SecretValue::from_string(format!("{env}-value-{i:06}-{}", "x".repeat(24))).unwrap()
}

fn populated(path: &Path) -> Session {
    let mut s = Vault::create(
        path,
        "bench",
        &Passphrase::new(PASS.into()),
        KdfParams::INSECURE_FAST,
        Arc::new(SystemClock),
    )
    .unwrap();
    for env in ["development", "staging", "production"] {
        let entries = (0..SECRETS)
            .map(|i| (format!("SECRET_{i:05}"), value(i, env)))
            .collect();
        s.import(&Scope::default(), Some(env), entries).unwrap();
    }
    s
}

/// Whether the command line's filter (a regex, as criterion reads it) selects one of
/// `ids`: the vaults behind each group take a while to build, so skip those not asked
/// for.
fn wanted(ids: &[&str]) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty()
        || filters
            .iter()
            .any(|f| regex::Regex::new(f).map_or(true, |re| ids.iter().any(|id| re.is_match(id))))
}

fn vault_ops(c: &mut Criterion) {
    if !wanted(&[
        "vault_10k_x3/resolve_current_value",
        "vault_10k_x3/commit_new_version",
        "vault_10k_x3/list_project_metadata",
    ]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let mut s = populated(&path);
    let scope = Scope::default();

    let mut g = c.benchmark_group("vault_10k_x3");
    g.bench_function("resolve_current_value", |b| {
        let mut r = s
            .resolver(
                &scope,
                Some("production"),
                coffer_core::Purpose::new("bench"),
            )
            .unwrap();
        let mut i = 0usize;
        b.iter(|| {
            i = (i * 7919 + 1) % SECRETS;
            r.get(&format!("SECRET_{i:05}")).unwrap()
        });
        // Not finished: the bench resolves hundreds of thousands of values, and
        // auditing each would measure the audit writer instead.
    });
    g.bench_function("commit_new_version", |b| {
        let mut i = 0usize;
        b.iter_batched(
            || {
                i = (i * 7919 + 1) % SECRETS;
                let mut req = SetRequest::new(
                    format!("SECRET_{i:05}"),
                    ValueSource::Given(value(i, "rotated")),
                );
                req.environment = Some("staging".into());
                req
            },
            |req| s.set_secret(&scope, req).unwrap(),
            BatchSize::SmallInput,
        );
    });
    g.sample_size(30);
    g.bench_function("list_project_metadata", |b| {
        b.iter(|| s.list_secrets(&scope, false).unwrap())
    });
    g.finish();
}

/// A vault for the audit benches: at `$COFFER_BENCH_AUDIT_VAULT` when set (kept, and
/// reused when it already holds the trail, so `tests/bench/audit.sh` times whole
/// processes on it; member `bench`, passphrase `bench pass phrase`), else temporary.
fn audit_vault(name: &str) -> (Option<tempfile::TempDir>, std::path::PathBuf) {
    match std::env::var_os("COFFER_BENCH_AUDIT_VAULT") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            (None, Path::new(&dir).join(name))
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(name);
            (Some(dir), path)
        }
    }
}

/// A trail of at least `events` audited uses, written through the real audit path:
/// commits of `per_commit` uses (a resolver audits each value once, one transaction
/// per round), as a `run` of that many secrets makes.
fn audited(path: &Path, events: i64, per_commit: usize) -> Session {
    let mut s = if path.exists() {
        Vault::open(path)
            .unwrap()
            .unlock("bench", &Passphrase::new(PASS.into()))
            .unwrap()
    } else {
        let mut s = Vault::create(
            path,
            "bench",
            &Passphrase::new(PASS.into()),
            KdfParams::INSECURE_FAST,
            Arc::new(SystemClock),
        )
        .unwrap();
        let entries = (0..100)
            .map(|i| (format!("USED_{i:03}"), value(i, "x")))
            .collect();
        s.import(&Scope::default(), Some("development"), entries)
            .unwrap();
        s
    };
    while s.last_audit_id().unwrap() < events {
        let mut r = s
            .resolver(&Scope::default(), None, coffer_core::Purpose::new("bench"))
            .unwrap();
        for i in 0..per_commit {
            r.get(&format!("USED_{i:03}")).unwrap();
        }
        r.finish().unwrap();
    }
    s
}

fn audit_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("audit");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    if wanted(&["audit/verify_1m_events"]) {
        let (_dir, path) = audit_vault("audit-1m.db");
        let mut s = audited(&path, 1_000_000, 100);
        g.bench_function("verify_1m_events", |b| {
            b.iter(|| {
                let report = s.verify_audit("default").unwrap();
                assert!(report.ok);
                report
            })
        });
    }
    if wanted(&["audit/verify_20k_single_event_commits"]) {
        // Each commit one event and one signature: what batch verification is for.
        let (_dir, path) = audit_vault("audit-20k-single.db");
        let mut s = audited(&path, 20_000, 1);
        g.bench_function("verify_20k_single_event_commits", |b| {
            b.iter(|| {
                let report = s.verify_audit("default").unwrap();
                assert!(report.ok);
                report
            })
        });
    }
    if wanted(&["audit/use_one_value_one_signed_commit"]) {
        // The whole write around appending one event to a trail of 100,000: resolve a
        // value, then one transaction that appends its `secret.use`, signs the commit
        // and commits (WAL). Appending alone is a part of this.
        let (_dir, path) = audit_vault("audit-append.db");
        let mut s = audited(&path, 100_000, 100);
        g.measurement_time(Duration::from_secs(10));
        g.sample_size(50);
        g.bench_function("use_one_value_one_signed_commit", |b| {
            b.iter(|| {
                let mut r = s
                    .resolver(&Scope::default(), None, coffer_core::Purpose::new("bench"))
                    .unwrap();
                r.get("USED_007").unwrap();
                r.finish().unwrap();
            })
        });
    }
    g.finish();
}

fn unlock_cost(c: &mut Criterion) {
    if !wanted(&["unlock/argon2id_64MiB_t3_p1"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unlock.db");
    drop(
        Vault::create(
            &path,
            "bench",
            &Passphrase::new(PASS.into()),
            KdfParams::RECOMMENDED,
            Arc::new(SystemClock),
        )
        .unwrap(),
    );
    let mut g = c.benchmark_group("unlock");
    g.sample_size(10);
    g.bench_function("argon2id_64MiB_t3_p1", |b| {
        b.iter(|| {
            Vault::open(&path)
                .unwrap()
                .unlock("bench", &Passphrase::new(PASS.into()))
                .unwrap()
        })
    });
    g.finish();
}

fn member_removal(c: &mut Criterion) {
    if !wanted(&["rekey/remove_member_10k_x3_20_members"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.db");
    let mut s = populated(&template);
    for m in 0..19 {
        s.add_member(
            "default",
            &format!("member{m:02}"),
            coffer_core::access::Role::Developer,
            &Passphrase::new(format!("member {m} pass phrase")),
        )
        .unwrap();
    }
    drop(s);
    let mut g = c.benchmark_group("rekey");
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    let mut n = 0;
    g.bench_function("remove_member_10k_x3_20_members", |b| {
        b.iter_batched(
            || {
                n += 1;
                let copy = dir.path().join(format!("copy{n}.db"));
                std::fs::copy(&template, &copy).unwrap();
                Vault::open(&copy)
                    .unwrap()
                    .with_kdf(KdfParams::INSECURE_FAST)
                    .unlock("bench", &Passphrase::new(PASS.into()))
                    .unwrap()
            },
            |mut s| s.remove_member("default", "member07").unwrap(),
            BatchSize::PerIteration,
        );
    });
    g.finish();
}

criterion_group!(
    benches,
    vault_ops,
    audit_verify,
    unlock_cost,
    member_removal
);
criterion_main!(benches);
