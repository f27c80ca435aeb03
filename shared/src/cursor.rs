//! Cursors: the key to resume a listing from, signed with HMAC-SHA256
//! together with the listing's name. A cursor that was altered, truncated or
//! made for another listing (another user's followers, say) is refused with
//! 400 before any DynamoDB call.

use crate::Error;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Longest cursor we will try to decode; real ones are far shorter.
const MAX_CURSOR_LEN: usize = 1024;
/// Bytes of the HMAC kept in a cursor: 128 bits is ample against forgery.
const MAC_LEN: usize = 16;
pub const MIN_SIGNING_KEY_BYTES: usize = 32;

/// Signs and verifies cursors with the deployment's signing key.
#[derive(Clone)]
pub struct Cursors {
    key: Arc<[u8]>,
}

impl std::fmt::Debug for Cursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cursors(<signing key>)")
    }
}

impl Cursors {
    pub fn new(key: &[u8]) -> Result<Self, Error> {
        if key.len() < MIN_SIGNING_KEY_BYTES {
            return Err(Error::internal(format!("the cursor signing key must be at least {MIN_SIGNING_KEY_BYTES} bytes")));
        }
        Ok(Self { key: key.into() })
    }

    /// A 256-bit key for another purpose, derived from the signing key (HMAC
    /// as a KDF; `purpose` never equals a listing's name, so no derived key
    /// is ever a cursor tag).
    pub fn derived_key(&self, purpose: &str, context: &[u8]) -> [u8; 32] {
        self.mac(purpose, context).finalize().into_bytes().into()
    }

    fn mac(&self, listing: &str, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(listing.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    /// Encodes the key to resume `listing` from.
    pub fn sign(&self, listing: &str, key: &HashMap<String, AttributeValue>) -> Result<String, Error> {
        let strings = key
            .iter()
            .map(|(name, value)| match value {
                AttributeValue::S(s) => Ok((name.as_str(), s.as_str())),
                _ => Err(Error::internal(format!("key attribute {name} is not a string"))),
            })
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let payload = serde_json::to_vec(&strings).map_err(Error::internal)?;
        let tag = self.mac(listing, &payload).finalize().into_bytes();
        Ok(format!("{}.{}", B64.encode(&payload), B64.encode(&tag[..MAC_LEN])))
    }

    /// Decodes a client's cursor for `listing`, or refuses it with 400.
    pub fn verify(&self, listing: &str, cursor: &str) -> Result<HashMap<String, AttributeValue>, Error> {
        let invalid = || Error::BadRequest {
            code: "invalid_cursor",
            message: "the cursor is not valid for this listing: pass back nextCursor exactly as it was given".into(),
        };
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(invalid());
        }
        let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
        let payload = B64.decode(payload).map_err(|_| invalid())?;
        let tag = B64.decode(tag).map_err(|_| invalid())?;
        if tag.len() != MAC_LEN {
            return Err(invalid());
        }
        // Constant-time comparison of the truncated tag.
        self.mac(listing, &payload).verify_truncated_left(&tag).map_err(|_| invalid())?;
        let strings: BTreeMap<String, String> = serde_json::from_slice(&payload).map_err(|_| invalid())?;
        Ok(strings.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursors() -> Cursors {
        Cursors::new(&[7u8; 32]).unwrap()
    }

    fn key() -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("PK".to_string(), AttributeValue::S("USER#01ARZ3NDEKTSV4RRFFQ69G5FAV".into())),
            ("SK".to_string(), AttributeValue::S("FOLLOWER#01BX5ZZKBKACTAV9WEVGEMMVRY".into())),
        ])
    }

    #[test]
    fn a_cursor_round_trips_for_its_listing() {
        let cursor = cursors().sign("followers:A", &key()).unwrap();
        assert_eq!(cursors().verify("followers:A", &cursor).unwrap(), key());
    }

    #[test]
    fn tampered_truncated_foreign_or_junk_cursors_are_400() {
        let c = cursors();
        let good = c.sign("followers:A", &key()).unwrap();
        let (payload, tag) = good.split_once('.').unwrap();
        let mut flipped = payload.to_string().into_bytes();
        flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
        let forged_payload = B64.encode(br#"{"PK":"USER#01ARZ3NDEKTSV4RRFFQ69G5FAV","SK":"FOLLOWER#0"}"#);
        let other_key = Cursors::new(&[9u8; 32]).unwrap().sign("followers:A", &key()).unwrap();
        let bad = [
            format!("{}.{tag}", String::from_utf8(flipped).unwrap()), // altered key
            format!("{forged_payload}.{tag}"),                        // forged key, old tag
            good[..good.len() - 2].to_string(),                       // truncated tag
            payload.to_string(),                                      // tag cut off
            format!("{payload}."),
            other_key, // signed with another secret
            "not a cursor".into(),
            "..".into(),
            "%%%.%%%".into(),
            "A".repeat(5000),
        ];
        for cursor in &bad {
            let err = c.verify("followers:A", cursor).unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "invalid_cursor"), "{cursor:?}");
        }
        let err = c.verify("followers:B", &good).unwrap_err();
        assert_eq!(err.code(), "invalid_cursor", "a cursor made for another listing");
    }

    #[test]
    fn short_signing_keys_are_refused() {
        assert!(Cursors::new(&[1u8; 31]).is_err());
        assert!(Cursors::new(&[1u8; 32]).is_ok());
    }
}
