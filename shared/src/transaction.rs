//! TransactWriteItems built from named parts. DynamoDB reports why a
//! transaction was cancelled item by item, in request order; naming each
//! part lets the data model ask "did the email guard fail?" rather than
//! "did item 1 fail?", so reordering a transaction cannot change which
//! error a client gets.

use crate::conditions::{Item, conflict_error};
use crate::{Error, Table};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};

/// DynamoDB's limit on the items of one transaction.
pub const MAX_ITEMS: usize = 100;

/// The parts of one transaction, in order.
#[derive(Default)]
pub struct Transaction {
    parts: Vec<(&'static str, TransactWriteItem)>,
}

impl Transaction {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(mut self, part: &'static str, update: Update) -> Self {
        self.parts.push((part, TransactWriteItem::builder().update(update).build()));
        self
    }

    pub fn check(mut self, part: &'static str, check: ConditionCheck) -> Self {
        self.parts.push((part, TransactWriteItem::builder().condition_check(check).build()));
        self
    }

    pub fn delete(mut self, part: &'static str, delete: Delete) -> Self {
        self.parts.push((part, TransactWriteItem::builder().delete(delete).build()));
        self
    }

    pub fn put(mut self, part: &'static str, put: Put) -> Self {
        self.parts.push((part, TransactWriteItem::builder().put(put).build()));
        self
    }

    /// A Put that applies only if no item has its key.
    pub fn put_new(self, part: &'static str, table: &Table, item: Item) -> Result<Self, Error> {
        let put = Put::builder()
            .table_name(table.name())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(Error::internal)?;
        Ok(self.put(part, put))
    }

    /// Sends the parts as one TransactWriteItems.
    pub async fn send(self, table: &Table) -> Result<(), Refused> {
        let (names, items): (Vec<_>, Vec<_>) = self.parts.into_iter().unzip();
        match table.client().transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(err) => Err(match Cancelled::of(names, &err) {
                Some(cancelled) => Refused::Cancelled(cancelled),
                None => Refused::Failed(err.into()),
            }),
        }
    }
}

/// Why each part of a cancelled transaction failed.
#[derive(Debug)]
pub struct Cancelled {
    reasons: Vec<Reason>,
}

#[derive(Debug)]
pub struct Reason {
    pub part: &'static str,
    /// `ConditionalCheckFailed`, `TransactionConflict`, `None`, …
    pub code: String,
    /// The item as it was, for parts sent with `ReturnValuesOnConditionCheckFailure::AllOld`.
    pub old: Option<Item>,
}

impl Reason {
    pub fn failed_condition(&self) -> bool {
        self.code == "ConditionalCheckFailed"
    }
}

impl Cancelled {
    fn of(names: Vec<&'static str>, err: &SdkError<TransactWriteItemsError>) -> Option<Self> {
        let TransactWriteItemsError::TransactionCanceledException(e) = err.as_service_error()? else {
            return None;
        };
        let reasons = e.cancellation_reasons().iter().map(|r| (r.code().unwrap_or("None").to_string(), r.item().cloned()));
        Some(Self::from_reasons(names, reasons))
    }

    /// One reason per part; a part the engine gave no reason for counts as
    /// not failed (`None`), so a short list cannot hide a part.
    fn from_reasons(names: Vec<&'static str>, reasons: impl Iterator<Item = (String, Option<Item>)>) -> Self {
        let mut reasons = reasons.fuse();
        let reasons = names
            .into_iter()
            .map(|part| {
                let (code, old) = reasons.next().unwrap_or_else(|| ("None".to_string(), None));
                Reason { part, code, old }
            })
            .collect();
        Self { reasons }
    }

    /// Whether the part named `part` failed its condition. Asking for a part
    /// the transaction did not have is a bug (a renamed part): it panics in
    /// debug builds and tests.
    pub fn failed(&self, part: &str) -> bool {
        debug_assert!(self.reasons.iter().any(|r| r.part == part), "the transaction has no part named {part:?}");
        self.reasons.iter().any(|r| r.part == part && r.failed_condition())
    }

    /// The item of `part` as it was before the failed write.
    pub fn old(&self, part: &str) -> Option<&Item> {
        self.reasons.iter().find(|r| r.part == part).and_then(|r| r.old.as_ref())
    }

    /// Every part's reason, in the order the parts were added.
    pub fn reasons(&self) -> &[Reason] {
        &self.reasons
    }

    /// DynamoDB cancels a transaction that races another on the same item.
    pub fn conflicted(&self) -> bool {
        self.reasons.iter().any(|r| r.code == "TransactionConflict")
    }
}

/// Why a transaction did not apply.
#[derive(Debug)]
pub enum Refused {
    /// A condition failed or a race was lost: the reasons say which part's.
    Cancelled(Cancelled),
    Failed(Error),
}

impl From<Refused> for Error {
    /// For cancellations a caller did not expect: a lost race is 409 (retry),
    /// anything else a fault.
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Cancelled(c) if c.conflicted() => conflict_error(),
            Refused::Cancelled(c) => {
                let reasons: Vec<String> = c.reasons.iter().map(|r| format!("{}: {}", r.part, r.code)).collect();
                Error::internal(format!("transaction cancelled: {reasons:?}"))
            }
            Refused::Failed(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cancelled(parts: &[(&'static str, &str)]) -> Cancelled {
        let names = parts.iter().map(|(n, _)| *n).collect();
        Cancelled::from_reasons(names, parts.iter().map(|(_, code)| (code.to_string(), None)))
    }

    #[test]
    fn a_failure_is_read_by_name_whatever_the_order() {
        let one = cancelled(&[("profile", "None"), ("email guard", "ConditionalCheckFailed"), ("first key", "None")]);
        let other = cancelled(&[("first key", "None"), ("email guard", "ConditionalCheckFailed"), ("profile", "None")]);
        for c in [one, other] {
            assert!(c.failed("email guard"));
            assert!(!c.failed("profile") && !c.failed("first key"));
            assert!(!c.conflicted());
        }
    }

    #[test]
    fn a_lost_race_is_409_and_other_cancellations_a_fault_naming_the_parts() {
        let raced = cancelled(&[("post", "TransactionConflict"), ("comment", "None")]);
        assert_eq!(Error::from(Refused::Cancelled(raced)).status(), 409);
        let odd = Error::from(Refused::Cancelled(cancelled(&[("post", "ValidationError")])));
        assert_eq!(odd.status(), 500);
        assert!(odd.to_string().contains("post: ValidationError"), "{odd}");
    }

    #[test]
    fn a_part_without_a_reason_did_not_fail() {
        let names = vec!["post", "comment"];
        let short = Cancelled::from_reasons(names, [("ConditionalCheckFailed".to_string(), None)].into_iter());
        assert!(short.failed("post"));
        assert!(!short.failed("comment"), "still a part of the transaction, with no reason given");
    }

    #[test]
    #[should_panic(expected = "no part named")]
    fn asking_for_a_part_that_is_not_there_is_a_bug() {
        cancelled(&[("post", "None")]).failed("posts");
    }
}
