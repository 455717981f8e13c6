#!/usr/bin/env python3
"""notices next to SQLite FTS5 on the same corpus, in the same run (issue 18).

    python3 index/benches/peers.py --notices target/release/notices -n 20000 [--realistic]

1. The corpus: `notices gen-corpus -n N [--realistic] --jsonl` (the same
   notices, byte for byte, that `gen-corpus` indexes).
2. Indexing: `notices gen-corpus` into a fresh data dir (its own MB/s
   figure), and the JSON lines into an SQLite FTS5 table with the trigram
   tokenizer (the only built-in FTS5 tokenizer that finds Chinese
   sub-strings; it cannot match words under three characters, so two-character
   words find nothing there), timed from the first insert to the commit
   including `optimize`.
3. Queries: every line of mixed-queries.txt on both, facets and snippets on
   in both. notices answers over HTTP (`notices serve --no-cache`, one
   keep-alive connection: HTTP and JSON included); FTS5 in process (no HTTP
   at all, which favours it): the page of ten hits with `snippet()`, the
   total, and counts per source and per month, as notices returns them.
   Each query ROUNDS times after a warm-up; p50/p99 over all, per engine.
4. Throughput: two client processes for DURATION seconds cycling through
   the list (notices: the server shares the two cores with them; FTS5: the
   two processes are the engine).

Meilisearch is not run: it is not packaged for Debian, and `cargo install
meilisearch` needs far more than the half hour of CPU this 2-core machine
can spare (BENCHMARKS.md says so where the figures are).

Needs only python3 with its sqlite3 module (FTS5 is compiled into
Debian's and pyenv's SQLite); nothing is downloaded.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


def load_queries(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            params = {}
            for pair in line.split("&"):
                k, _, v = pair.partition("=")
                params[k] = v
            out.append(params)
    return out


def notices_path(params):
    return "/api/search?" + "&".join(f"{k}={urllib.parse.quote(v, safe='')}" for k, v in params.items())


# --- SQLite FTS5 -------------------------------------------------------------

SCHEMA = """
CREATE TABLE notice(id INTEGER PRIMARY KEY, nid TEXT, source TEXT, published TEXT, month TEXT,
                    title TEXT, body TEXT, agency TEXT, url TEXT);
CREATE VIRTUAL TABLE fts USING fts5(title, body, agency, content='notice', content_rowid='id',
                                    tokenize='trigram');
CREATE INDEX notice_source ON notice(source);
CREATE INDEX notice_published ON notice(published);
"""


def fts_build(db_path, jsonl):
    if os.path.exists(db_path):
        os.remove(db_path)
    con = sqlite3.connect(db_path)
    con.executescript(SCHEMA)
    text_bytes = 0
    started = time.perf_counter()
    with open(jsonl, encoding="utf-8") as f:
        rows = []
        for i, line in enumerate(f, 1):
            n = json.loads(line)
            title, body, agency = n["title"], n["body"], n.get("agency") or ""
            text_bytes += len(title.encode()) + len(body.encode()) + len(agency.encode())
            published = n.get("published")
            rows.append((i, n["id"], n["source"],
                         published, published[:7] if published else "undated", title, body, agency, n.get("url")))
            if len(rows) == 1000:
                fts_insert(con, rows)
                rows = []
        fts_insert(con, rows)
    con.execute("INSERT INTO fts(fts) VALUES('optimize')")
    con.commit()
    secs = time.perf_counter() - started
    con.close()
    return {"seconds": secs, "text_bytes": text_bytes, "mb_per_second": text_bytes / 1e6 / secs,
            "db_bytes": os.path.getsize(db_path)}


def fts_insert(con, rows):
    con.executemany("INSERT INTO notice VALUES (?,?,?,?,?,?,?,?,?)", rows)
    con.executemany("INSERT INTO fts(rowid, title, body, agency) VALUES (?,?,?,?)",
                    [(r[0], r[5], r[6], r[7]) for r in rows])


def fts_match(q):
    """The FTS5 expression of a notices query: words ANDed, "phrases",
    -exclusions, a OR b. Every item is quoted (trigram matches substrings)."""
    items, i, out = [], 0, []
    while i < len(q):
        c = q[i]
        if c.isspace():
            i += 1
            continue
        neg = c == "-" and i + 1 < len(q) and not q[i + 1].isspace()
        if neg:
            i += 1
        if q[i] == '"':
            j = q.find('"', i + 1)
            j = len(q) if j < 0 else j
            word, i = q[i + 1:j], j + 1
        else:
            j = i
            while j < len(q) and not q[j].isspace() and q[j] != '"':
                j += 1
            word, i = q[i:j], j
        items.append((neg, word))
    for neg, word in items:
        if word == "OR" and not neg:
            out.append("OR")
            continue
        quoted = '"' + word.replace('"', '""') + '"'
        out.append(("NOT " if neg else "") + quoted)
    # FTS5 needs AND between plain items; OR and NOT are binary operators.
    expr = []
    for tok in out:
        if expr and tok != "OR" and not tok.startswith("NOT ") and expr[-1] != "OR":
            expr.append("AND")
        expr.append(tok)
    return " ".join(expr)


def fts_search(con, params):
    q = params["q"]
    where, args = ["fts MATCH ?"], [fts_match(q)]
    if "source" in params:
        # Sources are stored by label, as notices prints them (`CNIPA`, `CDE` ...).
        srcs = [s.strip().upper() for s in params["source"].split(",")]
        where.append("n.source IN (%s)" % ",".join("?" * len(srcs)))
        args += srcs
    if "since" in params:
        where.append("n.published >= ?")
        args.append(params["since"])
    if "until" in params:
        where.append("n.published <= ?")
        args.append(params["until"])
    w = " AND ".join(where)
    order = "n.published DESC" if params.get("sort") == "newest" else "fts.rank"
    offset = int(params.get("offset", 0))
    page = con.execute(
        f"SELECT n.nid, n.title, n.source, n.published, n.url, n.agency, "
        f"snippet(fts, 1, '<b>', '</b>', '…', 24), highlight(fts, 0, '<b>', '</b>') "
        f"FROM fts JOIN notice n ON n.id = fts.rowid WHERE {w} ORDER BY {order} LIMIT 10 OFFSET ?",
        args + [offset]).fetchall()
    facets = {}
    for col in ("source", "month"):
        facets[col] = dict(con.execute(
            f"SELECT n.{col}, count(*) FROM fts JOIN notice n ON n.id = fts.rowid WHERE {w} GROUP BY n.{col}",
            args).fetchall())
    total = sum(facets["source"].values())
    return total, page, facets


# --- timing ------------------------------------------------------------------

def pct(sorted_ms, p):
    return sorted_ms[round((len(sorted_ms) - 1) * p)]


def time_queries(run_one, queries, rounds):
    for params in queries:  # warm-up
        run_one(params)
    all_ms, totals = [], {}
    for _ in range(rounds):
        for params in queries:
            t = time.perf_counter()
            total = run_one(params)
            all_ms.append((time.perf_counter() - t) * 1e3)
            totals[json.dumps(params, ensure_ascii=False)] = total
    all_ms.sort()
    return {"p50_ms": pct(all_ms, 0.5), "p99_ms": pct(all_ms, 0.99), "max_ms": all_ms[-1], "totals": totals}


def http_runner(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def run_one(params):
        conn.request("GET", notices_path(params))
        res = conn.getresponse()
        body = res.read()
        if res.status != 200:
            return -1
        return json.loads(body)["total"]

    return run_one


def fts_runner(db):
    con = sqlite3.connect(db)
    return lambda params: fts_search(con, params)[0]


def worker(kind, target, queries, seconds, start, out):
    run_one = http_runner(target) if kind == "notices" else fts_runner(target)
    n, i, end = 0, start, time.perf_counter() + seconds
    while time.perf_counter() < end:
        run_one(queries[i % len(queries)])
        i += 1
        n += 1
    out.put(n)


def throughput(kind, target, queries, seconds, procs=2):
    out = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=worker, args=(kind, target, queries, seconds, k * 17, out))
          for k in range(procs)]
    for p in ps:
        p.start()
    n = sum(out.get() for _ in ps)
    for p in ps:
        p.join()
    return n / seconds


def load():
    return open("/proc/loadavg").read().split()[:3]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notices", default="target/release/notices", help="the notices binary")
    ap.add_argument("-n", type=int, default=20000, help="notices in the corpus")
    ap.add_argument("--realistic", action="store_true", help="the realistic corpus profile")
    ap.add_argument("--queries", default=os.path.join(HERE, "mixed-queries.txt"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10.0, help="throughput run length per engine")
    ap.add_argument("--work", default=None, help="work directory (default: a temporary one, removed)")
    ap.add_argument("--port", type=int, default=17990)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    work = args.work or tempfile.mkdtemp(prefix="notices-peers-")
    os.makedirs(work, exist_ok=True)
    queries = load_queries(args.queries)
    profile = ["--realistic"] if args.realistic else []
    figures = {"notices_count": args.n, "profile": "realistic" if args.realistic else "synthetic",
               "queries": len(queries), "load_start": load()}
    try:
        jsonl = os.path.join(work, "corpus.jsonl")
        with open(jsonl, "wb") as f:
            subprocess.run([args.notices, "gen-corpus", "-n", str(args.n), "--jsonl"] + profile, stdout=f, check=True)
        data = os.path.join(work, "notices-data")
        shutil.rmtree(data, ignore_errors=True)
        out = subprocess.run([args.notices, "--data-dir", data, "gen-corpus", "-n", str(args.n), "--threads", "1",
                              "--json"] + profile, capture_output=True, check=True, text=True)
        figures["notices_index"] = json.loads(out.stdout)
        db = os.path.join(work, "fts5.db")
        figures["fts5_index"] = fts_build(db, jsonl)

        server = subprocess.Popen([args.notices, "--data-dir", data, "serve", "--addr", f"127.0.0.1:{args.port}",
                                   "--no-cache"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=1)
                    c.request("GET", "/healthz")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            figures["notices_latency"] = time_queries(http_runner(args.port), queries, args.rounds)
            figures["fts5_latency"] = time_queries(fts_runner(db), queries, args.rounds)
            figures["notices_per_second"] = throughput("notices", args.port, queries, args.seconds)
            figures["fts5_per_second"] = throughput("fts5", db, queries, args.seconds)
        finally:
            server.terminate()
            server.wait()
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    figures["load_end"] = load()

    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=1))
        return
    ni, fi = figures["notices_index"], figures["fts5_index"]
    nl, fl = figures["notices_latency"], figures["fts5_latency"]
    print(f"{args.n} notices ({figures['profile']}), {len(queries)} queries, load {figures['load_start']} -> "
          f"{figures['load_end']}")
    print(f"indexing, 1 thread: notices {ni['mb_per_second']:.1f} MB/s, FTS5 trigram {fi['mb_per_second']:.1f} MB/s "
          f"({fi['db_bytes'] / 1e6:.0f} MB db)")
    print(f"one client: notices (HTTP) p50 {nl['p50_ms']:.2f} ms p99 {nl['p99_ms']:.2f} ms; "
          f"FTS5 (in process) p50 {fl['p50_ms']:.2f} ms p99 {fl['p99_ms']:.2f} ms")
    print(f"two clients: notices {figures['notices_per_second']:.0f} searches/s, "
          f"FTS5 {figures['fts5_per_second']:.0f} searches/s")
    zero = [q for q, t in fl["totals"].items() if t == 0 and nl["totals"].get(q, 0) > 0]
    print(f"queries FTS5 finds nothing for while notices does: {len(zero)}: {', '.join(zero[:12])}")


if __name__ == "__main__":
    sys.exit(main())
