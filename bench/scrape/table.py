#!/usr/bin/env python3
"""Markdown table of one run.sh window: pharos against Prometheus."""
import os
import statistics
import sys

TICK = os.sysconf("SC_CLK_TCK")
rows = {}
for line in open(sys.argv[1]):
    if not line.startswith("tool="):
        continue
    kv = dict(f.split("=", 1) for f in line.split())
    rows[kv["tool"]] = kv


def fig(kv):
    rss = [int(x) / 1024 for x in kv["rss_kb"].split(",") if x]
    cpu = int(kv["cpu_ticks"]) / TICK
    samples = int(kv["samples_served"])
    return {
        "cpu": cpu,
        "cpu_per_m": cpu / (samples / 1e6) if samples else float("nan"),
        "samples": samples,
        "rss_med": statistics.median(rss),
        "rss_max": max(rss),
        "hwm": int(kv["hwm_kb"]) / 1024,
        "series": kv["head_series"],
    }


p, r = fig(rows["pharos"]), fig(rows["prometheus"])
print(f"window {float(rows['pharos']['window_s']):.0f} s; samples = series served by the target server in the window")
print("| | pharos | Prometheus 2.42 | ratio |")
print("|---|---|---|---|")
print(f"| samples scraped in window | {p['samples']:,} | {r['samples']:,} | {p['samples'] / r['samples']:.3f} |")
for key, label, unit in [
    ("cpu", "CPU (user+sys)", "s"),
    ("cpu_per_m", "CPU per 1M samples", "s"),
    ("rss_med", "RSS median", "MiB"),
    ("rss_max", "RSS max", "MiB"),
    ("hwm", "VmHWM (peak RSS since start)", "MiB"),
]:
    print(f"| {label} | {p[key]:.2f} {unit} | {r[key]:.2f} {unit} | **{p[key] / r[key]:.2f}** |")
print(f"| head series at end | {p['series']} | {r['series']} | |")
if "prometheus-selfcount" in rows:
    print(f"| Prometheus's own samples_appended in window | | {int(rows['prometheus-selfcount']['samples_appended']):,} | |")
