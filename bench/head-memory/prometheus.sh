#!/usr/bin/env bash
# Memory per active series in Prometheus: serve N series from a static file,
# let Prometheus scrape it twice, and read its resident memory and head
# series count. Prints one result line: series, RSS after, RSS of the idle
# Prometheus (3 s after start, before the first scrape), Go heap in use and
# bytes per series = (RSS after - idle RSS) / series.
#
# usage: prometheus.sh [N=1000000] [metrics-file]   (the file is generated
# with gen_series.py N when not given)
set -euo pipefail
n=${1:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
if [[ -n ${2:-} ]]; then ln -s "$(realpath "$2")" "$work/metrics"; else python3 "$here/gen_series.py" "$n" > "$work/metrics"; fi
# Ports off the usual ones; override with PORT_HTTP/PORT_PROM.
port_http=${PORT_HTTP:-19181} port_prom=${PORT_PROM:-19190}
(cd "$work" && exec python3 -m http.server "$port_http" --bind 127.0.0.1 >/dev/null 2>&1) &
# The first scrape creates 1M series; on a loaded 2-core box that can take
# well over 10 s, hence the generous timeout.
cat > "$work/prometheus.yml" <<YML
global: {scrape_interval: 30s, scrape_timeout: 30s}
scrape_configs:
  - job_name: big
    metrics_path: /metrics
    static_configs: [{targets: ["127.0.0.1:$port_http"]}]
YML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address=127.0.0.1:$port_prom --log.level=warn >"$work/log" 2>&1 &
pid=$!
sleep 3
kill -0 "$pid" 2>/dev/null || { echo "prometheus exited:" >&2; cat "$work/log" >&2; exit 1; }
idle=$(awk '/VmRSS/ {printf "%.0f\n", $2*1024}' /proc/$pid/status)
# Prometheus's own metrics, read from its /metrics (it does not scrape itself here).
q() { curl -s "http://127.0.0.1:$port_prom/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 {s += $2} END {printf "%.0f\n", s}'; }
start=$(date +%s)
for _ in $(seq 1 120); do
  s=$(q 'prometheus_tsdb_head_samples_appended_total')
  [[ ${s:-0} -ge $((2 * n)) ]] && break
  sleep 5
done
sleep 5
series=$(q 'prometheus_tsdb_head_series')
rss=$(awk '/VmRSS/ {printf "%.0f\n", $2*1024}' /proc/$pid/status)
hwm=$(awk '/VmHWM/ {printf "%.0f\n", $2*1024}' /proc/$pid/status)
heap=$(q 'go_memstats_heap_inuse_bytes')
echo "tool=prometheus series=$series samples=$s rss=$rss idle_rss=$idle peak_rss=$hwm heap_inuse=$heap bytes_per_series=$(( (rss - idle) / series )) heap_inuse_per_series=$(( heap / series )) secs_to_2_scrapes=$(( $(date +%s) - start ))"
