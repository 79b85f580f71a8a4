#!/usr/bin/env python3
"""Writes the query benchmark's data in OpenMetrics: 10,000 series scraped
every 15 s for 6 h (1,440 samples each, 14.4 M samples), deterministic
(fixed seed, fixed start aligned to 2 h so the data makes exactly three 2 h
blocks).

* 9,000 counter series `http_requests_total{job,instance,method,code}`:
  300 instances in 3 jobs, 5 methods x 6 codes each;
* 1,000 classic-histogram bucket series
  `http_request_duration_seconds_bucket{job,instance,le}`: 100 instances,
  10 buckets each (9 bounds and +Inf). Only the buckets are written, so the
  series count stays at 10,000.

Scrape timestamps are the 15 s grid plus 1-9 ms of jitter, as real scrapes
land a little late. Never 0 ms: a sample exactly on a range's left edge is
inside the range for Prometheus 2.x and outside for 3.x (left-open ranges),
and the benchmark compares answers with 2.42. usage: gen_openmetrics.py > file.om
"""
import random
import sys

START = 1_789_999_200  # 2026-09-21T14:00:00Z: a multiple of 2 h, far from "now".
INTERVAL = 15
STEPS = 6 * 3600 // INTERVAL
JOBS = ("api", "web", "batch")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
CODES = ("200", "201", "304", "400", "404", "500")
BOUNDS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")

rnd = random.Random(7)
w = sys.stdout.write


def times():
    return [f"{START + i * INTERVAL}.{rnd.randrange(1, 10):03d}" for i in range(STEPS)]


w("# HELP http_requests Requests handled.\n# TYPE http_requests counter\n")
for i in range(300):
    inst = f'instance="app-{i:03d}.example.net:8080",job="{JOBS[i % 3]}"'
    for m in METHODS:
        for c in CODES:
            lbl = f'{{code="{c}",{inst},method="{m}"}}'
            base = rnd.choice((1, 5, 20, 100))
            v = rnd.randrange(1_000_000)
            lines = []
            for t in times():
                v += rnd.randrange(base * INTERVAL)
                lines.append(f"http_requests_total{lbl} {v} {t}\n")
            w("".join(lines))

w("# HELP http_request_duration_seconds Request latency.\n# TYPE http_request_duration_seconds histogram\n")
for i in range(100):
    inst = f'instance="app-{i:03d}.example.net:8080",job="{JOBS[i % 3]}"'
    counts = [0] * len(BOUNDS)
    lines = []
    for t in times():
        # New observations this scrape, spread over the buckets; buckets are
        # cumulative, so each count also adds to every bucket above it.
        add = 0
        for b in range(len(BOUNDS)):
            add += rnd.randrange(30)
            counts[b] += add
        for b, le in enumerate(BOUNDS):
            lines.append(f'http_request_duration_seconds_bucket{{{inst},le="{le}"}} {counts[b]} {t}\n')
    w("".join(lines))
w("# EOF\n")
