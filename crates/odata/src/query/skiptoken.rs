//! `$skiptoken`: an opaque, tamper-evident keyset cursor.
//!
//! A token carries the sort-key values and the id of the last item of a page, the page size,
//! and a digest of everything else that defines the query (tenant, version, resource path,
//! the other options). It is `base64url(payload) "." base64url(HMAC-SHA256(secret, payload))`
//! with a per-server secret, so a token that was altered, or that another server made, fails
//! the MAC, and one made for another query fails the digest: both are a 400.
//!
//! The next page is every matching item strictly after the cursor in the total order
//! (sort keys, then id), so items created or deleted between two pages never make an item
//! that existed throughout appear twice or go missing.

use base64::Engine;
use ring::{digest, hmac};
use serde_json::{json, Map, Value};

use super::eval::SortVal;
use super::limits;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const FORMAT: i64 = 1;

/// A position in the total order of a query: the last item's sort keys and id.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub keys: Vec<SortVal>,
    pub id: String,
}

/// What a `$skiptoken` holds.
#[derive(Debug, Clone, PartialEq)]
pub struct SkipToken {
    pub cursor: Cursor,
    /// The page size in effect when the token was made (so that a nextLink followed without
    /// the `Prefer` header keeps the page size).
    pub page_size: usize,
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The $skiptoken is not valid for this request: it was altered, or it was issued for another query or by another server.")]
pub struct BadSkipToken;

/// The digest of a query's identity, from its parts (length-prefixed, so parts cannot run into
/// each other).
pub fn scope(parts: &[&str]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p.as_bytes());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

fn key_json(v: &SortVal) -> Value {
    match v {
        SortVal::Null => Value::Null,
        SortVal::Bool(b) => Value::Bool(*b),
        SortVal::Int(i) => json!({ "i": i.to_string() }),
        SortVal::Float(f) => json!({ "f": f }),
        SortVal::Str(s) => Value::String(s.clone()),
    }
}

fn key_from(v: &Value) -> Option<SortVal> {
    Some(match v {
        Value::Null => SortVal::Null,
        Value::Bool(b) => SortVal::Bool(*b),
        Value::String(s) => SortVal::Str(s.clone()),
        Value::Object(o) => {
            if let Some(i) = o.get("i") {
                SortVal::Int(i.as_str()?.parse().ok()?)
            } else {
                SortVal::Float(o.get("f")?.as_f64()?)
            }
        }
        _ => return None,
    })
}

/// Makes a token.
pub fn encode(secret: &[u8], scope: &[u8; 32], token: &SkipToken) -> String {
    let mut payload = Map::new();
    payload.insert("v".into(), Value::from(FORMAT));
    payload.insert("s".into(), Value::String(B64.encode(&scope[..16])));
    payload.insert(
        "k".into(),
        Value::Array(token.cursor.keys.iter().map(key_json).collect()),
    );
    payload.insert("i".into(), Value::String(token.cursor.id.clone()));
    payload.insert("n".into(), Value::from(token.page_size));
    let bytes = serde_json::to_vec(&Value::Object(payload)).unwrap_or_default();
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, &bytes);
    format!("{}.{}", B64.encode(&bytes), B64.encode(tag.as_ref()))
}

/// Reads and checks a token; `keys` is the number of sort keys the query has.
pub fn decode(
    secret: &[u8],
    scope: &[u8; 32],
    keys: usize,
    text: &str,
) -> Result<SkipToken, BadSkipToken> {
    if text.len() > limits::MAX_SKIPTOKEN_BYTES {
        return Err(BadSkipToken);
    }
    let (body, tag) = text.split_once('.').ok_or(BadSkipToken)?;
    let bytes = B64.decode(body).map_err(|_| BadSkipToken)?;
    let tag = B64.decode(tag).map_err(|_| BadSkipToken)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, &bytes, &tag).map_err(|_| BadSkipToken)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| BadSkipToken)?;
    if v.get("v").and_then(Value::as_i64) != Some(FORMAT)
        || v.get("s").and_then(Value::as_str) != Some(B64.encode(&scope[..16]).as_str())
    {
        return Err(BadSkipToken);
    }
    let ks = v.get("k").and_then(Value::as_array).ok_or(BadSkipToken)?;
    if ks.len() != keys {
        return Err(BadSkipToken);
    }
    let keys = ks
        .iter()
        .map(key_from)
        .collect::<Option<Vec<_>>>()
        .ok_or(BadSkipToken)?;
    let id = v
        .get("i")
        .and_then(Value::as_str)
        .ok_or(BadSkipToken)?
        .to_owned();
    let page_size = v
        .get("n")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(BadSkipToken)?;
    Ok(SkipToken {
        cursor: Cursor { keys, id },
        page_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SkipToken {
        SkipToken {
            cursor: Cursor {
                keys: vec![
                    SortVal::Str("a'b".into()),
                    SortVal::Int(-5),
                    SortVal::Null,
                    SortVal::Float(1.5),
                    SortVal::Bool(true),
                ],
                id: "x_1".into(),
            },
            page_size: 7,
        }
    }

    #[test]
    fn tokens_round_trip() {
        let s = scope(&["t", "beta", "q"]);
        let t = encode(b"secret", &s, &sample());
        assert!(t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
        assert_eq!(decode(b"secret", &s, 5, &t), Ok(sample()));
    }

    #[test]
    fn tampered_foreign_and_other_query_tokens_are_refused() {
        let s = scope(&["t", "beta", "q"]);
        let t = encode(b"secret", &s, &sample());
        // Another server.
        assert_eq!(decode(b"other", &s, 5, &t), Err(BadSkipToken));
        // Another query.
        assert_eq!(
            decode(b"secret", &scope(&["t", "beta", "q2"]), 5, &t),
            Err(BadSkipToken)
        );
        // Altered payload.
        let (body, tag) = t.split_once('.').unwrap_or_default();
        let mut raw = B64.decode(body).unwrap_or_default();
        if let Some(b) = raw.iter_mut().find(|b| **b == b'7') {
            *b = b'8';
        }
        let forged = format!("{}.{tag}", B64.encode(&raw));
        assert_eq!(decode(b"secret", &s, 5, &forged), Err(BadSkipToken));
        for junk in ["", ".", "abc", "a.b", "%%%.###"] {
            assert_eq!(decode(b"secret", &s, 5, junk), Err(BadSkipToken));
        }
    }
}
