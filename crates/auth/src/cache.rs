//! Tokens already verified, kept until they expire, so that a client sending the same bearer
//! token on every request pays for the signature check once.
//!
//! Keyed by the whole token text: only the exact bytes that passed verification hit, and a
//! hit is refused once the token is past `exp` (plus the leeway verification allows), as
//! verification itself would refuse it. Bounded: when full, expired entries go first, then
//! everything.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::Principal;

/// Most tokens kept.
pub const CAPACITY: usize = 1024;
/// Longer tokens are not kept (a bound on memory; Graph tokens are 1–3 KB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

struct Entry {
    principal: Principal,
    /// Last second (Unix time) at which verification would still accept the token.
    valid_until: i64,
}

/// The cache of verified tokens.
pub struct TokenCache {
    map: RwLock<HashMap<String, Entry>>,
    capacity: usize,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache::with_capacity(CAPACITY)
    }
}

/// Now, in Unix seconds, from the clock verification uses.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl TokenCache {
    pub fn with_capacity(capacity: usize) -> TokenCache {
        TokenCache {
            map: RwLock::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The principal of `token` if it was verified before and is still valid at `now`.
    pub fn get(&self, token: &str, now: i64) -> Option<Principal> {
        let map = self.map.read().ok()?;
        let e = map.get(token)?;
        (now <= e.valid_until).then(|| e.principal.clone())
    }

    /// Keeps a verified token until `valid_until`.
    pub fn insert(&self, token: &str, principal: &Principal, valid_until: i64, now: i64) {
        if token.len() > MAX_TOKEN_BYTES || valid_until < now {
            return;
        }
        let Ok(mut map) = self.map.write() else {
            return;
        };
        if map.len() >= self.capacity && !map.contains_key(token) {
            map.retain(|_, e| e.valid_until >= now);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(
            token.to_owned(),
            Entry {
                principal: principal.clone(),
                valid_until,
            },
        );
    }

    /// Tokens kept now.
    pub fn len(&self) -> usize {
        self.map.read().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(n: usize) -> Principal {
        Principal {
            tenant: domain::TenantId::parse("11111111-2222-3333-4444-555555555555")
                .unwrap_or_else(|| panic!()),
            subject: format!("s{n}"),
            app_id: None,
            permissions: vec!["DeviceManagementServiceConfig.Read.All".into()],
            app_only: false,
        }
    }

    #[test]
    fn a_kept_token_is_given_back_until_it_expires() {
        let c = TokenCache::default();
        c.insert("t", &principal(1), 100, 50);
        assert_eq!(c.get("t", 50).map(|p| p.subject), Some("s1".into()));
        assert_eq!(c.get("t", 100).map(|p| p.subject), Some("s1".into()));
        assert!(c.get("t", 101).is_none(), "expired");
        assert!(c.get("other", 50).is_none());
        c.insert("late", &principal(2), 10, 50);
        assert!(
            c.get("late", 5).is_none(),
            "an already expired token is not kept"
        );
    }

    #[test]
    fn the_cache_stays_bounded() {
        let c = TokenCache::with_capacity(8);
        for i in 0..100 {
            c.insert(&format!("t{i}"), &principal(i), 1000, 0);
            assert!(c.len() <= 8);
        }
        // expired entries are the first to go
        let c = TokenCache::with_capacity(2);
        c.insert("old", &principal(0), 10, 0);
        c.insert("live", &principal(1), 1000, 0);
        c.insert("new", &principal(2), 1000, 20);
        assert!(c.get("live", 20).is_some() && c.get("new", 20).is_some());
        assert!(c.get("old", 5).is_none());
        c.insert(&"x".repeat(MAX_TOKEN_BYTES + 1), &principal(3), 1000, 0);
        assert!(c.get(&"x".repeat(MAX_TOKEN_BYTES + 1), 0).is_none());
    }

    #[test]
    fn verify_hits_the_cache_only_for_the_exact_token() -> Result<(), crate::AuthError> {
        let dir = std::env::temp_dir().join(format!("eg-cache-{}", uuid::Uuid::new_v4()));
        let keys = crate::Keys::load_or_create(&dir)?;
        let tenant = principal(0).tenant;
        let token = keys.mint(&crate::dev_claims(&tenant, &[], &[], 600))?;
        let first = keys.verify(&token)?;
        let again = keys.verify(&token)?;
        assert_eq!(first.subject, again.subject);
        assert_eq!(first.tenant, tenant);
        // the same claims with a damaged signature are still refused
        let mut bad = token.clone().into_bytes();
        let at = bad.len() - 10;
        bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap_or_default();
        assert!(keys.verify(&bad).is_err());
        // and expired tokens too
        let expired = keys.mint(&crate::dev_claims(&tenant, &[], &[], -3600))?;
        assert!(keys.verify(&expired).is_err());
        let _ = std::fs::remove_dir_all(dir);
        Ok(())
    }
}
