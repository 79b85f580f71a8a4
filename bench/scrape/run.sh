#!/usr/bin/env bash
# Scrape TARGETS targets x SERIES series at INTERVAL with pharos and Prometheus
# running at the same time against the same target server; measure each
# process's CPU time and RSS over a fixed window after a warm-up.
# Raw lines and a markdown table go to results-<date>.txt.
#
# usage: run.sh [INTERVAL=15s] [WARMUP_S=120] [MEASURE_S=180]
# env:   TARGETS=1000 SERIES=1000 FIRST_PORT=20000 SAMPLE_EVERY_S=5
# Needs: cargo build --release -p pharos
#        cargo build --release -p scrape --example target_server
set -euo pipefail
interval=${1:-15s}
warmup=${2:-120}
measure=${3:-180}
targets=${TARGETS:-1000}
series=${SERIES:-1000}
first_port=${FIRST_PORT:-20000}
every=${SAMPLE_EVERY_S:-5}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${CARGO_TARGET_DIR:-$root/target}/release
out="$here/results-$(date -u +%Y-%m-%d).txt"
work=$(mktemp -d)
stats_port=19999 prom_port=19090 pharos_port=19091
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Prometheus refuses a timeout above the interval.
secs=${interval%s}
timeout=$(( secs < 10 ? secs : 10 ))s
{
  echo "global: {scrape_interval: $interval, scrape_timeout: $timeout}"
  echo "scrape_configs:"
  echo "- job_name: bench"
  echo "  static_configs:"
  echo "  - targets:"
  for i in $(seq 0 $((targets - 1))); do echo "    - 127.0.0.1:$((first_port + i))"; done
} > "$work/prometheus.yml"

"$bin/examples/target_server" "$first_port" "$targets" "$series" "$stats_port" 2> "$work/targets.log" &
pids+=($!)
sleep 2
mkdir -p "$work/prom-data" "$work/pharos-data"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom-data" \
  --web.listen-address=127.0.0.1:$prom_port > "$work/prometheus.log" 2>&1 &
prom=$!; pids+=($prom)
"$bin/pharos" server --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/pharos-data" \
  --web.listen-address=127.0.0.1:$pharos_port > "$work/pharos.log" 2>&1 &
ph=$!; pids+=($ph)

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime+stime, clock ticks
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
served() { curl -s "127.0.0.1:$stats_port/" | awk -v a="$1" 'index($0, a) {sub("series=", "", $NF); print $NF}'; }
appended() { curl -s "127.0.0.1:$prom_port/metrics" | awk '$1 == "prometheus_tsdb_head_samples_appended_total" || $1 ~ /^prometheus_tsdb_head_samples_appended_total\{type="float"\}/ {s += $2} END {printf "%d", s}'; }
metric() { curl -s "127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m {printf "%d", $2}'; }

sleep "$warmup"
for p in $prom $ph; do kill -0 "$p" || { echo "a scraper died during warm-up" >&2; tail "$work"/*.log >&2; exit 1; }; done
c0_prom=$(cpu $prom) c0_ph=$(cpu $ph)
s0_prom=$(served Prometheus/) s0_ph=$(served pharos/)
a0_prom=$(appended)
t0=$(date +%s.%N)
rss_prom=() rss_ph=()
end=$(( $(date +%s) + measure ))
while [ "$(date +%s)" -lt "$end" ]; do
  rss_prom+=("$(kb $prom VmRSS)"); rss_ph+=("$(kb $ph VmRSS)")
  sleep "$every"
done
c1_prom=$(cpu $prom) c1_ph=$(cpu $ph)
s1_prom=$(served Prometheus/) s1_ph=$(served pharos/)
a1_prom=$(appended)
t1=$(date +%s.%N)
hwm_prom=$(kb $prom VmHWM) hwm_ph=$(kb $ph VmHWM)
hs_prom=$(metric $prom_port prometheus_tsdb_head_series) hs_ph=$(metric $pharos_port prometheus_tsdb_head_series)
errs_prom=$(grep -ci 'level=error\|level=warn' "$work/prometheus.log" || true)
errs_ph=$(grep -ci 'level=error\|level=warn\|ERROR\|WARN' "$work/pharos.log" || true)

{
  echo "# scrape $(date -u +%FT%TZ) interval=$interval timeout=$timeout targets=$targets series=$series warmup_s=$warmup measure_s=$measure host=$(hostname) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# prometheus: $(prometheus --version 2>&1 | head -1); pharos: $(git -C "$root" rev-parse --short HEAD); both running at the same time"
  for t in prometheus pharos; do
    if [ $t = prometheus ]; then c0=$c0_prom c1=$c1_prom s0=$s0_prom s1=$s1_prom hwm=$hwm_prom hs=$hs_prom errs=$errs_prom rss="${rss_prom[*]}"
    else c0=$c0_ph c1=$c1_ph s0=$s0_ph s1=$s1_ph hwm=$hwm_ph hs=$hs_ph errs=$errs_ph rss="${rss_ph[*]}"; fi
    echo "tool=$t window_s=$(echo "$t1 - $t0" | bc) cpu_ticks=$((c1 - c0)) samples_served=$((s1 - s0)) hwm_kb=$hwm head_series=$hs log_warn_error_lines=$errs rss_kb=${rss// /,}"
  done
  echo "tool=prometheus-selfcount samples_appended=$((a1_prom - a0_prom))"
} | tee -a "$out" > "$work/raw.txt"
cat "$work/raw.txt"
python3 "$here/table.py" "$work/raw.txt" | tee -a "$out"
echo "--- pharos log (last 5 lines) ---"; tail -5 "$work/pharos.log"
echo "--- prometheus log warnings/errors (first 5) ---"; grep -i 'level=error\|level=warn' "$work/prometheus.log" | head -5 || true
