//! The data both engines query: three hours of seeded, scrape-like series.
//!
//! Prometheus 2.42 closes ranges on the left (`[t-r, t]`), 3.x opens them
//! (`(t-r, t]`), and the same holds for the lookback window; so no sample
//! may sit on the left edge of any window a query uses. Every query time,
//! range, offset and step in this test is a whole multiple of 5 s, and
//! every sample lies at `k·15s + 7.5s ± 2s`, i.e. 0.5 s to 4.5 s away
//! from any multiple of 5 s.
//!
//! Series of one target share its scrape timestamps, as real scrapes do
//! (so a histogram's buckets line up). Some targets start late, stop early
//! or pause for longer than the lookback — the only staleness 2.42's
//! blocks can carry without stale markers.

use model::Labels;
use tsdb::backfill::{Backfill, SeriesId};

/// The first scrape slot: 2023-02-28T22:00:00Z, a 2h block boundary, so
/// the data spans two blocks and crosses midnight into March (for the
/// calendar functions).
pub(crate) const T0: i64 = 1_677_621_600_000;
/// The scrape interval.
const INTERVAL: i64 = 15_000;
/// Scrape slots: three hours.
pub(crate) const SLOTS: i64 = 720;
/// The end of the data.
pub(crate) const T_END: i64 = T0 + SLOTS * INTERVAL;

/// xorshift64*: deterministic, good enough for test data, no dependency.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub(crate) fn f64(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi].
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

/// One scraped target: its labels and which slots it answers.
struct Target {
    job: &'static str,
    instance: String,
    /// Slots `[first, last)` the target is scraped in, minus `gap`.
    first: i64,
    last: i64,
    gap: Option<(i64, i64)>,
}

impl Target {
    fn scraped(&self, k: i64) -> bool {
        k >= self.first && k < self.last && self.gap.is_none_or(|(a, b)| k < a || k >= b)
    }

    fn labels(&self, name: &str, extra: &[(&str, &str)]) -> Labels {
        let mut pairs = vec![
            ("__name__", name),
            ("job", self.job),
            ("instance", self.instance.as_str()),
        ];
        pairs.extend_from_slice(extra);
        Labels::from_pairs(&pairs)
    }
}

fn targets() -> Vec<Target> {
    let t = |job, instance: &str, first, last, gap| Target {
        job,
        instance: instance.to_owned(),
        first,
        last,
        gap,
    };
    vec![
        t("api", "api-1:8080", 0, SLOTS, None),
        t("api", "api-2:8080", 0, SLOTS, None),
        // Restarted: away for 12 minutes, longer than the lookback.
        t("api", "api-3:8080", 0, SLOTS, Some((300, 348))),
        t("web", "web-1:9000", 0, SLOTS, None),
        // Joins 40 minutes in.
        t("web", "web-2:9000", 160, SLOTS, None),
        // Leaves 2h20m in.
        t("web", "web-3:9000", 0, 560, None),
        t("batch", "batch-1:9100", 40, 620, Some((250, 290))),
        t("batch", "batch-2:9100", 100, 500, None),
    ]
}

/// Appends a series to `b` and returns its id.
fn series(b: &mut Backfill, labels: Labels) -> SeriesId {
    b.add_series(labels)
        .unwrap_or_else(|e| panic!("cannot add series: {e}"))
}

const BUCKETS: &[(&str, f64)] = &[
    ("0.05", 0.05),
    ("0.1", 0.1),
    ("0.25", 0.25),
    ("0.5", 0.5),
    ("1", 1.0),
    ("2.5", 2.5),
    ("+Inf", f64::INFINITY),
];

/// All series, ready to be written as blocks.
pub(crate) fn generate() -> Backfill {
    let mut rng = Rng::new(0x5eed_2023);
    let mut b = Backfill::new();
    for (ti, target) in targets().iter().enumerate() {
        let times: Vec<Option<i64>> = (0..SLOTS)
            .map(|k| {
                let jitter = rng.range(-2000, 2000);
                target
                    .scraped(k)
                    .then_some(T0 + k * INTERVAL + INTERVAL / 2 + jitter)
            })
            .collect();
        let mut emit = |b: &mut Backfill, labels: Labels, values: &[f64]| {
            let id = series(b, labels);
            for (t, v) in times.iter().zip(values) {
                if let Some(t) = t {
                    b.add_sample(id, *t, *v);
                }
            }
        };
        let n = SLOTS as usize;
        let version = ["1.2.0", "1.3.0-rc.1", "1.3.0"][ti % 3];
        let region = ["eu-west", "us-east"][ti % 2];
        emit(
            &mut b,
            target.labels("app_info", &[("version", version), ("region", region)]),
            &vec![1.0; n],
        );
        let up: Vec<f64> = (0..n)
            .map(|_| if rng.f64() < 0.03 { 0.0 } else { 1.0 })
            .collect();
        emit(&mut b, target.labels("up", &[]), &up);

        if target.job == "batch" {
            // Counters start far above zero (see `http_requests_total`).
            let mut done = rng.range(100_000, 200_000) as f64;
            let mut last_success = 0.0;
            let (mut processed, mut success) = (Vec::new(), Vec::new());
            for k in 0..SLOTS {
                if rng.f64() < 0.2 {
                    done += rng.range(1, 500) as f64;
                    last_success = ((T0 + k * INTERVAL) / 1000) as f64;
                }
                processed.push(done);
                success.push(last_success);
            }
            emit(
                &mut b,
                target.labels("batch_processed_total", &[]),
                &processed,
            );
            emit(
                &mut b,
                target.labels("batch_last_success_timestamp_seconds", &[]),
                &success,
            );
            continue;
        }

        for method in ["GET", "POST"] {
            for (code, mean) in [("200", 20.0), ("404", 1.0), ("500", 0.2)] {
                // Far above zero: when a series starts inside a rate()
                // window, 2.42 limits the extrapolation by the counter's
                // zero point before deciding whether to extrapolate to the
                // window's edge, 3.x after (prometheus/prometheus#13725,
                // 2.51). With counters this high, the zero point is
                // always farther than either.
                let mut c = rng.range(100_000, 200_000) as f64;
                let values: Vec<f64> = (0..n)
                    .map(|_| {
                        if rng.f64() < 0.004 {
                            c = 0.0;
                        }
                        c += (mean * 15.0 * 2.0 * rng.f64()).round();
                        c
                    })
                    .collect();
                emit(
                    &mut b,
                    target.labels("http_requests_total", &[("method", method), ("code", code)]),
                    &values,
                );
            }
        }
        let mut cpu = 10_000.0 + rng.f64() * 100.0;
        let cpu_values: Vec<f64> = (0..n)
            .map(|_| {
                cpu += rng.f64() * 3.0;
                cpu
            })
            .collect();
        emit(
            &mut b,
            target.labels("process_cpu_seconds_total", &[]),
            &cpu_values,
        );

        for (kind, base) in [("free", 2e9), ("used", 6e9), ("cached", 1e9)] {
            let mut v = base * (0.5 + rng.f64());
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    v = (v + (rng.f64() - 0.5) * 5e7).max(1e8);
                    v.round()
                })
                .collect();
            emit(
                &mut b,
                target.labels("node_memory_bytes", &[("kind", kind)]),
                &values,
            );
        }
        for sensor in ["cpu", "board"] {
            let mut v = rng.f64() * 20.0 - 5.0;
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    v += (rng.f64() - 0.5) * 2.0 - (v - 5.0) * 0.02;
                    v
                })
                .collect();
            emit(
                &mut b,
                target.labels("temperature_celsius", &[("sensor", sensor)]),
                &values,
            );
        }
        let mut q: i64 = rng.range(0, 10);
        let queue: Vec<f64> = (0..n)
            .map(|_| {
                q = (q + rng.range(-2, 2)).clamp(0, 20);
                q as f64
            })
            .collect();
        emit(&mut b, target.labels("queue_length", &[]), &queue);

        histogram(&mut b, &mut rng, &mut emit, target, n);
    }
    weird(&mut b, &mut rng);
    b
}

/// `request_duration_seconds` of one target: cumulative buckets, sum and
/// count, resetting together.
fn histogram(
    b: &mut Backfill,
    rng: &mut Rng,
    emit: &mut impl FnMut(&mut Backfill, Labels, &[f64]),
    target: &Target,
    n: usize,
) {
    let mut counts = vec![0.0; BUCKETS.len()];
    let mut sum = 0.0;
    let mut rows: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n);
    let scale = 0.1 + rng.f64() * 0.4;
    // Observations before the first scrape, so the counters start far
    // above zero (see `http_requests_total`).
    let before = rng.range(20_000, 40_000);
    observe(rng, scale, before, &mut counts, &mut sum);
    for _ in 0..n {
        if rng.f64() < 0.003 {
            counts.iter_mut().for_each(|c| *c = 0.0);
            sum = 0.0;
        }
        let new = rng.range(5, 60);
        observe(rng, scale, new, &mut counts, &mut sum);
        rows.push((counts.clone(), sum));
    }
    for (i, (le, _)) in BUCKETS.iter().enumerate() {
        let values: Vec<f64> = rows.iter().map(|(c, _)| c[i]).collect();
        emit(
            b,
            target.labels("request_duration_seconds_bucket", &[("le", le)]),
            &values,
        );
    }
    let sums: Vec<f64> = rows.iter().map(|(_, s)| *s).collect();
    emit(b, target.labels("request_duration_seconds_sum", &[]), &sums);
    let counts: Vec<f64> = rows.iter().map(|(c, _)| c[BUCKETS.len() - 1]).collect();
    emit(
        b,
        target.labels("request_duration_seconds_count", &[]),
        &counts,
    );
}

/// Adds `n` roughly exponential latencies of mean `scale` to cumulative
/// bucket `counts` and `sum`.
fn observe(rng: &mut Rng, scale: f64, n: i64, counts: &mut [f64], sum: &mut f64) {
    for _ in 0..n {
        let d = -scale * (1.0 - rng.f64()).ln();
        *sum += d;
        for (c, (_, le)) in counts.iter_mut().zip(BUCKETS) {
            if d <= *le {
                *c += 1.0;
            }
        }
    }
}

/// `weird_gauge`: a few series with NaN and infinities among ordinary
/// values, on a 30 s schedule of their own.
fn weird(b: &mut Backfill, rng: &mut Rng) {
    for case in ["nan", "inf", "mixed"] {
        let id = series(
            b,
            Labels::from_pairs(&[("__name__", "weird_gauge"), ("case", case)]),
        );
        for k in (0..SLOTS).step_by(2) {
            let t = T0 + k * INTERVAL + INTERVAL / 2 + rng.range(-2000, 2000);
            let r = rng.f64();
            let v = match case {
                "nan" if r < 0.15 => f64::NAN,
                "inf" if r < 0.1 => f64::INFINITY,
                "inf" if r < 0.2 => f64::NEG_INFINITY,
                "mixed" if r < 0.05 => f64::NAN,
                "mixed" if r < 0.1 => f64::INFINITY,
                _ => (rng.f64() - 0.3) * 100.0,
            };
            b.add_sample(id, t, v);
        }
    }
}
