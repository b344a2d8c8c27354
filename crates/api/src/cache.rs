//! Response bodies of `GET …/deviceEnrollmentConfigurations/{id}` kept until the tenant's
//! next write, when the store can tell when that is ([`domain::Store::generation`]: SQLite,
//! which one process owns). A hit skips the store read and the shaping of the entity; the
//! body is the same bytes the request would have produced.
//!
//! Only requests without query options are kept. The key holds everything the body depends
//! on: tenant, API version, public base URL (in `@odata.context`) and id as requested.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

/// Bodies by request, each with the tenant generation it was read at.
pub struct BodyCache {
    entries: Mutex<HashMap<String, (u64, Bytes)>>,
    capacity: usize,
}

impl BodyCache {
    /// A cache of at most `capacity` bodies (0 keeps none).
    pub fn new(capacity: usize) -> BodyCache {
        BodyCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The key of a request.
    pub fn key(tenant: &str, version: &str, base: &str, id: &str) -> String {
        let mut k = String::with_capacity(tenant.len() + version.len() + base.len() + id.len() + 3);
        for part in [tenant, version, base, id] {
            k.push_str(part);
            k.push('\n');
        }
        k
    }

    /// The body kept for `key` at `generation`, if any.
    pub fn get(&self, key: &str, generation: u64) -> Option<Bytes> {
        let entries = self.entries.lock().ok()?;
        match entries.get(key) {
            Some((g, body)) if *g == generation => Some(body.clone()),
            _ => None,
        }
    }

    /// Keeps `body` for `key`, read at `generation`. When full, the cache starts over: a
    /// bound on memory that costs nothing to keep.
    pub fn put(&self, key: String, generation: u64, body: Bytes) {
        if self.capacity == 0 {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, (generation, body));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_kept_for_its_generation_only_and_the_size_is_bounded() {
        let c = BodyCache::new(2);
        let k = BodyCache::key("t", "beta", "http://x", "a");
        c.put(k.clone(), 1, Bytes::from_static(b"one"));
        assert_eq!(c.get(&k, 1).as_deref(), Some(&b"one"[..]));
        assert_eq!(c.get(&k, 2), None);
        c.put(
            BodyCache::key("t", "beta", "http://x", "b"),
            1,
            Bytes::new(),
        );
        c.put(
            BodyCache::key("t", "beta", "http://x", "c"),
            1,
            Bytes::new(),
        );
        assert_eq!(c.get(&k, 1), None, "a full cache starts over");
        assert_eq!(c.entries.lock().map(|e| e.len()).unwrap_or(0), 1);
    }
}
