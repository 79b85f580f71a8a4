#!/usr/bin/env bash
# Backfill side by side: promtool and pharos turn the same OpenMetrics file
# into 2h blocks, REPS times each, alternating, each into a fresh directory.
# Per run: wall seconds, user and system CPU seconds, max RSS (KiB) from
# /usr/bin/time, and the bytes of the blocks written (du -sb). After the
# first run of each, `promtool tsdb dump` of both outputs must be identical.
#
# usage: run.sh [REPS=5]   (env: PHAROS=path to the pharos binary,
#                           WORK=scratch dir, default ./work)
set -euo pipefail
reps=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pharos=${PHAROS:-$root/target/release/pharos}
work=${WORK:-$here/work}
out="$here/results-$(date -u +%Y-%m-%d).txt"
mkdir -p "$work"
input="$work/input.om"
[[ -s $input ]] || python3 "$here/gen_openmetrics.py" > "$input"

{
  echo "# backfill $(date -u +%FT%TZ) host=$(hostname) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# input $(stat -c %s "$input") bytes, $(grep -c -v '^#' "$input") sample lines"
  echo "# promtool: $(promtool --version 2>&1 | head -1)"
  echo "# pharos: $pharos ($(git -C "$root" rev-parse --short HEAD))"
} | tee -a "$out"

run() { # tool run-number command...
  local tool=$1 i=$2; shift 2
  local dir="$work/out-$tool"
  rm -rf "$dir"
  sync
  /usr/bin/time -o "$work/time" -f "%e %U %S %M" "$@" "$input" "$dir" > "$work/log-$tool" 2>&1
  read -r wall user sys rss < "$work/time"
  local bytes
  bytes=$(du -sb "$dir" | cut -f1)
  echo "tool=$tool run=$i wall_s=$wall user_s=$user sys_s=$sys cpu_s=$(echo "$user + $sys" | bc) max_rss_kb=$rss block_bytes=$bytes blocks=$(find "$dir" -name meta.json | wc -l) load1=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
}

for i in $(seq 1 "$reps"); do
  run promtool "$i" promtool tsdb create-blocks-from openmetrics
  run pharos "$i" "$pharos" tsdb create-blocks-from openmetrics
  if [[ $i == 1 ]]; then
    # promtool 2.42's dump refuses a directory without wal/ (and prints
    # nothing); give both outputs an empty one, after they were measured.
    mkdir -p "$work/out-promtool/wal" "$work/out-pharos/wal"
    promtool tsdb dump "$work/out-promtool" > "$work/dump-promtool"
    promtool tsdb dump "$work/out-pharos" > "$work/dump-pharos"
    if [[ -s "$work/dump-pharos" ]] && cmp -s "$work/dump-promtool" "$work/dump-pharos"; then
      echo "# dump check: identical ($(wc -l < "$work/dump-pharos") lines, sha256 $(sha256sum < "$work/dump-pharos" | cut -c1-16))" | tee -a "$out"
    else
      echo "# dump check: DIFFERENT" | tee -a "$out"
      diff "$work/dump-promtool" "$work/dump-pharos" | head -20 | sed 's/^/#   /' | tee -a "$out"
    fi
    rm -f "$work/dump-promtool" "$work/dump-pharos"
  fi
done
python3 "$here/../summarize.py" "$out" | sed 's/^/# /' | tee -a "$out"
