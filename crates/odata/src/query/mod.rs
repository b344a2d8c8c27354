//! The query-option engine: `$filter`, `$select`, `$orderby`, `$top`, `$skip`, `$count`,
//! `$expand`, `$search` and `$skiptoken`, checked against one endpoint's [`Capabilities`].
//!
//! Two phases, as in ODataLib: [`parser`] turns each option's text into a syntax tree with
//! byte spans ([`ast`], from the tokens of [`lexer`]), then [`bind`] resolves names against
//! the version's EDM into a typed tree, so every error names its position. [`eval`] runs the
//! typed tree over the JSON items as the request's version writes them.
//!
//! [`Options::run`] is one page of a collection: filter and search, then a total order (the
//! `$orderby` keys, then `id`), then the items strictly after the [`skiptoken::Cursor`] (or
//! after `$skip` items on the first page), up to the page size; the last item becomes the next
//! cursor when more match. [`Options::project`] applies `$select` and the nested options of
//! `$expand` to one item.
//!
//! ## Layout
//! - [`lexer`], [`ast`], [`parser`]: text → syntax tree (grammar in `parser`).
//! - [`bind`]: syntax tree → typed tree.
//! - [`eval`]: typed tree × JSON item → value; sort keys.
//! - [`search`]: the `$search` option.
//! - [`capabilities`]: what each endpoint accepts.
//! - [`skiptoken`]: the opaque, MAC-protected paging cursor.
//! - [`limits`]: the bounds that keep every request small.

pub mod ast;
pub mod bind;
pub mod capabilities;
pub mod eval;
pub mod lexer;
pub mod limits;
pub mod parser;
pub mod search;
pub mod skiptoken;

use std::cmp::Ordering;

use edm::Model;
use serde_json::{Map, Value};

use ast::{Direction, ExprError, SelectItem};
use bind::{Binder, Bound, Ty};
pub use capabilities::Capabilities;
use eval::{SortKind, SortVal};
use search::Search;
use skiptoken::Cursor;

/// A query option the request cannot have: the message is Graph's 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

impl QueryError {
    /// `Invalid filter clause: … at position N in '…'.` (position: 0-based, in characters)
    pub fn clause(kind: &str, text: &str, e: &ExprError) -> QueryError {
        let at = e.at.min(text.len());
        let pos = text.char_indices().take_while(|(i, _)| *i < at).count();
        let shown: String = if text.chars().count() > 200 {
            let mut s: String = text.chars().take(200).collect();
            s.push('…');
            s
        } else {
            text.to_owned()
        };
        QueryError(format!(
            "Invalid {kind} clause: {} at position {pos} in '{shown}'.",
            e.detail
        ))
    }
}

/// One `$orderby` key, bound.
#[derive(Debug, Clone)]
struct SortKey {
    expr: Bound,
    kind: SortKind,
    direction: Direction,
}

/// One `$select` item, resolved.
#[derive(Debug, Clone)]
enum Selected {
    /// A property selected by name, on whichever type of the collection has it.
    Name(String),
    /// `Namespace.Type/name`: only on items of that type (or derived).
    Cast { accept: Vec<String>, name: String },
}

/// `$select`, resolved.
#[derive(Debug, Clone)]
struct Selection {
    star: bool,
    items: Vec<Selected>,
    /// The items as the context URL writes them.
    context: Vec<String>,
}

impl Selection {
    fn keeps(&self, name: &str, item_type: Option<&str>) -> bool {
        self.star
            || self.items.iter().any(|s| match s {
                Selected::Name(n) => n == name,
                Selected::Cast { accept, name: n } => {
                    n == name && item_type.is_some_and(|t| accept.iter().any(|a| a == t))
                }
            })
    }
}

/// One `$expand` item with its nested options.
#[derive(Debug, Clone)]
pub struct Expand {
    /// The navigation property, in schema spelling.
    pub nav: String,
    pub options: Box<Options>,
}

/// The query options of one request, bound and checked.
#[derive(Debug, Clone, Default)]
pub struct Options {
    filter: Option<Bound>,
    search: Option<Search>,
    orderby: Vec<SortKey>,
    select: Option<Selection>,
    pub expand: Vec<Expand>,
    pub top: Option<usize>,
    pub skip: Option<usize>,
    /// `$count=true`
    pub count: bool,
    /// The raw `$skiptoken`, checked by [`skiptoken::decode`] against the query's scope.
    pub skiptoken: Option<String>,
}

/// One page of a collection.
#[derive(Debug)]
pub struct Page {
    /// The page's items, not yet projected.
    pub items: Vec<Value>,
    /// The number of items that match (filter and search), when `$count=true`.
    pub count: Option<usize>,
    /// Where the next page starts, when more items match.
    pub next: Option<Cursor>,
}

fn bad(msg: impl Into<String>) -> QueryError {
    QueryError(msg.into())
}

fn non_negative(name: &str, v: &str) -> Result<usize, QueryError> {
    v.trim().parse::<usize>().map_err(|_| {
        bad(format!(
            "Invalid value '{v}' for the query option '{name}': it must be a non-negative integer."
        ))
    })
}

fn item_id(v: &Value) -> &str {
    v.get("id").and_then(Value::as_str).unwrap_or("")
}

impl Options {
    /// Parses and binds `raw` (option names with `$`, lowercase; values percent-decoded) for an
    /// endpoint over items of the structured type `root`. `max_top` is the largest `$top`
    /// the server allows (the endpoint's own maximum applies as well).
    pub fn parse(
        model: &Model,
        caps: &'static Capabilities,
        root: &str,
        raw: &[(String, String)],
        max_top: usize,
    ) -> Result<Options, QueryError> {
        let mut o = Options::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in raw {
            let name = name.as_str();
            if !capabilities::KNOWN_OPTIONS.contains(&name) {
                return Err(bad(format!(
                    "The query parameter '{name}' is not supported."
                )));
            }
            if !caps.allows_option(name) {
                return Err(bad(if caps.options.is_empty() {
                    format!(
                        "The query option '{name}' is not supported by {}.",
                        caps.name
                    )
                } else {
                    format!(
                        "The query option '{name}' is not supported on {} (supported: {}).",
                        caps.name,
                        caps.options.join(", ")
                    )
                }));
            }
            if seen.contains(&name) {
                return Err(bad(format!(
                    "The query option '{name}' was specified more than once."
                )));
            }
            seen.push(name);
            if value.trim().is_empty() && name != "$skiptoken" {
                return Err(bad(format!("The query option '{name}' has no value.")));
            }
            match name {
                "$filter" => {
                    let e = parser::parse_filter(value)
                        .and_then(|e| Binder::new(model, root, caps).filter(&e))
                        .map_err(|e| QueryError::clause("filter", value, &e))?;
                    o.filter = Some(e);
                }
                "$orderby" => o.orderby = orderby(model, caps, root, value)?,
                "$select" => o.select = Some(select(model, root, value)?),
                "$expand" => o.expand = expand(model, caps, root, value, max_top)?,
                "$search" => {
                    o.search = Some(
                        Search::parse(value.trim(), caps.search)
                            .map_err(|e| QueryError::clause("search", value, &e))?,
                    )
                }
                "$top" => {
                    let n = non_negative(name, value)?;
                    let max = max_top.min(caps.max_top);
                    if n > max {
                        return Err(bad(format!(
                            "Invalid value '{n}' for the query option '$top': the maximum is {max}."
                        )));
                    }
                    o.top = Some(n);
                }
                "$skip" => o.skip = Some(non_negative(name, value)?),
                "$count" => {
                    o.count = match value.trim() {
                        v if v.eq_ignore_ascii_case("true") => true,
                        v if v.eq_ignore_ascii_case("false") => false,
                        v => {
                            return Err(bad(format!(
                                "Invalid value '{v}' for the query option '$count': it must be true or false."
                            )))
                        }
                    }
                }
                "$skiptoken" => o.skiptoken = Some(value.clone()),
                "$format" => {
                    let v = value.trim().to_ascii_lowercase();
                    let media = v.split(';').next().unwrap_or("").trim();
                    if media != "json" && media != "application/json" {
                        return Err(bad(format!(
                            "The format '{value}' is not supported: only 'json' is."
                        )));
                    }
                }
                other => {
                    return Err(bad(format!(
                        "The query option '{other}' is not supported on {}.",
                        caps.name
                    )))
                }
            }
        }
        Ok(o)
    }

    /// True if `item` passes `$filter` and `$search`.
    pub fn matches(&self, item: &Value) -> bool {
        self.filter.as_ref().is_none_or(|f| eval::matches(f, item))
            && self.search.as_ref().is_none_or(|s| s.matches(item))
    }

    /// True if `nav` is expanded.
    pub fn expands(&self, nav: &str) -> bool {
        self.expand.iter().any(|e| e.nav == nav)
    }

    /// The number of sort keys (a skiptoken carries one value per key).
    pub fn sort_keys(&self) -> usize {
        self.orderby.len()
    }

    fn keys_of(&self, item: &Value) -> Vec<SortVal> {
        self.orderby
            .iter()
            .map(|k| eval::sort_value(&k.expr, &k.kind, item))
            .collect()
    }

    /// The total order: sort keys in their directions, then id ascending.
    fn order(&self, a: (&[SortVal], &str), b: (&[SortVal], &str)) -> Ordering {
        for (k, (x, y)) in self.orderby.iter().zip(a.0.iter().zip(b.0)) {
            let o = x.total_cmp(y);
            let o = match k.direction {
                Direction::Asc => o,
                Direction::Desc => o.reverse(),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.1.cmp(b.1)
    }

    /// One page: the items that match, in the total order, after `after` (else after `$skip`
    /// items), at most `page_size` of them. Costs the same whichever page it is.
    pub fn run(&self, items: Vec<Value>, page_size: usize, after: Option<&Cursor>) -> Page {
        let matched: Vec<(Vec<SortVal>, Value)> = items
            .into_iter()
            .filter(|i| self.matches(i))
            .map(|i| (self.keys_of(&i), i))
            .collect();
        let count = self.count.then_some(matched.len());
        let mut rest: Vec<(Vec<SortVal>, Value)> = match after {
            Some(c) => matched
                .into_iter()
                .filter(|(k, v)| self.order((k, item_id(v)), (&c.keys, &c.id)) == Ordering::Greater)
                .collect(),
            None => matched,
        };
        let skip = if after.is_none() {
            self.skip.unwrap_or(0)
        } else {
            0
        };
        let cmp = |a: &(Vec<SortVal>, Value), b: &(Vec<SortVal>, Value)| {
            self.order((&a.0, item_id(&a.1)), (&b.0, item_id(&b.1)))
        };
        // Only the first skip + page + 1 items in order are needed: select them, then sort.
        let want = skip.saturating_add(page_size).saturating_add(1);
        if rest.len() > want {
            rest.select_nth_unstable_by(want - 1, cmp);
            rest.truncate(want);
        }
        rest.sort_by(cmp);
        rest.drain(..skip.min(rest.len()));
        let more = rest.len() > page_size;
        rest.truncate(page_size);
        let next = if more && page_size > 0 {
            rest.last().map(|(k, v)| Cursor {
                keys: k.clone(),
                id: item_id(v).to_owned(),
            })
        } else {
            None
        };
        Page {
            items: rest.into_iter().map(|(_, v)| v).collect(),
            count,
            next,
        }
    }

    /// `$select` and `$expand` applied to one item: `@odata.type` and the selected properties
    /// (all without `$select`), then each expanded navigation property, its nested options
    /// applied (with `nav@odata.count` first when its `$count=true`).
    /// Whether [`Options::project`] gives every item back as it is (no `$select`, no
    /// `$expand`), so that a caller can skip the copy.
    pub fn projects_nothing(&self) -> bool {
        self.select.is_none() && self.expand.is_empty()
    }

    pub fn project(&self, item: &Value) -> Value {
        let Value::Object(obj) = item else {
            return item.clone();
        };
        let ty = eval::type_of(item);
        let mut out = Map::new();
        for (k, v) in obj {
            if self.expand.iter().any(|e| e.nav == *k) {
                continue;
            }
            let keep = k.starts_with('@')
                || self
                    .select
                    .as_ref()
                    .is_none_or(|s| s.keeps(k, ty.as_deref()));
            if keep {
                out.insert(k.clone(), v.clone());
            }
        }
        for e in &self.expand {
            let items = obj
                .get(&e.nav)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let n = e.options.top.unwrap_or(usize::MAX);
            let page = e.options.run(items, n, None);
            if let Some(c) = page.count {
                out.insert(format!("{}@odata.count", e.nav), Value::from(c));
            }
            out.insert(
                e.nav.clone(),
                Value::Array(page.items.iter().map(|i| e.options.project(i)).collect()),
            );
        }
        Value::Object(out)
    }

    /// What `@odata.context` writes in parentheses after the collection for `$select` and
    /// `$expand` (`id,displayName,assignments()`), if anything.
    pub fn context_selection(&self) -> Option<String> {
        // `*` selects everything, which the context URL writes as no selection.
        let mut parts: Vec<String> = self
            .select
            .as_ref()
            .filter(|s| !s.star)
            .map(|s| s.context.clone())
            .unwrap_or_default();
        for e in &self.expand {
            parts.push(format!(
                "{}({})",
                e.nav,
                e.options.context_selection().unwrap_or_default()
            ));
        }
        (!parts.is_empty()).then(|| parts.join(","))
    }
}

/// Which display names a [`SeekPlan`] keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameFilter {
    Any,
    /// `displayName eq '…'`
    Eq(String),
    /// `startswith(displayName, '…')`
    Prefix(String),
}

/// A query that an index on (display name, id) answers one page at a time: `$filter` absent
/// or one condition on `displayName`, `$orderby` absent (id order) or `displayName` alone, no
/// `$search`, no `$count`. [`Options::run`] over the first items of that order from the
/// cursor gives the same page as over the whole collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeekPlan {
    pub name: NameFilter,
    /// `None`: by id; else by display name in that direction.
    pub order: Option<Direction>,
}

fn display_name_path(e: &Bound) -> bool {
    matches!(e, Bound::Path { root: bind::Root::It, steps } if matches!(steps.as_slice(), [bind::Step::Prop(p)] if p == "displayName"))
}

fn text_const(e: &Bound) -> Option<&str> {
    match e {
        Bound::Const(bind::Const::String(s)) => Some(s),
        _ => None,
    }
}

impl Options {
    /// The query as a [`SeekPlan`], when it has that shape.
    pub fn seek_plan(&self) -> Option<SeekPlan> {
        if self.search.is_some() || self.count {
            return None;
        }
        let name = match &self.filter {
            None => NameFilter::Any,
            Some(Bound::Call {
                func: bind::Func::StartsWith,
                args,
            }) => match args.as_slice() {
                [p, v] if display_name_path(p) => NameFilter::Prefix(text_const(v)?.to_owned()),
                _ => return None,
            },
            Some(Bound::Cmp {
                op: bind::CmpOp::Eq,
                kind: bind::CmpKind::String,
                lhs,
                rhs,
            }) => {
                if display_name_path(lhs) {
                    NameFilter::Eq(text_const(rhs)?.to_owned())
                } else if display_name_path(rhs) {
                    NameFilter::Eq(text_const(lhs)?.to_owned())
                } else {
                    return None;
                }
            }
            Some(_) => return None,
        };
        let order = match self.orderby.as_slice() {
            [] => None,
            [k] if display_name_path(&k.expr) && k.kind == SortKind::String => Some(k.direction),
            _ => return None,
        };
        Some(SeekPlan { name, order })
    }
}

fn sort_kind(model: &Model, ty: &Ty) -> SortKind {
    match ty {
        Ty::Prim(edm::Primitive::Boolean) => SortKind::Bool,
        Ty::Prim(edm::Primitive::String) => SortKind::String,
        Ty::Prim(edm::Primitive::Guid) => SortKind::Guid,
        Ty::Prim(edm::Primitive::DateTimeOffset) => SortKind::DateTime,
        Ty::Enum(e) => match model.enum_type(e) {
            Some(info) => SortKind::Enum(bind::enum_info(info)),
            None => SortKind::String,
        },
        _ => SortKind::Number,
    }
}

fn orderby(
    model: &Model,
    caps: &Capabilities,
    root: &str,
    text: &str,
) -> Result<Vec<SortKey>, QueryError> {
    let items = parser::parse_orderby(text).map_err(|e| QueryError::clause("orderby", text, &e))?;
    let mut keys = Vec::with_capacity(items.len());
    for item in items {
        let (expr, ty) = Binder::new(model, root, caps)
            .sort_key(&item.expr)
            .map_err(|e| QueryError::clause("orderby", text, &e))?;
        keys.push(SortKey {
            kind: sort_kind(model, &ty),
            expr,
            direction: item.direction,
        });
    }
    Ok(keys)
}

fn select(model: &Model, root: &str, text: &str) -> Result<Selection, QueryError> {
    let clause = |e: ExprError| QueryError::clause("select", text, &e);
    let items = parser::parse_select(text).map_err(clause)?;
    let st = model
        .structured(root)
        .ok_or_else(|| bad(format!("Unknown type '{root}'.")))?;
    let mut sel = Selection {
        star: false,
        items: Vec::new(),
        context: Vec::new(),
    };
    let find = |t: &edm::StructuredType, name: &str| -> Option<String> {
        t.property(name)
            .or_else(|| {
                t.properties
                    .iter()
                    .find(|p| p.name.eq_ignore_ascii_case(name))
            })
            .map(|p| p.name.clone())
    };
    for item in items {
        let segs = match item {
            SelectItem::Star(_) => {
                sel.star = true;
                sel.context.push("*".into());
                continue;
            }
            SelectItem::Path(segs) => segs,
        };
        let (cast, prop) = match segs.as_slice() {
            [p] => (None, p),
            [c, p] if c.name.contains('.') => (Some(c), p),
            _ => {
                return Err(clause(ExprError::new(
                    "only a property, or a type cast followed by a property, can be selected",
                    segs[0].span.start,
                )))
            }
        };
        if let Some(c) = cast {
            let t = model
                .structured(&c.name)
                .filter(|t| model.is_assignable(&t.name, &st.name))
                .ok_or_else(|| {
                    clause(ExprError::new(
                        format!(
                            "'{}' is not a type derived from '{}.{}'",
                            c.name,
                            edm::NAMESPACE,
                            st.name
                        ),
                        c.span.start,
                    ))
                })?;
            let name = find(t, &prop.name).ok_or_else(|| {
                clause(ExprError::new(
                    format!(
                        "could not find a property named '{}' on type '{}.{}'",
                        prop.name,
                        edm::NAMESPACE,
                        t.name
                    ),
                    prop.span.start,
                ))
            })?;
            sel.context
                .push(format!("{}.{}/{name}", edm::NAMESPACE, t.name));
            sel.items.push(Selected::Cast {
                accept: t
                    .self_and_derived
                    .iter()
                    .map(|n| n.to_ascii_lowercase())
                    .collect(),
                name,
            });
            continue;
        }
        // By name: the collection's type, else any type derived from it.
        let name = find(st, &prop.name).or_else(|| {
            st.self_and_derived
                .iter()
                .filter_map(|d| model.structured(d))
                .find_map(|d| find(d, &prop.name))
        });
        let Some(name) = name else {
            let nav = st
                .navigation
                .iter()
                .any(|n| n.name.eq_ignore_ascii_case(&prop.name));
            return Err(clause(ExprError::new(
                if nav {
                    format!(
                        "'{}' is a navigation property: use $expand to include it",
                        prop.name
                    )
                } else {
                    format!(
                        "could not find a property named '{}' on type '{}.{}'",
                        prop.name,
                        edm::NAMESPACE,
                        st.name
                    )
                },
                prop.span.start,
            )));
        };
        sel.context.push(name.clone());
        sel.items.push(Selected::Name(name));
    }
    Ok(sel)
}

/// Splits `text` at top-level occurrences of `sep` (outside quotes and parentheses).
fn split_top(text: &str, sep: u8) -> Result<Vec<(usize, &str)>, usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0usize);
    for (i, c) in b.iter().enumerate() {
        match c {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth = depth.checked_sub(1).ok_or(i)?,
            c if *c == sep && !quoted && depth == 0 => {
                out.push((start, &text[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || quoted {
        return Err(text.len());
    }
    out.push((start, &text[start..]));
    Ok(out)
}

/// `$expand`:
/// ```text
/// expand      = expand-item *( "," expand-item )
/// expand-item = ( navigation-property / "*" ) [ "(" option *( ";" option ) ")" ]
/// option      = [ "$" ] name "=" value
/// ```
fn expand(
    model: &Model,
    caps: &Capabilities,
    root: &str,
    text: &str,
    max_top: usize,
) -> Result<Vec<Expand>, QueryError> {
    let clause =
        |detail: String, at: usize| QueryError::clause("expand", text, &ExprError::new(detail, at));
    if text.len() > limits::MAX_EXPRESSION_BYTES {
        return Err(clause("the expansion is too long".into(), 0));
    }
    let st = model
        .structured(root)
        .ok_or_else(|| bad(format!("Unknown type '{root}'.")))?;
    let items = split_top(text, b',')
        .map_err(|at| clause("unbalanced parentheses or quotes".into(), at))?;
    let mut out: Vec<Expand> = Vec::new();
    for (at, item) in items {
        let lead = item.len() - item.trim_start().len();
        let at = at + lead;
        let item = item.trim();
        let (name, nested) = match item.find('(') {
            Some(p) => {
                let inner = item[p + 1..].strip_suffix(')').ok_or_else(|| {
                    clause(
                        "expected ')' at the end of the expanded item".into(),
                        at + item.len(),
                    )
                })?;
                (item[..p].trim(), Some((at + p + 1, inner)))
            }
            None => (item, None),
        };
        let targets: Vec<&(&str, &'static Capabilities)> = if name == "*" {
            caps.expand.iter().collect()
        } else {
            let nav = st
                .navigation
                .iter()
                .find(|n| n.name.eq_ignore_ascii_case(name));
            match nav.and_then(|n| caps.expand.iter().find(|(e, _)| *e == n.name)) {
                Some(t) => vec![t],
                None => {
                    return Err(clause(
                        if name.is_empty() {
                            "a navigation property is missing".into()
                        } else if nav.is_some() {
                            format!("'{name}' cannot be expanded on {}", caps.name)
                        } else {
                            format!(
                                "could not find a navigation property named '{name}' on type '{}.{}'",
                                edm::NAMESPACE,
                                st.name
                            )
                        },
                        at,
                    ))
                }
            }
        };
        let mut raw = Vec::new();
        if let Some((nat, inner)) = nested {
            if !inner.trim().is_empty() {
                let opts = split_top(inner, b';')
                    .map_err(|a| clause("unbalanced parentheses or quotes".into(), nat + a))?;
                for (oat, opt) in opts {
                    let (k, v) = opt.split_once('=').ok_or_else(|| {
                        clause(
                            format!("'{}' is not an option=value pair", opt.trim()),
                            nat + oat,
                        )
                    })?;
                    let k = k.trim();
                    let bare = k.strip_prefix('$').unwrap_or(k).to_ascii_lowercase();
                    raw.push((format!("${bare}"), v.to_owned()));
                }
            }
        }
        for (nav, nested_caps) in targets {
            if out.iter().any(|e| e.nav == *nav) {
                return Err(clause(format!("'{nav}' is expanded more than once"), at));
            }
            let target = st
                .navigation_property(nav)
                .map(|n| n.target.clone())
                .unwrap_or_default();
            let options =
                Options::parse(model, nested_caps, &target, &raw, max_top).map_err(|e| {
                    QueryError(format!(
                        "Invalid expand clause: in the options of '{nav}': {}",
                        e.0
                    ))
                })?;
            out.push(Expand {
                nav: (*nav).to_owned(),
                options: Box::new(options),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::capabilities::{ASSIGNMENTS, CONFIGURATION, CONFIGURATIONS};
    use super::*;
    use serde_json::json;

    fn models() -> edm::Models {
        match edm::Models::load() {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    fn opts(
        model: &Model,
        caps: &'static Capabilities,
        q: &[(&str, &str)],
    ) -> Result<Options, QueryError> {
        let raw: Vec<(String, String)> =
            q.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        let root = if std::ptr::eq(caps, &ASSIGNMENTS) {
            "enrollmentConfigurationAssignment"
        } else {
            "deviceEnrollmentConfiguration"
        };
        Options::parse(model, caps, root, &raw, 1000)
    }

    fn items() -> Vec<Value> {
        (0..10)
            .map(|i| {
                json!({
                    "@odata.type": if i % 2 == 0 { "#microsoft.graph.deviceEnrollmentLimitConfiguration" } else { "#microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration" },
                    "id": format!("id{i:02}"),
                    "displayName": format!("n{}", i % 3),
                    "priority": i,
                    "limit": if i % 2 == 0 { json!(i) } else { Value::Null },
                    "assignments": [{"@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", "id": "a1", "target": null}, {"@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", "id": "a2", "target": null}],
                })
            })
            .collect()
    }

    #[test]
    fn paging_by_keyset_visits_every_item_once() -> Result<(), QueryError> {
        let m = models();
        let o = opts(
            &m.beta,
            &CONFIGURATIONS,
            &[("$orderby", "displayName desc, priority")],
        )?;
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = o.run(items(), 3, after.as_ref());
            seen.extend(page.items.iter().map(|v| item_id(v).to_owned()));
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len(), 10);
        assert_eq!(&seen[..4], &["id02", "id05", "id08", "id01"]);
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        Ok(())
    }

    #[test]
    fn skip_count_select_and_expand() -> Result<(), QueryError> {
        let m = models();
        let o = opts(
            &m.beta,
            &CONFIGURATIONS,
            &[
                ("$filter", "priority ge 2"),
                ("$skip", "1"),
                ("$count", "true"),
                (
                    "$select",
                    "displayName,microsoft.graph.deviceEnrollmentLimitConfiguration/limit",
                ),
                (
                    "$expand",
                    "assignments($select=id;$top=1;$count=true;$orderby=id desc)",
                ),
            ],
        )?;
        let page = o.run(items(), 2, None);
        assert_eq!(page.count, Some(8));
        assert_eq!(page.items.len(), 2);
        let first = o.project(&page.items[0]);
        assert_eq!(first["displayName"], "n0");
        assert!(first.get("priority").is_none());
        assert!(
            first.get("limit").is_none(),
            "id03 is not a limit configuration"
        );
        assert_eq!(first["assignments@odata.count"], 2);
        assert_eq!(
            first["assignments"],
            json!([{"@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", "id": "a2"}])
        );
        let second = o.project(&page.items[1]);
        assert_eq!(second["limit"], 4);
        assert_eq!(
            o.context_selection().as_deref(),
            Some("displayName,microsoft.graph.deviceEnrollmentLimitConfiguration/limit,assignments(id)")
        );
        Ok(())
    }

    #[test]
    fn endpoints_refuse_what_they_do_not_support() {
        let m = models();
        let e = |caps, q: &[(&str, &str)]| {
            opts(&m.beta, caps, q)
                .err()
                .map(|e| e.0)
                .unwrap_or_default()
        };
        assert!(e(&CONFIGURATION, &[("$filter", "x")]).contains("not supported on"));
        assert!(e(&CONFIGURATIONS, &[("$bogus", "x")]).contains("'$bogus' is not supported"));
        assert!(e(&CONFIGURATIONS, &[("$top", "1001")]).contains("maximum is 1000"));
        assert!(e(&CONFIGURATIONS, &[("$top", "-1")]).contains("non-negative"));
        assert!(e(&CONFIGURATIONS, &[("$count", "yes")]).contains("true or false"));
        assert!(e(&ASSIGNMENTS, &[("$search", "x")]).contains("not supported on"));
        assert!(e(&ASSIGNMENTS, &[("$expand", "target")]).contains("not supported on"));
        assert!(e(&CONFIGURATIONS, &[("$expand", "bogus")])
            .contains("could not find a navigation property"));
        assert!(e(&CONFIGURATIONS, &[("$expand", "assignments($expand=x)")])
            .contains("in the options of 'assignments'"));
        assert!(e(&CONFIGURATIONS, &[("$select", "assignments")]).contains("use $expand"));
        assert!(e(&CONFIGURATIONS, &[("$select", "bogus")]).contains("at position 0"));
        assert!(e(&CONFIGURATIONS, &[("$orderby", "roleScopeTagIds")]).contains("cannot sort"));
        assert!(e(&CONFIGURATIONS, &[("$filter", "displayName eq 1")])
            .starts_with("Invalid filter clause: a binary operator with incompatible types"));
    }

    #[test]
    fn select_by_name_reaches_derived_properties() -> Result<(), QueryError> {
        let m = models();
        let o = opts(&m.beta, &CONFIGURATIONS, &[("$select", "limit,id")])?;
        let v = o.project(&items()[2]);
        assert_eq!(
            v,
            json!({"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "id": "id02", "limit": 2})
        );
        assert_eq!(o.context_selection().as_deref(), Some("limit,id"));
        Ok(())
    }
}
