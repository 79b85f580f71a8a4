//! XOR chunk append and iteration, per 120-sample chunk (the head's chunk
//! size), on data shaped like real scrapes: a 15 s interval with a few
//! milliseconds of jitter, counters that grow by small integers and gauges
//! with fractional values. Divide the reported time by 120 for ns/sample.

use criterion::{black_box, Criterion, Throughput};
use tsdb::chunkenc::{XorChunk, XorIter};

const SAMPLES: usize = 120;

/// Small deterministic generator so runs compare (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn timestamps(rng: &mut Rng) -> Vec<i64> {
    let mut t = 1_700_000_000_000i64;
    (0..SAMPLES)
        .map(|_| {
            t += 15_000;
            t + rng.below(11) as i64 - 5
        })
        .collect()
}

/// An HTTP request counter: +0..50 per scrape, sometimes unchanged.
fn counter(rng: &mut Rng) -> Vec<(i64, f64)> {
    let mut v = 123_456.0;
    timestamps(rng)
        .into_iter()
        .map(|t| {
            if rng.below(4) != 0 {
                v += rng.below(50) as f64;
            }
            (t, v)
        })
        .collect()
}

/// A gauge such as memory in use or a temperature: a random walk with
/// fractional values.
fn gauge(rng: &mut Rng) -> Vec<(i64, f64)> {
    let mut v = 512.0 * 1024.0 * 1024.0;
    timestamps(rng)
        .into_iter()
        .map(|t| {
            v += (rng.below(2_000_001) as f64 - 1_000_000.0) / 7.0;
            (t, v)
        })
        .collect()
}

fn encode(samples: &[(i64, f64)]) -> XorChunk {
    let mut c = XorChunk::new();
    for &(t, v) in samples {
        c.append(t, v);
    }
    c
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let data = [("counter", counter(&mut rng)), ("gauge", gauge(&mut rng))];

    let mut g = c.benchmark_group("xor_append_120");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    for (name, samples) in &data {
        g.bench_function(*name, |b| b.iter(|| encode(black_box(samples))));
    }
    g.finish();

    let mut g = c.benchmark_group("xor_iterate_120");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    for (name, samples) in &data {
        let chunk = encode(samples);
        let bytes = chunk.bytes().to_vec();
        eprintln!(
            "{name}: {} bytes for {SAMPLES} samples ({:.2} bytes/sample)",
            bytes.len(),
            bytes.len() as f64 / SAMPLES as f64
        );
        g.bench_function(*name, |b| {
            b.iter(|| {
                let mut sum = 0.0;
                let mut last = 0;
                if let Ok(it) = XorIter::new(black_box(&bytes)) {
                    for (t, v) in it {
                        sum += v;
                        last = t;
                    }
                }
                (sum, last)
            })
        });
    }
    g.finish();
}

// What criterion_group!/criterion_main! expand to, written out because the
// macros generate an undocumented pub fn that the workspace lints reject.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
