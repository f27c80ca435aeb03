//! Every sample event in events/ goes through its function's real handler
//! against the embedded engine, so none can rot: HTTP events get a JSON
//! answer that is not a 5xx, the authorizer's event is denied (its key is a
//! fake), the stream event is processed without failure.

use crate::common::*;
use std::path::Path;

fn event(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events").join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is missing", path.display()))
}

#[tokio::test]
async fn every_sample_event_runs_through_its_handler() {
    let stack = TestStack::without_stream().await;
    for function in functions::FUNCTIONS {
        let sample = event(function.name);
        match function.kind {
            functions::Kind::Http(handler) => {
                let response = handler(stack.table().clone(), functions::event::from_str(&sample).unwrap()).await;
                let status = response.status().as_u16();
                assert!(status < 500, "{}: {status}", function.name);
                if status != 204 {
                    let body: serde_json::Value =
                        serde_json::from_slice(response.body().as_ref()).unwrap_or_else(|_| panic!("{}: not JSON", function.name));
                    if status >= 400 {
                        // The sample's ids name nothing in an empty table; the
                        // request itself must be well formed, so never a 400.
                        assert_ne!(status, 400, "{}: {body}", function.name);
                    }
                }
            }
            functions::Kind::Authorizer(handler) => {
                let response = handler(stack.table().clone(), serde_json::from_str(&sample).unwrap()).await.unwrap();
                assert!(!response.is_authorized, "the sample key is a fake");
            }
            functions::Kind::Stream(handler) => {
                let response = handler(stack.table().clone(), serde_json::from_str(&sample).unwrap()).await;
                assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
            }
        }
    }
}
