// The search page. No framework and no build step: the state lives in the
// URL (so a search can be bookmarked and shared), each change fetches
// /api/search and redraws. Text from the API is inserted as text; only the
// API's `title_html`/`snippet_html` (escaped server-side, `<b>` for
// matches) are inserted as HTML.
"use strict";

const PAGE_SIZE = 10;
const MAX_OFFSET = 10000;
// The known sources (label → Chinese name, in facet order) come from the
// server's registry, /api/sources, asked once.
let sourceNames = null;
function knownSources() {
  if (!sourceNames) {
    sourceNames = getJson("/api/sources")
      .then((list) => new Map(list.map((x) => [x.label, x.name_zh || ""])))
      .catch(() => new Map());
  }
  return sourceNames;
}

// Labels of document types and statuses, from /api/labels (one table, in the binary).
let LABELS = { doc_type: {}, status: {} };

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const c of children) node.append(c);
  return node;
};

// ---- state <-> URL ----

function readState() {
  const p = new URLSearchParams(location.search);
  const page = parseInt(p.get("page") || "1", 10);
  return {
    q: p.get("q") || "",
    sources: p.getAll("source").flatMap((s) => s.split(",")).filter(Boolean),
    since: p.get("since") || "",
    until: p.get("until") || "",
    sort: p.get("sort") === "newest" ? "newest" : "relevance",
    page: Number.isFinite(page) && page > 0 ? page : 1,
    // Search only what was typed (no glossary translations).
    exact: ["1", "true"].includes(p.get("exact")),
    types: p.getAll("type").flatMap((s) => s.split(",")).filter(Boolean),
    status: p.get("status") === "draft" || p.get("status") === "final" ? p.get("status") : "",
    commentsOpen: p.get("comments_open") || "",
  };
}

function stateQuery(s) {
  const p = new URLSearchParams();
  if (s.q) p.set("q", s.q);
  for (const src of s.sources) p.append("source", src);
  if (s.since) p.set("since", s.since);
  if (s.until) p.set("until", s.until);
  for (const t of s.types) p.append("type", t);
  if (s.status) p.set("status", s.status);
  if (s.commentsOpen) p.set("comments_open", s.commentsOpen);
  if (s.sort !== "relevance") p.set("sort", s.sort);
  if (s.page > 1) p.set("page", String(s.page));
  if (s.exact) p.set("exact", "1");
  return p.toString();
}

// Changes the state, records it in the history and searches.
function go(change) {
  const s = Object.assign(readState(), change);
  const qs = stateQuery(s);
  history.pushState(null, "", qs ? "?" + qs : location.pathname);
  render();
}

// ---- API ----

function apiQuery(
  s,
  { withSources = true, withDates = true, withTypes = true, withStatus = true, limit = PAGE_SIZE, offset = 0 } = {},
) {
  const p = new URLSearchParams({ q: s.q, sort: s.sort, limit: String(limit), offset: String(offset) });
  if (withSources) for (const src of s.sources) p.append("source", src);
  if (withDates && s.since) p.set("since", s.since);
  if (withDates && s.until) p.set("until", s.until);
  if (s.exact) p.set("exact", "true");
  if (withTypes) for (const t of s.types) p.append("type", t);
  if (withStatus && s.status) p.set("status", s.status);
  if (s.commentsOpen) p.set("comments_open", s.commentsOpen);
  return "/api/search?" + p.toString();
}

async function getJson(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  let body;
  try {
    body = await res.json();
  } catch {
    throw new Error(`HTTP ${res.status}`);
  }
  if (!res.ok) throw new Error(body.message || body.error || `HTTP ${res.status}`);
  return body;
}

// ---- rendering ----

let generation = 0; // answers to superseded searches are dropped

// Loaded once; searches wait for it so facet lists have their labels.
const labelsLoaded = getJson("/api/labels")
  .then((l) => {
    // Arrays in display order become id -> label maps (insertion-ordered).
    for (const kind of ["doc_type", "status"]) {
      LABELS[kind] = Object.fromEntries((l[kind] || []).map((x) => [x.id, x]));
    }
  })
  .catch(() => {});

async function render() {
  const s = readState();
  $("q").value = s.q;
  $("sort").value = s.sort;
  document.title = s.q ? `${s.q} · 监管公告检索` : "监管公告检索 · Regulatory notices search";
  const mine = ++generation;
  if (!s.q.trim()) {
    showIntro();
    return;
  }
  $("results").setAttribute("aria-busy", "true");
  const offset = Math.min((s.page - 1) * PAGE_SIZE, MAX_OFFSET);
  // Facets are "disjunctive": the source list counts matches as if no source
  // were ticked, the histogram as if no month were chosen, so one can add a
  // second source or pick another month. Each needs its own request only
  // when that filter is in use.
  const main = getJson(apiQuery(s, { offset }));
  const forSources = s.sources.length ? getJson(apiQuery(s, { withSources: false, limit: 1 })) : main;
  const forMonths = s.since || s.until ? getJson(apiQuery(s, { withDates: false, limit: 1 })) : main;
  const forTypes = s.types.length ? getJson(apiQuery(s, { withTypes: false, limit: 1 })) : main;
  const forStatus = s.status ? getJson(apiQuery(s, { withStatus: false, limit: 1 })) : main;
  try {
    const [r, rs, rm, rt, rst, , known] = await Promise.all([
      main,
      forSources,
      forMonths,
      forTypes,
      forStatus,
      labelsLoaded,
      knownSources(),
    ]);
    if (mine !== generation) return;
    showResults(s, r, rs.facets.source, rm.facets.month, rt.facets.doc_type || {}, rst.facets.status || {}, known);
  } catch (e) {
    if (mine !== generation) return;
    showError(e.message);
  } finally {
    if (mine === generation) $("results").removeAttribute("aria-busy");
  }
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("expanded").hidden = true;
  $("hits").replaceChildren();
  $("pager").hidden = true;
  $("toolbar").hidden = true;
  $("filters").hidden = true;
  $("intro").hidden = true;
}

async function showIntro() {
  $("error").hidden = true;
  $("expanded").hidden = true;
  $("hits").replaceChildren();
  $("pager").hidden = true;
  $("toolbar").hidden = true;
  $("filters").hidden = true;
  $("intro").hidden = false;
  try {
    const st = await getJson("/api/stats");
    const parts = Object.entries(st.by_source).map(([k, n]) => `${k} ${n}`);
    const range = st.earliest ? `，${st.earliest} – ${st.latest}` : "";
    const when = st.last_commit ? ` · 更新于 updated ${st.last_commit.committed_at.slice(0, 16).replace("T", " ")} UTC` : "";
    $("stats").textContent = `索引共 ${st.total} 条公告 · ${st.total} notices indexed${range}${parts.length ? "（" + parts.join(" · ") + "）" : ""}${when}`;
  } catch (e) {
    $("stats").textContent = e.message;
  }
}

function showResults(s, r, sourceCounts, monthCounts, typeCounts, statusCounts, known) {
  $("error").hidden = true;
  $("intro").hidden = true;
  $("toolbar").hidden = false;
  $("filters").hidden = false;
  const first = r.total === 0 ? 0 : r.offset + 1;
  const last = r.offset + r.hits.length;
  $("summary").textContent =
    r.total === 0
      ? `没有找到结果 · No results for “${r.query}”`
      : `共 ${r.total} 条结果 · ${r.total} result${r.total === 1 ? "" : "s"}` +
        (r.total > r.hits.length ? `，第 ${first}–${last} 条 · showing ${first}–${last}` : "") +
        ` (${r.took_ms} ms)`;
  renderExpanded(s, r.expanded || {});
  $("hits").replaceChildren(...r.hits.map(hitItem));
  renderSources(s, sourceCounts, known);
  renderKinds(s, typeCounts, statusCounts);
  renderHistogram(s, monthCounts);
  renderPager(s, r.total);
}

// "also searched: 一致性评价 (for consistency evaluation)", with a button to
// search exactly what was typed; or, when exact, a button to translate again.
function renderExpanded(s, expanded) {
  const box = $("expanded");
  const entries = Object.entries(expanded);
  if (s.exact) {
    box.replaceChildren(
      "仅搜索原词 · Searched exactly as typed. ",
      el("button", { type: "button", id: "expand-again", onclick: () => go({ exact: false, page: 1 }) },
        "同时搜索译名 Also search translations"),
    );
    box.hidden = false;
    return;
  }
  if (!entries.length) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const parts = entries.map(([term, added]) => `${added.join(", ")} (for “${term}”)`);
  box.replaceChildren(
    "也搜索了 · also searched: ",
    el("span", { className: "terms" }, parts.join("; ")),
    " ",
    el("button", { type: "button", id: "search-exact", onclick: () => go({ exact: true, page: 1 }) },
      "只搜原词 Search exactly"),
  );
  box.hidden = false;
}

function safeUrl(u) {
  return typeof u === "string" && /^https?:\/\//i.test(u) ? u : null;
}

function hitItem(h) {
  const title = el("a", { className: "title" });
  title.innerHTML = h.title_html; // escaped by the server
  const url = safeUrl(h.url);
  if (url) {
    title.href = url;
    title.target = "_blank";
    title.rel = "noopener noreferrer";
  } else {
    title.href = "/api/notices/" + encodeURIComponent(h.id);
  }
  const meta = el("p", { className: "meta" }, el("span", { className: "badge", textContent: h.source }));
  const add = (text, cls) => meta.append(el("span", { className: cls || "", textContent: text }));
  add(h.date || "日期不详 undated", "date");
  if (h.doc_type) add(label("doc_type", h.doc_type), "doctype");
  if (h.status === "draft") {
    add(label("status", "draft") + (h.comment_close ? ` · 意见截止 comments close ${h.comment_close}` : ""), "draft");
  }
  for (const n of h.doc_numbers) add(n, "docnum");
  if (h.agency) add(h.agency, "agency");
  if (h.withdrawn) add("已撤下 withdrawn", "withdrawn");
  const snippet = el("p", { className: "snippet" });
  if (h.matched_attachment) {
    // The query matched in an attachment's text: say which one.
    snippet.append(el("span", { className: "from", textContent: "附件 " + h.matched_attachment.name + ": " }));
  }
  const fragment = el("span");
  fragment.innerHTML = h.snippet_html; // escaped by the server
  snippet.append(fragment);
  const item = el("li", { className: "hit" }, el("h3", {}, title), meta, snippet);
  const extra = el("div", { className: "extra" });
  for (const a of h.attachments) {
    const href = safeUrl(a.url);
    if (href) extra.append(el("a", { href, textContent: "附件 " + (a.name || a.url.split("/").pop()), rel: "noopener noreferrer", target: "_blank" }));
  }
  const full = el("details", { className: "full" }, el("summary", { textContent: "全文 Full text" }));
  full.addEventListener("toggle", async () => {
    if (!full.open || full.dataset.loaded) return;
    full.dataset.loaded = "1";
    const body = el("div", { className: "body", textContent: "…" });
    full.append(body);
    try {
      const n = await getJson("/api/notices/" + encodeURIComponent(h.id));
      body.textContent = n.body;
      if (n.fetched_at) full.append(el("p", { className: "fetched", textContent: `抓取于 fetched ${n.fetched_at}` }));
    } catch (e) {
      body.textContent = e.message;
    }
  });
  extra.append(full);
  item.append(extra);
  return item;
}

function renderSources(s, counts, known) {
  const names = new Set([...Object.keys(counts), ...s.sources]);
  // Known sources in the registry's order, then the others by name.
  const order = [...known.keys()];
  const rank = (n) => (order.includes(n) ? order.indexOf(n) : order.length);
  const sorted = [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const items = sorted.map((name) => {
    const box = el("input", { type: "checkbox", value: name, checked: s.sources.includes(name) });
    box.addEventListener("change", () => {
      const cur = readState().sources.filter((x) => x !== name);
      go({ sources: box.checked ? [...cur, name] : cur, page: 1 });
    });
    const label = el(
      "label",
      {},
      box,
      el("span", { className: "name", textContent: name.replace(/^other\//, ""), title: name }),
      el("span", { className: "zh", textContent: known.get(name) || "" }),
      el("span", { className: "count", textContent: String(counts[name] || 0) }),
    );
    return el("li", {}, label);
  });
  $("sources").replaceChildren(...items);
}

// "公告 Announcement" for an id, the id itself when no label is known.
function label(kind, id) {
  const l = LABELS[kind][id];
  return l ? `${l.zh} ${l.en}` : id;
}

// A facet list of checkboxes with counts; `selected` ids are ticked, a
// click calls `toggle(id, checked)`.
function checkList(ul, kind, counts, selected, toggle) {
  const ids = Object.keys(LABELS[kind]).filter((id) => counts[id] || selected.includes(id));
  const items = ids.map((id) => {
    const box = el("input", { type: "checkbox", value: id, checked: selected.includes(id) });
    box.addEventListener("change", () => toggle(id, box.checked));
    const l = LABELS[kind][id];
    return el(
      "li",
      {},
      el(
        "label",
        {},
        box,
        el("span", { className: "name", textContent: l.zh }),
        el("span", { className: "zh", textContent: l.en }),
        el("span", { className: "count", textContent: String(counts[id] || 0) }),
      ),
    );
  });
  ul.replaceChildren(...items);
}

function renderKinds(s, typeCounts, statusCounts) {
  checkList($("types"), "doc_type", typeCounts, s.types, (id, on) => {
    const cur = readState().types.filter((x) => x !== id);
    go({ types: on ? [...cur, id] : cur, page: 1 });
  });
  const untyped = typeCounts.unknown || 0;
  $("untyped").hidden = !untyped;
  $("untyped").textContent = untyped ? `未分类 unclassified: ${untyped}` : "";
  // One status at a time: ticking the other one shows both (no filter).
  checkList($("statuses"), "status", statusCounts, s.status ? [s.status] : [], (id, on) => {
    go({ status: on && !readState().status ? id : "", page: 1 });
  });
  $("comments-open").checked = !!s.commentsOpen;
}

function monthOf(d) {
  return d ? d.slice(0, 7) : "";
}

const BAR_PX = 80; // height of the tallest bar

function renderHistogram(s, counts) {
  const months = Object.keys(counts).filter((m) => /^\d{4}-\d{2}$/.test(m)).sort();
  const many = months.length > 12;
  const max = Math.max(1, ...months.map((m) => counts[m]));
  const lo = monthOf(s.since);
  const hi = monthOf(s.until);
  const bars = months.map((m, i) => {
    const n = counts[m];
    const selected = (s.since || s.until) && (!lo || m >= lo) && (!hi || m <= hi);
    // With many months only the start of each year is labelled.
    const label = !many ? m : i === 0 || m.endsWith("-01") ? m.slice(0, 4) : "";
    const fill = el("span", { className: "fill" });
    fill.style.height = `${Math.max(3, Math.round((n / max) * BAR_PX))}px`;
    const bar = el(
      "button",
      { type: "button", className: "bar" + (selected ? " selected" : ""), title: `${m}: ${n}` },
      el("span", { className: "n", textContent: String(n) }),
      fill,
      el("span", { className: "label", textContent: label }),
    );
    bar.setAttribute("aria-label", `${m}：${n} 条 · ${n} notices`);
    bar.setAttribute("aria-pressed", selected ? "true" : "false");
    bar.dataset.month = m;
    bar.addEventListener("click", (ev) => {
      const cur = readState();
      if (ev.shiftKey && (cur.since || cur.until)) {
        // Extend the current range to the clicked month.
        const a = monthOf(cur.since) || m;
        const b = monthOf(cur.until) || m;
        go({ since: m < a ? m : a, until: m > b ? m : b, page: 1 });
      } else {
        go({ since: m, until: m, page: 1 });
      }
    });
    return bar;
  });
  $("histogram").replaceChildren(...bars);
  $("histogram").classList.toggle("many", many);
  $("histogram-hint").hidden = months.length === 0;
  const undated = $("undated");
  undated.hidden = !counts.undated;
  undated.textContent = counts.undated ? `日期不详 undated: ${counts.undated}` : "";
  $("range").hidden = !(s.since || s.until);
  $("range-text").textContent = `${s.since || "…"} – ${s.until || "…"}`;
}

function renderPager(s, total) {
  const pages = Math.min(Math.ceil(total / PAGE_SIZE), Math.floor(MAX_OFFSET / PAGE_SIZE) + 1);
  const pager = $("pager");
  if (pages <= 1) {
    pager.hidden = true;
    pager.replaceChildren();
    return;
  }
  const link = (page, text, cls) => {
    const b = el("button", { type: "button", textContent: text, className: cls || "" });
    if (page === s.page) b.setAttribute("aria-current", "page");
    b.disabled = page < 1 || page > pages || page === s.page;
    b.addEventListener("click", () => {
      go({ page });
      window.scrollTo(0, 0);
    });
    return b;
  };
  const items = [link(s.page - 1, "‹ 上一页 Prev", "prev")];
  const from = Math.max(1, s.page - 3);
  const to = Math.min(pages, from + 6);
  for (let p = from; p <= to; p++) items.push(link(p, String(p), "num"));
  items.push(link(s.page + 1, "下一页 Next ›", "next"));
  pager.replaceChildren(...items);
  pager.hidden = false;
}

// ---- wiring ----

document.addEventListener("DOMContentLoaded", () => {
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    // A new query keeps the filters but starts at page 1.
    go({ q: $("q").value.trim(), page: 1 });
  });
  $("sort").addEventListener("change", () => go({ sort: $("sort").value, page: 1 }));
  $("clear-range").addEventListener("click", () => go({ since: "", until: "", page: 1 }));
  $("comments-open").addEventListener("change", () =>
    go({ commentsOpen: $("comments-open").checked ? "today" : "", page: 1 }),
  );
  window.addEventListener("popstate", render);
  render();
});
