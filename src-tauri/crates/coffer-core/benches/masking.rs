//! Masking throughput: random alphanumeric output (every byte could start a secret,
//! the worst case) with 10 and 100 secrets of 32 characters, each in all its forms,
//! pushed in 64 KiB chunks. Run: `cargo bench -p coffer-core --bench masking`

use coffer_core::masking::Masker;
use coffer_core::value::SecretValue;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::distributions::Alphanumeric;
use rand::{Rng, SeedableRng};

const STREAM: usize = 64 << 20;
const CHUNK: usize = 64 << 10;

fn masking(c: &mut Criterion) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let stream: Vec<u8> = (0..STREAM).map(|_| rng.sample(Alphanumeric)).collect();
    let mut g = c.benchmark_group("mask_stream");
    g.throughput(Throughput::Bytes(STREAM as u64))
        .sample_size(10);
    for count in [10usize, 100] {
        let values: Vec<SecretValue> = (0..count)
            .map(|_| {
                SecretValue::from_string(
                    (0..32).map(|_| rng.sample(Alphanumeric) as char).collect(),
                )
                .unwrap()
            })
            .collect();
        let masker = Masker::new(values.iter());
        g.bench_with_input(BenchmarkId::from_parameter(count), &masker, |b, m| {
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

criterion_group!(benches, masking);
criterion_main!(benches);
