//! Reading why a conditional write failed. A failed condition is how the
//! table enforces its invariants (unique emails, versions, quotas), so the
//! data model turns it into the matching 404 / 409 / 412 / 403.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// Why each item of a cancelled transaction failed, in request order.
pub struct Cancelled(pub Vec<Reason>);

pub struct Reason {
    /// `ConditionalCheckFailed`, `TransactionConflict`, `None`, …
    pub code: String,
    /// The item as it was, for items sent with `ReturnValuesOnConditionCheckFailure::AllOld`.
    pub old: Option<Item>,
}

impl Cancelled {
    pub fn of(err: &SdkError<TransactWriteItemsError>) -> Option<Self> {
        let TransactWriteItemsError::TransactionCanceledException(e) = err.as_service_error()? else {
            return None;
        };
        let reasons =
            e.cancellation_reasons().iter().map(|r| Reason { code: r.code().unwrap_or("None").to_string(), old: r.item().cloned() }).collect();
        Some(Self(reasons))
    }

    /// Whether item `index` failed its condition.
    pub fn failed(&self, index: usize) -> bool {
        self.0.get(index).is_some_and(|r| r.code == "ConditionalCheckFailed")
    }

    pub fn old(&self, index: usize) -> Option<&Item> {
        self.0.get(index).and_then(|r| r.old.as_ref())
    }

    /// DynamoDB cancels a transaction that races another on the same item.
    pub fn conflicted(&self) -> bool {
        self.0.iter().any(|r| r.code == "TransactionConflict")
    }
}

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
    crate::Error::Conflict { code: "transaction_conflict", message: "a concurrent request changed the same data; retry the request".into() }
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

/// A Put, inside a transaction, that applies only if no item has its key.
pub fn put_new(table: &crate::Table, item: Item) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, crate::Error> {
    let put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table.name())
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK)")
        .build()
        .map_err(crate::Error::internal)?;
    Ok(aws_sdk_dynamodb::types::TransactWriteItem::builder().put(put).build())
}

/// Why a transaction did not apply.
pub enum Refused {
    /// A condition failed: the reasons say which item's.
    Cancelled(Cancelled),
    Failed(crate::Error),
}

impl From<Refused> for crate::Error {
    /// For cancellations a caller did not expect: a lost race is 409 (retry),
    /// anything else a fault.
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Cancelled(c) if c.conflicted() => conflict_error(),
            Refused::Cancelled(c) => {
                let codes: Vec<&str> = c.0.iter().map(|r| r.code.as_str()).collect();
                crate::Error::internal(format!("transaction cancelled: {codes:?}"))
            }
            Refused::Failed(e) => e,
        }
    }
}

/// Sends `items` as one TransactWriteItems.
pub async fn transact(table: &crate::Table, items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>) -> Result<(), Refused> {
    match table.client().transact_write_items().set_transact_items(Some(items)).send().await {
        Ok(_) => Ok(()),
        Err(err) => Err(match Cancelled::of(&err) {
            Some(cancelled) => Refused::Cancelled(cancelled),
            None => Refused::Failed(err.into()),
        }),
    }
}
