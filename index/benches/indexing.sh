#!/usr/bin/env bash
# Whole-process indexing figures (BENCHMARKS.md, figure 2): N synthetic
# notices (default 100000) generated and indexed by the hidden
# `notices gen-corpus`, streamed (never all in memory), once with 1 and once
# with 2 indexing threads, each into a fresh data directory. Prints
# notices/s, MB/s, index size over raw text size and peak RSS.
#
#   index/benches/indexing.sh                 # N=100000, threads 1 and 2
#   N=1000000 THREADS=2 index/benches/indexing.sh
#
# Env: N, THREADS ("1 2"), OUT (/tmp/notices-bench), BIN (release build),
# NO_BUILD=1 to skip `cargo build --release`.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-100000}
THREADS=${THREADS:-1 2}
OUT=${OUT:-${TMPDIR:-/tmp}/notices-benchmarks}
BIN=${BIN:-target/release/notices}
[ -n "${NO_BUILD:-}" ] || cargo build --release -p notices --quiet
mkdir -p "$OUT"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load before: $(uptime | sed 's/.*load average/load average/')"
for t in $THREADS; do
  dir="$OUT/n$N-t$t"
  rm -rf "$dir"
  mkdir -p "$dir"
  /usr/bin/time -f '%M %e' -o "$dir.time" "$BIN" --data-dir "$dir" gen-corpus -n "$N" --threads "$t" --json >"$dir.json"
  read -r rss_kb wall <"$dir.time"
  size=$(du -sb "$dir/index" | cut -f1)
  awk -v json="$(cat "$dir.json")" -v size="$size" -v rss="$rss_kb" -v wall="$wall" -v t="$t" -v n="$N" 'BEGIN {
    match(json, /"text_bytes":[0-9]+/); text = substr(json, RSTART + 13, RLENGTH - 13)
    match(json, /"index_seconds":[0-9.]+/); secs = substr(json, RSTART + 16, RLENGTH - 16)
    match(json, /"with_merges_seconds":[0-9.]+/); merged = substr(json, RSTART + 22, RLENGTH - 22)
    printf "n=%d threads=%d: %.0f notices/s, %.1f MB/s (%.1f s to last commit, %.1f s with merges, %.1f s wall); text %.0f MB, index %.0f MB (%.2fx text); peak RSS %.0f MiB\n",
      n, t, n / secs, text / 1e6 / secs, secs, merged, wall, text / 1e6, size / 1e6, size / text, rss / 1024
  }'
done
echo "load after: $(uptime | sed 's/.*load average/load average/')"
