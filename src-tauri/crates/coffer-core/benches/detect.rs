//! Plaintext-credential detection as `coffer check` runs it: `scan` and `candidates`
//! over 10,000 generated definition files of about 1 KB each (Kubernetes YAML, JSON,
//! `.env`), one in five holding a leaked credential; and over the 10,000 flow files
//! (80,000 references) of `tests/bench/use.sh`'s `coffer check` figure.
//!
//! Run: `cargo bench -p coffer-core --bench detect`

use coffer_core::detect::{candidates, rule_count, scan};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::distributions::Alphanumeric;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const FILES: usize = 10_000;

fn random(rng: &mut StdRng, len: usize) -> String {
    (0..len).map(|_| rng.sample(Alphanumeric) as char).collect()
}

fn leak(rng: &mut StdRng) -> String {
    match rng.gen_range(0..6) {
        0 => format!("AKIA{}", random(rng, 16).to_uppercase()),
        1 => format!("ghp_{}", random(rng, 36)),
        2 => format!("sk_live_{}", random(rng, 24)),
        3 => format!("postgres://app:{}@db.internal/app", random(rng, 14)),
        4 => format!(
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx{}.{}",
            random(rng, 12),
            random(rng, 43)
        ),
        _ => random(rng, 32),
    }
}

fn yaml(i: usize, leak: Option<String>) -> String {
    let value = leak.unwrap_or_else(|| "\"{{ secrets.API_TOKEN }}\"".into());
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: service-{i}
  labels:
    app: service-{i}
    tier: backend
spec:
  replicas: 3
  selector:
    matchLabels:
      app: service-{i}
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/team/service-{i}:1.{}.0
          args: [\"--port=8080\", \"--log-level=info\"]
          ports:
            - containerPort: 8080
          env:
            - name: DATABASE_URL
              value: \"{{{{ secrets.DATABASE_URL }}}}\"
            - name: API_TOKEN
              value: {value}
            - name: STRIPE_KEY
              value: $secret:Xk29fLq83hZpW0mN
            - name: LOG_LEVEL
              value: info
          resources:
            limits:
              cpu: 500m
              memory: 256Mi
",
        i % 40
    )
}

fn json(i: usize, leak: Option<String>) -> String {
    let value = leak.unwrap_or_else(|| "coffer://billing/prod/API_KEY".into());
    format!(
        r#"{{
  "family": "service-{i}",
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [
    {{
      "name": "app",
      "image": "registry.example.com/team/service-{i}:latest",
      "essential": true,
      "portMappings": [{{"containerPort": 8080, "protocol": "tcp"}}],
      "environment": [
        {{"name": "API_KEY", "value": "{value}"}},
        {{"name": "REGION", "value": "eu-west-1"}},
        {{"name": "FEATURE_FLAGS", "value": "search,billing,exports"}}
      ],
      "logConfiguration": {{
        "logDriver": "awslogs",
        "options": {{"awslogs-group": "/ecs/service-{i}", "awslogs-region": "eu-west-1"}}
      }}
    }}
  ]
}}
"#
    )
}

fn env(i: usize, leak: Option<String>) -> String {
    let value = leak.unwrap_or_else(|| "${SECRET_KEY}".into());
    let mut text = format!(
        "# service-{i}: values come from Coffer references, never literals.
APP_NAME=service-{i}
APP_ENV=production
PORT=8080
LOG_LEVEL=info
DATABASE_URL={{{{ secrets.DATABASE_URL }}}}
REDIS_URL=redis://cache.internal:6379/0
SECRET_KEY={value}
SENTRY_DSN=coffer://observability/SENTRY_DSN
FEATURE_SEARCH=true
FEATURE_EXPORTS=false
"
    );
    while text.len() < 1000 {
        text.push_str("# padding: the rest of this file configures nothing secret at all\n");
    }
    text
}

fn corpus() -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(7);
    (0..FILES)
        .map(|i| {
            let leak = (i % 5 == 0).then(|| leak(&mut rng));
            match i % 3 {
                0 => yaml(i, leak),
                1 => json(i, leak),
                _ => env(i, leak),
            }
        })
        .collect()
}

/// The flow files `tests/bench/use.sh` checks: 8 requests each, every header a
/// reference, no credential.
fn flows() -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(11);
    (0..FILES)
        .map(|i| {
            let n = rng.gen_range(0..50);
            let mut text = format!("name: flow {i}\nsteps:\n");
            for k in 0..8 {
                text.push_str(&format!(
                    "  - fetch:\n      url: https://api.example.com/v1/items/{k}?page=2\n"
                ));
                text.push_str(&format!(
                    "      headers:\n        Authorization: \"Bearer {{{{ secrets.SECRET_{:03} }}}}\"\n",
                    (n + k) % 50
                ));
            }
            text.push_str("      retries: 3\n      timeout: 30s\n");
            text
        })
        .collect()
}

fn detect(c: &mut Criterion) {
    let files = corpus();
    let bytes: usize = files.iter().map(String::len).sum();
    let leaky = files.iter().filter(|f| !scan(f).is_empty()).count();
    println!(
        "{} rules; {FILES} files, {} KiB, {leaky} with findings (expected {})",
        rule_count(),
        bytes / 1024,
        FILES / 5
    );
    let flows = flows();
    let flow_bytes: usize = flows.iter().map(String::len).sum();
    let flagged = flows.iter().filter(|f| !scan(f).is_empty()).count();
    println!(
        "{FILES} flow files, {} KiB, {flagged} with findings (expected 0)",
        flow_bytes / 1024
    );
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Bytes(bytes as u64))
        .sample_size(10);
    g.bench_function("scan_and_candidates_10k_files", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| scan(f).len() + candidates(f).len())
                .sum::<usize>()
        })
    });
    g.throughput(Throughput::Bytes(flow_bytes as u64));
    g.bench_function("scan_and_candidates_10k_flows", |b| {
        b.iter(|| {
            flows
                .iter()
                .map(|f| scan(f).len() + candidates(f).len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, detect);
criterion_main!(benches);
