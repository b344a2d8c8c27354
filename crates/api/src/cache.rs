//! Responses of configuration reads (`GET …/deviceEnrollmentConfigurations/{id}` and the list)
//! kept until the next commit, when the store can tell when that is
//! ([`domain::Store::generation`]: SQLite). A hit skips the store read, the query and the
//! shaping; the response is the same bytes the request would have produced.
//!
//! The key holds everything a read's response depends on besides the data: tenant, API
//! version, public base URL (in `@odata.context` and `@odata.nextLink`), page sizes, the path
//! as received, the query options and the `Prefer` header. Only 200 responses are kept.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode};

use crate::dispatch::Ctx;

/// A kept response: its body and `Preference-Applied` header.
#[derive(Clone)]
pub struct Kept {
    pub body: Bytes,
    pub preference_applied: Option<HeaderValue>,
}

impl Kept {
    /// The 200 response.
    pub fn response(self) -> Response {
        let mut res = crate::routes::json_bytes(StatusCode::OK, self.body);
        if let Some(v) = self.preference_applied {
            res.headers_mut().insert("preference-applied", v);
        }
        res.into_response()
    }
}

/// Responses by request, each with the store generation it was read at.
pub struct ResponseCache {
    entries: Mutex<HashMap<String, (u64, Kept)>>,
    capacity: usize,
}

/// Where a read that may be kept stands: its key and the generation read before the data.
pub struct Slot {
    key: String,
    generation: u64,
}

impl ResponseCache {
    /// A cache of at most `capacity` responses (0 keeps none).
    pub fn new(capacity: usize) -> ResponseCache {
        ResponseCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The key of `parts`, each length-prefixed so that no two lists of parts share a key.
    pub fn key(parts: &[&str]) -> String {
        let mut k = String::with_capacity(parts.iter().map(|p| p.len() + 8).sum());
        for p in parts {
            k.push_str(&p.len().to_string());
            k.push(':');
            k.push_str(p);
        }
        k
    }

    /// The response kept for `key` at `generation`, if any.
    pub fn get(&self, key: &str, generation: u64) -> Option<Kept> {
        let entries = self.entries.lock().ok()?;
        match entries.get(key) {
            Some((g, kept)) if *g == generation => Some(kept.clone()),
            _ => None,
        }
    }

    /// Keeps `kept` for `key`, read at `generation`. When full, the cache starts over: a
    /// bound on memory that costs nothing to keep.
    pub fn put(&self, key: String, generation: u64, kept: Kept) {
        if self.capacity == 0 {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, (generation, kept));
        }
    }

    /// For a read of `ctx`: the kept response (`Ok`), or the slot to keep the response in
    /// once made (`Err(Some)`), or nothing when the store cannot tell its generation.
    pub fn lookup(&self, ctx: &Ctx) -> Result<Response, Option<Slot>> {
        if self.capacity == 0 {
            return Err(None);
        }
        let Some(generation) = ctx.state.service.store().generation(&ctx.principal.tenant) else {
            return Err(None);
        };
        let paging = format!(
            "{} {}",
            ctx.paging.default_page_size, ctx.paging.max_page_size
        );
        let mut parts: Vec<&str> = vec![
            ctx.principal.tenant.as_str(),
            ctx.version.segment(),
            &ctx.base,
            &paging,
            &ctx.path,
        ];
        for (k, v) in &ctx.query.options {
            parts.push(k);
            parts.push(v);
        }
        parts.push("prefer");
        let prefer: Vec<&str> = ctx
            .headers
            .get_all("prefer")
            .iter()
            .map(|v| v.to_str().unwrap_or("\u{fffd}"))
            .collect();
        parts.extend(prefer);
        let key = ResponseCache::key(&parts);
        match self.get(&key, generation) {
            Some(kept) => Ok(kept.response()),
            None => Err(Some(Slot { key, generation })),
        }
    }

    /// Keeps `res` in `slot` if it is a 200 whose body is already in memory; gives it back.
    pub async fn keep(&self, slot: Option<Slot>, res: Response) -> Response {
        let Some(slot) = slot else { return res };
        if res.status() != StatusCode::OK {
            return res;
        }
        let (parts, body) = res.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
            return (StatusCode::INTERNAL_SERVER_ERROR).into_response();
        };
        self.put(
            slot.key,
            slot.generation,
            Kept {
                body: bytes.clone(),
                preference_applied: parts.headers.get("preference-applied").cloned(),
            },
        );
        Response::from_parts(parts, axum::body::Body::from(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(b: &'static [u8]) -> Kept {
        Kept {
            body: Bytes::from_static(b),
            preference_applied: None,
        }
    }

    #[test]
    fn a_response_is_kept_for_its_generation_only_and_the_size_is_bounded() {
        let c = ResponseCache::new(2);
        let k = ResponseCache::key(&["t", "beta", "http://x", "/a"]);
        c.put(k.clone(), 1, kept(b"one"));
        assert_eq!(c.get(&k, 1).map(|k| k.body).as_deref(), Some(&b"one"[..]));
        assert!(c.get(&k, 2).is_none());
        c.put(ResponseCache::key(&["b"]), 1, kept(b""));
        c.put(ResponseCache::key(&["c"]), 1, kept(b""));
        assert!(c.get(&k, 1).is_none(), "a full cache starts over");
        assert_eq!(c.entries.lock().map(|e| e.len()).unwrap_or(0), 1);
    }

    #[test]
    fn keys_of_different_parts_differ() {
        assert_ne!(
            ResponseCache::key(&["a\nb", "c"]),
            ResponseCache::key(&["a", "b\nc"])
        );
        assert_ne!(
            ResponseCache::key(&["ab", ""]),
            ResponseCache::key(&["a", "b"])
        );
    }
}
