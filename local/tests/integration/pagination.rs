//! Signed cursors over a real Query against the engine: pages are complete,
//! ordered, cost one Query each, end with `nextCursor: null`, and refuse
//! tampered or foreign cursors before any DynamoDB call.

use crate::common::*;
use serde::{Deserialize, Serialize};
use shared::keys::{Key, Listing, Placement};
use shared::round_trips::record;
use shared::{Page, PageRequest};

#[derive(Serialize, Deserialize, Debug)]
struct Row {
    n: u32,
}

async fn fill(stack: &TestStack, partition: &str, count: u32) {
    for n in 0..count {
        let key = Key { pk: partition.into(), sk: format!("ROW#{n:04}") };
        let item = shared::to_item(&Row { n }, &Placement::new(key)).unwrap();
        stack.table().client().put_item().table_name(stack.table().name()).set_item(Some(item)).send().await.unwrap();
    }
}

async fn page(stack: &TestStack, listing: &str, partition: &str, request: &PageRequest) -> (Result<Page<Row>, shared::Error>, Vec<String>) {
    let listing = Listing { name: listing.into(), index: None, partition: partition.into(), sort_prefix: None, newest_first: false };
    record(stack.table().query_page::<Row>(&listing, request)).await
}

#[tokio::test]
async fn pages_through_a_partition_in_order_one_query_per_page() {
    let stack = TestStack::start().await;
    fill(&stack, "LIST#A", 45).await;
    let mut request = PageRequest { limit: 20, cursor: None };
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let (result, calls) = page(&stack, "list:A", "LIST#A", &request).await;
        let page = result.unwrap();
        assert_eq!(calls, ["Query"]);
        sizes.push(page.items.len());
        seen.extend(page.items.iter().map(|r| r.n));
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(sizes, [20, 20, 5]);
    assert_eq!(seen, (0..45).collect::<Vec<_>>());
}

#[tokio::test]
async fn an_exactly_full_last_page_says_there_is_no_next_page() {
    let stack = TestStack::start().await;
    fill(&stack, "LIST#B", 40).await;
    let (first, _) = page(&stack, "list:B", "LIST#B", &PageRequest { limit: 20, cursor: None }).await;
    let cursor = first.unwrap().next_cursor.expect("a second page");
    let (second, _) = page(&stack, "list:B", "LIST#B", &PageRequest { limit: 20, cursor: Some(cursor) }).await;
    let second = second.unwrap();
    assert_eq!(second.items.len(), 20);
    assert_eq!(second.next_cursor, None, "no empty third page");
}

#[tokio::test]
async fn bad_cursors_are_400_without_touching_dynamodb() {
    let stack = TestStack::start().await;
    fill(&stack, "LIST#C", 5).await;
    fill(&stack, "LIST#D", 5).await;
    let (first, _) = page(&stack, "list:C", "LIST#C", &PageRequest { limit: 2, cursor: None }).await;
    let cursor = first.unwrap().next_cursor.unwrap();

    let mut altered = cursor.clone().into_bytes();
    altered[5] ^= 1;
    let candidates = [
        ("list:C", String::from_utf8_lossy(&altered).into_owned()),
        ("list:C", cursor[..cursor.len() - 3].to_string()),
        ("list:D", cursor.clone()), // made for another listing
        ("list:C", "garbage".to_string()),
    ];
    for (listing, bad) in candidates {
        let partition = if listing == "list:C" { "LIST#C" } else { "LIST#D" };
        let (result, calls) = page(&stack, listing, partition, &PageRequest { limit: 2, cursor: Some(bad.clone()) }).await;
        let err = result.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "invalid_cursor"), "{listing} {bad}");
        assert!(calls.is_empty(), "refused before any call: {calls:?}");
    }
}

#[tokio::test]
async fn a_cursor_from_another_deployment_is_refused() {
    let stack = TestStack::start().await;
    let other = TestStack::start().await;
    fill(&other, "LIST#E", 3).await;
    let (first, _) = page(&other, "list:E", "LIST#E", &PageRequest { limit: 1, cursor: None }).await;
    let foreign = first.unwrap().next_cursor.unwrap();
    let (result, _) = page(&stack, "list:E", "LIST#E", &PageRequest { limit: 1, cursor: Some(foreign) }).await;
    assert_eq!(result.unwrap_err().code(), "invalid_cursor");
}
