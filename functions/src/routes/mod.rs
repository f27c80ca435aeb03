//! Every function Quire deploys, in one list: one module per API route
//! (each a plain `pub async fn handle(Table, Request)`), then the authorizer
//! and the stream processor. The one binary (`src/main.rs`) runs the entry
//! its `_HANDLER` names; the local stack, the tests and the bench look
//! functions up here too, so a function's name, handler, body and IAM
//! actions are stated once. Adding a route: its file in this folder and one
//! line below, which also declares the module (README, "Adding a route").

use crate::registry::{AUTHORIZER, Function, STREAM_PROCESSOR, functions};

functions! {
    routes {
        "health" => health, body: false, [];
        "create-user" => create_user, body: true, ["dynamodb:PutItem"];
        "list-users" => list_users, body: false, ["dynamodb:Query"];
        "get-user" => get_user, body: false, ["dynamodb:GetItem"];
        "get-user-by-email" => get_user_by_email, body: false, ["dynamodb:Query"];
        "get-me" => get_me, body: false, ["dynamodb:GetItem"];
        "update-me" => update_me, body: true, ["dynamodb:UpdateItem"];
        "change-plan" => change_plan, body: true, ["dynamodb:UpdateItem"];
        "delete-me" => delete_me, body: false, ["dynamodb:GetItem", "dynamodb:DeleteItem"];
        "create-api-key" => create_api_key, body: true, ["dynamodb:UpdateItem", "dynamodb:PutItem"];
        "list-api-keys" => list_api_keys, body: false, ["dynamodb:Query"];
        "revoke-api-key" => revoke_api_key, body: false, ["dynamodb:UpdateItem"];
        "get-post" => get_post, body: false, ["dynamodb:Query"];
        "list-user-posts" => list_user_posts, body: false, ["dynamodb:Query"];
        "count-view" => count_view, body: false, ["dynamodb:UpdateItem"];
        "list-comments" => list_comments, body: false, ["dynamodb:Query"];
        "get-comment" => get_comment, body: false, ["dynamodb:GetItem"];
        "list-followers" => list_followers, body: false, ["dynamodb:Query"];
        "list-following" => list_following, body: false, ["dynamodb:Query"];
        "create-post" => create_post, body: true, ["dynamodb:GetItem", "dynamodb:PutItem"];
        "list-drafts" => list_drafts, body: false, ["dynamodb:Query"];
        "get-own-post" => get_own_post, body: false, ["dynamodb:Query"];
        "update-post" => update_post, body: true, ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"];
        "publish-post" => publish_post, body: false, ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"];
        "delete-post" => delete_post, body: false, ["dynamodb:DeleteItem"];
        "create-comment" => create_comment, body: true, ["dynamodb:ConditionCheckItem", "dynamodb:PutItem"];
        "delete-comment" => delete_comment, body: false, ["dynamodb:BatchGetItem", "dynamodb:DeleteItem"];
        "follow-user" => follow_user, body: false, ["dynamodb:ConditionCheckItem", "dynamodb:PutItem"];
        "unfollow-user" => unfollow_user, body: false, ["dynamodb:DeleteItem"];
        "list-notifications" => list_notifications, body: false, ["dynamodb:Query"];
        "mark-notification-read" => mark_notification_read, body: false, ["dynamodb:UpdateItem"];
        "list-tagged-posts" => list_tagged_posts, body: false, ["dynamodb:Query", "dynamodb:BatchGetItem"];
        "like-post" => like_post, body: false, ["dynamodb:ConditionCheckItem", "dynamodb:PutItem"];
        "unlike-post" => unlike_post, body: false, ["dynamodb:ConditionCheckItem", "dynamodb:DeleteItem"];
        "list-likes" => list_likes, body: false, ["dynamodb:Query"];
        "get-like" => get_like, body: false, ["dynamodb:GetItem"];
        "list-feed" => list_feed, body: false, ["dynamodb:Query", "dynamodb:BatchGetItem"];
    }
    others [AUTHORIZER, STREAM_PROCESSOR]
}

/// The function of that name.
pub fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Every function's name, for messages.
pub fn names() -> Vec<&'static str> {
    FUNCTIONS.iter().map(|f| f.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names = names();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
