//! Per-plan rate limits: how many requests one API key may make in a fixed
//! window, and how a window is counted on the key's own item (kept apart
//! from `api_keys` so the table handle can carry the limits).
//!
//! The authorizer already makes one conditional UpdateItem on the key per
//! request; the window's count rides in it. A window's count is an attribute
//! named after the window (`rateWindow<n>`), so the first request of a new
//! window starts from nothing without a read or a second write; the same
//! update removes the previous window's attribute.

use crate::{Error, Plan};

pub const WINDOW_ENV: &str = "RATE_LIMIT_WINDOW_SECONDS";
pub const FREE_ENV: &str = "FREE_REQUESTS_PER_WINDOW";
pub const PRO_ENV: &str = "PRO_REQUESTS_PER_WINDOW";

/// The longest window: a day.
pub const MAX_WINDOW_SECONDS: u64 = 86_400;

/// The prefix of every window-count attribute on a key item.
pub const COUNTER_PREFIX: &str = "rateWindow";

/// Requests per key per window, by plan (the authorizer's environment,
/// from template.yaml's `RateLimitWindowSeconds`, `FreeRequestsPerWindow`
/// and `ProRequestsPerWindow` parameters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub window_seconds: u64,
    pub free: u64,
    pub pro: u64,
}

impl Default for Limits {
    /// One minute; 60 requests a key on free (1/s), 600 on pro (10/s). A
    /// user's keys share the `USER#<id>` partition: pro's 10 keys at the
    /// limit are 100 writes/s, a tenth of what one partition takes.
    fn default() -> Self {
        Self { window_seconds: 60, free: 60, pro: 600 }
    }
}

impl Limits {
    /// The defaults, overridden by the environment where it sets them.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_variables(|name| std::env::var(name).ok())
    }

    /// The defaults, overridden by the variables `lookup` finds.
    pub fn from_variables(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let number = |name: &str| -> Result<Option<u64>, Error> {
            match lookup(name) {
                Some(text) => match text.parse::<u64>() {
                    Ok(n) if n > 0 => Ok(Some(n)),
                    _ => Err(Error::internal(format!("{name} must be a whole number above 0, not {text:?}"))),
                },
                None => Ok(None),
            }
        };
        let mut limits = Self::default();
        if let Some(seconds) = number(WINDOW_ENV)? {
            if seconds > MAX_WINDOW_SECONDS {
                return Err(Error::internal(format!("{WINDOW_ENV} may be at most {MAX_WINDOW_SECONDS} (a day), not {seconds}")));
            }
            limits.window_seconds = seconds;
        }
        if let Some(free) = number(FREE_ENV)? {
            limits.free = free;
        }
        if let Some(pro) = number(PRO_ENV)? {
            limits.pro = pro;
        }
        Ok(limits)
    }

    /// Requests a key on `plan` may make per window.
    pub fn per_window(&self, plan: Plan) -> u64 {
        match plan {
            Plan::Free => self.free,
            Plan::Pro => self.pro,
        }
    }

    /// The window `now_ms` falls in. Windows are aligned to the epoch, so
    /// every authorizer instance agrees on them without coordination.
    pub fn window(&self, now_ms: u64) -> Window {
        let length_ms = self.window_seconds * 1000;
        Window { number: now_ms / length_ms, ends_at_ms: (now_ms / length_ms + 1) * length_ms }
    }
}

/// One fixed window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub number: u64,
    pub ends_at_ms: u64,
}

impl Window {
    /// The attribute that counts this window's requests on a key item.
    pub fn counter(&self) -> String {
        format!("{COUNTER_PREFIX}{}", self.number)
    }

    /// The previous window's counter, removed by this window's first request.
    pub fn previous_counter(&self) -> String {
        format!("{COUNTER_PREFIX}{}", self.number.saturating_sub(1))
    }

    /// Whole seconds until the window ends, at least 1 (`Retry-After`).
    pub fn retry_after_seconds(&self, now_ms: u64) -> u64 {
        self.ends_at_ms.saturating_sub(now_ms).div_ceil(1000).max(1)
    }

    /// The window counts among `attributes` older than this window's
    /// previous one (which the request's own update removes): left by a key
    /// that sat idle. Never a newer window's: near a boundary a request whose
    /// clock still reads this window can land after one that reads the next.
    pub fn older_counts<'a>(&self, attributes: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        let oldest_kept = self.number.saturating_sub(1);
        attributes.into_iter().filter(|name| window_of(name).is_some_and(|n| n < oldest_kept)).cloned().collect()
    }
}

/// The window a key item's attribute counts, if it is a window count.
fn window_of(attribute: &str) -> Option<u64> {
    attribute.strip_prefix(COUNTER_PREFIX).filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))?.parse().ok()
}

/// Whether a key item's attribute is a window count.
pub fn is_counter(attribute: &str) -> bool {
    window_of(attribute).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_retry_after_counts_to_the_end() {
        let limits = Limits { window_seconds: 60, free: 1, pro: 2 };
        let w = limits.window(120_000);
        assert_eq!((w.number, w.ends_at_ms), (2, 180_000));
        assert_eq!(limits.window(179_999), w);
        assert_eq!(limits.window(180_000).number, 3);
        assert_eq!(w.retry_after_seconds(120_000), 60);
        assert_eq!(w.retry_after_seconds(179_001), 1);
        assert_eq!(w.retry_after_seconds(179_999), 1);
        assert_eq!((w.counter(), w.previous_counter()), ("rateWindow2".to_string(), "rateWindow1".to_string()));
        assert!(is_counter(&w.counter()) && !is_counter(COUNTER_PREFIX) && !is_counter("rateWindowX") && !is_counter("usageCount"));
        assert_eq!((limits.per_window(Plan::Free), limits.per_window(Plan::Pro)), (1, 2));
    }

    #[test]
    fn only_counts_older_than_the_previous_window_are_left_to_remove() {
        let w = Window { number: 10, ends_at_ms: 0 };
        let names: Vec<String> = ["rateWindow7", "rateWindow8", "rateWindow9", "rateWindow10", "rateWindow11", "usageCount", "rateWindowX"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // 9 goes with the request's own update; 11 is a newer window's, written
        // first by a request whose clock had passed the boundary.
        assert_eq!(w.older_counts(&names), ["rateWindow7", "rateWindow8"]);
    }

    #[test]
    fn the_environment_overrides_the_defaults_and_bad_numbers_are_refused() {
        let vars =
            |pairs: &'static [(&'static str, &'static str)]| move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
        assert_eq!(Limits::from_variables(|_| None).unwrap(), Limits::default());
        let set = Limits::from_variables(vars(&[(WINDOW_ENV, "10"), (FREE_ENV, "3"), (PRO_ENV, "7")])).unwrap();
        assert_eq!(set, Limits { window_seconds: 10, free: 3, pro: 7 });
        assert!(Limits::from_variables(vars(&[(WINDOW_ENV, "86401")])).is_err());
        for bad in ["0", "-1", "x", ""] {
            let lookup = move |name: &str| (name == FREE_ENV).then(|| bad.to_string());
            assert!(Limits::from_variables(lookup).is_err(), "{bad:?}");
        }
    }
}
