//! One module per API route; each has `pub async fn handle(Table, Request)`.

pub mod change_plan;
pub mod create_api_key;
pub mod create_user;
pub mod delete_me;
pub mod get_me;
pub mod get_user;
pub mod get_user_by_email;
pub mod health;
pub mod list_api_keys;
pub mod list_users;
pub mod revoke_api_key;
pub mod update_me;
