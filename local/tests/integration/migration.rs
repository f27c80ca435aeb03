//! A data folder written by data model version 1 is refused at start, never
//! misread, and `migrate` converts it: the posts keep their content and
//! view counts, the users their listing, and the indexes their new shape.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use local::engine::Engine;
use local::migrate::{Indexes, migrate};
use local::template::{Template, default_path};
use local::{LocalStack, stack::DATABASE_FILE};
use std::collections::HashMap;

const USER: &str = "01JD7Z5S8M3Q2W9E4R6T8Y0V1A";
const PUBLISHED: &str = "01JD7Z5S8M3Q2W9E4R6T8Y0V1C";
const DRAFT: &str = "01JD7Z5S8M3Q2W9E4R6T8Y0V1D";

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Items as version 1 wrote them: a profile in GSI1's one `USERS`
/// partition, posts with their content and `viewCount` in one item.
fn version_one_items() -> Vec<HashMap<String, AttributeValue>> {
    let now = "2026-11-01T00:00:00Z";
    let profile = HashMap::from([
        ("PK".into(), s(&format!("USER#{USER}"))),
        ("SK".into(), s("PROFILE")),
        ("GSI1PK".into(), s("USERS")),
        ("GSI1SK".into(), s(&format!("USER#{USER}"))),
        ("GSI2PK".into(), s("EMAIL#ada@example.com")),
        ("GSI2SK".into(), s("PROFILE")),
        ("entity".into(), s("user")),
        ("userId".into(), s(USER)),
        ("name".into(), s("Ada")),
        ("email".into(), s("ada@example.com")),
        ("bio".into(), s("")),
        ("plan".into(), s("free")),
        ("createdAt".into(), s(now)),
        ("updatedAt".into(), s(now)),
        ("version".into(), n(1)),
        ("publishedPostCount".into(), n(1)),
    ]);
    let post = |id: &str, published: bool| {
        let mut item = HashMap::from([
            ("PK".into(), s(&format!("POST#{id}"))),
            ("SK".into(), s("POST")),
            ("entity".into(), s("post")),
            ("postId".into(), s(id)),
            ("authorId".into(), s(USER)),
            ("authorName".into(), s("Ada")),
            ("title".into(), s("Notes")),
            ("content".into(), s(&format!("The content of {id}."))),
            ("excerpt".into(), s(&format!("The content of {id}."))),
            ("tags".into(), AttributeValue::L(vec![s("math")])),
            ("status".into(), s(if published { "published" } else { "draft" })),
            ("createdAt".into(), s(now)),
            ("updatedAt".into(), s(now)),
            ("version".into(), n(2)),
            ("viewCount".into(), n(if published { 7 } else { 0 })),
            ("commentCount".into(), n(0)),
        ]);
        let (index, pk, sk) = if published {
            ("GSI1", format!("USER#{USER}#POSTS"), ulid::Ulid::new().to_string())
        } else {
            ("GSI2", format!("USER#{USER}#DRAFTS"), format!("POST#{id}"))
        };
        item.insert(format!("{index}PK"), s(&pk));
        item.insert(format!("{index}SK"), s(&sk));
        if published {
            item.insert("publishedAt".into(), s(now));
        }
        item
    };
    vec![profile, post(PUBLISHED, true), post(DRAFT, false)]
}

/// A data folder holding a version 1 table: indexes projecting ALL, no
/// record of its version.
async fn version_one_folder() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("quire-v1-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let engine = Engine::persistent(&dir.join(DATABASE_FILE)).await.unwrap();
    let mut definition = Template::load(&default_path()).unwrap().table;
    for index in &mut definition.global_secondary_indexes {
        index.projection = local::template::ProjectionDef { projection_type: "ALL".into(), non_key_attributes: None };
    }
    let cursors = shared::Cursors::new(&[1u8; 32]).unwrap();
    let table = shared::Table::for_endpoint(engine.endpoint(), "quire", cursors);
    definition.create(table.client(), "quire").await.unwrap();
    for item in version_one_items() {
        table.client().put_item().table_name("quire").set_item(Some(item)).send().await.unwrap();
    }
    engine.shutdown().await;
    dir
}

#[tokio::test]
async fn an_older_data_folder_is_refused_then_migrated_without_losing_anything() {
    let dir = version_one_folder().await;
    let refused = LocalStack::start(folder_options(&dir, true)).await.err().expect("a version 1 folder is refused");
    assert!(refused.contains("version 1") && refused.contains("cargo run -p local --bin migrate") && refused.contains("--reset"), "{refused}");

    let engine = Engine::persistent(&dir.join(DATABASE_FILE)).await.unwrap();
    let table = shared::Table::for_endpoint(engine.endpoint(), "quire", shared::Cursors::new(&[1u8; 32]).unwrap());
    let template = Template::load(&default_path()).unwrap();
    let report = migrate(&table, &template, Indexes::Rebuild).await.unwrap();
    assert_eq!((report.from_version, report.items_read, report.posts_split, report.profiles_moved), (1, 3, 2, 1), "{report:?}");
    assert_eq!(report.view_counters_created, shared::keys::VIEW_SHARDS as usize, "the published post's counters only");
    assert_eq!(report.tags_placed, 1, "the published post's one tag");
    assert_eq!(report.indexes_rebuilt, ["GSI1", "GSI2"]);
    let again = migrate(&table, &template, Indexes::Rebuild).await.unwrap();
    assert_eq!((again.from_version, again.items_read), (shared::schema::VERSION, 0), "a second run finds nothing to do");
    // A run interrupted before it recorded the version is finished by running
    // it again: every item and index is already converted, and left alone.
    table.client().delete_item().table_name("quire").set_key(Some(shared::keys::schema().to_attributes())).send().await.unwrap();
    let resumed = migrate(&table, &template, Indexes::Rebuild).await.unwrap();
    assert_eq!((resumed.from_version, resumed.posts_split, resumed.profiles_moved, resumed.tags_placed), (1, 0, 0, 0), "{resumed:?}");
    assert!(resumed.indexes_rebuilt.is_empty(), "{resumed:?}");
    let draft_card = shared::keys::post(shared::ids::PostId::parse(DRAFT).unwrap()).to_attributes();
    let draft_card = table.client().get_item().table_name("quire").set_key(Some(draft_card)).send().await.unwrap().item.unwrap();
    assert!(!draft_card.contains_key("content") && !draft_card.contains_key("viewCount"), "the card lost what moved: {draft_card:?}");
    engine.shutdown().await;

    let stack = LocalStack::start(folder_options(&dir, true)).await.unwrap();
    let post = stack.get(&format!("/posts/{PUBLISHED}")).send().await;
    assert_eq!(post.status, 200, "{}", post.brief());
    assert_eq!((post.body["content"].as_str(), post.body["viewCount"].as_u64()), (Some(format!("The content of {PUBLISHED}.").as_str()), Some(7)));
    let listed = stack.get(&format!("/users/{USER}/posts")).send().await;
    assert_eq!(listed.body["items"][0]["viewCount"], 7, "{}", listed.brief());
    let tagged = stack.get("/tags/math/posts").send().await;
    assert_eq!(tagged.body["items"][0]["id"], PUBLISHED, "on its tag's page: {}", tagged.brief());
    assert_eq!(tagged.body["items"].as_array().unwrap().len(), 1, "the draft is not");
    let users = stack.get("/users").send().await;
    assert_eq!(users.body["items"][0]["id"], USER, "the profile is in its all-users shard: {}", users.brief());
    // Counting goes on from the old count.
    assert_eq!(stack.post(&format!("/posts/{PUBLISHED}/views")).send().await.status, 204);
    stack.settle().await;
    assert_eq!(stack.get(&format!("/posts/{PUBLISHED}")).send().await.body["viewCount"], 8);
    // The draft kept its content (the owner's route reads it: no key here, so through the table).
    let body = stack
        .table()
        .client()
        .get_item()
        .table_name("quire")
        .set_key(Some(shared::keys::post_body(shared::ids::PostId::parse(DRAFT).unwrap()).to_attributes()))
        .send()
        .await
        .unwrap();
    assert_eq!(body.item.unwrap()["content"], s(&format!("The content of {DRAFT}.")));
    let described = stack.table().client().describe_table().table_name("quire").send().await.unwrap().table.unwrap();
    for index in described.global_secondary_indexes() {
        assert_eq!(index.projection().and_then(|p| p.projection_type()).map(|t| t.as_str()), Some("INCLUDE"), "{:?}", index.index_name());
    }
    stack.shutdown().await;
    std::fs::remove_dir_all(dir).unwrap();
}
