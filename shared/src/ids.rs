//! Typed entity ids. Every id is a ULID (time-ordered, 26 Crockford base32
//! characters); anything else from a request is refused before it can reach a
//! key, so a caller can never inject key syntax such as `#`.

use crate::Error;
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};
use ulid::Ulid;

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Ulid);

        impl $name {
            /// A fresh id; its first 48 bits are the current time in ms.
            pub fn generate() -> Self {
                Self(Ulid::new())
            }

            /// Parses a client-supplied id. Lower case is accepted and
            /// canonicalised to upper case, so one id has one key.
            pub fn parse(input: &str) -> Result<Self, Error> {
                // The canonical form must spell the input back (case aside):
                // this refuses values past 128 bits that the decoder wraps.
                Ulid::from_string(input)
                    .ok()
                    .filter(|ulid| ulid.to_string().eq_ignore_ascii_case(input))
                    .map(Self)
                    .ok_or_else(|| Error::BadRequest {
                        code: "invalid_id",
                        message: concat!("not a valid ", $what, " id: ids are 26-character ULIDs").to_string(),
                    })
            }

            /// An id fixed by what caused it: the time `timestamp_ms` and a
            /// hash of `seed`. Replaying the cause yields the same id, so a
            /// retried write lands on the same item.
            pub fn derived(timestamp_ms: u64, seed: &[u8]) -> Self {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(seed);
                let mut random = [0u8; 16];
                random[6..].copy_from_slice(&digest[..10]); // 80 bits
                Self(Ulid::from_parts(timestamp_ms, u128::from_be_bytes(random)))
            }

            /// Milliseconds since the Unix epoch at which the id was made.
            pub fn timestamp_ms(&self) -> u64 {
                self.0.timestamp_ms()
            }

            /// The id's 80 random bits (uniform: what write sharding picks by).
            pub fn random_bits(&self) -> u128 {
                self.0.random()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }
    };
}

ulid_id!(/** A user. */ UserId, "user");
ulid_id!(/** A post. */ PostId, "post");
ulid_id!(/** A comment on a post. */ CommentId, "comment");
ulid_id!(/** A notification. */ NotificationId, "notification");
ulid_id!(/** An API key (the public half of the key string). */ ApiKeyId, "API key");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_round_trip() {
        let id = UserId::generate();
        assert_eq!(UserId::parse(&id.to_string()).unwrap(), id);
        assert_eq!(id.to_string().len(), 26);
    }

    #[test]
    fn lower_case_is_canonicalised() {
        let id = PostId::parse("01arz3ndektsv4rrffq69g5fav").unwrap();
        assert_eq!(id.to_string(), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
    }

    #[test]
    fn key_syntax_and_junk_are_refused_with_400() {
        for bad in [
            "",
            "#",
            "USER#01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "01ARZ3NDEKTSV4RRFFQ69G5FA#",
            "01ARZ3NDEKTSV4RRFFQ69G5FAV#PROFILE",
            "01ARZ3NDEKTSV4RRFFQ69G5FA",   // 25 characters
            "01ARZ3NDEKTSV4RRFFQ69G5FAVV", // 27 characters
            "81ARZ3NDEKTSV4RRFFQ69G5FAV",  // overflows 128 bits
            "01ARZ3NDEKTSV4RRFFQ69G5FA\u{0}",
            " 01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "01ARZ3NDEKTSV4RRFFQ69G5FAÜ",
        ] {
            let err = UserId::parse(bad).unwrap_err();
            assert_eq!(err.status(), 400, "{bad:?}");
            assert_eq!(err.code(), "invalid_id", "{bad:?}");
        }
    }

    #[test]
    fn ids_are_time_ordered() {
        let a = CommentId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = CommentId::generate();
        assert!(a < b && a.to_string() < b.to_string());
    }

    #[test]
    fn derived_ids_are_stable_and_time_ordered() {
        let a = NotificationId::derived(1_000, b"event-1/user-1");
        assert_eq!(a, NotificationId::derived(1_000, b"event-1/user-1"));
        assert_ne!(a, NotificationId::derived(1_000, b"event-1/user-2"));
        assert!(a < NotificationId::derived(1_001, b"event-0"));
        assert_eq!(a.timestamp_ms(), 1_000);
    }

    #[test]
    fn serde_refuses_invalid_ids() {
        assert!(serde_json::from_str::<UserId>("\"USER#1\"").is_err());
        let id: UserId = serde_json::from_str("\"01ARZ3NDEKTSV4RRFFQ69G5FAV\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"01ARZ3NDEKTSV4RRFFQ69G5FAV\"");
    }
}
