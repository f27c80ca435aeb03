//! Quire's data model: every rule of the API lives here, so the Lambda
//! handlers in `functions/` stay thin (parse → call this crate → respond).

pub mod api_keys;
pub mod auth;
pub mod bulk;
pub mod clock;
pub mod comments;
pub mod conditions;
pub mod counter;
pub mod cursor;
pub mod error;
pub mod feed;
pub mod feed_settings;
pub mod follows;
pub mod https;
pub mod idempotency;
pub mod ids;
pub mod item_size;
pub mod keys;
pub mod likes;
#[cfg(test)]
mod module_graph;
pub mod notifications;
pub mod page;
pub mod plan;
pub mod posts;
pub mod query;
pub mod random;
pub mod rate_limits;
pub mod round_trips;
pub mod schema;
pub mod stream;
pub mod table;
pub mod transaction;
pub mod users;
pub mod validate;

pub use auth::Caller;
pub use cursor::Cursors;
pub use error::Error;
pub use page::{Page, PageRequest};
pub use plan::Plan;
pub use table::{Table, to_item};
