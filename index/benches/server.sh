#!/usr/bin/env bash
# Server throughput and latency over loopback (BENCHMARKS.md, figure 5):
# `notices serve` on the 100k index of indexing.sh, wrk cycling through the
# query list of search.rs (queries.lua). wrk and the server share the 2
# cores, as a client on the same machine would.
#
#   index/benches/server.sh
#
# Env: INDEX_DIR, BIN, PORT (17878), CONNS (16), DURATION (20s), NO_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-${TMPDIR:-/tmp}/notices-benchmarks}
DATA=${INDEX_DIR:-$OUT/n100000-t2}
BIN=${BIN:-target/release/notices}
PORT=${PORT:-17878}
[ -n "${NO_BUILD:-}" ] || cargo build --release -p notices --quiet
[ -d "$DATA/index" ] || { echo "no index in $DATA: run index/benches/indexing.sh first" >&2; exit 2; }
"$BIN" --data-dir "$DATA" serve --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done
echo "load: $(uptime | sed 's/.*load average/load average/')"
# Warm the page cache and the reader.
wrk -t2 -c4 -d3s -s index/benches/queries.lua "http://127.0.0.1:$PORT" >/dev/null
wrk -t2 -c"${CONNS:-16}" -d"${DURATION:-20s}" --latency -s index/benches/queries.lua "http://127.0.0.1:$PORT"
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' /proc/$pid/status)"
