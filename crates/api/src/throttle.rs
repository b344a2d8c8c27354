//! Throttling as Intune publishes it for device enrollment (off unless `--throttle`): per tenant,
//! at most 200 writes (POST, PUT, PATCH, DELETE) and 2000 requests of any method per 20
//! seconds, and per application in a tenant half of each. A request over a limit gets 429
//! `TooManyRequests` with `Retry-After` (seconds until the window ends). Inside `$batch` each
//! request counts on its own, as Graph does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The published limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub window: Duration,
    pub tenant_writes: u32,
    pub tenant_all: u32,
    pub app_writes: u32,
    pub app_all: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            window: Duration::from_secs(20),
            tenant_writes: 200,
            tenant_all: 2000,
            app_writes: 100,
            app_all: 1000,
        }
    }
}

#[derive(Default)]
struct Window {
    started: Option<Instant>,
    writes: u32,
    all: u32,
}

/// Request counters per tenant and per application, in fixed windows.
#[derive(Default)]
pub struct Throttle {
    limits: Option<Limits>,
    windows: Mutex<HashMap<(String, Option<String>), Window>>,
}

impl Throttle {
    /// A throttle with `limits`, or one that never refuses (`None`).
    pub fn new(limits: Option<Limits>) -> Throttle {
        Throttle {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request; `Err(seconds)` when it is over a limit (it is then not counted).
    pub fn admit(&self, tenant: &str, app: Option<&str>, write: bool) -> Result<(), u64> {
        let Some(l) = self.limits else {
            return Ok(());
        };
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(());
        };
        if windows.len() > 100_000 {
            windows.retain(|_, w| w.started.is_some_and(|s| now.duration_since(s) < l.window));
        }
        let mut keys = vec![((tenant.to_owned(), None), l.tenant_writes, l.tenant_all)];
        if let Some(app) = app {
            keys.push((
                (tenant.to_owned(), Some(app.to_owned())),
                l.app_writes,
                l.app_all,
            ));
        }
        let mut wait = None;
        for (key, max_writes, max_all) in &keys {
            let w = windows.entry(key.clone()).or_default();
            if w.started.is_none_or(|s| now.duration_since(s) >= l.window) {
                *w = Window {
                    started: Some(now),
                    writes: 0,
                    all: 0,
                };
            }
            if w.all >= *max_all || (write && w.writes >= *max_writes) {
                let left = w
                    .started
                    .map_or(l.window, |s| l.window.saturating_sub(now.duration_since(s)));
                wait = Some(wait.unwrap_or(0).max(left.as_secs().max(1)));
            }
        }
        if let Some(seconds) = wait {
            return Err(seconds);
        }
        for (key, _, _) in &keys {
            if let Some(w) = windows.get_mut(key) {
                w.all += 1;
                if write {
                    w.writes += 1;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_over_the_tenant_limit_wait_for_the_window() {
        let t = Throttle::new(Some(Limits {
            tenant_writes: 3,
            app_writes: 2,
            ..Limits::default()
        }));
        assert!(t.admit("t", None, true).is_ok());
        assert!(t.admit("t", None, true).is_ok());
        assert!(t.admit("t", None, true).is_ok());
        let wait = t.admit("t", None, true);
        assert!(matches!(wait, Err(s) if (1..=20).contains(&s)), "{wait:?}");
        assert!(
            t.admit("t", None, false).is_ok(),
            "reads have their own limit"
        );
        assert!(
            t.admit("other", None, true).is_ok(),
            "tenants are counted apart"
        );
        // per application: 2 writes
        assert!(t.admit("u", Some("a"), true).is_ok());
        assert!(t.admit("u", Some("a"), true).is_ok());
        assert!(t.admit("u", Some("a"), true).is_err());
        assert!(t.admit("u", Some("b"), true).is_ok());
    }

    #[test]
    fn no_limits_never_refuse() {
        let t = Throttle::new(None);
        for _ in 0..10_000 {
            assert!(t.admit("t", Some("a"), true).is_ok());
        }
    }
}
