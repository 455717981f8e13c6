//! The JSON API: `/api/search`, `/api/notices/{id}`, `/api/stats`, `/healthz`.
//!
//! Every error is `{"error": code, "message": text}` (plus `"parameter"` when
//! one parameter is to blame): 400 for bad input, 404 for unknown paths and
//! ids, never a 500 for anything the client sent.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use index::search::{MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS, check_range};
use index::{DateEnd, SearchRequest, Sort, Source, parse_date};
use serde::Serialize;

use super::AppState;

/// Default page size.
const DEFAULT_LIMIT: usize = 10;
/// Longest notice id looked up (real ids are 16 hex digits).
const MAX_ID_CHARS: usize = 128;

/// An error answer.
#[derive(Debug, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    /// Stable machine-readable code.
    error: &'static str,
    /// What went wrong, for people.
    message: String,
    /// The parameter at fault, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter: Option<&'static str>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, error, message: message.into(), parameter: None }
    }

    /// A 400 blaming `parameter`.
    fn bad(parameter: &'static str, error: &'static str, message: impl std::fmt::Display) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error,
            message: format!("{parameter}: {message}"),
            parameter: Some(parameter),
        }
    }

    /// A user error of the index crate, blamed on `parameter`.
    fn from_index(parameter: &'static str, e: index::Error) -> Self {
        if e.is_user_error() { ApiError::bad(parameter, e.code(), e) } else { ApiError::from(e) }
    }

    fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!("{what}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the server log")
    }
}

impl From<index::Error> for ApiError {
    fn from(e: index::Error) -> Self {
        match &e {
            _ if e.is_user_error() => ApiError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()),
            index::Error::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, e.code(), e.to_string()),
            _ => ApiError::internal(format_args!("index error: {e}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}

/// Runs blocking index work off the async threads, so a slow query does not
/// stall other requests.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> index::Result<T> + Send + 'static) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(e) => Err(ApiError::internal(format_args!("search task failed: {e}"))),
    }
}

/// `GET /api/search`: the JSON of `notices search --json`.
pub async fn search(State(app): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let req = search_request(&parse_query_string(raw.as_deref().unwrap_or(""))?)?;
    Ok(Json(run_search(&app, req).await?).into_response())
}

/// Runs a checked request on the blocking pool.
async fn run_search(app: &AppState, req: SearchRequest) -> Result<index::SearchResults, ApiError> {
    let index = app.index.clone();
    let cache = app.cache.clone();
    let work = move || match cache {
        Some(cache) => cache.search(&index, &req),
        None => index.search(&req),
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(results)) => Ok(results),
        // The parameters were checked before; what the index can still
        // refuse is the query text itself.
        Ok(Err(e)) if e.is_user_error() => Err(ApiError::from_index("q", e)),
        Ok(Err(e)) => Err(e.into()),
        Err(e) => Err(ApiError::internal(format_args!("search task failed: {e}"))),
    }
}

/// Entries in a feed unless `limit` says otherwise.
const FEED_LIMIT: usize = 50;

/// `GET /feed.atom?q=&source=`: an Atom feed (RFC 4287) of the newest
/// matching notices, newest first seen first, so a feed reader can follow a
/// saved search. Without `q` it follows every notice.
pub async fn feed(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let raw = raw.unwrap_or_default();
    let mut p = parse_query_string(&raw)?;
    let q = p.q.take().unwrap_or_default();
    let follow_all = q.trim().is_empty();
    // `search_request` checks every other parameter; an empty query is fine here.
    p.q = Some(if follow_all { "*".into() } else { q.clone() });
    let default_limit = p.limit.is_none();
    let mut req = search_request(&p)?;
    req.query = q.clone();
    req.sort = Sort::Discovered;
    if default_limit {
        req.limit = FEED_LIMIT;
    }
    if follow_all {
        req.seen_since = Some(DateTime::UNIX_EPOCH);
    }
    let results = run_search(&app, req).await?;
    // The feed's id is its own URL: stable for a given saved search.
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .unwrap_or("localhost");
    let self_url =
        if raw.is_empty() { format!("http://{host}/feed.atom") } else { format!("http://{host}/feed.atom?{raw}") };
    let title = if follow_all { "notices: new notices".to_string() } else { format!("notices: {q}") };
    let xml = crate::feed::atom(&results, &self_url, &title);
    Ok(([(axum::http::header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response())
}

/// `GET /api/notices/{id}`: one notice in full.
pub async fn notice(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    // Axum's own rejection (e.g. invalid UTF-8 in the path) is plain text.
    let Path(id) = id.map_err(|e| ApiError::bad("id", "invalid_id", e.body_text()))?;
    if id.trim().is_empty() || id.chars().count() > MAX_ID_CHARS {
        return Err(ApiError::bad(
            "id",
            "invalid_id",
            format!("expected a notice id of 1 to {MAX_ID_CHARS} characters"),
        ));
    }
    let index = app.index.clone();
    let lookup = id.clone();
    match blocking(move || index.get(&lookup)).await? {
        Some(notice) => Ok(Json(notice).into_response()),
        None => Err(index::Error::NotFound(id).into()),
    }
}

/// `GET /api/stats`: counts by source, date range, last commit, last crawl
/// (the JSON of `notices stats --json`).
pub async fn stats(State(app): State<AppState>) -> Result<Response, ApiError> {
    let index = app.index.clone();
    let stats = blocking(move || index.stats()).await?;
    Ok(Json(stats).into_response())
}

/// `GET /api/sources`: the crawler's registry of sources (name, facet
/// label, Chinese and English names, hosts, default start URLs), in facet
/// order; the search page labels its source list from it.
pub async fn sources() -> Response {
    Json(crawler::sources::Registry::builtin().describe()).into_response()
}

/// `GET /api/labels`: the document types and statuses with their Chinese
/// and English labels, in display order (for the search page's facets).
pub async fn labels() -> Response {
    let doc_type: Vec<serde_json::Value> = index::DocType::ALL
        .iter()
        .map(|t| serde_json::json!({ "id": t.id(), "zh": t.label_zh(), "en": t.label_en() }))
        .collect();
    let status: Vec<serde_json::Value> = index::Status::ALL
        .iter()
        .map(|s| serde_json::json!({ "id": s.id(), "zh": s.label_zh(), "en": s.label_en() }))
        .collect();
    Json(serde_json::json!({ "doc_type": doc_type, "status": status })).into_response()
}

/// `GET /healthz`.
pub async fn healthz(State(app): State<AppState>) -> Result<Response, ApiError> {
    let index = app.index.clone();
    let notices = blocking(move || index.len()).await?;
    Ok(Json(serde_json::json!({ "status": "ok", "notices": notices })).into_response())
}

/// Any other path.
pub async fn not_found(uri: Uri) -> ApiError {
    // The path is echoed back as JSON text, never interpreted.
    let path: String = uri.path().chars().take(200).collect();
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no such path: {path}"))
}

/// The decoded parameters of a search, each as given.
#[derive(Debug, Default, PartialEq)]
struct SearchParams {
    q: Option<String>,
    sources: Vec<String>,
    since: Option<String>,
    until: Option<String>,
    sort: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    include_withdrawn: Option<String>,
    exact: Option<String>,
    types: Vec<String>,
    status: Option<String>,
    comments_open: Option<String>,
}

/// Parses a query string strictly: invalid UTF-8 (after percent-decoding),
/// unknown parameters and repeated single-valued parameters are errors, not
/// silently replaced or ignored. (Axum's `Query` would answer such input
/// with a plain-text rejection or decode it lossily.)
fn parse_query_string(raw: &str) -> Result<SearchParams, ApiError> {
    let mut p = SearchParams::default();
    for pair in raw.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k)
            .map_err(|_| ApiError::bad("query string", "invalid_utf8", "a parameter name is not valid UTF-8"))?;
        let (name, slot): (&'static str, &mut Option<String>) = match key.as_str() {
            "q" => ("q", &mut p.q),
            "since" => ("since", &mut p.since),
            "until" => ("until", &mut p.until),
            "sort" => ("sort", &mut p.sort),
            "limit" => ("limit", &mut p.limit),
            "offset" => ("offset", &mut p.offset),
            "include_withdrawn" => ("include_withdrawn", &mut p.include_withdrawn),
            "exact" => ("exact", &mut p.exact),
            "status" => ("status", &mut p.status),
            "comments_open" => ("comments_open", &mut p.comments_open),
            "type" => {
                let value = decode(v).map_err(|_| ApiError::bad("type", "invalid_utf8", "not valid UTF-8"))?;
                p.types.push(value);
                continue;
            }
            "source" => {
                let value = decode(v).map_err(|_| ApiError::bad("source", "invalid_utf8", "not valid UTF-8"))?;
                p.sources.push(value);
                continue;
            }
            other => {
                let shown: String = other.chars().take(40).collect();
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "unknown_parameter",
                    format!(
                        "unknown parameter {shown:?}: expected q, source, type, status, comments_open, since, until, sort, limit, offset, include_withdrawn, exact"
                    ),
                ));
            }
        };
        let value =
            decode(v).map_err(|_| ApiError::bad(name, "invalid_utf8", "not valid UTF-8 once percent-decoded"))?;
        if slot.replace(value).is_some() {
            return Err(ApiError::bad(name, "repeated_parameter", "given more than once"));
        }
    }
    Ok(p)
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a
/// byte; a `%` not followed by two hex digits stays as it is.
fn decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && hex(bytes[i + 1]).is_some() && hex(bytes[i + 2]).is_some() => {
                out.push(hex(bytes[i + 1]).unwrap_or(0) * 16 + hex(bytes[i + 2]).unwrap_or(0));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Checks each parameter and builds the index request; an error names the
/// parameter at fault.
fn search_request(p: &SearchParams) -> Result<SearchRequest, ApiError> {
    let q = p.q.clone().unwrap_or_default();
    // Checked here too so a huge query is refused before any work.
    let len = q.chars().count();
    if len > MAX_QUERY_CHARS {
        return Err(ApiError::from_index("q", index::Error::QueryTooLong { len, max: MAX_QUERY_CHARS }));
    }
    if q.trim().is_empty() {
        return Err(ApiError::from_index("q", index::Error::EmptyQuery));
    }
    let number = |name: &'static str, value: &Option<String>, default: i64, min: i64, max: i64| {
        let Some(text) = value.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(default);
        };
        let n: i64 = text
            .parse()
            .map_err(|_| ApiError::bad(name, "invalid_number", format!("{text:?} is not a whole number")))?;
        check_range(name, n, min, max).map_err(|e| ApiError::from_index(name, e))?;
        Ok::<i64, ApiError>(n)
    };
    let limit = number("limit", &p.limit, DEFAULT_LIMIT as i64, 1, MAX_LIMIT as i64)?;
    let offset = number("offset", &p.offset, 0, 0, MAX_OFFSET as i64)?;
    // `source=NMPA&source=CDE` and `source=NMPA,CDE` both work; empty means all.
    let mut sources = Vec::new();
    for s in p.sources.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let source: Source = s.parse().map_err(|e| ApiError::from_index("source", e))?;
        if !sources.contains(&source) {
            sources.push(source);
        }
    }
    let date = |name: &'static str, value: &Option<String>, end: DateEnd| {
        value
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| parse_date(t, end).map_err(|e| ApiError::from_index(name, e)))
            .transpose()
    };
    let since = date("since", &p.since, DateEnd::Start)?;
    let until = date("until", &p.until, DateEnd::End)?;
    if let (Some(s), Some(u)) = (since, until)
        && s > u
    {
        return Err(ApiError::bad("until", "empty_date_range", format!("since {s} is after until {u}")));
    }
    let sort = match p.sort.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Sort::Relevance,
        Some(s) => s.parse().map_err(|e| ApiError::from_index("sort", e))?,
    };
    let include_withdrawn = boolean("include_withdrawn", &p.include_withdrawn)?;
    let exact = boolean("exact", &p.exact)?;
    // `type=guidance&type=guideline` and `type=guidance,guideline` both work.
    let doc_types = index::filters::parse_types(&p.types).map_err(|e| ApiError::from_index("type", e))?;
    let status = match p.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse().map_err(|e| ApiError::from_index("status", e))?),
    };
    let comments_open = match p.comments_open.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(d) => Some(
            index::filters::parse_comments_open(d, chrono::Utc::now().date_naive())
                .map_err(|e| ApiError::from_index("comments_open", e))?,
        ),
    };
    // `..new` keeps the defaults of fields the API does not offer.
    Ok(SearchRequest {
        sources,
        doc_types,
        status,
        comments_open,
        since,
        until,
        sort,
        limit: limit as usize,
        offset: offset as usize,
        include_withdrawn,
        exact,
        ..SearchRequest::new(q)
    })
}

/// A boolean parameter: absent or empty is false.
fn boolean(name: &'static str, value: &Option<String>) -> Result<bool, ApiError> {
    match value.as_deref().map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "false" | "0" | "no" | "off") => Ok(false),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some(other) => Err(ApiError::bad(name, "invalid_boolean", format!("{other:?}: expected true or false"))),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use index::{Notice, NoticeIndex};
    use serde_json::Value;

    use super::*;
    use crate::server::router;
    use crate::server::tests::call;

    fn notice(url: &str, source: Source, title: &str, body: &str, date: &str) -> Notice {
        Notice {
            published: NaiveDate::parse_from_str(date, "%Y-%m-%d").ok(),
            ..Notice::crawled(source, url, title, body)
        }
    }

    fn app() -> axum::Router {
        let index = NoticeIndex::in_memory().unwrap();
        let mut w = index.writer(1).unwrap();
        w.upsert(&notice(
            "http://www.nmpa.gov.cn/a.html",
            Source::Nmpa,
            "关于开展仿制药一致性评价工作的公告",
            "为加快推进仿制药一致性评价工作……",
            "2020-05-14",
        ))
        .unwrap();
        w.upsert(&notice(
            "https://www.cde.org.cn/b.html",
            Source::Cde,
            "一致性评价技术要求",
            "注射剂一致性评价的技术要求。",
            "2020-04-20",
        ))
        .unwrap();
        w.commit("test").unwrap();
        index.reload().unwrap();
        router(index)
    }

    #[test]
    fn query_strings_decode_strictly() {
        let p = parse_query_string("q=%E4%B8%80+致性&source=NMPA&source=cde&limit=5").unwrap();
        assert_eq!(p.q.as_deref(), Some("一 致性"));
        assert_eq!(p.sources, ["NMPA", "cde"]);
        assert_eq!(p.limit.as_deref(), Some("5"));
        // A stray % is kept, invalid UTF-8 is refused and named.
        assert_eq!(parse_query_string("q=100%").unwrap().q.as_deref(), Some("100%"));
        let e = parse_query_string("q=%FF%FE").unwrap_err();
        assert_eq!((e.error, e.parameter), ("invalid_utf8", Some("q")));
        assert_eq!(parse_query_string("q=a&q=b").unwrap_err().error, "repeated_parameter");
        assert_eq!(parse_query_string("q=a&limt=3").unwrap_err().error, "unknown_parameter");
    }

    #[test]
    fn requests_are_checked_parameter_by_parameter() {
        let req = |s: &str| search_request(&parse_query_string(s).unwrap());
        let ok = req("q=x&source=NMPA,CDE&since=2020-05&until=2020&sort=newest&limit=20&offset=10").unwrap();
        assert_eq!(ok.sources, [Source::Nmpa, Source::Cde]);
        assert_eq!(ok.since, NaiveDate::from_ymd_opt(2020, 5, 1));
        assert_eq!(ok.until, NaiveDate::from_ymd_opt(2020, 12, 31));
        assert_eq!((ok.sort, ok.limit, ok.offset), (Sort::Newest, 20, 10));
        // Empty values mean "not given", as an HTML form sends them.
        assert_eq!(req("q=x&since=&until=&sort=&limit=&source=").unwrap().limit, DEFAULT_LIMIT);
        for (qs, param, code) in [
            ("q=", "q", "empty_query"),
            ("limit=3", "q", "empty_query"),
            ("q=x&limit=-1", "limit", "out_of_range"),
            ("q=x&limit=100000", "limit", "out_of_range"),
            ("q=x&limit=ten", "limit", "invalid_number"),
            ("q=x&offset=99999999999999999999", "offset", "invalid_number"),
            ("q=x&since=not-a-date", "since", "invalid_date"),
            ("q=x&since=2021&until=2020", "until", "empty_date_range"),
            ("q=x&source=WHO", "source", "unknown_source"),
            ("q=x&sort=oldest", "sort", "invalid_sort"),
            ("q=x&include_withdrawn=maybe", "include_withdrawn", "invalid_boolean"),
            ("q=x&exact=perhaps", "exact", "invalid_boolean"),
        ] {
            let e = req(qs).unwrap_err();
            assert_eq!((e.error, e.parameter), (code, Some(param)), "{qs}");
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert!(e.message.starts_with(param), "{qs}: {}", e.message);
        }
    }

    /// With the result cache, a repeated search gets the same answer, and
    /// a commit (loaded by the reader) is seen at once, not a stale answer.
    #[tokio::test]
    async fn cached_answers_follow_commits() {
        let index = NoticeIndex::in_memory().unwrap();
        let add = |url: &str| {
            let mut w = index.writer(1).unwrap();
            w.upsert(&notice(url, Source::Nmpa, "仿制药一致性评价公告", "仿制药一致性评价", "2020-05-14")).unwrap();
            w.commit("test").unwrap();
            index.reload().unwrap();
        };
        add("http://www.nmpa.gov.cn/1.html");
        let cache = std::sync::Arc::new(index::cache::ResultCache::default());
        let app = crate::server::router_with(index.clone(), Some(cache.clone()), crate::server::Limits::default());
        let uri = "/api/search?q=%E4%BB%BF%E5%88%B6%E8%8D%AF";
        let (_, first) = call(&app, "GET", uri).await;
        let (_, again) = call(&app, "GET", uri).await;
        assert_eq!((first["total"].as_u64(), &first["hits"]), (Some(1), &again["hits"]));
        assert_eq!(cache.stats().hits, 1);
        add("http://www.nmpa.gov.cn/2.html");
        let (_, after) = call(&app, "GET", uri).await;
        assert_eq!(after["total"], 2, "the commit invalidated the cached answer");
    }

    #[tokio::test]
    async fn search_answers_with_hits_and_facets() {
        let app = app();
        let (status, body) = call(&app, "GET", "/api/search?q=%E4%B8%80%E8%87%B4%E6%80%A7%E8%AF%84%E4%BB%B7").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["total"], 2);
        assert_eq!(body["facets"]["source"]["NMPA"], 1);
        assert_eq!(body["facets"]["month"]["2020-04"], 1);
        assert!(body["hits"][0]["title_html"].as_str().unwrap().contains("<b>"));
        let (_, body) = call(&app, "GET", "/api/search?q=一致性评价&source=CDE").await;
        assert_eq!(body["total"], 1);
        assert_eq!(body["hits"][0]["source"], "CDE");
    }

    #[tokio::test]
    async fn english_finds_chinese_through_the_glossary_unless_exact() {
        let app = app();
        let (status, body) = call(&app, "GET", "/api/search?q=consistency+evaluation").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["total"], 2, "{body}");
        assert_eq!(body["expanded"]["consistency evaluation"], serde_json::json!(["一致性评价", "一致性評價"]));
        assert!(body["hits"][0]["title_html"].as_str().unwrap().contains("<b>一致性评价</b>"), "{body}");
        let (status, body) = call(&app, "GET", "/api/search?q=consistency+evaluation&exact=true").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["total"], 0);
        assert_eq!(body["expanded"], serde_json::json!({}));
    }

    #[tokio::test]
    async fn notices_stats_and_health() {
        let app = app();
        let id = Notice::id_for_url("http://www.nmpa.gov.cn/a.html");
        let (status, body) = call(&app, "GET", &format!("/api/notices/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["source"], "NMPA");
        assert_eq!(body["body"], "为加快推进仿制药一致性评价工作……");
        let (status, body) = call(&app, "GET", "/api/notices/0000000000000000").await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
        let (status, body) = call(&app, "GET", "/api/notices/%FF").await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_id")));
        let (_, body) = call(&app, "GET", "/api/stats").await;
        assert_eq!(body["total"], 2);
        assert_eq!(body["by_source"]["CDE"], 1);
        assert_eq!(body["earliest"], "2020-04-20");
        let (status, body) = call(&app, "GET", "/healthz").await;
        assert_eq!((status, body["notices"].as_u64()), (StatusCode::OK, Some(2)));
    }

    #[tokio::test]
    async fn unknown_paths_are_json_404s() {
        let app = app();
        for path in ["/nope", "/api", "/assets/../Cargo.toml", "/assets/secret.txt", "/api/search/x"] {
            let (status, body) = call(&app, "GET", path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(body["error"], Value::from("not_found"), "{path}");
        }
    }
}
