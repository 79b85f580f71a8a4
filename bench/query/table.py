#!/usr/bin/env python3
"""A markdown table of one session of run.sh: per query, the medians of
pharos and Prometheus (wall time of the warm server, peak RSS of a fresh
server answering the one query) and their ratios, min-max in brackets.

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


def vals(tool, key, scale=1.0):
    return sorted(float(r[key]) / scale for r in runs[tool])


def cell(v, fmt):
    return f"{statistics.median(v):{fmt}} [{v[0]:{fmt}}–{v[-1]:{fmt}}]"


print("| query | pharos wall s | Prometheus wall s | time ratio | pharos peak RSS MiB | Prometheus (fresh) peak RSS MiB | memory ratio |")
print("|---|---|---|---|---|---|---|")
for n, q in names.items():
    p, r, f = f"pharos-{n}", f"prometheus-{n}", f"prometheus-fresh-{n}"
    if p not in runs or r not in runs:
        continue
    pw, rw = vals(p, "wall_s"), vals(r, "wall_s")
    pm = vals(p, "max_rss_kb", 1024)
    rm = vals(f, "max_rss_kb", 1024) if f in runs else vals(r, "max_rss_kb", 1024)
    tr = statistics.median(pw) / statistics.median(rw)
    mr = statistics.median(pm) / statistics.median(rm)
    print(f"| `{q}` | {cell(pw, '.2f')} | {cell(rw, '.2f')} | {tr:.2f} | {cell(pm, '.0f')} | {cell(rm, '.0f')} | {mr:.2f} |")
