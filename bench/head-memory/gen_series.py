#!/usr/bin/env python3
"""Writes N series in the Prometheus text format, shaped like real targets:
a few hundred metric names, each with job/instance-like labels and 2-4
more labels of moderate cardinality. Deterministic for a given N."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
out = sys.stdout
metrics = [f"app_component_{i}_requests_total" for i in range(200)]
per_metric = n // len(metrics)
for mi, m in enumerate(metrics):
    out.write(f"# HELP {m} Requests handled by component {mi}.\n# TYPE {m} counter\n")
    for j in range(per_metric):
        pod = j // 50
        out.write(
            f'{m}{{namespace="ns-{pod % 40}",pod="pod-{pod}-{(pod * 7919) % 100000:05d}",'
            f'handler="/api/v1/h{j % 50}",code="{200 + (j % 5)}"}} {j * 3 + mi}\n'
        )
