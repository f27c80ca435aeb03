//! Many items at once: reads by key (BatchGetItem) for pages that list
//! items kept elsewhere, and, for the stream processor's fan-out and
//! cascades, BatchWriteItem with retries, deletes by key, and updates that
//! leave a vanished item alone. Each can be repeated safely.

use crate::conditions::update_condition_failed;
use crate::keys::Key;
use crate::{Error, Table};
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, WriteRequest};
use std::time::Duration;

/// DynamoDB's limit on the requests of one BatchWriteItem.
const BATCH_WRITE_MAX_ITEMS: usize = 25;
/// How often a throttled or conflicting write is tried before giving up.
pub const MAX_ATTEMPTS: u32 = 8;

/// Exponential backoff for retrying throttled or conflicting writes.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(10 * 2u64.pow(attempt.min(6)))
}

/// DynamoDB's limit on the keys of one BatchGetItem (a page holds at most
/// 100 items, so a page is one call).
const BATCH_GET_MAX_KEYS: usize = 100;

/// The items that exist at these keys (in no particular order):
/// BatchGetItem, 100 keys at a time, retrying unprocessed keys with
/// exponential backoff. No call for no keys.
pub async fn batch_get(table: &Table, keys: Vec<Key>) -> Result<Vec<crate::conditions::Item>, Error> {
    batch_get_read(table, keys, false).await
}

/// As [`batch_get`], strongly consistent if asked.
pub async fn batch_get_read(table: &Table, keys: Vec<Key>, consistent: bool) -> Result<Vec<crate::conditions::Item>, Error> {
    let mut found = Vec::new();
    for chunk in keys.chunks(BATCH_GET_MAX_KEYS) {
        let keys = Some(chunk.iter().map(Key::to_attributes).collect());
        let mut pending = KeysAndAttributes::builder().set_keys(keys).consistent_read(consistent).build().map_err(Error::internal)?;
        for attempt in 0.. {
            let output = table.client().batch_get_item().request_items(table.name(), pending).send().await?;
            found.extend(output.responses.and_then(|mut r| r.remove(table.name())).unwrap_or_default());
            match output.unprocessed_keys.and_then(|mut u| u.remove(table.name())).filter(|k| !k.keys().is_empty()) {
                None => break,
                Some(_) if attempt >= MAX_ATTEMPTS => return Err(Error::internal(format!("keys still unprocessed after {MAX_ATTEMPTS} retries"))),
                Some(unprocessed) => pending = unprocessed,
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
    Ok(found)
}

/// BatchWriteItem, 25 requests at a time, retrying unprocessed ones with
/// exponential backoff.
pub async fn batch_write(table: &Table, requests: Vec<WriteRequest>) -> Result<(), Error> {
    for chunk in requests.chunks(BATCH_WRITE_MAX_ITEMS) {
        let mut pending = chunk.to_vec();
        for attempt in 0.. {
            let output = table.client().batch_write_item().request_items(table.name(), pending).send().await?;
            pending = output.unprocessed_items.and_then(|mut u| u.remove(table.name())).unwrap_or_default();
            if pending.is_empty() {
                break;
            }
            if attempt >= MAX_ATTEMPTS {
                return Err(Error::internal(format!("{} writes still unprocessed after {MAX_ATTEMPTS} retries", pending.len())));
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
    Ok(())
}

/// Deletes the items with these keys (BatchWriteItem).
pub async fn delete_keys(table: &Table, keys: Vec<Key>) -> Result<(), Error> {
    let requests = keys
        .into_iter()
        .map(|k| DeleteRequest::builder().set_key(Some(k.to_attributes())).build().map(|d| WriteRequest::builder().delete_request(d).build()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::internal)?;
    batch_write(table, requests).await
}

/// Sets `field` on the item at `key`, if the item still exists.
pub async fn set_if_exists(table: &Table, key: Key, field: &str, value: AttributeValue) -> Result<(), Error> {
    let result = table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(key.to_attributes()))
        .update_expression("SET #f = :v")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_names("#f", field)
        .expression_attribute_values(":v", value)
        .send()
        .await;
    match result {
        Err(err) if update_condition_failed(&err).is_some() => Ok(()),
        other => other.map(|_| ()).map_err(Into::into),
    }
}
