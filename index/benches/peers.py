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

5. Meilisearch, when `--meilisearch BIN` names a binary of it: started on
   loopback in the work directory (no analytics, development mode), the
   same notices sent as NDJSON in batches of 5,000 and timed from the first
   batch to the last task's success; every query as one `POST /search` with
   the same filters, sort and page, `facets` on source and month, the body
   cropped and title and body highlighted (`matchingStrategy: all`, so words
   are ANDed as in notices). Its total is the sum of its source facet (its
   `estimatedTotalHits` stops at 1,000). It has no `OR`: the two words of an
   `OR` line are sent with `matchingStrategy: last`, the nearest it has.
   Meilisearch is not packaged for Debian and no build recipe is kept here;
   BENCHMARKS.md names the version measured.

Needs only python3 with its sqlite3 module (FTS5 is compiled into
Debian's and pyenv's SQLite); nothing is downloaded.
"""

import argparse
import datetime
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


# --- Meilisearch -------------------------------------------------------------

MEILI_INDEX = "notices"


class Meili:
    """A Meilisearch server on loopback with its data under `work`."""

    def __init__(self, binary, work, port):
        self.port = port
        db = os.path.join(work, "meili-data")
        shutil.rmtree(db, ignore_errors=True)
        self.proc = subprocess.Popen(
            [binary, "--db-path", db, "--http-addr", f"127.0.0.1:{port}", "--no-analytics", "--env", "development",
             "--dump-dir", os.path.join(work, "meili-dumps"), "--snapshot-dir", os.path.join(work, "meili-snapshots")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
        for _ in range(600):
            try:
                if self.call("GET", "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("meilisearch did not start")
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def call(self, method, path, body=None, ctype="application/json", conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        c.request(method, path, body=data, headers={"Content-Type": ctype} if data is not None else {})
        res = c.getresponse()
        out = res.read()
        return res.status, (json.loads(out) if out else None)

    def wait(self, task):
        while True:
            status, t = self.call("GET", f"/tasks/{task}", conn=self.conn)
            if t["status"] in ("succeeded", "failed", "canceled"):
                if t["status"] != "succeeded":
                    raise RuntimeError(f"meilisearch task {task}: {t.get('error')}")
                return t
            time.sleep(0.05)

    def build(self, jsonl):
        settings = {
            "searchableAttributes": ["title", "body", "agency"],
            "filterableAttributes": ["source", "published_ts", "month"],
            "sortableAttributes": ["published_ts"],
            "faceting": {"maxValuesPerFacet": 1000},
            "localizedAttributes": [{"attributePatterns": ["*"], "locales": ["cmn", "eng"]}],
        }
        _, t = self.call("POST", "/indexes", {"uid": MEILI_INDEX, "primaryKey": "pk"}, conn=self.conn)
        self.wait(t["taskUid"])
        _, t = self.call("PATCH", f"/indexes/{MEILI_INDEX}/settings", settings, conn=self.conn)
        self.wait(t["taskUid"])
        text_bytes, batch, tasks = 0, [], []
        started = time.perf_counter()

        def send():
            body = "\n".join(json.dumps(d, ensure_ascii=False) for d in batch).encode()
            _, t = self.call("POST", f"/indexes/{MEILI_INDEX}/documents", body, "application/x-ndjson", conn=self.conn)
            tasks.append(t["taskUid"])
            batch.clear()

        with open(jsonl, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                n = json.loads(line)
                title, body, agency = n["title"], n["body"], n.get("agency") or ""
                text_bytes += len(title.encode()) + len(body.encode()) + len(agency.encode())
                published = n.get("published")
                batch.append({"pk": i, "nid": n["id"], "title": title, "body": body, "agency": agency,
                              "source": n["source"], "url": n.get("url"), "published": published,
                              "published_ts": day_number(published) if published else None,
                              "month": published[:7] if published else "undated"})
                if len(batch) == 5000:
                    send()
        if batch:
            send()
        for t in tasks:
            self.wait(t)
        secs = time.perf_counter() - started
        return {"seconds": secs, "text_bytes": text_bytes, "mb_per_second": text_bytes / 1e6 / secs}

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def day_number(date):
    """Days since 1970-01-01 of a `YYYY-MM-DD` date (Meilisearch filters numbers)."""
    y, m, d = (int(x) for x in date[:10].split("-"))
    return (datetime.date(y, m, d) - datetime.date(1970, 1, 1)).days


def meili_request(params):
    """The Meilisearch search body of one mixed-queries line."""
    q = params["q"]
    words = q.split()
    strategy = "all"
    if "OR" in words:
        q, strategy = " ".join(w for w in words if w != "OR"), "last"
    body = {"q": q, "matchingStrategy": strategy, "offset": int(params.get("offset", 0)), "limit": 10,
            "facets": ["source", "month"], "attributesToRetrieve": ["nid", "title", "source", "published", "url",
                                                                    "agency"],
            "attributesToCrop": ["body"], "cropLength": 24, "attributesToHighlight": ["title", "body"]}
    filters = []
    if "source" in params:
        srcs = [s.strip().upper() for s in params["source"].split(",")]
        filters.append("source IN [" + ", ".join(json.dumps(s) for s in srcs) + "]")
    if "since" in params:
        filters.append(f"published_ts >= {day_number(params['since'])}")
    if "until" in params:
        filters.append(f"published_ts <= {day_number(params['until'])}")
    if filters:
        body["filter"] = " AND ".join(filters)
    if params.get("sort") == "newest":
        body["sort"] = ["published_ts:desc"]
    return body


def meili_runner(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def run_one(params):
        conn.request("POST", f"/indexes/{MEILI_INDEX}/search", body=json.dumps(meili_request(params)).encode(),
                     headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        body = res.read()
        if res.status != 200:
            return -1
        return sum(json.loads(body)["facetDistribution"].get("source", {}).values())

    return run_one


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
    run_one = {"notices": http_runner, "fts5": fts_runner, "meilisearch": meili_runner}[kind](target)
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
    ap.add_argument("--meilisearch", default=None, help="a Meilisearch binary: run it as a third engine")
    ap.add_argument("--no-fts5", action="store_true", help="leave SQLite FTS5 out")
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
        if not args.no_fts5:
            figures["fts5_index"] = fts_build(db, jsonl)
        meili = None
        if args.meilisearch:
            meili = Meili(args.meilisearch, work, args.port + 1)
            figures["meili_index"] = meili.build(jsonl)

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
            if not args.no_fts5:
                figures["fts5_latency"] = time_queries(fts_runner(db), queries, args.rounds)
            if meili:
                figures["meili_latency"] = time_queries(meili_runner(meili.port), queries, args.rounds)
            figures["notices_per_second"] = throughput("notices", args.port, queries, args.seconds)
            if not args.no_fts5:
                figures["fts5_per_second"] = throughput("fts5", db, queries, args.seconds)
            if meili:
                figures["meili_per_second"] = throughput("meilisearch", meili.port, queries, args.seconds)
        finally:
            server.terminate()
            server.wait()
            if meili:
                meili.stop()
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    figures["load_end"] = load()

    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=1))
        return
    ni, nl = figures["notices_index"], figures["notices_latency"]
    print(f"{args.n} notices ({figures['profile']}), {len(queries)} queries, load {figures['load_start']} -> "
          f"{figures['load_end']}")
    print(f"notices: indexing (1 thread) {ni['mb_per_second']:.1f} MB/s; one client (HTTP) p50 {nl['p50_ms']:.2f} ms "
          f"p99 {nl['p99_ms']:.2f} ms; two clients {figures['notices_per_second']:.0f} searches/s")
    for key, name, how in (("fts5", "FTS5 trigram", "in process"), ("meili", "Meilisearch", "HTTP")):
        if f"{key}_latency" not in figures:
            continue
        fi, fl = figures[f"{key}_index"], figures[f"{key}_latency"]
        rate = figures[f"{key}_per_second"]
        size = f" ({fi['db_bytes'] / 1e6:.0f} MB db)" if "db_bytes" in fi else ""
        print(f"{name}: indexing {fi['mb_per_second']:.1f} MB/s{size}; one client ({how}) p50 {fl['p50_ms']:.2f} ms "
              f"p99 {fl['p99_ms']:.2f} ms; two clients {rate:.0f} searches/s")
        zero = [q for q, t in fl["totals"].items() if t == 0 and nl["totals"].get(q, 0) > 0]
        print(f"  finds nothing where notices finds some: {len(zero)}: {', '.join(zero[:12])}")

if __name__ == "__main__":
    sys.exit(main())
