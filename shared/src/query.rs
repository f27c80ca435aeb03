//! Reading a [`Listing`]: one page for a client (`?limit=`, `?cursor=`), or
//! every item for the stream processor's cascades.

use crate::conditions::Item;
use crate::keys::{self, Key, Listing};
use crate::{Error, Page, PageRequest, Table};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;

impl Table {
    /// The Query for `listing`: its partition (and sort-key prefix), in its direction.
    fn query_of(&self, listing: &Listing) -> QueryFluentBuilder {
        let mut query = self
            .client()
            .query()
            .table_name(self.name())
            .set_index_name(listing.index.map(|i| i.name.to_string()))
            .expression_attribute_names("#pk", listing.partition_attribute())
            .expression_attribute_values(":pk", AttributeValue::S(listing.partition.clone()))
            .scan_index_forward(!listing.newest_first);
        query = match listing.sort_prefix {
            Some(prefix) => query
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", listing.sort_attribute())
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.into())),
            None => query.key_condition_expression("#pk = :pk"),
        };
        query
    }

    /// One page of `listing`: one Query.
    ///
    /// We ask for one item more than the page holds: if it exists, the
    /// page's last item is where the next page starts, so a last page says
    /// `nextCursor: null` rather than sending the client to an empty page.
    pub async fn query_page<T: DeserializeOwned>(&self, listing: &Listing, page: &PageRequest) -> Result<Page<T>, Error> {
        let start = match &page.cursor {
            Some(cursor) => Some(self.cursors().verify(&listing.name, cursor)?),
            None => None,
        };
        let output = self.query_of(listing).limit(page.limit + 1).set_exclusive_start_key(start).send().await?;
        let mut items = output.items.unwrap_or_default();
        let resume_key = if items.len() > page.limit as usize {
            items.truncate(page.limit as usize);
            let last = items.last().expect("limit is at least 1");
            Some(listing.position_attributes().into_iter().filter_map(|a| last.get(a).map(|v| (a.to_string(), v.clone()))).collect())
        } else {
            // Fewer items than asked for: either the end, or DynamoDB's 1 MB
            // page cap, in which case it tells us where to go on.
            output.last_evaluated_key
        };
        let next_cursor = match resume_key {
            Some(key) => Some(self.cursors().sign(&listing.name, &key)?),
            None => None,
        };
        Ok(Page { items: serde_dynamo::from_items(items)?, next_cursor })
    }

    /// Every item of `listing`, page after page, with only the `projection`
    /// attributes (a comma-separated list of plain names).
    pub async fn query_all(&self, listing: &Listing, projection: &str) -> Result<Vec<Item>, Error> {
        let query = self.query_of(listing).projection_expression(projection);
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = query.clone().set_exclusive_start_key(start).send().await?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(items),
            }
        }
    }

    /// The primary keys of every item of `listing`.
    pub async fn query_keys(&self, listing: &Listing) -> Result<Vec<Key>, Error> {
        self.query_all(listing, "PK, SK").await?.iter().map(key_of).collect()
    }
}

/// The primary key of an item read from the table.
pub fn key_of(item: &Item) -> Result<Key, Error> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().ok_or_else(|| Error::internal(format!("item without {name}")));
    Ok(Key { pk: text(keys::PK)?, sk: text(keys::SK)? })
}
