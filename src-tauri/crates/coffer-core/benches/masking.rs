//! Masking throughput over the worst realistic output: 256 MiB of `base64 -w 76` text
//! of random bytes (every position could start a base64 form of a value), pushed in
//! 64 KiB chunks as `coffer run` reads them, with 10, 100 and 1,000 random 40-character
//! values, and 100 values plus a 1.7 KB PEM key; each value in all its forms.
//! Run: `cargo bench -p coffer-core --bench masking`

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use coffer_core::masking::Masker;
use coffer_core::value::SecretValue;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::distributions::Alphanumeric;
use rand::{Rng, RngCore, SeedableRng};

const STREAM: usize = 256 << 20;
const CHUNK: usize = 64 << 10;

/// `base64 -w 76` of random bytes.
fn output(rng: &mut impl RngCore) -> Vec<u8> {
    let mut raw = vec![0u8; STREAM / 4 * 3];
    rng.fill_bytes(&mut raw);
    let text = STANDARD.encode(&raw);
    let mut out = Vec::with_capacity(STREAM + STREAM / 76 + 1);
    for line in text.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.truncate(STREAM);
    out
}

fn pem_key(rng: &mut impl RngCore) -> String {
    let mut der = vec![0u8; 1218];
    rng.fill_bytes(&mut der);
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

fn masking(c: &mut Criterion) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let stream = output(&mut rng);
    let mut g = c.benchmark_group("mask_stream");
    g.throughput(Throughput::Bytes(STREAM as u64))
        .sample_size(10);
    let random = |rng: &mut rand::rngs::StdRng| {
        let s: String = (0..40).map(|_| rng.sample(Alphanumeric) as char).collect();
        SecretValue::from_string(s).unwrap()
    };
    let mut cases: Vec<(String, Vec<SecretValue>)> = [10usize, 100, 1000]
        .into_iter()
        .map(|n| {
            (
                format!("{n} values"),
                (0..n).map(|_| random(&mut rng)).collect(),
            )
        })
        .collect();
    let mut with_key: Vec<SecretValue> = (0..100).map(|_| random(&mut rng)).collect();
    with_key.push(SecretValue::from_string(pem_key(&mut rng)).unwrap());
    cases.push(("100 values and a PEM key".into(), with_key));
    for (name, values) in &cases {
        let masker = Masker::new(values.iter());
        g.bench_with_input(BenchmarkId::from_parameter(name), &masker, |b, m| {
            let mut out = Vec::with_capacity(CHUNK * 2);
            b.iter(|| {
                let mut s = m.stream();
                let mut total = 0;
                for chunk in stream.chunks(CHUNK) {
                    out.clear();
                    s.push(chunk, &mut out);
                    total += out.len();
                }
                out.clear();
                s.finish(&mut out);
                total + out.len()
            })
        });
    }
    g.finish();
}

/// What `coffer run` pays before the child starts: every form of every value, tables.
fn building(c: &mut Criterion) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    let mut g = c.benchmark_group("mask_build");
    g.sample_size(10);
    for n in [100usize, 10_000] {
        let values: Vec<SecretValue> = (0..n)
            .map(|_| {
                let s: String = (0..40).map(|_| rng.sample(Alphanumeric) as char).collect();
                SecretValue::from_string(s).unwrap()
            })
            .collect();
        g.bench_with_input(BenchmarkId::from_parameter(n), &values, |b, v| {
            b.iter(|| Masker::new(v.iter()).is_active())
        });
    }
    g.finish();
}

criterion_group!(benches, masking, building);
criterion_main!(benches);
