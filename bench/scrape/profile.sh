#!/usr/bin/env bash
# Where pharos server spends its CPU scraping TARGETS targets at INTERVAL:
# `perf record` of the process for RECORD_S seconds after WARMUP_S, then
# the top symbols (self time) of `perf report`.
#
# usage: profile.sh [INTERVAL=1s] [WARMUP_S=20] [RECORD_S=20]
set -euo pipefail
interval=${1:-1s} warmup=${2:-20} record=${3:-20}
targets=${TARGETS:-1000} series=${SERIES:-1000} first_port=${FIRST_PORT:-20000}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${CARGO_TARGET_DIR:-$root/target}/release
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
secs=${interval%s}
{
  echo "global: {scrape_interval: $interval, scrape_timeout: $(( secs < 10 ? secs : 10 ))s}"
  echo "scrape_configs: [{job_name: bench, static_configs: [{targets: ["
  for i in $(seq 0 $((targets - 1))); do echo "  '127.0.0.1:$((first_port + i))',"; done
  echo "]}]}]"
} > "$work/prometheus.yml"
"$bin/examples/target_server" "$first_port" "$targets" "$series" 19998 2> /dev/null &
pids+=($!)
sleep 2
"$bin/pharos" server --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address=127.0.0.1:19092 > "$work/pharos.log" 2>&1 &
ph=$!; pids+=($ph)
sleep "$warmup"
perf record -F 199 --call-graph dwarf,16384 -p "$ph" -o "$work/perf.data" -- sleep "$record" 2> /dev/null
perf report -i "$work/perf.data" --no-children --sort symbol --stdio 2> /dev/null \
  | grep -E '^ +[0-9]+\.[0-9]+%' | head -30 || true
echo "--- callers of the symbols above 5% ---"
perf report -i "$work/perf.data" --no-children --sort symbol --stdio --percent-limit 5 \
  -g caller,2 2> /dev/null | grep -v '^$' | grep -v '^#' | head -150 || true
