//! The stage's default route throttling, as API Gateway applies it: a token
//! bucket per route (`burst` tokens, refilled at `rate_per_second`), checked
//! before the authorizer or the function runs; an empty bucket is API
//! Gateway's own 429 `{"message":"Too Many Requests"}`.

use crate::template::Throttle;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub(super) struct Buckets {
    throttle: Throttle,
    /// Route key → (tokens left, when last refilled).
    state: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Buckets {
    pub(super) fn new(throttle: Throttle) -> Self {
        Self { throttle, state: Mutex::new(HashMap::new()) }
    }

    /// Takes a token from the route's bucket; `false` when there is none.
    pub(super) fn admit(&self, route_key: &str) -> bool {
        let now = Instant::now();
        let burst = f64::from(self.throttle.burst);
        let mut state = self.state.lock().expect("no panics while held");
        let (tokens, refilled) = state.entry(route_key.to_string()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*refilled).as_secs_f64() * self.throttle.rate_per_second).min(burst);
        *refilled = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_gets_its_burst_then_its_rate_and_routes_are_apart() {
        let buckets = Buckets::new(Throttle { rate_per_second: 20.0, burst: 3 });
        let admitted = (0..10).filter(|_| buckets.admit("GET /a")).count();
        assert_eq!(admitted, 3, "the burst, then nothing until tokens come back");
        assert!(buckets.admit("GET /b"), "another route has its own bucket");
        std::thread::sleep(std::time::Duration::from_millis(120));
        assert!(buckets.admit("GET /a") && buckets.admit("GET /a"), "20 tokens a second: two after 120 ms");
    }
}
