#!/usr/bin/env bash
# Before/after of in-process search latency: two builds of the
# `query_times` example run in turn on one index, so that a change of
# machine load hits both alike (BENCHMARKS.md §15). Prints each run's p50 /
# p99 over the mixed load's query texts, then the sum of the per-query
# medians (the middle of the runs) of each binary.
#
#   index/benches/query-ab.sh D ROUNDS RUNS before:QT_BIN after:QT_BIN
#   index/benches/query-ab.sh /tmp/d/s100000 30 3 before:/tmp/qt-a after:target/release/examples/query_times
#
# Build a binary with `cargo build --release -p notices-index --example
# query_times` and copy target/release/examples/query_times aside.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=$1; ROUNDS=$2; RUNS=$3; shift 3
out=$(mktemp -d)
for r in $(seq "$RUNS"); do
  for spec in "$@"; do
    IFS=: read -r label bin <<< "$spec"
    QUERIES=index/benches/mixed-queries.txt ROUNDS=$ROUNDS NOTICES_BENCH_INDEX=$DATA/index \
      "$bin" > "$out/$label.$r"
    echo "$r $label $(tail -1 "$out/$label.$r") load=$(cut -d' ' -f1 /proc/loadavg)"
  done
done
python3 - "$out" "$@" <<'PY'
import glob, re, sys
out, labels = sys.argv[1], [s.split(':')[0] for s in sys.argv[2:]]
for label in labels:
    medians = {}
    for f in glob.glob(f'{out}/{label}.*'):
        for line in open(f):
            m = re.match(r'(.*) \(expanded\): \d+ matches, median ([\d.]+) ms', line)
            if m:
                medians.setdefault(m.group(1), []).append(float(m.group(2)))
    total = sum(sorted(v)[len(v) // 2] for v in medians.values())
    print(f'{label}: sum of the {len(medians)} medians {total:.2f} ms')
PY
rm -r "$out"
