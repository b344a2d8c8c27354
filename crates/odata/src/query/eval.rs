//! Evaluation of a typed tree over one item, in memory.
//!
//! The item is the JSON entity exactly as the request's version writes it (`@odata.type` on
//! the entity and on each complex value), so a property the version lacks is simply absent.
//! Logic is OData's three-valued one: a comparison with `null` is false (except `eq null`),
//! a function of `null` is `null`, and only a filter that evaluates to `true` keeps an item.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::ast::LambdaOp;
use super::bind::{Bound, CmpKind, CmpOp, Const, EnumInfo, Func, Root, Step};
use super::lexer::datetime_at;

/// A value during evaluation.
#[derive(Debug, Clone)]
enum Val<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    /// Nanoseconds since the Unix epoch.
    Time(i128),
    Json(&'a Value),
}

impl Val<'_> {
    fn is_null(&self) -> bool {
        matches!(self, Val::Null | Val::Json(Value::Null))
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            Val::Json(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::Json(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    fn as_int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Json(Value::Number(n)) => n.as_i64(),
            _ => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Float(f) => Some(*f),
            Val::Json(Value::Number(n)) => n.as_f64(),
            _ => None,
        }
    }

    fn as_time(&self) -> Option<i128> {
        match self {
            Val::Time(t) => Some(*t),
            _ => parse_time(self.as_str()?),
        }
    }

    fn as_enum(&self, info: &EnumInfo) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => info.value_of(self.as_str()?),
        }
    }
}

/// Parses a date-time as stored (`2024-05-01T10:20:30.1234567Z`).
pub(crate) fn parse_time(s: &str) -> Option<i128> {
    match datetime_at(s, 0) {
        Ok(Some((n, end))) if end == s.len() => Some(n),
        _ => None,
    }
}

fn konst(c: &Const) -> Val<'_> {
    match c {
        Const::Null => Val::Null,
        Const::Bool(b) => Val::Bool(*b),
        Const::Int(i) => Val::Int(*i),
        Const::Float(f) => Val::Float(*f),
        Const::String(s) => Val::Str(Cow::Borrowed(s)),
        Const::DateTime(t) => Val::Time(*t),
        Const::Guid(g) => Val::Str(Cow::Borrowed(g)),
        Const::Enum(v) => Val::Int(*v),
    }
}

/// The unqualified, lowercased `@odata.type` of a JSON object.
pub(crate) fn type_of(v: &Value) -> Option<String> {
    let t = v.get("@odata.type")?.as_str()?;
    edm::unqualify(t).map(str::to_ascii_lowercase)
}

struct Env<'a> {
    it: &'a Value,
    vars: Vec<&'a Value>,
}

/// True if `filter` holds for `item`.
pub fn matches(filter: &Bound, item: &Value) -> bool {
    let mut env = Env {
        it: item,
        vars: Vec::new(),
    };
    eval(filter, &mut env).as_bool() == Some(true)
}

fn path<'a>(root: Root, steps: &[Step], env: &Env<'a>) -> Val<'a> {
    let mut cur: &'a Value = match root {
        Root::It => env.it,
        Root::Var(i) => match env.vars.get(i) {
            Some(v) => v,
            None => return Val::Null,
        },
    };
    for step in steps {
        match step {
            Step::Prop(name) => match cur.get(name) {
                Some(v) => cur = v,
                None => return Val::Null,
            },
            Step::Cast {
                accept,
                declared_ok,
            } => {
                if cur.is_null() {
                    return Val::Null;
                }
                let ok = match type_of(cur) {
                    Some(t) => accept.contains(&t),
                    None => *declared_ok,
                };
                if !ok {
                    return Val::Null;
                }
            }
        }
    }
    Val::Json(cur)
}

fn and(a: Option<bool>, b: Option<bool>) -> Val<'static> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Val::Bool(false),
        (Some(true), Some(true)) => Val::Bool(true),
        _ => Val::Null,
    }
}

fn or(a: Option<bool>, b: Option<bool>) -> Val<'static> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Val::Bool(true),
        (Some(false), Some(false)) => Val::Bool(false),
        _ => Val::Null,
    }
}

fn eval<'a>(b: &'a Bound, env: &mut Env<'a>) -> Val<'a> {
    match b {
        Bound::Const(c) => konst(c),
        Bound::Path { root, steps } => path(*root, steps, env),
        Bound::Not(x) => match eval(x, env).as_bool() {
            Some(v) => Val::Bool(!v),
            None => Val::Null,
        },
        Bound::And(l, r) => {
            let a = eval(l, env).as_bool();
            if a == Some(false) {
                return Val::Bool(false);
            }
            and(a, eval(r, env).as_bool())
        }
        Bound::Or(l, r) => {
            let a = eval(l, env).as_bool();
            if a == Some(true) {
                return Val::Bool(true);
            }
            or(a, eval(r, env).as_bool())
        }
        Bound::Cmp { op, kind, lhs, rhs } => {
            let l = eval(lhs, env);
            let r = eval(rhs, env);
            Val::Bool(compare(*op, kind, &l, &r))
        }
        Bound::In { kind, lhs, items } => {
            let l = eval(lhs, env);
            Val::Bool(
                items
                    .iter()
                    .any(|c| compare(CmpOp::Eq, kind, &l, &konst(c))),
            )
        }
        Bound::Has { info, lhs, flag } => match eval(lhs, env).as_enum(info) {
            Some(v) => Val::Bool(v & flag == *flag),
            None => Val::Null,
        },
        Bound::Call { func, args } => {
            let vals: Vec<Val<'a>> = args.iter().map(|a| eval(a, env)).collect();
            call(*func, &vals)
        }
        Bound::IsOf { target, accept } => {
            let v = match target {
                Some(t) => eval(t, env),
                None => Val::Json(env.it),
            };
            match v {
                Val::Json(obj) if !obj.is_null() => {
                    Val::Bool(type_of(obj).is_some_and(|t| accept.contains(&t)))
                }
                _ => Val::Bool(false),
            }
        }
        Bound::Lambda { op, source, body } => {
            let items = match eval(source, env) {
                Val::Json(Value::Array(items)) => items.as_slice(),
                _ => &[],
            };
            let Some(body) = body else {
                return Val::Bool(!items.is_empty());
            };
            let mut result = *op == LambdaOp::All;
            for item in items {
                env.vars.push(item);
                let hit = eval(body, env).as_bool() == Some(true);
                env.vars.pop();
                match op {
                    LambdaOp::Any if hit => {
                        result = true;
                        break;
                    }
                    LambdaOp::All if !hit => {
                        result = false;
                        break;
                    }
                    _ => {}
                }
            }
            Val::Bool(result)
        }
        Bound::Count(source) => match eval(source, env) {
            Val::Json(Value::Array(items)) => Val::Int(i64::try_from(items.len()).unwrap_or(0)),
            _ => Val::Int(0),
        },
    }
}

fn ordering(kind: &CmpKind, l: &Val<'_>, r: &Val<'_>) -> Option<Ordering> {
    match kind {
        CmpKind::Null | CmpKind::Presence => None,
        CmpKind::Bool => Some(l.as_bool()?.cmp(&r.as_bool()?)),
        CmpKind::Number => match (l.as_int(), r.as_int()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => l.as_f64()?.partial_cmp(&r.as_f64()?),
        },
        CmpKind::String => Some(l.as_str()?.cmp(r.as_str()?)),
        CmpKind::Guid => Some(
            l.as_str()?
                .to_ascii_lowercase()
                .cmp(&r.as_str()?.to_ascii_lowercase()),
        ),
        CmpKind::DateTime => Some(l.as_time()?.cmp(&r.as_time()?)),
        CmpKind::Enum(info) => Some(l.as_enum(info)?.cmp(&r.as_enum(info)?)),
    }
}

fn compare(op: CmpOp, kind: &CmpKind, l: &Val<'_>, r: &Val<'_>) -> bool {
    let (ln, rn) = (l.is_null(), r.is_null());
    if ln || rn {
        return match op {
            CmpOp::Eq => ln && rn,
            CmpOp::Ne => ln != rn,
            _ => false,
        };
    }
    if *kind == CmpKind::Presence {
        // Both sides present: `x eq null` was handled above, so here x is not null.
        return op == CmpOp::Ne;
    }
    let Some(o) = ordering(kind, l, r) else {
        return false;
    };
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
    }
}

fn int(n: usize) -> Val<'static> {
    Val::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn call<'a>(func: Func, args: &[Val<'a>]) -> Val<'a> {
    if args.iter().any(Val::is_null) {
        return Val::Null;
    }
    let s = |i: usize| args.get(i).and_then(Val::as_str);
    let owned = |v: String| Val::Str(Cow::Owned(v));
    if matches!(
        func,
        Func::Year | Func::Month | Func::Day | Func::Hour | Func::Minute | Func::Second
    ) {
        return date_part(func, args);
    }
    let Some(a) = s(0) else {
        return Val::Null;
    };
    match func {
        Func::Contains => s(1).map_or(Val::Null, |b| Val::Bool(a.contains(b))),
        Func::StartsWith => s(1).map_or(Val::Null, |b| Val::Bool(a.starts_with(b))),
        Func::EndsWith => s(1).map_or(Val::Null, |b| Val::Bool(a.ends_with(b))),
        Func::ToLower => owned(a.to_lowercase()),
        Func::ToUpper => owned(a.to_uppercase()),
        Func::Trim => owned(a.trim().to_owned()),
        Func::Length => int(a.chars().count()),
        Func::IndexOf => s(1).map_or(Val::Null, |b| match a.find(b) {
            Some(byte) => int(a[..byte].chars().count()),
            None => Val::Int(-1),
        }),
        Func::Substring => {
            let start = args.get(1).and_then(Val::as_int).unwrap_or(0).max(0);
            let start = usize::try_from(start).unwrap_or(usize::MAX);
            let rest = a.chars().skip(start);
            let out: String = match args.get(2).and_then(Val::as_int) {
                Some(len) => rest
                    .take(usize::try_from(len.max(0)).unwrap_or(usize::MAX))
                    .collect(),
                None => rest.collect(),
            };
            owned(out)
        }
        Func::Concat => s(1).map_or(Val::Null, |b| owned(format!("{a}{b}"))),
        _ => date_part(func, args),
    }
}

fn date_part<'a>(func: Func, args: &[Val<'a>]) -> Val<'a> {
    let Some(t) = args.first().and_then(Val::as_time) else {
        return Val::Null;
    };
    let Ok(dt) = time::OffsetDateTime::from_unix_timestamp_nanos(t) else {
        return Val::Null;
    };
    Val::Int(match func {
        Func::Year => i64::from(dt.year()),
        Func::Month => i64::from(u8::from(dt.month())),
        Func::Day => i64::from(dt.day()),
        Func::Hour => i64::from(dt.hour()),
        Func::Minute => i64::from(dt.minute()),
        _ => i64::from(dt.second()),
    })
}

/// A sort-key value: one total order per key, `null` first.
#[derive(Debug, Clone, PartialEq)]
pub enum SortVal {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
}

impl SortVal {
    fn rank(&self) -> u8 {
        match self {
            SortVal::Null => 0,
            SortVal::Bool(_) => 1,
            SortVal::Int(_) | SortVal::Float(_) => 2,
            SortVal::Str(_) => 3,
        }
    }

    /// The total order of sort keys (and of skiptoken positions).
    pub fn total_cmp(&self, other: &SortVal) -> Ordering {
        match (self, other) {
            (SortVal::Bool(a), SortVal::Bool(b)) => a.cmp(b),
            (SortVal::Int(a), SortVal::Int(b)) => a.cmp(b),
            (SortVal::Float(a), SortVal::Float(b)) => a.total_cmp(b),
            (SortVal::Int(a), SortVal::Float(b)) => (*a as f64).total_cmp(b),
            (SortVal::Float(a), SortVal::Int(b)) => a.total_cmp(&(*b as f64)),
            (SortVal::Str(a), SortVal::Str(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

/// How a sort key's values are read.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKind {
    Bool,
    Number,
    String,
    Guid,
    DateTime,
    Enum(std::sync::Arc<EnumInfo>),
}

/// The value of a sort key for `item`.
pub fn sort_value(key: &Bound, kind: &SortKind, item: &Value) -> SortVal {
    let mut env = Env {
        it: item,
        vars: Vec::new(),
    };
    let v = eval(key, &mut env);
    if v.is_null() {
        return SortVal::Null;
    }
    let out = match kind {
        SortKind::Bool => v.as_bool().map(SortVal::Bool),
        SortKind::Number => match v.as_int() {
            Some(i) => Some(SortVal::Int(i128::from(i))),
            None => v.as_f64().map(SortVal::Float),
        },
        SortKind::String => v.as_str().map(|s| SortVal::Str(s.to_owned())),
        SortKind::Guid => v.as_str().map(|s| SortVal::Str(s.to_ascii_lowercase())),
        SortKind::DateTime => v.as_time().map(SortVal::Int),
        SortKind::Enum(info) => v.as_enum(info).map(|i| SortVal::Int(i128::from(i))),
    };
    out.unwrap_or(SortVal::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::bind::Binder;
    use crate::query::capabilities::CONFIGURATIONS;
    use crate::query::parser::parse_filter;
    use serde_json::json;

    fn check(model: &edm::Model, f: &str, item: &Value) -> bool {
        let e = match parse_filter(f) {
            Ok(e) => e,
            Err(e) => panic!("{f}: {}", e.detail),
        };
        match Binder::new(model, "deviceEnrollmentConfiguration", &CONFIGURATIONS).filter(&e) {
            Ok(b) => matches(&b, item),
            Err(e) => panic!("{f}: {} at {}", e.detail, e.at),
        }
    }

    #[test]
    fn filters_evaluate_over_shaped_json() {
        let m = match edm::Models::load() {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        let item = json!({
            "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
            "id": "a_Limit",
            "displayName": "It's Mine",
            "description": null,
            "priority": 2,
            "createdDateTime": "2024-05-01T10:20:30.1234567Z",
            "roleScopeTagIds": ["0", "12"],
            "deviceEnrollmentConfigurationType": "limit",
            "limit": 5
        });
        let yes = [
            "displayName eq 'It''s Mine'",
            "deviceEnrollmentConfigurationType eq 'LIMIT'",
            "microsoft.graph.deviceEnrollmentLimitConfiguration/limit ge 3",
            "isof('microsoft.graph.deviceEnrollmentLimitConfiguration')",
            "isof('microsoft.graph.deviceEnrollmentConfiguration')",
            "roleScopeTagIds/any(t: t eq '0')",
            "roleScopeTagIds/all(t: length(t) le 2)",
            "roleScopeTagIds/$count eq 2",
            "description eq null",
            "not (description ne null)",
            "priority in (1, 2)",
            "createdDateTime gt 2024-05-01T10:20:30Z and createdDateTime lt 2024-05-01T10:20:31Z",
            "createdDateTime ge 2024-05-01",
            "year(createdDateTime) eq 2024 and month(createdDateTime) eq 5",
            "startswith(tolower(displayName), 'it''s') and endswith(toupper(displayName), 'MINE')",
            "contains(displayName, 's M') and indexof(displayName, 'M') eq 5",
            "substring(displayName, 5) eq 'Mine' and substring(displayName, 0, 2) eq 'It'",
            "concat(id, '!') eq 'a_Limit!'",
            "priority gt 1.5",
            "microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration/pinMinimumLength eq null",
        ];
        for f in yes {
            assert!(check(&m.beta, f, &item), "{f}");
        }
        let no = [
            "displayName eq 'it''s mine'",
            "contains(description, 'x')",
            "not contains(description, 'x')",
            "description gt 'a'",
            "isof('microsoft.graph.windows10EnrollmentCompletionPageConfiguration')",
            "microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration/pinMinimumLength ge 0",
            "roleScopeTagIds/any(t: t eq '5')",
            "priority in (3, 4)",
        ];
        for f in no {
            assert!(!check(&m.beta, f, &item), "{f}");
        }
    }

    #[test]
    fn sort_values_order_nulls_first() {
        let mut v = [
            SortVal::Str("b".into()),
            SortVal::Null,
            SortVal::Str("a".into()),
        ];
        v.sort_by(SortVal::total_cmp);
        assert_eq!(v[0], SortVal::Null);
        assert_eq!(v[1], SortVal::Str("a".into()));
        assert_eq!(
            SortVal::Int(2).total_cmp(&SortVal::Float(1.5)),
            Ordering::Greater
        );
    }
}
