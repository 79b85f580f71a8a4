#!/usr/bin/env bash
# Produces a Prometheus data directory whose WAL holds N series: Prometheus
# scrapes gen_series.py's N series SCRAPES times (30 s apart), then gets
# SIGKILL, so nothing is compacted and the WAL stays as written.
#
# usage: make_wal.sh [N=1000000] [SCRAPES=3] [DEST=./work/prom-data]
set -euo pipefail
n=${1:-1000000}
scrapes=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
dest=${3:-$here/work/prom-data}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
python3 "$here/../head-memory/gen_series.py" "$n" > "$work/metrics"
port_http=19082 port_prom=19091
(cd "$work" && exec python3 -m http.server "$port_http" --bind 127.0.0.1 >/dev/null 2>&1) &
cat > "$work/prometheus.yml" <<YML
global: {scrape_interval: 30s, scrape_timeout: 30s}
scrape_configs:
  - job_name: big
    metrics_path: /metrics
    static_configs: [{targets: ["127.0.0.1:$port_http"]}]
YML
rm -rf "$dest"; mkdir -p "$(dirname "$dest")"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$dest" \
  --web.listen-address=127.0.0.1:$port_prom --log.level=warn >"$work/log" 2>&1 &
pid=$!
q() { curl -s "http://127.0.0.1:$port_prom/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 {s += $2} END {printf "%.0f\n", s}'; }
for _ in $(seq 1 240); do
  sleep 5
  s=$(q 'prometheus_tsdb_head_samples_appended_total')
  [[ ${s:-0} -ge $((scrapes * n)) ]] && break
done
# Let the last commit reach the segment file, then kill without a shutdown.
sleep 3
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
echo "# made $dest: samples_appended=$s; $(du -sb "$dest/wal" | cut -f1) WAL bytes; $(ls "$dest/wal" | tr '\n' ' ')"
