#!/usr/bin/env bash
# Runs the criterion benches of the text/OpenMetrics parsers and of the head
# append path REPS times each, pinned to one core (taskset -c 0), and keeps
# criterion's throughput estimates: one raw line per benchmark per run.
#
# - expfmt parse: ~1 MB node_exporter-like payload (crates/expfmt/benches/parse.rs);
#   parse_bytes/* in MiB/s, parse_samples/* in Melem/s.
# - tsdb head append: one "scrape" of 100k series per iteration, 1000-sample
#   commits, ref hints, WAL on (crates/tsdb/benches/head.rs, append/100k_series),
#   in Melem/s = million samples/s.
#
# usage: run.sh [REPS=5]
set -euo pipefail
reps=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/results-$(date -u +%Y-%m-%d).txt"
cd "$root"
cargo bench -p expfmt --bench parse --no-run >/dev/null 2>&1
cargo bench -p tsdb --bench head --no-run >/dev/null 2>&1
echo "# parse+append $(date -u +%FT%TZ) host=$(hostname) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) rev=$(git rev-parse --short HEAD) rustc=$(rustc --version | cut -d' ' -f2)" | tee -a "$out"

# criterion prints "<name>  time: [...]" then "thrpt: [lo est hi]"; keep the
# estimate, normalised to MiB/s or M elements/s.
extract() { # tool
  python3 -c '
import re, sys
tool = sys.argv[1]; run = sys.argv[2]; name = None
for line in sys.stdin:
    m = re.match(r"^(\S+/\S+)\s", line)
    if m: name = m.group(1)
    m = re.search(r"thrpt:\s+\[\S+ \S+ (\S+) (\S+) ", line)
    if m and name:
        v, u = float(m.group(1)), m.group(2)
        scale = {"GiB/s": 1024, "MiB/s": 1, "KiB/s": 1/1024, "Gelem/s": 1000, "Melem/s": 1, "Kelem/s": 1e-3}[u]
        unit = "MiB_per_s" if "B/s" in u else "M_per_s"
        print(f"tool={tool}:{name} run={run} {unit}={v*scale:.2f}")
' "$@"
}

for i in $(seq 1 "$reps"); do
  taskset -c 0 cargo bench -p expfmt --bench parse -- --warm-up-time 1 --measurement-time 3 parse_ 2>/dev/null \
    | extract expfmt "$i" | tee -a "$out"
  taskset -c 0 cargo bench -p tsdb --bench head -- --warm-up-time 1 --measurement-time 3 append/ 2>/dev/null \
    | extract tsdb "$i" | tee -a "$out"
done
python3 "$here/../summarize.py" "$out" | sed 's/^/# /' | tee -a "$out"
