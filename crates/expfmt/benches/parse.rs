//! Parser throughput on a ~1 MB node_exporter-like scrape.
//!
//! The payload is generated deterministically: the families node_exporter
//! 1.x exposes on a big host (64 CPUs, 40 filesystems, 32 network devices,
//! 24 disks), Go runtime gauges, a GC summary and request-duration
//! histograms, with HELP/TYPE lines and values of mixed magnitudes
//! (integers, `460.07`-style decimals, `1.6e+10`-style floats).
//!
//! Each iteration walks every entry and, for series, every label, the value
//! and the timestamp — the work a scrape loop does on a cache miss.
//!
//! Run: `cargo bench -p expfmt --bench parse -- --warm-up-time 1 --measurement-time 3`

// criterion's macros generate undocumented public items.
#![allow(missing_docs)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use expfmt::{Entry, OpenMetricsParser, ParseError, TextParser};

/// A small deterministic generator (64-bit LCG), so the payload is the same
/// on every run without a dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// A value of the kind node_exporter prints, picked by `kind`.
    fn value(&mut self, kind: u8) -> String {
        match kind {
            // Counters of seconds: 460.07
            0 => format!("{}", (self.next() % 10_000_000) as f64 / 100.0),
            // Byte counters: 1.6482816e+10
            1 => format!("{:e}", (self.next() % 100_000_000_000) as f64).replace('e', "e+"),
            // Small integers.
            2 => format!("{}", self.next() % 1000),
            // Ratios and durations: 3.2561e-05 or 0.000124
            _ => format!("{}", (self.next() % 1_000_000) as f64 / 1e9),
        }
    }
}

fn family(out: &mut String, name: &str, help: &str, t: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {t}");
}

fn node_exporter_payload(target: usize) -> String {
    let mut r = Lcg(42);
    let mut out = String::with_capacity(target + 64 * 1024);
    let modes = [
        "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
    ];
    let mut round = 0;
    while out.len() < target {
        round += 1;
        family(&mut out, "go_gc_duration_seconds", "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.", "summary");
        for q in ["0", "0.25", "0.5", "0.75", "1"] {
            let v = r.value(3);
            let _ = writeln!(out, "go_gc_duration_seconds{{quantile=\"{q}\"}} {v}");
        }
        let _ = writeln!(out, "go_gc_duration_seconds_sum {}", r.value(0));
        let _ = writeln!(out, "go_gc_duration_seconds_count {}", r.value(2));
        for g in [
            "go_goroutines",
            "go_threads",
            "go_memstats_alloc_bytes",
            "go_memstats_heap_inuse_bytes",
        ] {
            family(
                &mut out,
                g,
                "Number of bytes allocated in heap and currently in use.",
                "gauge",
            );
            let _ = writeln!(out, "{g} {}", r.value(1));
        }
        family(
            &mut out,
            "node_cpu_seconds_total",
            "Seconds the CPUs spent in each mode.",
            "counter",
        );
        for cpu in 0..64 {
            for mode in modes {
                let _ = writeln!(
                    out,
                    "node_cpu_seconds_total{{cpu=\"{cpu}\",mode=\"{mode}\"}} {}",
                    r.value(0)
                );
            }
        }
        for (name, kind) in [
            ("avail_bytes", 1),
            ("free_bytes", 1),
            ("size_bytes", 1),
            ("files", 2),
            ("files_free", 2),
            ("readonly", 2),
            ("device_error", 2),
        ] {
            family(
                &mut out,
                &format!("node_filesystem_{name}"),
                "Filesystem space available to non-root users in bytes.",
                "gauge",
            );
            for fs in 0..40 {
                let (device, fstype, mp) = match fs % 4 {
                    0 => (
                        format!("/dev/nvme0n1p{fs}"),
                        "ext4",
                        format!("/var/lib/kubelet/pods/{fs:08x}-a1b2/volumes"),
                    ),
                    1 => ("tmpfs".to_owned(), "tmpfs", format!("/run/user/{fs}")),
                    2 => (
                        format!("/dev/mapper/vg-lv{fs}"),
                        "xfs",
                        format!("/srv/data{fs}"),
                    ),
                    _ => (
                        "overlay".to_owned(),
                        "overlay",
                        format!("/var/lib/docker/overlay2/{fs:016x}/merged"),
                    ),
                };
                let _ = writeln!(out, "node_filesystem_{name}{{device=\"{device}\",device_error=\"\",fstype=\"{fstype}\",mountpoint=\"{mp}\"}} {}", r.value(kind));
            }
        }
        for name in [
            "receive_bytes_total",
            "receive_packets_total",
            "receive_errs_total",
            "receive_drop_total",
            "transmit_bytes_total",
            "transmit_packets_total",
            "transmit_errs_total",
            "transmit_drop_total",
        ] {
            family(
                &mut out,
                &format!("node_network_{name}"),
                "Network device statistic receive_bytes.",
                "counter",
            );
            for dev in 0..32 {
                let device = match dev % 3 {
                    0 => format!("eth{dev}"),
                    1 => format!("veth{dev:x}a9f"),
                    _ => format!("cali{dev:010x}"),
                };
                let _ = writeln!(
                    out,
                    "node_network_{name}{{device=\"{device}\"}} {}",
                    r.value(1)
                );
            }
        }
        for name in [
            "reads_completed_total",
            "read_bytes_total",
            "writes_completed_total",
            "written_bytes_total",
            "io_time_seconds_total",
            "read_time_seconds_total",
        ] {
            family(
                &mut out,
                &format!("node_disk_{name}"),
                "The total number of reads completed successfully.",
                "counter",
            );
            for dev in 0..24 {
                let _ = writeln!(
                    out,
                    "node_disk_{name}{{device=\"sd{}\"}} {}",
                    (b'a' + dev as u8) as char,
                    r.value(dev as u8 % 4)
                );
            }
        }
        family(
            &mut out,
            "http_request_duration_seconds",
            "A histogram of request latencies.",
            "histogram",
        );
        for handler in [
            "/metrics",
            "/api/v1/query",
            "/api/v1/query_range",
            "/api/v1/series",
        ] {
            for code in ["200", "400", "500"] {
                let mut count = 0;
                for le in [
                    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
                    "+Inf",
                ] {
                    count += r.next() % 50;
                    let _ = writeln!(out, "http_request_duration_seconds_bucket{{code=\"{code}\",handler=\"{handler}\",le=\"{le}\"}} {count}");
                }
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_sum{{code=\"{code}\",handler=\"{handler}\"}} {}",
                    r.value(0)
                );
                let _ = writeln!(out, "http_request_duration_seconds_count{{code=\"{code}\",handler=\"{handler}\"}} {count}");
            }
        }
        family(
            &mut out,
            "node_scrape_collector_duration_seconds",
            "node_exporter: Duration of a collector scrape.",
            "gauge",
        );
        for c in [
            "arp",
            "bcache",
            "bonding",
            "btrfs",
            "conntrack",
            "cpu",
            "cpufreq",
            "diskstats",
            "dmi",
            "edac",
            "entropy",
            "fibrechannel",
            "filefd",
            "filesystem",
            "hwmon",
            "infiniband",
            "ipvs",
            "loadavg",
            "mdadm",
            "meminfo",
            "netclass",
            "netdev",
            "netstat",
            "nfs",
            "nfsd",
            "nvme",
            "os",
            "powersupplyclass",
            "pressure",
            "rapl",
            "schedstat",
            "selinux",
            "sockstat",
            "softnet",
            "stat",
            "tapestats",
            "textfile",
            "thermal_zone",
            "time",
            "timex",
            "udp_queues",
            "uname",
            "vmstat",
            "xfs",
            "zfs",
        ] {
            let _ = writeln!(
                out,
                "node_scrape_collector_duration_seconds{{collector=\"{c}\"}} {}",
                r.value(3)
            );
        }
        let _ = writeln!(
            out,
            "node_boot_time_seconds{{round=\"{round}\"}} 1.700000123e+09"
        );
    }
    out
}

/// What a scrape loop does with every entry; returns a checksum so nothing
/// is optimised away, and the number of samples.
fn walk<'a>(entries: impl Iterator<Item = Result<Entry<'a>, ParseError>>) -> (usize, usize) {
    let mut sum = 0usize;
    let mut samples = 0usize;
    for e in entries {
        match e {
            Ok(Entry::Series(s)) => {
                samples += 1;
                sum = sum.wrapping_add(s.raw().len());
                for l in s.labels() {
                    sum = sum.wrapping_add(l.name.len() + l.value.len());
                }
                sum = sum.wrapping_add(s.value().to_bits() as usize);
                sum = sum.wrapping_add(s.timestamp().unwrap_or(0) as usize);
            }
            Ok(Entry::Help { help, .. }) => sum = sum.wrapping_add(help.len()),
            Ok(_) => sum = sum.wrapping_add(1),
            Err(e) => panic!("BUG: benchmark payload does not parse: {e}"),
        }
    }
    (sum, samples)
}

/// A scrape-cache hit: the raw series text, value and timestamp, labels
/// left unread.
fn walk_cached<'a>(entries: impl Iterator<Item = Result<Entry<'a>, ParseError>>) -> usize {
    let mut sum = 0usize;
    for e in entries {
        if let Ok(Entry::Series(s)) = e {
            sum = sum.wrapping_add(s.raw().len());
            sum = sum.wrapping_add(s.value().to_bits() as usize);
            sum = sum.wrapping_add(s.timestamp().unwrap_or(0) as usize);
        }
    }
    sum
}

fn bench_parse(c: &mut Criterion) {
    let text = node_exporter_payload(1 << 20);
    let families = expfmt::decode_text(text.as_bytes()).expect("BUG: payload must parse");
    let mut om = Vec::new();
    expfmt::encode_openmetrics(&mut om, &families);
    let (_, samples) = walk(TextParser::new(text.as_bytes()));
    eprintln!(
        "payload: text {} bytes, openmetrics {} bytes, {samples} samples",
        text.len(),
        om.len()
    );

    let mut g = c.benchmark_group("parse_bytes");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("text", |b| {
        b.iter(|| walk(TextParser::new(black_box(text.as_bytes()))))
    });
    g.bench_function("text_cache_hit", |b| {
        b.iter(|| walk_cached(TextParser::new(black_box(text.as_bytes()))))
    });
    g.throughput(Throughput::Bytes(om.len() as u64));
    g.bench_function("openmetrics", |b| {
        b.iter(|| walk(OpenMetricsParser::new(black_box(&om))))
    });
    g.finish();

    let mut g = c.benchmark_group("parse_samples");
    g.throughput(Throughput::Elements(samples as u64));
    g.bench_function("text", |b| {
        b.iter(|| walk(TextParser::new(black_box(text.as_bytes()))))
    });
    g.bench_function("openmetrics", |b| {
        b.iter(|| walk(OpenMetricsParser::new(black_box(&om))))
    });
    g.finish();

    let mut g = c.benchmark_group("encode_bytes");
    g.throughput(Throughput::Bytes(text.len() as u64));
    let mut buf = Vec::with_capacity(text.len() * 2);
    g.bench_function("text", |b| {
        b.iter(|| {
            buf.clear();
            expfmt::encode_text(&mut buf, black_box(&families));
            buf.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
