//! The home feed's settings (crate::feed), kept apart so the table handle
//! can carry them without depending on the feed's code.

use crate::Error;
use std::time::Duration;

/// The feed's settings, from the stream processor's environment
/// (template.yaml's `FeedPushLimit` and `FanOutBudgetMs` parameters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// An author with at least this many followers is pulled, not pushed;
    /// one who falls below half of it is pushed again.
    pub push_limit: u64,
    /// How long one stream-processor invocation spends on fan-out before it
    /// saves its position and lets a later invocation go on.
    pub budget: Duration,
}

pub const PUSH_LIMIT_ENV: &str = "FEED_PUSH_LIMIT";
pub const BUDGET_ENV: &str = "FAN_OUT_BUDGET_MS";

impl Default for Settings {
    /// 10,000 followers: two items each (feed item and notification) are
    /// 20,000 writes, 800 BatchWriteItem calls, about one 10 s budget in AWS.
    fn default() -> Self {
        Self { push_limit: 10_000, budget: Duration::from_secs(10) }
    }
}

impl Settings {
    /// The defaults, overridden by the environment where it sets them.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_variables(|name| std::env::var(name).ok())
    }

    /// The defaults, overridden by the variables `lookup` finds.
    pub fn from_variables(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let number = |name: &str| -> Result<Option<u64>, Error> {
            match lookup(name) {
                Some(text) => text.parse().map(Some).map_err(|_| Error::internal(format!("{name} must be a whole number, not {text:?}"))),
                None => Ok(None),
            }
        };
        let mut settings = Self::default();
        if let Some(limit) = number(PUSH_LIMIT_ENV)? {
            settings.push_limit = limit.max(1);
        }
        if let Some(ms) = number(BUDGET_ENV)? {
            settings.budget = Duration::from_millis(ms);
        }
        Ok(settings)
    }

    /// Whether an author with `followers` should be pulled, given whether
    /// they are now (half the limit of hysteresis, so an author near the
    /// limit does not flip with every follow).
    pub fn pulls(&self, followers: u64, pulled_now: bool) -> bool {
        match pulled_now {
            false => followers >= self.push_limit,
            true => followers >= self.push_limit / 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_author_is_pulled_from_the_limit_and_pushed_again_below_half_of_it() {
        let s = Settings { push_limit: 100, budget: Duration::from_secs(1) };
        assert!(!s.pulls(99, false) && s.pulls(100, false));
        assert!(s.pulls(50, true) && !s.pulls(49, true));
    }

    #[test]
    fn the_environment_overrides_the_defaults_and_bad_numbers_are_refused() {
        let vars = |limit: &'static str| move |name: &str| (name == PUSH_LIMIT_ENV).then(|| limit.to_string());
        assert_eq!(Settings::from_variables(|_| None).unwrap(), Settings::default());
        assert_eq!(Settings::from_variables(vars("7")).unwrap().push_limit, 7);
        assert!(Settings::from_variables(vars("many")).is_err());
    }
}
