//! Range-query evaluation over an in-memory store shaped like the
//! side-by-side benchmark's data (`bench/query/`), scaled down: 900 counter
//! series and 100 classic-histogram bucket series scraped every 15 s for
//! 2 h, each query over the whole 2 h at step 15 s (481 steps).

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use model::Labels;
use promql::engine::{Engine, EngineOptions};
use storage::{Appendable, MemStorage};

const START: i64 = 1_789_999_200_000;
const STEP: i64 = 15_000;
const STEPS: i64 = 2 * 3600 / 15;

/// A small deterministic generator (xorshift), so runs see the same data.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn store() -> MemStorage {
    let db = MemStorage::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let jobs = ["api", "web", "batch"];
    let mut app = db.appender();
    let mut append = |l: &Labels, t: i64, v: f64| {
        app.append(None, l, t, v)
            .expect("BUG: append to MemStorage");
    };
    for i in 0..30 {
        let inst = format!("app-{i:03}.example.net:8080");
        for m in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            for c in ["200", "201", "304", "400", "404", "500"] {
                let l = Labels::from_pairs(&[
                    ("__name__", "http_requests_total"),
                    ("code", c),
                    ("instance", &inst),
                    ("job", jobs[i % 3]),
                    ("method", m),
                ]);
                let mut v = rng.below(1_000_000) as f64;
                for s in 0..STEPS {
                    v += rng.below(300) as f64;
                    append(&l, START + s * STEP + rng.below(10) as i64, v);
                }
            }
        }
    }
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
    ];
    for i in 0..10 {
        let inst = format!("app-{i:03}.example.net:8080");
        let mut counts = [0.0; 10];
        let labels: Vec<Labels> = les
            .iter()
            .map(|le| {
                Labels::from_pairs(&[
                    ("__name__", "http_request_duration_seconds_bucket"),
                    ("instance", &inst),
                    ("job", jobs[i % 3]),
                    ("le", le),
                ])
            })
            .collect();
        for s in 0..STEPS {
            let t = START + s * STEP + rng.below(10) as i64;
            let mut add = 0.0;
            for (b, l) in labels.iter().enumerate() {
                add += rng.below(30) as f64;
                counts[b] += add;
                append(l, t, counts[b]);
            }
        }
    }
    app.commit().expect("BUG: commit to MemStorage");
    drop(app);
    db
}

fn range_queries(c: &mut Criterion) {
    let db = store();
    let engine = Engine::new(EngineOptions::default());
    let queries = [
        ("rate", "rate(http_requests_total[5m])"),
        ("sum_by_rate", "sum by (job, code) (rate(http_requests_total[5m]))"),
        (
            "histogram_quantile",
            "histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))",
        ),
        ("topk", "topk(5, rate(http_requests_total[5m]))"),
        ("subquery", "max_over_time(rate(http_requests_total[5m])[30m:1m])"),
    ];
    let mut g = c.benchmark_group("range_query_1k_series_2h_15s");
    g.sample_size(10);
    for (name, q) in queries {
        let expr = promql::parse(q).expect("BUG: benchmark query does not parse");
        g.bench_function(name, |b| {
            b.iter(|| {
                engine
                    .range_query(&db, &expr, START, START + STEPS * STEP, STEP)
                    .expect("BUG: benchmark query failed")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, range_queries);
criterion_main!(benches);
