//! Benchmarks behind the figures of issue 2, on a vault of 10,000 secrets × 3
//! environments: resolving a value, committing a new version, listing a project,
//! verifying 1,000,000 audit events, and the Argon2id unlock cost.
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

fn vault_ops(c: &mut Criterion) {
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

fn audit_verify(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut s = Vault::create(
        &path,
        "bench",
        &Passphrase::new(PASS.into()),
        KdfParams::INSECURE_FAST,
        Arc::new(SystemClock),
    )
    .unwrap();
    let mut req = SetRequest::new("USED", ValueSource::Given(value(1, "x")));
    req.environment = Some("development".into());
    s.set_secret(&Scope::default(), req).unwrap();
    // A million audited uses, written through the real audit path in one transaction.
    let have = s.last_audit_id().unwrap();
    let mut r = s
        .resolver(&Scope::default(), None, coffer_core::Purpose::new("bench"))
        .unwrap();
    for _ in 0..(1_000_000 - have) {
        r.get("USED").unwrap();
    }
    r.finish().unwrap();
    assert!(s.last_audit_id().unwrap() >= 1_000_000);
    let mut g = c.benchmark_group("audit");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    g.bench_function("verify_1m_events", |b| {
        b.iter(|| {
            let report = s.verify_audit("default").unwrap();
            assert!(report.ok);
            report
        })
    });
    g.finish();
}

fn unlock_cost(c: &mut Criterion) {
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

criterion_group!(benches, vault_ops, audit_verify, unlock_cost);
criterion_main!(benches);
