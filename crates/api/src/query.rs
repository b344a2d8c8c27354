//! The HTTP side of query options: each endpoint's options bound with [`odata::query`], page
//! sizes (`$top`, `Prefer: odata.maxpagesize`, the configured default and maximum), the
//! `$skiptoken` of `@odata.nextLink`, and the collection body
//! `{"@odata.context", "@odata.count"?, "@odata.nextLink"?, "value"}`.

use axum::response::Response;
use http::StatusCode;
use odata::query::skiptoken::{self, Cursor, SkipToken};
use odata::query::{Capabilities, Options};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

use crate::dispatch::Ctx;
use crate::error::GraphError;
use crate::routes::json;

/// Page sizes of collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuerySettings {
    /// Items per page when neither `$top` nor `Prefer: odata.maxpagesize` says otherwise.
    pub default_page_size: usize,
    /// The largest page: a larger `$top` is a 400, a larger `odata.maxpagesize` is lowered to it.
    pub max_page_size: usize,
}

impl Default for QuerySettings {
    fn default() -> Self {
        QuerySettings {
            default_page_size: 1000,
            max_page_size: odata::query::capabilities::MAX_TOP,
        }
    }
}

impl QuerySettings {
    /// The settings, made consistent: both at least 1, the default at most the maximum.
    pub fn normalized(self) -> QuerySettings {
        let max = self.max_page_size.max(1);
        QuerySettings {
            default_page_size: self.default_page_size.clamp(1, max),
            max_page_size: max,
        }
    }
}

/// What purpose the skiptoken MAC key is derived for.
const SKIPTOKEN_PURPOSE: &str = "odata $skiptoken";

/// Characters written as-is in a query option value of a nextLink; everything else is
/// percent-encoded (space as `%20`, never `+`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b',')
    .remove(b'/')
    .remove(b':')
    .remove(b'$')
    .remove(b'*')
    .remove(b'@')
    .remove(b'!');

impl Ctx {
    /// The request's query options, checked against `caps` for items of type `root`.
    pub fn options(&self, caps: &'static Capabilities, root: &str) -> Result<Options, GraphError> {
        Options::parse(
            self.model(),
            caps,
            root,
            &self.query.options,
            self.paging.max_page_size,
        )
        .map_err(|e| GraphError::bad_request(e.0))
    }
}

/// `odata.maxpagesize=N` of a `Prefer` header (several headers, comma-separated preferences).
fn prefer_max_page_size(headers: &http::HeaderMap) -> Option<usize> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("odata.maxpagesize")
                .then(|| v.trim().trim_matches('"').parse::<usize>().ok())
                .flatten()
                .filter(|n| *n > 0)
        })
}

/// The options that define the query (all but the position in it), in a canonical order.
fn identity(ctx: &Ctx) -> String {
    let mut opts: Vec<&(String, String)> = ctx
        .query
        .options
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "$skiptoken" | "$skip" | "$format"))
        .collect();
    opts.sort();
    opts.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// What a skiptoken is bound to: tenant, version, resource path (decoded, so that a client
/// that re-encodes the nextLink differently still matches) and the other options.
fn scope(ctx: &Ctx) -> [u8; 32] {
    let path = percent_encoding::percent_decode_str(&ctx.path).decode_utf8_lossy();
    skiptoken::scope(&[
        ctx.principal.tenant.as_str(),
        ctx.version.segment(),
        &path,
        &identity(ctx),
    ])
}

/// The absolute URL of the next page: this request's path and options, `$skip` dropped (the
/// token already starts after it), and the new `$skiptoken`.
fn next_link(ctx: &Ctx, token: &str) -> String {
    let mut url = format!("{}{}?", ctx.base, ctx.path);
    for (k, v) in &ctx.query.options {
        if k == "$skiptoken" || k == "$skip" {
            continue;
        }
        url.push_str(k);
        url.push('=');
        url.extend(utf8_percent_encode(v, QUERY_VALUE));
        url.push('&');
    }
    url.push_str("$skiptoken=");
    url.push_str(token);
    url
}

/// Where a page of a collection starts and how long it is: from `$skiptoken`, `$top`,
/// `Prefer: odata.maxpagesize` and the configured sizes.
pub struct Paging {
    secret: [u8; 32],
    scope: [u8; 32],
    token: Option<SkipToken>,
    prefer: Option<usize>,
    /// Items on this page at most.
    pub size: usize,
}

impl Paging {
    /// The position the page starts after (from the request's `$skiptoken`).
    pub fn cursor(&self) -> Option<&Cursor> {
        self.token.as_ref().map(|t| &t.cursor)
    }

    /// The `Preference-Applied` header of the page, when `Prefer: odata.maxpagesize` was
    /// honoured.
    pub fn preference_applied(&self) -> Option<http::HeaderValue> {
        let p = self.prefer?;
        http::HeaderValue::from_str(&format!("odata.maxpagesize={p}")).ok()
    }

    /// How many items, in the query's order and from its start position, decide the page:
    /// those `$skip` passes over, the page, and one more to tell whether another page follows.
    pub fn window(&self, options: &Options) -> usize {
        let skip = if self.token.is_none() {
            options.skip.unwrap_or(0)
        } else {
            0
        };
        skip.saturating_add(self.size).saturating_add(1)
    }
}

/// The paging of this request (a `$skiptoken` that does not belong to it is a 400).
pub fn paging(ctx: &Ctx, options: &Options) -> Result<Paging, GraphError> {
    let settings = ctx.paging;
    let secret = ctx.state.keys.derive_secret(SKIPTOKEN_PURPOSE);
    let scope = scope(ctx);
    let token: Option<SkipToken> = match options.skiptoken.as_deref() {
        None => None,
        Some(t) => Some(
            skiptoken::decode(&secret, &scope, options.sort_keys(), t)
                .map_err(|e| GraphError::bad_request(e.to_string()))?,
        ),
    };
    let prefer = prefer_max_page_size(&ctx.headers).map(|n| n.min(settings.max_page_size));
    let mut size = match (&token, prefer) {
        (_, Some(p)) => p,
        (Some(t), None) => t.page_size,
        (None, None) => settings.default_page_size,
    };
    if let Some(top) = options.top {
        size = size.min(top);
    }
    size = size.min(settings.max_page_size);
    Ok(Paging {
        secret,
        scope,
        token,
        prefer,
        size,
    })
}

/// One page of a collection as Graph writes it. `items` are the endpoint's items, shaped for
/// the version, in store order; `fragment` is the context URL's fragment.
pub fn list_response(
    ctx: &Ctx,
    options: &Options,
    items: Vec<Value>,
    fragment: &str,
) -> Result<Response, GraphError> {
    let paging = paging(ctx, options)?;
    page_response(ctx, options, &paging, items, fragment)
}

/// Like [`list_response`], with the paging already worked out; `items` must hold at least
/// the first [`Paging::window`] matching items after the cursor in the query's order (or all
/// of them), in any order.
pub fn page_response(
    ctx: &Ctx,
    options: &Options,
    paging: &Paging,
    items: Vec<Value>,
    fragment: &str,
) -> Result<Response, GraphError> {
    let size = paging.size;
    let page = options.run(items, size, paging.cursor());

    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::String(ctx.context_url(fragment)),
    );
    if paging.token.is_none() {
        if let Some(n) = page.count {
            body.insert("@odata.count".into(), Value::from(n));
        }
    }
    if let Some(cursor) = page.next {
        let t = skiptoken::encode(
            &paging.secret,
            &paging.scope,
            &SkipToken {
                cursor,
                page_size: size,
            },
        );
        body.insert("@odata.nextLink".into(), Value::String(next_link(ctx, &t)));
    }
    let value: Vec<Value> = if options.projects_nothing() {
        page.items
    } else {
        page.items.iter().map(|i| options.project(i)).collect()
    };
    body.insert("value".into(), Value::Array(value));
    let mut res = json(StatusCode::OK, &Value::Object(body));
    if let Some(v) = paging.preference_applied() {
        res.headers_mut().insert("preference-applied", v);
    }
    Ok(res)
}

/// How many of `items` match `$filter` and `$search`.
pub fn count_matching(options: &Options, items: &[Value]) -> usize {
    items.iter().filter(|i| options.matches(i)).count()
}
