#!/usr/bin/env python3
"""Compares two /api/v1/query_range answers: the same series (by labels)
with the same timestamps and values equal within a relative 1e-9 (the two
engines may sum in different orders). Prints one line: "equal (N series,
M points)" or the first difference. Points before FROM (Unix seconds) are
not compared.

usage: same_json.py a.json b.json [FROM]
"""
import json
import math
import sys


def load(path):
    with open(path) as f:
        d = json.load(f)
    if d.get("status") != "success":
        sys.exit(f"{path}: status {d.get('status')}: {d.get('error')}")
    out = {}
    for s in d["data"]["result"]:
        values = [p for p in s["values"] if p[0] >= since]
        if values:
            out[tuple(sorted(s["metric"].items()))] = values
    return out


since = float(sys.argv[3]) if len(sys.argv) > 3 else float("-inf")


a, b = load(sys.argv[1]), load(sys.argv[2])
if a.keys() != b.keys():
    only_a = sorted(a.keys() - b.keys())[:3]
    only_b = sorted(b.keys() - a.keys())[:3]
    print(f"DIFFERENT series: {len(a)} vs {len(b)}; only in first {only_a}, only in second {only_b}")
    sys.exit(0)
points = 0
for k, va in a.items():
    vb = b[k]
    if [p[0] for p in va] != [p[0] for p in vb]:
        print(f"DIFFERENT timestamps for {dict(k)}: {len(va)} vs {len(vb)} points")
        sys.exit(0)
    for (t, x), (_, y) in zip(va, vb):
        fx, fy = float(x), float(y)
        same = x == y or (math.isnan(fx) and math.isnan(fy)) or math.isclose(fx, fy, rel_tol=1e-9, abs_tol=1e-12)
        if not same:
            print(f"DIFFERENT value for {dict(k)} at {t}: {x} vs {y}")
            sys.exit(0)
    points += len(va)
print(f"equal ({len(a)} series, {points} points)")
