//! Wall-clock time as the table stores it: RFC 3339 text for people, epoch
//! seconds for TTL (`expiresAt`) and comparisons in conditions.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Clone, Copy, Debug)]
pub struct Now(OffsetDateTime);

pub fn now() -> Now {
    Now(OffsetDateTime::now_utc())
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> u64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).max(0) as u64
}

/// The moment `ms` milliseconds after the epoch (a stream record's time).
pub fn from_epoch_ms(ms: u64) -> Now {
    Now(OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

impl Now {
    pub fn rfc3339(&self) -> String {
        self.0.format(&Rfc3339).expect("a current UTC time formats")
    }

    pub fn epoch_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }

    pub fn plus_days(&self, days: u32) -> Now {
        Now(self.0 + time::Duration::days(days.into()))
    }
}

/// Epoch seconds as RFC 3339 (for `expiresAt` in responses).
pub fn rfc3339_from_epoch(seconds: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(seconds).ok()?.format(&Rfc3339).ok()
}
