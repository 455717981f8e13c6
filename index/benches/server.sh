#!/usr/bin/env bash
# Server throughput and latency over loopback (BENCHMARKS.md, figure 5):
# `notices serve --no-cache` on an index made by indexing.sh (100k notices
# by default), wrk cycling through the mixed load of issue 18
# (mixed-queries.txt via mixed.lua: 60 distinct searches with filters,
# sort=newest and pages), then the same server binary on the bundled
# 11-notice sample index in the same run, for the ratio of the two. wrk
# and the server share the 2 cores, as a client on the same machine would.
#
#   index/benches/server.sh
#
# Env: INDEX_DIR (a data dir), BIN, PORT (17878), CONNS (16), DURATION (15s),
# NO_BUILD=1, CACHE=1 (serve with the result cache on), SAMPLE=0 (skip the
# sample run), SCRIPT (wrk script, default index/benches/mixed.lua; the old
# 33-query list is index/benches/queries.lua).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-${TMPDIR:-/tmp}/notices-benchmarks}
DATA=${INDEX_DIR:-$OUT/n100000-t2}
BIN=${BIN:-target/release/notices}
PORT=${PORT:-17878}
SCRIPT=${SCRIPT:-index/benches/mixed.lua}
CACHE_FLAG=--no-cache
[ -n "${CACHE:-}" ] && CACHE_FLAG=
[ -n "${NO_BUILD:-}" ] || cargo build --release -p notices --quiet
[ -d "$DATA/index" ] || { echo "no index in $DATA: run index/benches/indexing.sh first" >&2; exit 2; }

# run DATA_DIR PORT LABEL: one server, a warm-up, then the measured wrk run.
run() {
  local data=$1 port=$2 label=$3 pid
  # shellcheck disable=SC2086 # CACHE_FLAG is empty or one flag
  "$BIN" --data-dir "$data" serve --addr "127.0.0.1:$port" $CACHE_FLAG >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 300); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
  done
  echo "== $label ($data, ${CACHE_FLAG:-cache on}); load: $(uptime | sed 's/.*load average/load average/')"
  # Warm the page cache, the reader and the facet tables.
  wrk -t2 -c4 -d3s -s "$SCRIPT" "http://127.0.0.1:$port" >/dev/null
  wrk -t2 -c"${CONNS:-16}" -d"${DURATION:-15s}" --latency -s "$SCRIPT" "http://127.0.0.1:$port"
  echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$pid/status")"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

run "$DATA" "$PORT" "index"
if [ "${SAMPLE:-1}" != 0 ]; then
  sample=$(mktemp -d)
  trap 'rm -rf "$sample"' EXIT
  # An empty data dir gets the bundled sample when the server starts.
  run "$sample" "$((PORT + 1))" "sample"
fi
