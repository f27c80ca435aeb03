//! Reading why a conditional write failed. A failed condition is how the
//! table enforces its invariants (unique emails, versions, quotas), so the
//! data model turns it into the matching 404 / 409 / 412 / 403.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// For an UpdateItem whose condition failed: `Some(old item or None)`;
/// `None` for any other error.
pub fn update_condition_failed(err: &SdkError<UpdateItemError>) -> Option<Option<Item>> {
    match err.as_service_error()? {
        UpdateItemError::ConditionalCheckFailedException(e) => Some(e.item().cloned()),
        _ => None,
    }
}

/// The error for a transaction that lost a race: the client may retry.
pub fn conflict_error() -> crate::Error {
    crate::Error::transaction_conflict()
}

/// Whether DynamoDB refused a write because the item would pass 400 KB
/// (an update can grow an item past the limit that a put would have caught).
pub fn item_too_large<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error().is_some_and(|e| e.code() == Some("ValidationException") && e.message().is_some_and(|m| m.contains("Item size")))
}

pub fn item_too_large_error() -> crate::Error {
    crate::Error::PayloadTooLarge {
        code: "item_too_large",
        message: format!("the item would exceed DynamoDB's 400 KB ({} bytes) item limit", crate::item_size::MAX_ITEM_BYTES),
    }
}

/// A conditional write's result: true if it was made, false if its
/// condition failed; any other failure is an error.
pub fn written<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, crate::Error>
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if err.as_service_error().is_some_and(|e| e.code() == Some("ConditionalCheckFailedException")) => Ok(false),
        Err(err) => Err(err.into()),
    }
}
