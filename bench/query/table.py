#!/usr/bin/env python3
"""A markdown table of one session of run.sh: per query, the medians of
pharos and Prometheus (wall time, peak RSS) and their ratios.

usage: table.py session.txt
"""
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
names = {}
for line in open(sys.argv[1]):
    if line.startswith("# q") and ": " in line:
        n, q = line[2:].split(": ", 1)
        names[n] = q.strip()
    if not line.startswith("tool="):
        continue
    f = dict(x.split("=", 1) for x in line.split() if "=" in x)
    runs[f["tool"]].append(f)


def med(tool, key):
    return statistics.median(float(r[key]) for r in runs[tool])


print("| query | pharos wall s | Prometheus wall s | time ratio | pharos peak RSS MiB | Prometheus peak RSS MiB | memory ratio |")
print("|---|---|---|---|---|---|---|")
for n, q in names.items():
    p, r = f"pharos-{n}", f"prometheus-{n}"
    if p not in runs or r not in runs:
        continue
    pw, rw = med(p, "wall_s"), med(r, "wall_s")
    pm, rm = med(p, "max_rss_kb") / 1024, med(r, "max_rss_kb") / 1024
    print(f"| `{q}` | {pw:.2f} | {rw:.2f} | {pw / rw:.2f} | {pm:.0f} | {rm:.0f} | {pm / rm:.2f} |")
