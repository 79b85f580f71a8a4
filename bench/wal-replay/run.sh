#!/usr/bin/env bash
# WAL replay side by side on the same Prometheus-written WAL (make_wal.sh):
# (a) Prometheus started on a fresh copy of the data dir, timed from exec to
#     its "WAL replay completed" log line, whose total_replay_duration is
#     recorded too; its VmHWM (peak RSS) and CPU time so far are read at
#     that moment, then it is killed;
# (b) pharos's head (crates/tsdb/examples/replay.rs) opening a fresh copy of
#     the same wal/ dir, with 1 and 2 apply workers, under /usr/bin/time.
# REPS runs of each, alternating; the copy is made before the clock starts
# and the page cache is warm for both (the copy was just written).
#
# usage: run.sh [REPS=5]   (needs work/prom-data from make_wal.sh and
#                           cargo build --release -p tsdb --example replay)
set -euo pipefail
reps=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ex=${REPLAY:-$root/target/release/examples/replay}
src=$here/work/prom-data
copy=$here/work/copy
out="$here/results-$(date -u +%Y-%m-%d).txt"
[[ -d $src/wal ]] || { echo "run make_wal.sh first" >&2; exit 1; }
cfg=$here/work/empty.yml
echo "global: {scrape_interval: 1h}" > "$cfg"
{
  echo "# wal-replay $(date -u +%FT%TZ) host=$(hostname) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# wal: $(du -sb "$src/wal" | cut -f1) bytes, segments: $(ls "$src/wal" | tr '\n' ' ')"
  echo "# prometheus: $(prometheus --version 2>&1 | head -1)"
  echo "# pharos: $ex ($(git -C "$root" rev-parse --short HEAD))"
} | tee -a "$out"

fresh() { rm -rf "$copy"; cp -a "$src" "$copy"; sync; }

prom() { # run-number
  fresh
  local log=$here/work/prom.log
  local t0 t1
  rm -f "$log"
  t0=$(date +%s.%N)
  prometheus --config.file="$cfg" --storage.tsdb.path="$copy" \
    --web.listen-address=127.0.0.1:19092 >"$log" 2>&1 &
  local pid=$!
  until grep -qs 'WAL replay completed' "$log"; do
    kill -0 "$pid" 2>/dev/null || { echo "prometheus died:"; tail "$log"; exit 1; }
    sleep 0.05
  done
  t1=$(date +%s.%N)
  local hwm cpu
  hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  # utime + stime so far (fields 14 and 15 of /proc/<pid>/stat, in ticks).
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' /proc/$pid/stat)
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  local line total walrep
  line=$(grep 'WAL replay completed' "$log")
  total=$(sed -n 's/.*total_replay_duration=\([^ ]*\).*/\1/p' <<<"$line")
  walrep=$(sed -n 's/.*wal_replay_duration=\([^ ]*\).*/\1/p' <<<"$line")
  echo "tool=prometheus run=$1 start_to_replayed_s=$(echo "$t1 - $t0" | bc) total_replay_s=$(dur "$total") wal_replay_s=$(dur "$walrep") cpu_s=$cpu peak_rss_kb=$hwm load1=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
}

# Go durations (1m2.5s, 7.1s, 850ms) in seconds.
dur() { python3 -c '
import re,sys
s=sys.argv[1]; t=0.0
for v,u in re.findall(r"([0-9.]+)(h|ms|µs|us|ns|m|s)", s):
    t+=float(v)*{"h":3600,"m":60,"s":1,"ms":1e-3,"µs":1e-6,"us":1e-6,"ns":1e-9}[u]
print(round(t,4))' "$1"; }

pharos() { # run-number workers
  fresh
  /usr/bin/time -o "$here/work/time" -f "%e %U %S %M" "$ex" "$copy/wal" "$2" > "$here/work/pharos.out"
  read -r wall user sys rss < "$here/work/time"
  echo "tool=pharos-w$2 run=$1 wall_s=$wall cpu_s=$(echo "$user + $sys" | bc) max_rss_kb=$rss $(cat "$here/work/pharos.out") load1=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
}

for i in $(seq 1 "$reps"); do
  prom "$i"
  pharos "$i" 1
  pharos "$i" 2
done
grep -m1 'WAL replay completed' "$here/work/prom.log" | sed 's/^/# last prometheus log: /' | tee -a "$out"
rm -rf "$copy"
python3 "$here/../summarize.py" "$out" | sed 's/^/# /' | tee -a "$out"
