#!/usr/bin/env bash
# Commands that touch the whole index: time and peak memory (GNU time's
# elapsed seconds and maximum resident set), for one binary or two to
# compare (BENCHMARKS.md §14).
#
#   index/benches/whole-index.sh D BIN [BIN2]
#
# D is a data directory holding an index (`notices --data-dir D gen-corpus
# -n 100000 --realistic`). Each BIN runs, in turn:
# - `digest` of one week (2020-05-10..15) and of one year (2019);
# - `export` (its output checksummed, not kept);
# - `doctor` (which reads every notice back);
# - `import` of the first binary's export into an empty data directory
#   (IMPORT=0 leaves it out: it needs room for the export and an index);
# - the migration of an index of an older schema: a copy of D's index
#   with one field renamed in meta.json, opened by `stats` (MIGRATION=0
#   leaves it out: it needs room for two more copies of the index).
# ANON=1 also samples each command's anonymous memory (the heap) apart
# from the index files it maps.
# Outputs of the two binaries are compared by checksum (`same` or
# `DIFFERENT`).
# Needs GNU time (`apt-get install -y time`) and room for two copies of the
# index under ${TMPDIR:-/tmp}.
set -euo pipefail
D=${1:?data dir}
shift
[ $# -ge 1 ] || { echo "usage: $0 D BIN [BIN2]" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/whole-index.XXXXXX")
trap 'rm -rf "$work"' EXIT

run() { # label bin out args...: out gets the checksum of the output
    local label=$1 bin=$2 out=$3
    shift 3
    /usr/bin/time -f "$label: %e s, %M KB peak" -o "$work/time" "$bin" "$@" 2>"$work/err" | sha256sum >"$out" &
    local anon=0 file=0 pid="" a f k
    if [ "${ANON:-0}" = 1 ]; then
        # Peak RSS counts the index files the process maps, which grow
        # with the index whatever the code does; anonymous memory (the
        # heap) is what holding notices costs. Sampled every 50 ms.
        for k in $(seq 100); do
            pid=$(pgrep -n -f -x -- "$bin $*" || true)
            [ -n "$pid" ] && break
            sleep 0.01
        done
        while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do
            a=$(awk '/RssAnon/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
            f=$(awk '/RssFile/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
            [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
            [ -n "$f" ] && [ "$f" -gt "$file" ] && file=$f
            sleep 0.05
        done
    fi
    wait
    if grep -q "exited with non-zero status" "$work/time"; then
        cat "$work/err" >&2
        exit 3
    fi
    if [ "${ANON:-0}" = 1 ]; then
        echo "$(tail -1 "$work/time"), peak anonymous $anon KB, mapped files $file KB"
    else
        tail -1 "$work/time"
    fi
}

for cmd in "digest --since 2020-05-10 --until 2020-05-15" "digest --since 2019-01-01 --until 2019-12-31" "export" "doctor"; do
    k=0
    for bin in "$@"; do
        k=$((k + 1))
        # shellcheck disable=SC2086 # the command's words
        run "$(basename "$bin") $cmd" "$bin" "$work/out.$k" --data-dir "$D" $cmd
    done
    if [ $# -eq 2 ]; then
        cmp -s "$work/out.1" "$work/out.2" && echo "  same output" || echo "  DIFFERENT output"
    fi
done

if [ "${IMPORT:-1}" != 0 ]; then
    "$1" --data-dir "$D" export >"$work/export.jsonl"
    for bin in "$@"; do
        rm -rf "$work/imported"
        run "$(basename "$bin") import" "$bin" /dev/null --data-dir "$work/imported" import "$work/export.jsonl"
    done
    rm -rf "$work/imported" "$work/export.jsonl"
fi

[ "${MIGRATION:-1}" = 0 ] && exit 0
for bin in "$@"; do
    rm -rf "$work/old"
    mkdir -p "$work/old"
    cp -r "$D/index" "$work/old/index"
    python3 - "$work/old/index/meta.json" <<'PY'
import json, sys
path = sys.argv[1]
meta = json.load(open(path))
field = next(f for f in meta["schema"] if f["name"] == "comment_close")
field["name"] = "comment_close_v0"  # an older schema, as far as open() can tell
json.dump(meta, open(path, "w"))
PY
    run "$(basename "$bin") migration" "$bin" /dev/null --data-dir "$work/old" stats
done
