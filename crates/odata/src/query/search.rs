//! `$search`: free-text matching over an endpoint's searchable string properties.
//!
//! ```text
//! search   = or-group *( "OR" or-group )
//! or-group = term *( [ "AND" ] term )
//! term     = [ "NOT" ] [ property ":" ] ( DQUOTE phrase DQUOTE / word )
//! ```
//! A term matches when one of the searchable properties (or the one named) contains it,
//! case-insensitively. Words are AND-ed; `OR` separates alternatives; `NOT` negates a term.
//! The keywords are upper case, as in OData; lower-case `and`/`or`/`not` are plain words.

use serde_json::Value;

use super::ast::ExprError;
use super::limits;

/// One search term.
#[derive(Debug, Clone, PartialEq)]
struct Term {
    /// The properties looked in.
    props: Vec<String>,
    /// Lowercased.
    text: String,
    negate: bool,
}

/// A parsed `$search`.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    groups: Vec<Vec<Term>>,
}

fn err(detail: impl Into<String>, at: usize) -> ExprError {
    ExprError::new(detail, at)
}

impl Search {
    /// Parses `text` for an endpoint whose searchable properties are `searchable`.
    pub fn parse(text: &str, searchable: &[&str]) -> Result<Search, ExprError> {
        if text.len() > limits::MAX_EXPRESSION_BYTES {
            return Err(err("the search is too long", 0));
        }
        let b = text.as_bytes();
        let mut groups = vec![Vec::new()];
        let mut negate = false;
        let mut i = 0;
        let mut terms = 0;
        while i < b.len() {
            if b[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let start = i;
            // A word (up to whitespace or a quote), or a quoted phrase.
            let mut prop: Option<String> = None;
            let word_end = |mut j: usize| {
                while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'"' {
                    j += 1;
                }
                j
            };
            let mut end = word_end(i);
            let word = &text[i..end];
            if b[i] != b'"' {
                match word {
                    "AND" => {
                        i = end;
                        continue;
                    }
                    "OR" => {
                        if groups.last().is_some_and(Vec::is_empty) || negate {
                            return Err(err("'OR' must stand between two terms", start));
                        }
                        groups.push(Vec::new());
                        i = end;
                        continue;
                    }
                    "NOT" => {
                        negate = !negate;
                        i = end;
                        continue;
                    }
                    _ => {}
                }
                if let Some((p, rest)) = word.split_once(':') {
                    let found = searchable
                        .iter()
                        .find(|s| s.eq_ignore_ascii_case(p))
                        .ok_or_else(|| err(format!("'{p}' is not a searchable property"), start))?;
                    prop = Some((*found).to_owned());
                    i += p.len() + 1;
                    if rest.is_empty() && b.get(i) != Some(&b'"') {
                        return Err(err("a search term is missing after ':'", i));
                    }
                }
            }
            let phrase = if b.get(i) == Some(&b'"') {
                let close = text[i + 1..]
                    .find('"')
                    .ok_or_else(|| err("unterminated quoted phrase", i))?;
                end = i + 1 + close + 1;
                &text[i + 1..i + 1 + close]
            } else {
                end = word_end(i);
                &text[i..end]
            };
            if phrase.trim().is_empty() {
                return Err(err("a search term is empty", start));
            }
            terms += 1;
            if terms > limits::MAX_NODES {
                return Err(err("the search has too many terms", start));
            }
            let props = match prop {
                Some(p) => vec![p],
                None => searchable.iter().map(|s| (*s).to_owned()).collect(),
            };
            if let Some(g) = groups.last_mut() {
                g.push(Term {
                    props,
                    text: phrase.to_lowercase(),
                    negate,
                });
            }
            negate = false;
            i = end;
        }
        if negate || groups.iter().any(Vec::is_empty) {
            return Err(err("the search ends where a term was expected", text.len()));
        }
        Ok(Search { groups })
    }

    /// True if `item` matches.
    pub fn matches(&self, item: &Value) -> bool {
        self.groups.iter().any(|g| {
            g.iter().all(|t| {
                let hit = t.props.iter().any(|p| {
                    item.get(p)
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.to_lowercase().contains(&t.text))
                });
                hit != t.negate
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const P: &[&str] = &["displayName", "description"];

    fn m(q: &str, item: &Value) -> bool {
        match Search::parse(q, P) {
            Ok(s) => s.matches(item),
            Err(e) => panic!("{q}: {}", e.detail),
        }
    }

    #[test]
    fn terms_phrases_and_operators() {
        let item = json!({"displayName": "Contoso Limit", "description": "For the sales team"});
        assert!(m("contoso", &item));
        assert!(m("\"contoso limit\"", &item));
        assert!(m("contoso sales", &item));
        assert!(m("contoso AND sales", &item));
        assert!(!m("contoso fabrikam", &item));
        assert!(m("fabrikam OR sales", &item));
        assert!(m("NOT fabrikam", &item));
        assert!(!m("displayName:sales", &item));
        assert!(m("description:\"sales team\"", &item));
        for bad in [
            "",
            "  ",
            "\"open",
            "OR x",
            "x OR",
            "NOT",
            "bogus:x",
            "displayName:",
        ] {
            assert!(Search::parse(bad, P).is_err(), "{bad}");
        }
    }
}
