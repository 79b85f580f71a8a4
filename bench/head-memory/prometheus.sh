#!/usr/bin/env bash
# Memory per active series in Prometheus: serve N series from a static file,
# let Prometheus scrape it twice, and read its resident memory and head
# series count. Prints: series, RSS bytes, RSS of an idle Prometheus, bytes
# per series.
set -euo pipefail
n=${1:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 "$here/gen_series.py" "$n" > "$work/metrics"
port_http=19081 port_prom=19090
(cd "$work" && python3 -m http.server "$port_http" --bind 127.0.0.1 >/dev/null 2>&1) &
cat > "$work/prometheus.yml" <<YML
global: {scrape_interval: 30s, scrape_timeout: 25s}
scrape_configs:
  - job_name: big
    metrics_path: /metrics
    static_configs: [{targets: ["127.0.0.1:$port_http"]}]
YML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address=127.0.0.1:$port_prom --log.level=warn >/dev/null 2>&1 &
pid=$!
sleep 3
idle=$(awk '/VmRSS/ {printf "%.0f\n", $2*1024}' /proc/$pid/status)
# Prometheus's own metrics, read from its /metrics (it does not scrape itself here).
q() { curl -s "http://127.0.0.1:$port_prom/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 {s += $2} END {printf "%.0f\n", s}'; }
for _ in $(seq 1 120); do
  s=$(q 'prometheus_tsdb_head_samples_appended_total')
  [[ ${s:-0} -ge $((2 * n)) ]] && break
  sleep 5
done
sleep 5
series=$(q 'prometheus_tsdb_head_series')
rss=$(awk '/VmRSS/ {printf "%.0f\n", $2*1024}' /proc/$pid/status)
heap=$(q 'go_memstats_heap_inuse_bytes')
echo "series=$series rss=$rss idle_rss=$idle heap_inuse=$heap bytes_per_series=$(( (rss - idle) / series ))"
