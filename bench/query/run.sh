#!/usr/bin/env bash
# Range queries side by side: Prometheus 2.42 (HTTP API) and
# `pharos tsdb query` over the same blocks: 10,000 series, 6 h at 15 s
# (see gen_openmetrics.py), each query over the whole 6 h at step 15 s
# (1,441 steps).
#
# Per run and query:
# * pharos: a fresh `pharos tsdb query` process (opens the blocks, runs the
#   engine, writes the API's JSON to /dev/null): wall seconds, CPU seconds
#   and max RSS from /usr/bin/time.
# * Prometheus: one server started before all runs on a copy of the blocks
#   (empty scrape config, loopback, compaction off so the blocks stay the
#   same), one warm-up request per query, then `curl` of
#   /api/v1/query_range timed by /usr/bin/time (wall seconds). Its memory is
#   the server's peak RSS while answering: the kernel's peak (VmHWM) is reset
#   before each request (`echo 5 > /proc/PID/clear_refs`) and read after it;
#   `prom_rss_before_kb` is the RSS just before the request. Its CPU seconds
#   are the server's utime+stime delta over the request. A Go server keeps
#   the heap of earlier requests (~2-3 GB here), so this peak says more
#   about the server than about the query; hence also:
# * Prometheus, fresh (tool `prometheus-fresh-qN`): per query and run, a new
#   server on the same blocks, ready and idle for 2 s (`idle_rss_kb`), then
#   the one request; `max_rss_kb` is its whole-process peak RSS (VmHWM) —
#   like pharos's figure, the peak of a new process answering one query.
#   The table's memory columns use this figure.
# Both read their data from the page cache (warm), and both write the same
# JSON. Compared: once per query, the two answers must be equal as JSON,
# values as numbers with a relative tolerance of 1e-9, from 36 minutes after
# the start on. Before that, windows reach back to the first scrape, where
# Prometheus 3.x (which pharos follows) extrapolates `rate` differently from
# 2.x. The start is 7 s off the 15 s and 1 m grids so that no range edge
# falls exactly on a sample or subquery step, where 2.x's closed ranges and
# 3.x's left-open ones differ.
#
# usage: run.sh [REPS=5]   (env: PHAROS=path to the pharos binary,
#                           WORK=scratch dir, default ./work, PORT=19099)
set -euo pipefail
reps=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pharos=${PHAROS:-$root/target/release/pharos}
work=${WORK:-$here/work}
port=${PORT:-19099}
out="$here/results-$(date -u +%Y-%m-%d).txt"
mkdir -p "$work"
# 7 s after the generator's first scrape: no range edge meets a scrape or
# a subquery step (see "Compared" below).
start=1789999207
end=$((start + 6 * 3600))
step=15

# Data: generated once, turned into blocks by pharos, copied for Prometheus.
[[ -s $work/input.om ]] || python3 "$here/gen_openmetrics.py" > "$work/input.om"
if [[ ! -d $work/data ]]; then
  "$pharos" tsdb create-blocks-from openmetrics "$work/input.om" "$work/data.tmp"
  mv "$work/data.tmp" "$work/data"
fi
rm -rf "$work/prom"
mkdir -p "$work/prom"
cp -r "$work/data"/01* "$work/prom/"
printf 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' > "$work/prometheus.yml"

start_prometheus() { # sets $prom
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom" \
    --storage.tsdb.retention.time=100y --storage.tsdb.max-block-duration=2h \
    --web.listen-address="127.0.0.1:$port" >> "$work/prometheus.log" 2>&1 &
  prom=$!
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$port/-/ready" > /dev/null && return
    sleep 0.2
  done
  echo "prometheus did not become ready" >&2
  exit 1
}
stop_prometheus() {
  kill "$prom" 2>/dev/null || true
  wait "$prom" 2>/dev/null || true
}
start_prometheus
trap 'kill $prom 2>/dev/null || true' EXIT

queries=(
  'rate(http_requests_total[5m])'
  'sum by (job, code) (rate(http_requests_total[5m]))'
  'histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))'
  'topk(5, rate(http_requests_total[5m]))'
  'max_over_time(rate(http_requests_total[5m])[30m:1m])'
)

touch "$out"
first=$(wc -l < "$out")
{
  echo "# query $(date -u +%FT%TZ) host=$(hostname) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# data $(du -sb "$work/data" | cut -f1) block bytes, $(find "$work/data" -name meta.json | wc -l) blocks; range $start..$end step ${step}s"
  echo "# prometheus: $(prometheus --version 2>&1 | head -1)"
  echo "# pharos: ${pharos#"$root/"} ($(git -C "$root" rev-parse --short HEAD))"
} | tee -a "$out"

prom_cpu_ticks() { awk '{print $14 + $15}' "/proc/$prom/stat"; }
prom_get() { # query output-file
  curl -sf -o "$2" -G --data-urlencode "query=$1" --data-urlencode "start=$start" \
    --data-urlencode "end=$end" --data-urlencode "step=$step" \
    "http://127.0.0.1:$port/api/v1/query_range"
}
tick=$(getconf CLK_TCK)

for qi in "${!queries[@]}"; do
  q=${queries[$qi]}
  n=$((qi + 1))
  echo "# q$n: $q" | tee -a "$out"
  # Warm-up, and the answers compared.
  prom_get "$q" "$work/prom.json"
  "$pharos" tsdb query --start "$start" --end "$end" --step "$step" "$work/data" "$q" > "$work/pharos.json"
  python3 "$here/same_json.py" "$work/prom.json" "$work/pharos.json" $((start + 36 * 60)) | sed 's/^/# answers: /' | tee -a "$out"
  rm -f "$work/prom.json" "$work/pharos.json"
  for i in $(seq 1 "$reps"); do
    /usr/bin/time -o "$work/time" -f "%e %U %S %M" \
      "$pharos" tsdb query --start "$start" --end "$end" --step "$step" "$work/data" "$q" > /dev/null
    read -r wall user sys rss < "$work/time"
    echo "tool=pharos-q$n run=$i wall_s=$wall cpu_s=$(echo "$user + $sys" | bc) max_rss_kb=$rss load1=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"

    echo 5 > "/proc/$prom/clear_refs"
    before=$(awk '/^VmRSS/ {print $2}' "/proc/$prom/status")
    c0=$(prom_cpu_ticks)
    /usr/bin/time -o "$work/time" -f "%e" curl -sf -o /dev/null -G --data-urlencode "query=$q" \
      --data-urlencode "start=$start" --data-urlencode "end=$end" --data-urlencode "step=$step" \
      "http://127.0.0.1:$port/api/v1/query_range"
    c1=$(prom_cpu_ticks)
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$prom/status")
    read -r wall < "$work/time"
    echo "tool=prometheus-q$n run=$i wall_s=$wall cpu_s=$(echo "scale=2; ($c1 - $c0) / $tick" | bc) max_rss_kb=$hwm prom_rss_before_kb=$before load1=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
  done
done
stop_prometheus

# Memory of a fresh Prometheus answering one query.
for qi in "${!queries[@]}"; do
  q=${queries[$qi]}
  n=$((qi + 1))
  for i in $(seq 1 "$reps"); do
    start_prometheus
    sleep 2
    idle=$(awk '/^VmRSS/ {print $2}' "/proc/$prom/status")
    /usr/bin/time -o "$work/time" -f "%e" curl -sf -o /dev/null -G --data-urlencode "query=$q" \
      --data-urlencode "start=$start" --data-urlencode "end=$end" --data-urlencode "step=$step" \
      "http://127.0.0.1:$port/api/v1/query_range"
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$prom/status")
    read -r wall < "$work/time"
    echo "tool=prometheus-fresh-q$n run=$i wall_s=$wall max_rss_kb=$hwm idle_rss_kb=$idle load1=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
    stop_prometheus
  done
done

tail -n +"$((first + 1))" "$out" > "$work/session.txt"
python3 "$here/../summarize.py" "$work/session.txt" | sed 's/^/# /' | tee -a "$out"
python3 "$here/table.py" "$work/session.txt" | sed 's/^/# /' | tee -a "$out"
