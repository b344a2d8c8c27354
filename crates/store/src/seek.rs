//! The SQL of [`domain::Seek`]: one page of configurations read from the
//! `configurations_by_name` index (or the `(tenant_id, id)` key), whatever the tenant's size.
//!
//! A page after a position is read as consecutive *segments*, each one index range in one
//! direction, so that neither backend has to sort more than a page: for names descending after
//! `(k, id₀)`, first the items named `k` with an id after `id₀`, then the names before `k`,
//! then the items without a name. The caller runs the segments in turn until it has `limit`
//! items.

use domain::{NameMatch, Seek, SeekOrder};

/// What differs between the SQL of the backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `?N` parameters; the BINARY collation is byte order; NULLs sort first ascending and
    /// last descending.
    Sqlite,
    /// `$N` parameters; `COLLATE "C"` for byte order; NULL placement spelled out.
    Postgres,
}

/// One statement: SQL and its text parameters, numbered from `first_param`; the tenant is
/// parameter 1 and the type list (when the seek has one) parameter 2, bound by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub sql: String,
    pub params: Vec<String>,
}

/// The smallest text greater than every text that starts with `prefix`, if there is one:
/// the prefix with its last character that can be incremented incremented, what follows it
/// dropped.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(n) = next {
            chars.push(n);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

struct Builder {
    dialect: Dialect,
    params: Vec<String>,
    first: usize,
}

impl Builder {
    fn param(&mut self, v: &str) -> String {
        self.params.push(v.to_owned());
        let n = self.first + self.params.len() - 1;
        match self.dialect {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    fn col(&self, name: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => name.to_owned(),
            Dialect::Postgres => format!("{name} COLLATE \"C\""),
        }
    }

    fn order_by_name(&self, descending: bool) -> String {
        let (name, id) = (self.col("display_name"), self.col("id"));
        match (self.dialect, descending) {
            (Dialect::Sqlite, false) => format!("{name}, {id}"),
            (Dialect::Sqlite, true) => format!("{name} DESC, {id}"),
            (Dialect::Postgres, false) => format!("{name} NULLS FIRST, {id}"),
            (Dialect::Postgres, true) => format!("{name} DESC NULLS LAST, {id}"),
        }
    }
}

/// The segments of `seek`, in order. `base` is `SELECT … FROM configurations WHERE tenant_id
/// = <1>` followed by the type condition if any; every segment appends its conditions and its
/// `ORDER BY … LIMIT`.
pub fn segments(seek: &Seek, dialect: Dialect, base: &str, first_param: usize) -> Vec<Segment> {
    let mut b = Builder {
        dialect,
        params: Vec::new(),
        first: first_param,
    };
    let name = b.col("display_name");
    let id = b.col("id");
    let mut filter = String::new();
    match &seek.name {
        NameMatch::Any => {}
        NameMatch::Eq(n) => {
            filter = format!(" AND {name} = {}", b.param(n));
        }
        NameMatch::Prefix(p) => {
            filter = format!(" AND {name} >= {}", b.param(p));
            if let Some(end) = prefix_end(p) {
                filter.push_str(&format!(" AND {name} < {}", b.param(&end)));
            }
        }
    }
    let common = b.params.clone();
    let limit = seek.limit;
    let by_id = format!("ORDER BY {id} LIMIT {limit}");
    let mut out = Vec::new();
    // Each segment starts from the filter's parameters.
    let mut seg = |b: &mut Builder, cond: &dyn Fn(&mut Builder) -> String, order: &str| {
        b.params = common.clone();
        let c = cond(b);
        out.push(Segment {
            sql: format!("{base}{filter}{c} {order}"),
            params: b.params.clone(),
        });
    };
    let after = seek.after.as_ref();
    match seek.order {
        SeekOrder::Id => seg(
            &mut b,
            &|b| match after {
                Some(a) => format!(" AND {id} > {}", b.param(&a.id)),
                None => String::new(),
            },
            &by_id,
        ),
        SeekOrder::NameAsc | SeekOrder::NameDesc => {
            let desc = seek.order == SeekOrder::NameDesc;
            let by_name = format!("ORDER BY {} LIMIT {limit}", b.order_by_name(desc));
            match after {
                None => seg(&mut b, &|_| String::new(), &by_name),
                Some(a) => match (&a.name, desc) {
                    (None, false) => {
                        seg(
                            &mut b,
                            &|b| format!(" AND {name} IS NULL AND {id} > {}", b.param(&a.id)),
                            &by_id,
                        );
                        seg(&mut b, &|_| format!(" AND {name} IS NOT NULL"), &by_name);
                    }
                    (None, true) => seg(
                        &mut b,
                        &|b| format!(" AND {name} IS NULL AND {id} > {}", b.param(&a.id)),
                        &by_id,
                    ),
                    (Some(k), _) => {
                        seg(
                            &mut b,
                            &|b| {
                                let k = b.param(k);
                                format!(" AND {name} = {k} AND {id} > {}", b.param(&a.id))
                            },
                            &by_id,
                        );
                        let op = if desc { "<" } else { ">" };
                        seg(
                            &mut b,
                            &|b| format!(" AND {name} {op} {}", b.param(k)),
                            &by_name,
                        );
                        if desc && seek.name == NameMatch::Any {
                            seg(&mut b, &|_| format!(" AND {name} IS NULL"), &by_id);
                        }
                    }
                },
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::SeekAfter;

    #[test]
    fn prefix_end_is_the_next_text_after_every_extension() {
        assert_eq!(prefix_end("bench").as_deref(), Some("benci"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        assert_eq!(prefix_end(""), None);
    }

    #[test]
    fn a_page_after_a_name_descending_is_three_index_ranges() {
        let seek = Seek {
            types: None,
            name: NameMatch::Any,
            order: SeekOrder::NameDesc,
            after: Some(SeekAfter {
                name: Some("m".into()),
                id: "x".into(),
            }),
            limit: 5,
        };
        let segs = segments(
            &seek,
            Dialect::Postgres,
            "SELECT * FROM c WHERE tenant_id = $1",
            2,
        );
        let sql: Vec<&str> = segs.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            sql,
            [
                "SELECT * FROM c WHERE tenant_id = $1 AND display_name COLLATE \"C\" = $2 AND id COLLATE \"C\" > $3 ORDER BY id COLLATE \"C\" LIMIT 5",
                "SELECT * FROM c WHERE tenant_id = $1 AND display_name COLLATE \"C\" < $2 ORDER BY display_name COLLATE \"C\" DESC NULLS LAST, id COLLATE \"C\" LIMIT 5",
                "SELECT * FROM c WHERE tenant_id = $1 AND display_name COLLATE \"C\" IS NULL ORDER BY id COLLATE \"C\" LIMIT 5",
            ]
        );
        assert_eq!(segs[0].params, ["m", "x"]);
        assert_eq!(segs[1].params, ["m"]);
        assert!(segs[2].params.is_empty());
    }
}
