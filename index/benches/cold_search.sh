#!/usr/bin/env bash
# Cold `notices search` as a whole process (BENCHMARKS.md, figure 4): wall
# time (hyperfine, page cache warm, process cold), peak RSS (/usr/bin/time),
# and the in-process breakdown (dictionary, index open, first query) from
# the `startup` probe, medians of 15 runs.
#
#   index/benches/cold_search.sh              # on the 100k index of indexing.sh
#   BEFORE=/tmp/notices-before index/benches/cold_search.sh   # also time an older binary
#
# Env: INDEX_DIR (data dir; default the 2-thread 100k one of indexing.sh,
# built if missing), BIN, BEFORE, QUERY, NO_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-${TMPDIR:-/tmp}/notices-benchmarks}
DATA=${INDEX_DIR:-$OUT/n100000-t2}
BIN=${BIN:-target/release/notices}
QUERY=${QUERY:-一致性评价}
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release -p notices --quiet
  cargo bench -p notices-index --bench startup --no-run --quiet
fi
if [ ! -d "$DATA/index" ]; then
  echo "building $DATA (100k notices)" >&2
  mkdir -p "$DATA"
  "$BIN" --data-dir "$DATA" gen-corpus -n 100000 --threads 2
fi
echo "load: $(uptime | sed 's/.*load average/load average/')"
cmds=("$BIN --data-dir $DATA search $QUERY --json")
[ -n "${BEFORE:-}" ] && cmds+=("$BEFORE --data-dir $DATA search $QUERY --json")
hyperfine -N --warmup 3 --runs "${RUNS:-30}" -i "${cmds[@]}"
for b in "$BIN" ${BEFORE:-}; do
  rss=$(for _ in 1 2 3 4 5; do
    /usr/bin/time -f '%M' "$b" --data-dir "$DATA" search "$QUERY" --json 2>&1 >/dev/null | tail -1
  done | sort -n | sed -n 3p)
  echo "peak RSS $b: $((rss / 1024)) MiB (median of 5)"
done
probe=$(ls -t target/release/deps/startup-* | grep -v '\.d$' | head -1)
echo "breakdown ($probe, medians of 15 runs):"
runs=$(for _ in $(seq 15); do NOTICES_BENCH_INDEX="$DATA/index" NOTICES_BENCH_QUERY="$QUERY" "$probe"; done)
for key in dictionary_ms glossary_ms open_ms first_query_ms second_query_ms jieba_rs_new_ms; do
  median=$(grep -o "\"$key\":[0-9.]*" <<<"$runs" | cut -d: -f2 | sort -g | sed -n 8p)
  printf '  %-16s %s ms\n' "$key" "$median"
done
