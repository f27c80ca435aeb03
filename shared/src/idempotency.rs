//! Idempotent retries for the routes that create things (`POST /users`,
//! `POST /posts`, `POST /posts/{postId}/comments`), keyed by the client's
//! `Idempotency-Key` header.
//!
//! The first response is recorded in the same TransactWriteItems as what it
//! created, so a retry finds either the record (and gets that response back,
//! creating nothing) or nothing at all (the first attempt did not happen).
//! Two concurrent attempts race on the record's condition: one creates, the
//! other replays. The same key with another request (body, path or route) is
//! 422. Records expire after 24 hours through TTL; an expired record that TTL
//! has not yet deleted counts as absent.
//!
//! The stored response is encrypted (ChaCha20-Poly1305) under a key derived
//! from the server's secret and the idempotency key: a sign-up's response
//! carries the new API key's secret, which must never sit in the table in
//! plain text.

use crate::clock::Now;
use crate::ids::UserId;
use crate::keys::Placement;
use crate::transaction::{Refused, Transaction};
use crate::{Error, Table, keys, to_item};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Put};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The request header (API Gateway lower-cases header names).
pub const HEADER: &str = "idempotency-key";
pub const TTL_HOURS: i64 = 24;
pub const MAX_KEY_CHARS: usize = 255;
pub const ENTITY: &str = "idempotency";
const KEY_PURPOSE: &str = "idempotency-response-encryption";
/// The record's part in the transaction that creates what it records.
const RECORD: &str = "idempotency record";

/// A request that carries an `Idempotency-Key`.
pub struct Idempotency {
    key: keys::Key,
    /// SHA-256 of the method, path and canonical JSON body, hex.
    fingerprint: String,
    raw_key: String,
}

impl Idempotency {
    /// `key`: the header's value (1–255 visible ASCII characters); `caller`:
    /// who is asking (`None` on public routes); `method`, `path` and `body`
    /// identify the request (the body compared as JSON, so key order and
    /// spacing don't matter).
    pub fn new(key: &str, caller: Option<UserId>, method: &str, path: &str, body: &serde_json::Value) -> Result<Self, Error> {
        if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::BadRequest {
                code: "invalid_idempotency_key",
                message: format!("Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters (a UUID or ULID is ideal)"),
            });
        }
        let scope = caller.map_or_else(|| "public".to_string(), |user| user.to_string());
        let mut digest = Sha256::new();
        // serde_json's maps are ordered, so this text is canonical.
        for part in [method, path, &body.to_string()] {
            digest.update(part.as_bytes());
            digest.update([0]);
        }
        Ok(Self { key: keys::idempotency(&scope, key), fingerprint: hex::encode(digest.finalize()), raw_key: key.to_string() })
    }

    fn cipher(&self, table: &Table) -> ChaCha20Poly1305 {
        let key = table.cursors().derived_key(KEY_PURPOSE, self.raw_key.as_bytes());
        ChaCha20Poly1305::new(&key.into())
    }
}

/// The response a creating route sends: status, its version (for `ETag`)
/// and the JSON body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub status: u16,
    pub version: Option<u64>,
    pub body: serde_json::Value,
}

impl Response {
    pub fn new(status: u16, version: Option<u64>, body: &impl Serialize) -> Result<Self, Error> {
        Ok(Self { status, version, body: serde_json::to_value(body).map_err(Error::internal)? })
    }
}

/// What a creating route did: made something new, or replayed the response
/// to an earlier request with the same key.
pub enum Created<T> {
    New(T),
    Replayed(Response),
}

impl<T> Created<T> {
    /// What was created, if this was not a replay.
    pub fn into_new(self) -> Option<T> {
        match self {
            Self::New(value) => Some(value),
            Self::Replayed(_) => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    entity: String,
    fingerprint: String,
    expires_at: i64,
}

/// The record's attribute holding the 12-byte nonce followed by the sealed
/// response, as binary: base64 text would make the record of the largest
/// post's response a third larger than DynamoDB's 400 KB item limit.
const SEALED: &str = "sealed";

/// For a request with a key: the recorded response, if any (one GetItem).
/// Without a key: nothing, at no cost.
pub async fn previous(table: &Table, request: Option<&Idempotency>) -> Result<Option<Response>, Error> {
    match request {
        Some(request) => replay(table, request).await,
        None => Ok(None),
    }
}

/// Without a key: `transaction` as it is. With one: the same, plus the
/// record of `response` (see [`transact_recorded`]).
pub async fn transact_maybe_recorded(
    table: &Table,
    request: Option<&Idempotency>,
    transaction: Transaction,
    response: impl FnOnce() -> Result<Response, Error>,
    now: Now,
) -> Result<Option<Response>, Refused> {
    match request {
        None => transaction.send(table).await.map(|()| None),
        Some(request) => transact_recorded(table, request, transaction, &response().map_err(Refused::Failed)?, now).await,
    }
}

/// The recorded response for `request`, if a live one exists (one GetItem).
/// 422 when the key was first used for a different request.
pub async fn replay(table: &Table, request: &Idempotency) -> Result<Option<Response>, Error> {
    let output = table.client().get_item().table_name(table.name()).set_key(Some(request.key.to_attributes())).send().await?;
    let Some(item) = output.item else { return Ok(None) };
    let sealed = match item.get(SEALED) {
        Some(AttributeValue::B(blob)) => blob.as_ref().to_vec(),
        _ => return Err(Error::internal("an idempotency record without its sealed response")),
    };
    let record: Record = serde_dynamo::from_item(item)?;
    if record.expires_at <= crate::clock::now().epoch_seconds() {
        return Ok(None);
    }
    if record.fingerprint != request.fingerprint {
        return Err(Error::Unprocessable {
            code: "idempotency_key_reused",
            message: "this Idempotency-Key was already used for a different request".into(),
        });
    }
    let (nonce, ciphertext) = sealed.split_at_checked(12).ok_or_else(|| Error::internal("sealed response too short"))?;
    let plain = request
        .cipher(table)
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: request.key.pk.as_bytes() })
        .map_err(|_| Error::internal("an idempotency record did not decrypt"))?;
    Ok(Some(serde_json::from_slice(&plain).map_err(Error::internal)?))
}

/// Sends `transaction` together with the record of `response` (a Put on the
/// key, which must be absent or expired). If a concurrent request with the
/// same key won, returns its response instead. Other refusals come back as
/// they are, for the caller to read by part.
pub async fn transact_recorded(
    table: &Table,
    request: &Idempotency,
    transaction: Transaction,
    response: &Response,
    now: Now,
) -> Result<Option<Response>, Refused> {
    let transaction = transaction.put(RECORD, record_put(table, request, response, now).map_err(Refused::Failed)?);
    match transaction.send(table).await {
        Ok(()) => Ok(None),
        Err(Refused::Cancelled(c)) if c.failed(RECORD) => match replay(table, request).await {
            Ok(Some(first)) => Ok(Some(first)),
            // Gone again already (expired between the two calls): let the client retry.
            Ok(None) => Err(Refused::Failed(crate::conditions::conflict_error())),
            Err(e) => Err(Refused::Failed(e)),
        },
        Err(other) => Err(other),
    }
}

fn record_put(table: &Table, request: &Idempotency, response: &Response, now: Now) -> Result<Put, Error> {
    let mut nonce = [0u8; 12];
    crate::random::fill(&mut nonce);
    let plain = serde_json::to_vec(response).map_err(Error::internal)?;
    let ciphertext = request
        .cipher(table)
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: &plain, aad: request.key.pk.as_bytes() })
        .map_err(|_| Error::internal("sealing an idempotency record"))?;
    let record = Record { entity: ENTITY.into(), fingerprint: request.fingerprint.clone(), expires_at: now.epoch_seconds() + TTL_HOURS * 3600 };
    let mut item = to_item(&record, &Placement::new(request.key.clone()))?;
    item.insert(SEALED.into(), AttributeValue::B(Blob::new([nonce.as_slice(), &ciphertext].concat())));
    crate::item_size::check(&item)?;
    Put::builder()
        .table_name(table.name())
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK) OR #expires <= :now")
        .expression_attribute_names("#expires", keys::EXPIRES_AT)
        .expression_attribute_values(":now", AttributeValue::N(now.epoch_seconds().to_string()))
        .build()
        .map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(key: &str, body: serde_json::Value) -> Result<Idempotency, Error> {
        Idempotency::new(key, None, "POST", "/users", &body)
    }

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters() {
        for bad in ["", " ", "a b", "é", "tab\t", &"k".repeat(256)] {
            assert_eq!(request(bad, json!({})).err().map(|e| e.code()), Some("invalid_idempotency_key"), "{bad:?}");
        }
        for good in ["k", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "550e8400-e29b-41d4-a716-446655440000", &"k".repeat(255)] {
            assert!(request(good, json!({})).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn the_fingerprint_ignores_key_order_but_not_content_path_or_caller() {
        let a: serde_json::Value = serde_json::from_str(r#"{"name":"Ada","email":"a@x.com"}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{ "email": "a@x.com", "name": "Ada" }"#).unwrap();
        let print = |caller, path: &str, body: &serde_json::Value| Idempotency::new("k", caller, "POST", path, body).unwrap().fingerprint;
        assert_eq!(print(None, "/users", &a), print(None, "/users", &b));
        assert_ne!(print(None, "/users", &a), print(None, "/users", &json!({"name": "Ada", "email": "b@x.com"})));
        assert_ne!(print(None, "/users", &a), print(None, "/posts", &a));
        // Each caller has its own key space.
        let user = UserId::generate();
        assert_ne!(Idempotency::new("k", Some(user), "POST", "/posts", &a).unwrap().key.pk, request("k", a).unwrap().key.pk);
    }
}
