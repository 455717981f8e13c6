#!/usr/bin/env bash
# Before/after of the query server under the mixed load, alternating the
# binaries so that a change of machine load hits both alike (BENCHMARKS.md
# §9, §11). One line per run: searches/s, p50, p99, non-2xx, load average.
#
#   index/benches/server-ab.sh DATA_DIR ROUNDS DURATION label:binary:flags[:data_dir] ...
#   index/benches/server-ab.sh /tmp/d 3 8s before:/tmp/notices-a:--no-cache after:target/release/notices:--no-cache
#
# Each binary must read its data directory's index as it is: an index of
# another schema or analyzer version is rebuilt on open, so give such a
# version its own copy (the fourth field; DATA_DIR otherwise). Needs wrk
# and curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=$1; ROUNDS=$2; DUR=$3; shift 3
port=18100
for r in $(seq "$ROUNDS"); do
  for spec in "$@"; do
    IFS=: read -r label bin flags dir <<< "$spec"
    port=$((port + 1))
    # shellcheck disable=SC2086 # flags are words
    "$bin" --data-dir "${dir:-$DATA}" serve --addr 127.0.0.1:$port $flags >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 300); do curl -fs http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
    wrk -t2 -c4 -d2s -s index/benches/mixed.lua http://127.0.0.1:$port >/dev/null
    out=$(wrk -t2 -c16 -d"$DUR" --latency -s index/benches/mixed.lua http://127.0.0.1:$port)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    errs=$(echo "$out" | grep -o "[0-9]* non-2xx" || echo "0 non-2xx")
    echo "$r $label rps=$rps p50=$p50 p99=$p99 [$errs] load=$(cut -d' ' -f1 /proc/loadavg)"
    kill $pid; wait $pid 2>/dev/null || true
  done
done
