//! One module per API route; each has `pub async fn handle(Table, Request)`.

pub mod health;
