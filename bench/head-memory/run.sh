#!/usr/bin/env bash
# Memory per active series, Prometheus against pharos, REPS runs each,
# alternating; raw lines go to results-<date>.txt, then a summary.
#
# usage: run.sh [N=1000000] [REPS=5]
# Needs: cargo build --release -p tsdb --example head_memory
set -euo pipefail
n=${1:-1000000}
reps=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ex=${HEAD_MEMORY:-$root/target/release/examples/head_memory}
out="$here/results-$(date -u +%Y-%m-%d).txt"
metrics=$(mktemp)
trap 'rm -f "$metrics" "$metrics.rs"' EXIT
python3 "$here/gen_series.py" "$n" > "$metrics"
# The pharos program generates the labels itself; check they are the same.
"$ex" "$n" --print > "$metrics.rs"
cmp -s "$metrics" "$metrics.rs" || { echo "head_memory --print differs from gen_series.py" >&2; exit 1; }
{
  echo "# head-memory $(date -u +%FT%TZ) n=$n host=$(hostname) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# input: gen_series.py $n, $(stat -c %s "$metrics") bytes; head_memory --print output identical"
  echo "# prometheus: $(prometheus --version 2>&1 | head -1)"
  echo "# pharos: $ex ($(git -C "$root" rev-parse --short HEAD))"
} | tee -a "$out"
for i in $(seq 1 "$reps"); do
  "$here/prometheus.sh" "$n" "$metrics" | sed "s/^tool=prometheus /tool=prometheus run=$i /" | tee -a "$out"
  "$ex" "$n" | grep -v '^stats=' | sed "s/^/tool=pharos run=$i /" | tee -a "$out"
  "$ex" "$n" --commit-every 1000 | grep -v '^stats=' | sed "s/^/tool=pharos-commit1000 run=$i /" | tee -a "$out"
done
echo "# last pharos Head::stats(): $("$ex" "$n" | grep '^stats=')" | tee -a "$out"
python3 "$here/../summarize.py" "$out" | sed 's/^/# /' | tee -a "$out"
