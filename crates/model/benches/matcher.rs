//! Label-matcher cost per value.
//!
//! `regex_matchers`: the regex matchers a dashboard typically sends (`.*`,
//! `.+`, a literal, a set of literals, a prefix, a `(?i)` pattern, a class
//! pattern and a `.*substring.*`), each tried on a handful of realistic
//! label values — the work done per series when a selector is evaluated.
//!
//! `compile_matchers`: building those matchers, done once per query.
//!
//! Run: `cargo bench -p model --bench matcher -- --warm-up-time 1 --measurement-time 3`

// criterion's macros generate undocumented public items.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use model::{MatchType, Matcher};

const PATTERNS: &[&str] = &[
    ".*",
    ".+",
    "node",
    "node|prometheus|alertmanager",
    "kube-state-.*",
    "(?i)NODE.*",
    r"[a-z]+-\d+",
    ".*exporter.*",
    "api_(.+)_total",
];

const VALUES: &[&str] = &[
    "",
    "node",
    "prometheus",
    "kube-state-metrics",
    "node-exporter",
    "web-42",
    "api_http_requests_total",
    "a-much-longer-value-that-matches-nothing-in-particular-0123456789",
];

/// Every matcher on every value; not inlined, so that an instruction
/// profiler can count calls.
#[inline(never)]
fn match_all(matchers: &[Matcher]) -> usize {
    let mut n = 0usize;
    for m in matchers {
        for v in VALUES {
            n += usize::from(m.matches(black_box(v)));
        }
    }
    n
}

/// Compiles every pattern; not inlined, as `match_all`.
#[inline(never)]
fn compile_all() -> usize {
    PATTERNS
        .iter()
        .filter(|p| Matcher::new(MatchType::Regex, "job", black_box(**p)).is_ok())
        .count()
}

fn bench(c: &mut Criterion) {
    let matchers: Vec<Matcher> = PATTERNS
        .iter()
        .map(|p| Matcher::new(MatchType::Regex, "job", *p).expect("bench pattern compiles"))
        .collect();
    c.bench_function("regex_matchers", |b| b.iter(|| match_all(&matchers)));
    c.bench_function("compile_matchers", |b| b.iter(compile_all));
}

criterion_group!(benches, bench);
criterion_main!(benches);
