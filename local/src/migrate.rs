//! Converts a table written by data model version 1 to this build's
//! version ([`shared::schema`]): `cargo run -p local --bin migrate`.
//!
//! A tool, not product code: it reads the whole table with Scan, which no
//! route ever does. What changes:
//! - a post (one item with its content and `viewCount`) becomes a card
//!   without them, a body item with the content, and, if published, its
//!   view counters, the first holding the old count (so the card's `views`
//!   agrees with the counters), and its places on its tags' pages;
//! - a profile moves from GSI1's `USERS` partition to its `USERS#<shard>`;
//! - the indexes' projections become the template's (delete and create
//!   each, which DynamoDB backfills), unless the template owns the table
//!   (`--aws`: CloudFormation changes them, README "Migrating");
//! - the table records its new version.
//!
//! Every step can run again: a card without content is left alone, bodies
//! and counters are written before the card loses its content, and an index
//! already projected as the template says is kept. So an interrupted run is
//! finished by running it again.

use crate::template::IndexDef;
use crate::template::Template;
use aws_sdk_dynamodb::types::{
    AttributeValue, CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction, GlobalSecondaryIndexUpdate, IndexStatus, Projection,
    TableDescription, TableStatus,
};
use shared::{Table, keys, posts, schema};
use std::collections::HashMap;
use std::time::Duration;

type Item = HashMap<String, AttributeValue>;

/// What a migration did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The version the table held before.
    pub from_version: u32,
    pub items_read: usize,
    pub posts_split: usize,
    pub view_counters_created: usize,
    pub tags_placed: usize,
    pub profiles_moved: usize,
    pub indexes_rebuilt: Vec<String>,
}

/// Whether the indexes are this tool's to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indexes {
    Rebuild,
    /// A deployed table: its template's updates replace them.
    LeaveToCloudFormation,
}

/// Migrates `table` to [`schema::VERSION`]; a table already there is left as it is.
pub async fn migrate(table: &Table, template: &Template, indexes: Indexes) -> Result<Report, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let mut report = Report { from_version: schema::version(table).await.map_err(|e| err(&e))?, ..Report::default() };
    if report.from_version == schema::VERSION {
        return Ok(report);
    }
    if report.from_version > schema::VERSION {
        return Err(format!("the table holds data model version {}, newer than this build's {}", report.from_version, schema::VERSION));
    }
    let mut start = None;
    loop {
        let page = table
            .client()
            .scan()
            .table_name(table.name())
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| err(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        for item in page.items.unwrap_or_default() {
            report.items_read += 1;
            for write in upgrade(&item, &mut report)? {
                table
                    .client()
                    .put_item()
                    .table_name(table.name())
                    .set_item(Some(write))
                    .send()
                    .await
                    .map_err(|e| err(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
            }
        }
        match page.last_evaluated_key {
            Some(key) => start = Some(key),
            None => break,
        }
    }
    if indexes == Indexes::Rebuild {
        report.indexes_rebuilt = rebuild_indexes(table, template).await?;
    }
    schema::record(table).await.map_err(|e| err(&e))?;
    Ok(report)
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// The items to put for one version-1 item, in the order to put them (the
/// one that replaces `item` last); none if it needs no change.
fn upgrade(item: &Item, report: &mut Report) -> Result<Vec<Item>, String> {
    match text(item, "entity") {
        Some(posts::ENTITY) if item.contains_key("content") => {
            report.posts_split += 1;
            let post_id = text(item, "postId").ok_or("a post without postId")?;
            let id = shared::ids::PostId::parse(post_id).map_err(|e| format!("post {post_id}: {e}"))?;
            let views: u64 = item.get("viewCount").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
            let mut writes = Vec::new();
            let body = keys::post_body(id);
            writes.push(Item::from([
                (keys::PK.into(), AttributeValue::S(body.pk)),
                (keys::SK.into(), AttributeValue::S(body.sk)),
                ("entity".into(), AttributeValue::S(posts::BODY_ENTITY.into())),
                ("postId".into(), AttributeValue::S(post_id.into())),
                ("content".into(), item["content"].clone()),
            ]));
            let publication = text(item, "status").filter(|s| *s == "published").and(text(item, keys::GSI1.sk));
            if let Some(publication) = publication {
                let tags = item.get("tags").and_then(|t| t.as_l().ok()).into_iter().flatten().filter_map(|t| t.as_s().ok());
                for tag in tags {
                    report.tags_placed += 1;
                    let place = keys::post_tag(tag, id, publication);
                    writes.push(Item::from([
                        (keys::PK.into(), AttributeValue::S(place.pk)),
                        (keys::SK.into(), AttributeValue::S(place.sk)),
                        ("entity".into(), AttributeValue::S(posts::TAG_ENTITY.into())),
                        ("postId".into(), AttributeValue::S(post_id.into())),
                        ("tag".into(), AttributeValue::S(tag.clone())),
                    ]));
                }
            }
            if publication.is_some() {
                for shard in 0..keys::VIEW_SHARDS {
                    let counter = keys::post_views(id, shard);
                    report.view_counters_created += 1;
                    writes.push(Item::from([
                        (keys::PK.into(), AttributeValue::S(counter.pk)),
                        (keys::SK.into(), AttributeValue::S(counter.sk)),
                        ("entity".into(), AttributeValue::S(posts::VIEWS_ENTITY.into())),
                        ("postId".into(), AttributeValue::S(post_id.into())),
                        ("shard".into(), AttributeValue::N(shard.to_string())),
                        ("views".into(), AttributeValue::N(if shard == 0 { views } else { 0 }.to_string())),
                    ]));
                }
            }
            let mut card = item.clone();
            card.remove("content");
            card.remove("viewCount");
            let counted = if views > 0 { HashMap::from([("0".to_string(), AttributeValue::N(views.to_string()))]) } else { HashMap::new() };
            card.insert("views".into(), AttributeValue::M(counted));
            if let Some(publication) = publication {
                card.insert("publication".into(), AttributeValue::S(publication.into()));
            }
            writes.push(card);
            Ok(writes)
        }
        Some(shared::users::ENTITY) if item.get(keys::GSI1.pk).and_then(|v| v.as_s().ok()).is_some_and(|pk| pk == "USERS") => {
            report.profiles_moved += 1;
            let user_id = text(item, "userId").ok_or("a profile without userId")?;
            let user = shared::ids::UserId::parse(user_id).map_err(|e| format!("user {user_id}: {e}"))?;
            let mut profile = item.clone();
            profile.insert(keys::GSI1.pk.into(), AttributeValue::S(keys::all_users_partition(keys::users_shard(user))));
            Ok(vec![profile])
        }
        // Version 1 kept the sealed response as base64 text.
        Some(shared::idempotency::ENTITY) if matches!(item.get("sealed"), Some(AttributeValue::S(_))) => {
            use base64::Engine as _;
            let text = text(item, "sealed").unwrap_or_default();
            let sealed = base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| format!("an idempotency record: {e}"))?;
            let mut record = item.clone();
            record.insert("sealed".into(), AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(sealed)));
            Ok(vec![record])
        }
        _ => Ok(Vec::new()),
    }
}

/// Deletes and creates again each index whose projection differs from the
/// template's, one at a time, as DynamoDB allows; the names rebuilt.
async fn rebuild_indexes(table: &Table, template: &Template) -> Result<Vec<String>, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let mut rebuilt = Vec::new();
    for wanted in &template.table.global_secondary_indexes {
        let described = describe(table).await?;
        let current = described.global_secondary_indexes().iter().find(|i| i.index_name() == Some(wanted.index_name.as_str())).cloned();
        if let Some(current) = &current {
            if projection_matches(current.projection(), wanted) {
                continue;
            }
            delete_index(table, &wanted.index_name).await?;
        }
        let create = CreateGlobalSecondaryIndexAction::builder()
            .index_name(&wanted.index_name)
            .set_key_schema(Some(wanted.sdk_key_schema().map_err(|e| err(&e))?))
            .projection(wanted.sdk_projection())
            .build()
            .map_err(|e| err(&e))?;
        // A new index names the types of its key attributes again.
        let keys: Vec<&str> = wanted.key_schema.iter().map(|k| k.attribute_name.as_str()).collect();
        let definitions = template.table.attribute_definitions.iter().filter(|a| keys.contains(&a.attribute_name.as_str()));
        let definitions = definitions.map(|a| a.to_sdk()).collect::<Result<Vec<_>, _>>().map_err(|e| err(&e))?;
        let sent = table
            .client()
            .update_table()
            .table_name(table.name())
            .set_attribute_definitions(Some(definitions))
            .global_secondary_index_updates(GlobalSecondaryIndexUpdate::builder().create(create).build())
            .send()
            .await;
        sent.map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
        wait_until_settled(table).await?;
        rebuilt.push(wanted.index_name.clone());
    }
    Ok(rebuilt)
}

/// An index's deletion (DynamoDB takes one index update at a time), waited for.
async fn delete_index(table: &Table, name: &str) -> Result<(), String> {
    let delete = DeleteGlobalSecondaryIndexAction::builder().index_name(name).build().map_err(|e| e.to_string())?;
    let update = GlobalSecondaryIndexUpdate::builder().delete(delete).build();
    let sent = table.client().update_table().table_name(table.name()).global_secondary_index_updates(update).send().await;
    sent.map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
    wait_until_settled(table).await
}

fn projection_matches(current: Option<&Projection>, wanted: &IndexDef) -> bool {
    let Some(current) = current else { return false };
    let mut have: Vec<&str> = current.non_key_attributes().iter().map(String::as_str).collect();
    let mut want: Vec<&str> = wanted.projection.non_key_attributes.iter().flatten().map(String::as_str).collect();
    have.sort_unstable();
    want.sort_unstable();
    current.projection_type().map(|t| t.as_str()) == Some(wanted.projection.projection_type.as_str()) && have == want
}

async fn describe(table: &Table) -> Result<TableDescription, String> {
    let described = table.client().describe_table().table_name(table.name()).send().await;
    let described = described.map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
    described.table.ok_or_else(|| "DescribeTable answered no table".to_string())
}

/// Waits for the table and its indexes to be ACTIVE (an index update
/// runs in the background).
async fn wait_until_settled(table: &Table) -> Result<(), String> {
    for _ in 0..600 {
        let t = describe(table).await?;
        let indexes_active = t.global_secondary_indexes().iter().all(|i| i.index_status() == Some(&IndexStatus::Active));
        if t.table_status() == Some(&TableStatus::Active) && indexes_active {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Err("the table's indexes did not become ACTIVE within 10 minutes".into())
}
