//! Reading a [`Listing`]: one page for a client (`?limit=`, `?cursor=`), or
//! every item for the stream processor's cascades.

use crate::conditions::Item;
use crate::keys::{self, Key, Listing, Sharded};
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

    /// Up to `want` items of `listing` from `start`, and whether the listing
    /// ends before that many. A Query stops at 1 MB: then this asks again
    /// from where it stopped, so a page is never short because of it (with
    /// listings of small items, as every indexed one is, it never happens).
    async fn read(&self, listing: &Listing, start: Option<Item>, want: i32) -> Result<(Vec<Item>, bool), Error> {
        read_from(self.query_of(listing), start, want).await
    }

    /// Up to `want` items of `listing` whose sort key lies between `from` and
    /// `to` (both included), in the listing's direction; and whether there
    /// are no more. For listings ordered by ULID, where a range is a time span.
    pub async fn read_between(&self, listing: &Listing, from: &str, to: &str, want: i32) -> Result<(Vec<Item>, bool), Error> {
        let query = self
            .client()
            .query()
            .table_name(self.name())
            .set_index_name(listing.index.map(|i| i.name.to_string()))
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .expression_attribute_names("#pk", listing.partition_attribute())
            .expression_attribute_names("#sk", listing.sort_attribute())
            .expression_attribute_values(":pk", AttributeValue::S(listing.partition.clone()))
            .expression_attribute_values(":from", AttributeValue::S(from.into()))
            .expression_attribute_values(":to", AttributeValue::S(to.into()))
            .scan_index_forward(!listing.newest_first);
        read_from(query, None, want).await
    }

    /// Up to `want` items of `listing` after `start`, read strongly
    /// consistent (the stream processor's fan-out walks followers this way),
    /// and whether the listing ends there.
    pub async fn read_consistent(&self, listing: &Listing, start: Option<Item>, want: i32) -> Result<(Vec<Item>, bool), Error> {
        read_from(self.query_of(listing).consistent_read(true), start, want).await
    }

    /// One page of `listing`: one Query (more only past 1 MB, see [`Self::read`]).
    ///
    /// We ask for one item more than the page holds: if it exists, the
    /// page's last item is where the next page starts, so a last page says
    /// `nextCursor: null` rather than sending the client to an empty page.
    pub async fn query_page<T: DeserializeOwned>(&self, listing: &Listing, page: &PageRequest) -> Result<Page<T>, Error> {
        let start = match &page.cursor {
            Some(cursor) => Some(self.cursors().verify(&listing.name, cursor)?),
            None => None,
        };
        let (mut items, _) = self.read(listing, start, page.limit + 1).await?;
        let next_cursor = if items.len() > page.limit as usize {
            items.truncate(page.limit as usize);
            Some(self.cursors().sign(&listing.name, &position(listing, items.last().expect("limit is at least 1")))?)
        } else {
            None
        };
        Ok(Page { items: serde_dynamo::from_items(items)?, next_cursor })
    }

    /// One page of a sharded listing: one Query per shard, side by side, merged
    /// by sort key. Each shard is asked for a whole page and one more item, so
    /// the merge is exact: the page's items are the newest (or oldest) of all
    /// shards together. The cursor holds each shard's own position, signed
    /// as one, so it can be neither altered nor spliced from two cursors.
    pub async fn query_sharded_page<T: DeserializeOwned>(&self, sharded: &Sharded, page: &PageRequest) -> Result<Page<T>, Error> {
        let mut positions = match &page.cursor {
            Some(cursor) => ShardPositions::decode(sharded, &self.cursors().verify(&sharded.name, cursor)?)?,
            None => ShardPositions(vec![ShardPosition::Start; sharded.shards.len()]),
        };
        let reads = sharded.shards.iter().zip(&positions.0).map(|(listing, position)| async move {
            match position {
                ShardPosition::Done => Ok((Vec::new(), true)),
                ShardPosition::Start => self.read(listing, None, page.limit + 1).await,
                ShardPosition::After(key) => self.read(listing, Some(key.clone()), page.limit + 1).await,
            }
        });
        let results = futures_util::future::try_join_all(reads).await?;
        // Every shard's items, each tagged with its shard, in listing order.
        let mut merged: Vec<(usize, Item)> = Vec::new();
        let (mut counts, mut ended) = (Vec::new(), Vec::new());
        for (shard, (items, shard_ended)) in results.into_iter().enumerate() {
            counts.push(items.len());
            ended.push(shard_ended);
            merged.extend(items.into_iter().map(|item| (shard, item)));
        }
        merged.sort_by_cached_key(|(shard, item)| {
            let sort = item.get(sharded.shards[*shard].sort_attribute()).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            (sort, *shard)
        });
        if sharded.shards.first().is_some_and(|l| l.newest_first) {
            merged.reverse();
        }
        merged.truncate(page.limit as usize);
        let mut taken = vec![0usize; sharded.shards.len()];
        for (shard, item) in &merged {
            taken[*shard] += 1;
            positions.0[*shard] = ShardPosition::After(position(&sharded.shards[*shard], item));
        }
        // Each shard's items are taken in order, so a shard that ended and
        // gave all it read is done; any other still has an item to give
        // (one that ended not has read a page and one more).
        for (shard, (read, ended)) in counts.iter().zip(&ended).enumerate() {
            if *ended && taken[shard] == *read {
                positions.0[shard] = ShardPosition::Done;
            }
        }
        let next_cursor = match positions.0.iter().all(|p| *p == ShardPosition::Done) {
            true => None,
            false => Some(self.cursors().sign(&sharded.name, &positions.encode())?),
        };
        Ok(Page { items: serde_dynamo::from_items(merged.into_iter().map(|(_, item)| item).collect::<Vec<_>>())?, next_cursor })
    }

    /// Every item of `listing`, page after page, with only the `projection`
    /// attributes (a comma-separated list of plain names).
    pub async fn query_all(&self, listing: &Listing, projection: &str) -> Result<Vec<Item>, Error> {
        every_page(self.query_of(listing).projection_expression(projection)).await
    }

    /// Every whole item of `listing`, read strongly consistent if asked.
    pub async fn query_items(&self, listing: &Listing, consistent: bool) -> Result<Vec<Item>, Error> {
        every_page(self.query_of(listing).consistent_read(consistent)).await
    }

    /// The primary keys of every item of `listing`.
    pub async fn query_keys(&self, listing: &Listing) -> Result<Vec<Key>, Error> {
        self.query_all(listing, "PK, SK").await?.iter().map(key_of).collect()
    }
}

/// Every item `query` finds, page after page.
async fn every_page(query: QueryFluentBuilder) -> Result<Vec<Item>, Error> {
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

/// Up to `want` items `query` finds from `start`, and whether it ends before
/// that many: asks again past 1 MB (see [`Table::read`]).
async fn read_from(query: QueryFluentBuilder, mut start: Option<Item>, want: i32) -> Result<(Vec<Item>, bool), Error> {
    let mut items: Vec<Item> = Vec::new();
    loop {
        let output = query.clone().limit(want - items.len() as i32).set_exclusive_start_key(start).send().await?;
        items.extend(output.items.unwrap_or_default());
        match output.last_evaluated_key {
            Some(key) if (items.len() as i32) < want => start = Some(key),
            // A last evaluated key after a full read may or may not have more behind it.
            _ => return Ok((items.len() as i32) < want).map(|ended| (items, ended)),
        }
    }
}

/// Where `item` sits in `listing`: what its cursor holds.
fn position(listing: &Listing, item: &Item) -> Item {
    listing.position_attributes().into_iter().filter_map(|a| item.get(a).map(|v| (a.to_string(), v.clone()))).collect()
}

/// Where each shard of a sharded listing resumes.
#[derive(Clone, Debug, PartialEq)]
enum ShardPosition {
    Start,
    After(Item),
    Done,
}

struct ShardPositions(Vec<ShardPosition>);

impl ShardPositions {
    /// As a cursor's key: `<shard>/<attribute>` for a shard's position,
    /// `<shard>` = `done` for a finished shard, nothing for one not started.
    fn encode(&self) -> Item {
        let mut key = Item::new();
        for (shard, position) in self.0.iter().enumerate() {
            match position {
                ShardPosition::Start => {}
                ShardPosition::Done => {
                    key.insert(shard.to_string(), AttributeValue::S(DONE.into()));
                }
                ShardPosition::After(at) => key.extend(at.iter().map(|(name, value)| (format!("{shard}/{name}"), value.clone()))),
            }
        }
        key
    }

    /// A verified cursor's key, back into positions; anything this module
    /// would not have written is an invalid cursor.
    fn decode(sharded: &Sharded, key: &Item) -> Result<Self, Error> {
        let mut positions = vec![ShardPosition::Start; sharded.shards.len()];
        for (name, value) in key {
            let (shard, attribute) = match name.split_once('/') {
                Some((shard, attribute)) => (shard, Some(attribute)),
                None => (name.as_str(), None),
            };
            let shard: usize = shard.parse().ok().filter(|s| *s < positions.len()).ok_or_else(invalid_cursor)?;
            match (attribute, &mut positions[shard]) {
                (None, position @ ShardPosition::Start) if value.as_s().is_ok_and(|v| v == DONE) => *position = ShardPosition::Done,
                (Some(attribute), position @ ShardPosition::Start) => {
                    *position = ShardPosition::After(Item::from([(attribute.to_string(), value.clone())]))
                }
                (Some(attribute), ShardPosition::After(at)) => {
                    at.insert(attribute.to_string(), value.clone());
                }
                _ => return Err(invalid_cursor()),
            }
        }
        for (shard, position) in positions.iter().enumerate() {
            if let ShardPosition::After(at) = position {
                let expected = sharded.shards[shard].position_attributes();
                if at.len() != expected.len() || expected.iter().any(|a| !at.contains_key(*a)) {
                    return Err(invalid_cursor());
                }
            }
        }
        Ok(Self(positions))
    }
}

const DONE: &str = "done";

pub(crate) fn invalid_cursor() -> Error {
    Error::BadRequest {
        code: "invalid_cursor",
        message: "the cursor is not valid for this listing: pass back nextCursor exactly as it was given".into(),
    }
}

/// The primary key of an item read from the table.
pub fn key_of(item: &Item) -> Result<Key, Error> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().ok_or_else(|| Error::internal(format!("item without {name}")));
    Ok(Key { pk: text(keys::PK)?, sk: text(keys::SK)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn shard_positions_round_trip_and_refuse_what_they_would_not_write() {
        let sharded = keys::all_users();
        let at = Item::from([
            ("PK".to_string(), s("USER#A")),
            ("SK".to_string(), s("PROFILE")),
            ("GSI1PK".to_string(), s("USERS#1")),
            ("GSI1SK".to_string(), s("USER#A")),
        ]);
        let positions = ShardPositions(vec![ShardPosition::Start, ShardPosition::After(at), ShardPosition::Done, ShardPosition::Start]);
        let encoded = positions.encode();
        assert_eq!(ShardPositions::decode(&sharded, &encoded).unwrap().0, positions.0);
        let mut bad = Vec::new();
        bad.push(Item::from([("9".to_string(), s(DONE))])); // no such shard
        bad.push(Item::from([("0".to_string(), s("later"))])); // not a state
        bad.push(Item::from([("1/PK".to_string(), s("USER#A"))])); // a partial position
        let mut both = encoded.clone();
        both.insert("1".into(), s(DONE)); // done and positioned at once
        bad.push(both);
        for key in bad {
            assert_eq!(ShardPositions::decode(&sharded, &key).err().map(|e| e.code()), Some("invalid_cursor"), "{key:?}");
        }
    }
}
