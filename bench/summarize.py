#!/usr/bin/env python3
"""Summarizes raw result lines of the bench scripts.

Every line that starts with `tool=` is a run: space-separated key=value
fields. Runs are grouped by tool; for every numeric field the median and the
min–max are printed. Other lines (comments, logs) are ignored.

usage: summarize.py results-<date>.txt
"""
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    if not line.startswith("tool="):
        continue
    fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
    runs[fields.pop("tool")].append(fields)

for tool, rs in runs.items():
    print(f"{tool}: {len(rs)} runs")
    for key in rs[0]:
        try:
            vals = sorted(float(r[key]) for r in rs if key in r)
        except ValueError:
            continue
        if key == "run":
            continue
        med = statistics.median(vals)
        print(f"  {key:28} median {med:>16.6g}   min {vals[0]:>14.6g}   max {vals[-1]:>14.6g}")
