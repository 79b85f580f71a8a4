#!/usr/bin/env python3
"""Writes a backfill input in OpenMetrics: counters, gauges, histograms and
summaries from a fleet of hosts, one sample per series every INTERVAL seconds
over HOURS hours. Deterministic for given arguments (fixed seed, fixed start).

usage: gen_openmetrics.py [HOSTS=12] [HOURS=24] [INTERVAL=60] > file.om

With the defaults: 1,116 series (93 per host), 1,440 samples each
(1.6 M samples), ~220 MB.
Series are grouped per family, then per label set, then by time, as the
OpenMetrics spec orders MetricPoints; a histogram or summary point writes all
its buckets/quantiles, _count and _sum at one timestamp.
"""
import random
import sys

hosts = int(sys.argv[1]) if len(sys.argv) > 1 else 12
hours = int(sys.argv[2]) if len(sys.argv) > 2 else 24
interval = int(sys.argv[3]) if len(sys.argv) > 3 else 60
start = 1_790_000_000  # 2026-09-21T14:13:20Z, a fixed start far from "now".
steps = hours * 3600 // interval
rnd = random.Random(42)
out = sys.stdout
w = out.write

instances = [f'instance="node-{h:03d}.dc{h % 3}.example.net:9100",job="node"' for h in range(hosts)]
times = [f"{start + i * interval}" for i in range(steps)]


def jitter_times():
    # Scrapes land a few ms off the interval, as real ones do.
    return [f"{start + i * interval}.{rnd.randrange(1000):03d}" for i in range(steps)]


def counter(name, help_, extra):
    """extra: list of label strings per instance (cardinality per host)."""
    w(f"# HELP {name} {help_}\n# TYPE {name} counter\n")
    for inst in instances:
        for e in extra:
            lbl = f"{{{e},{inst}}}" if e else f"{{{inst}}}"
            v = rnd.uniform(0, 1e6)
            rate = rnd.choice([0.0, 0.5, 3.0, 120.0, 5e4])
            for t in jitter_times():
                v += rnd.expovariate(1.0) * rate * interval if rate else 0.0
                w(f"{name}_total{lbl} {round(v, 3)} {t}\n")


def gauge(name, help_, extra, lo, hi, integer=False):
    w(f"# HELP {name} {help_}\n# TYPE {name} gauge\n")
    for inst in instances:
        for e in extra:
            lbl = f"{{{e},{inst}}}" if e else f"{{{inst}}}"
            v = rnd.uniform(lo, hi)
            for t in jitter_times():
                v = min(hi, max(lo, v + rnd.gauss(0, (hi - lo) / 100)))
                w(f"{name}{lbl} {int(v) if integer else repr(v)} {t}\n")


def histogram(name, help_, extra, bounds):
    w(f"# HELP {name} {help_}\n# TYPE {name} histogram\n")
    les = [repr(float(b)) for b in bounds] + ["+Inf"]
    for inst in instances:
        for e in extra:
            pre = f"{e},{inst}" if e else inst
            counts = [0] * len(les)
            total = 0.0
            for t in jitter_times():
                n = rnd.randrange(0, 200)
                for _ in range(n // 20 + 1):
                    x = rnd.lognormvariate(-3, 1.5)
                    total += x * 20
                    for i, b in enumerate(bounds):
                        if x <= b:
                            counts[i] += 20
                    counts[-1] += 20
                for le, c in zip(les, counts):
                    w(f'{name}_bucket{{{pre},le="{le}"}} {c} {t}\n')
                w(f"{name}_count{{{pre}}} {counts[-1]} {t}\n")
                w(f"{name}_sum{{{pre}}} {round(total, 6)} {t}\n")


def summary(name, help_, extra):
    w(f"# HELP {name} {help_}\n# TYPE {name} summary\n")
    for inst in instances:
        for e in extra:
            pre = f"{e},{inst}" if e else inst
            cnt, total = 0, 0.0
            for t in jitter_times():
                n = rnd.randrange(1, 50)
                cnt += n
                total += n * rnd.uniform(0.0001, 0.01)
                for q in ("0.5", "0.9", "0.99"):
                    w(f'{name}{{{pre},quantile="{q}"}} {rnd.uniform(0.0001, 0.02 * float(q))} {t}\n')
                w(f"{name}_count{{{pre}}} {cnt} {t}\n")
                w(f"{name}_sum{{{pre}}} {round(total, 6)} {t}\n")


cpus = [f'cpu="{c}",mode="{m}"' for c in range(4) for m in ("idle", "user", "system", "iowait")]
devs = [f'device="{d}"' for d in ("eth0", "eth1", "lo")]
disks = [f'device="{d}"' for d in ("sda", "sdb")]
fss = [f'device="/dev/sda{i}",fstype="ext4",mountpoint="{m}"' for i, m in enumerate(("/", "/var", "/home"))]
handlers = [f'code="{c}",handler="/api/v1/{h}",method="{m}"'
            for h in ("query", "query_range", "series") for m in ("GET", "POST") for c in ("200", "500")]

counter("node_cpu_seconds", "Seconds the CPUs spent in each mode.", cpus)
counter("node_network_receive_bytes", "Network device statistic receive_bytes.", devs)
counter("node_network_transmit_bytes", "Network device statistic transmit_bytes.", devs)
counter("node_disk_io_time_seconds", "Total seconds spent doing I/Os.", disks)
counter("http_requests", "Requests handled, by handler, method and code.", handlers)
gauge("node_load1", "1m load average.", [""], 0, 8)
gauge("node_memory_MemAvailable_bytes", "Memory information field MemAvailable_bytes.", [""], 1e9, 3e10, integer=True)
gauge("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.", fss, 1e9, 5e11, integer=True)
gauge("node_hwmon_temp_celsius", "Hardware monitor for temperature.", [f'chip="{c}",sensor="temp{s}"' for c in ("coretemp", "acpi") for s in (1, 2)], 30, 90)
gauge("process_open_fds", "Number of open file descriptors.", [""], 10, 2000, integer=True)
histogram("http_request_duration_seconds", "Request latency.", [f'handler="/api/v1/{h}"' for h in ("query", "query_range", "series")],
          [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
summary("go_gc_duration_seconds", "A summary of the pause duration of garbage collection cycles.", [""])
w("# EOF\n")
