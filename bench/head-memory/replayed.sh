#!/usr/bin/env bash
# A second memory comparison without any scraping: both servers rebuild the
# same 1M-series head from the same Prometheus-written WAL
# (../wal-replay/make_wal.sh: 1M series, 3 samples each), then their
# resident memory is read. Prometheus: started on a fresh copy of the data
# dir with no scrape targets; RSS and go_memstats_heap_inuse_bytes are read
# 15 s after "Server is ready to receive web requests". pharos: the replay
# example's VmRSS after Head::open returned. Both figures are whole-process
# RSS divided by head series (Prometheus idles at ~43 MB, pharos at ~2 MB).
#
# usage: replayed.sh [REPS=5]
# Needs ../wal-replay/work/prom-data and
# cargo build --release -p tsdb --example replay
set -euo pipefail
reps=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ex=${REPLAY:-$root/target/release/examples/replay}
src=$here/../wal-replay/work/prom-data
work=$here/work
copy=$work/copy
out="$here/results-replayed-$(date -u +%Y-%m-%d).txt"
[[ -d $src/wal ]] || { echo "run ../wal-replay/make_wal.sh first" >&2; exit 1; }
mkdir -p "$work"
echo "global: {scrape_interval: 1h}" > "$work/empty.yml"
port=19193
{
  echo "# head-memory after WAL replay $(date -u +%FT%TZ) host=$(hostname) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# wal: $(du -sb "$src/wal" | cut -f1) bytes; prometheus: $(prometheus --version 2>&1 | head -1)"
  echo "# pharos: $ex ($(git -C "$root" rev-parse --short HEAD))"
} | tee -a "$out"
q() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 {s += $2} END {printf "%.0f\n", s}'; }
for i in $(seq 1 "$reps"); do
  rm -rf "$copy"; cp -a "$src" "$copy"
  log=$work/prom-replayed.log
  rm -f "$log"
  prometheus --config.file="$work/empty.yml" --storage.tsdb.path="$copy" \
    --web.listen-address=127.0.0.1:$port >"$log" 2>&1 &
  pid=$!
  until grep -qs 'Server is ready to receive web requests' "$log"; do
    kill -0 "$pid" 2>/dev/null || { echo "prometheus died:"; tail "$log"; exit 1; }
    sleep 0.2
  done
  sleep 15
  rss=$(awk '/VmRSS/ {printf "%.0f\n", $2*1024}' /proc/$pid/status)
  series=$(q prometheus_tsdb_head_series)
  heap=$(q go_memstats_heap_inuse_bytes)
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  echo "tool=prometheus run=$i series=$series rss=$rss heap_inuse=$heap rss_per_series=$((rss / series)) heap_inuse_per_series=$((heap / series))" | tee -a "$out"
  rm -rf "$copy"; cp -a "$src" "$copy"
  line=$("$ex" "$copy/wal" 1)
  prss=$(sed -n 's/.* rss=\([0-9]*\).*/\1/p' <<<"$line")
  pser=$(sed -n 's/.* head_series=\([0-9]*\).*/\1/p' <<<"$line")
  echo "tool=pharos run=$i series=$pser rss=$prss rss_per_series=$((prss / pser))" | tee -a "$out"
done
rm -rf "$copy"
python3 "$here/../summarize.py" "$out" | sed 's/^/# /' | tee -a "$out"
