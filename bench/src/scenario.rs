//! What each function is given: the table seeded through the data model,
//! and each sample event of `events/` with the sample's made-up ids replaced
//! by real ones, so every invocation does its real work (a 200 for a read,
//! a 201 for a create, a 204 for a delete) rather than a 404.
//!
//! Routes that change state get what they need before each invocation, set
//! up directly on the engine (not through the timing proxy, so it is neither
//! timed nor counted): `delete-post` deletes a fresh post each time,
//! `update-me` sends the ETag of its last answer as `If-Match`, and so on.

use serde_json::Value;
use shared::Plan;
use shared::ids::{CommentId, NotificationId, PostId, UserId};
use shared::{Caller, Table};

/// The made-up ids of the sample events (see events/*.json).
const SAMPLE_USER: &str = "01JD7Z5S8M3Q2W9E4R6T8Y0V1A";
const SAMPLE_KEY: &str = "01JD7Z5S8M3Q2W9E4R6T8Y0V1B";
const SAMPLE_POST: &str = "01JD7Z5S8M3Q2W9E4R6T8Y0V1C";
const SAMPLE_COMMENT: &str = "01JD7Z5S8M3Q2W9E4R6T8Y0V1D";
const SAMPLE_NOTIFICATION: &str = "01JD7Z5S8M3Q2W9E4R6T8Y0V1E";
const SAMPLE_OTHER_USER: &str = "01JD7Z5S8M3Q2W9E4R6T8Y0V1F";
/// The authorizer sample's key: the sample user and key with a zero secret.
const SAMPLE_SECRET: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How many items each listing route finds: more than one default page (20).
const PAGE_FILL: usize = 25;

/// What the sample ids become.
pub struct Seed {
    /// Ada: the caller of every authenticated sample; author of `post`.
    pub ada: Caller,
    /// Her API key, as a client sends it.
    pub ada_key: String,
    /// Fred: followed by and following `PAGE_FILL` users, with as many published posts.
    pub fred: UserId,
    pub post: PostId,
    pub comment: CommentId,
    pub notification: NotificationId,
    /// The stream sample's user in place of Ada: each of its thousands of
    /// deliveries (fresh event ids) applies its counter changes again, and
    /// its TTL removal of an unread notification would take Ada's unread
    /// count below zero.
    pub stream_user: UserId,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn caller(signed: &shared::users::SignedUp) -> Caller {
    Caller { user_id: signed.user.id, key_id: signed.api_key.id, plan: Plan::Free }
}

async fn sign_up(table: &Table, name: &str) -> Result<shared::users::SignedUp, String> {
    let email = format!("{}.{}@example.com", name.to_lowercase(), ulid::Ulid::new());
    shared::users::sign_up(table, shared::users::SignUp { name: name.into(), email }, None).await.map_err(err).and_then(created)
}

/// What a create call made (the bench sends no idempotency key, so never a replay).
fn created<T>(created: shared::idempotency::Created<T>) -> Result<T, String> {
    created.into_new().ok_or_else(|| "unexpected idempotent replay".to_string())
}

fn new_post(title: &str) -> shared::posts::NewPost {
    shared::posts::NewPost { title: title.into(), content: "The engine weaves algebraic patterns.".into(), tags: vec!["math".into()] }
}

async fn published_post(table: &Table, author: &Caller, title: &str) -> Result<PostId, String> {
    let post = shared::posts::create(table, author, new_post(title), None).await.map_err(err).and_then(created)?.id;
    shared::posts::publish(table, author, post).await.map_err(err)?;
    Ok(post)
}

/// Fills the table so that every sample names something real.
pub async fn seed(table: &Table) -> Result<Seed, String> {
    let signed = shared::users::sign_up(table, shared::users::SignUp { name: "Ada Lovelace".into(), email: "ada@example.com".into() }, None)
        .await
        .map_err(err)
        .and_then(created)?;
    let ada = caller(&signed);
    let ada_key = signed.api_key.secret.clone();
    let fred = caller(&sign_up(table, "Fred").await?);
    for n in 0..PAGE_FILL {
        let other = caller(&sign_up(table, &format!("Reader{n}")).await?);
        shared::follows::follow(table, &other, fred.user_id).await.map_err(err)?;
        shared::follows::follow(table, &fred, other.user_id).await.map_err(err)?;
        published_post(table, &fred, &format!("Fred's post {n}")).await?;
        // Ada's listings: drafts, and (through publishing) unread notifications.
        shared::posts::create(table, &ada, new_post(&format!("Draft {n}")), None).await.map_err(err)?;
        published_post(table, &ada, &format!("Ada's post {n}")).await?;
    }
    let post = published_post(table, &ada, "Notes on the Analytical Engine").await?;
    let mut comment = None;
    for n in 0..PAGE_FILL {
        let view = shared::comments::create(table, &ada, post, shared::comments::NewComment { text: format!("Comment {n}") }, None)
            .await
            .map_err(err)
            .and_then(created)?;
        comment.get_or_insert(view.id);
    }
    home_feed(table, &ada).await?;
    let notification = fresh_notification(table, &ada).await?;
    let stream_user = sign_up(table, "Stella").await?.user.id;
    Ok(Seed { ada, ada_key, fred: fred.user_id, post, comment: comment.expect("PAGE_FILL > 0"), notification, stream_user })
}

/// `user` follows Grace, whose posts are in `user`'s feed as the stream's
/// fan-out would have pushed them (the bench runs no stream): list-feed then
/// makes the README's three calls, the last a BatchGetItem of the page.
async fn home_feed(table: &Table, user: &Caller) -> Result<(), String> {
    let grace = caller(&sign_up(table, "Grace").await?);
    shared::follows::follow(table, user, grace.user_id).await.map_err(err)?;
    let mut pushed = Vec::new();
    for n in 0..PAGE_FILL {
        let post = published_post(table, &grace, &format!("Grace's post {n}")).await?;
        pushed.push(shared::feed::push(user.user_id, post, grace.user_id, &ulid::Ulid::new().to_string()).map_err(err)?);
    }
    for chunk in pushed.chunks(25) {
        table.client().batch_write_item().request_items(table.name(), chunk.to_vec()).send().await.map_err(err)?;
    }
    Ok(())
}

/// An unread `post_published` notification for `user`, written directly.
async fn fresh_notification(table: &Table, user: &Caller) -> Result<NotificationId, String> {
    use shared::notifications::{About, Kind, NotificationItem};
    let id = NotificationId::generate();
    let item = NotificationItem::new(user.user_id, id, Kind::PostPublished, About::default(), shared::clock::now());
    table.client().put_item().table_name(table.name()).set_item(Some(item.to_item().map_err(err)?)).send().await.map_err(err)?;
    Ok(id)
}

/// One function's events, and the state its invocations carry between them.
pub struct Scenario {
    function: String,
    event: Value,
    /// Invocations prepared so far (unique emails, stream event ids).
    count: usize,
    /// The last ETag answered (update-me, update-post).
    etag: Option<String>,
    /// The plan the caller has now (change-plan flips it each time).
    pro: bool,
}

impl Scenario {
    /// `sample` is the text of events/<function>.json.
    pub fn new(function: &str, sample: &str, seed: &Seed) -> Result<Self, String> {
        let fake_key = format!("quire_{SAMPLE_USER}_{SAMPLE_KEY}_{SAMPLE_SECRET}");
        let user = if function == "stream-processor" { seed.stream_user } else { seed.ada.user_id };
        let text = sample
            .replace(&fake_key, &seed.ada_key)
            .replace(SAMPLE_USER, &user.to_string())
            .replace(SAMPLE_KEY, &seed.ada.key_id.to_string())
            .replace(SAMPLE_POST, &seed.post.to_string())
            .replace(SAMPLE_COMMENT, &seed.comment.to_string())
            .replace(SAMPLE_NOTIFICATION, &seed.notification.to_string())
            .replace(SAMPLE_OTHER_USER, &seed.fred.to_string());
        let event = serde_json::from_str(&text).map_err(|e| format!("events/{function}.json: {e}"))?;
        Ok(Self { function: function.to_string(), event, count: 0, etag: None, pro: false })
    }

    /// The next event to send, after any set-up it needs.
    pub async fn next_event(&mut self, table: &Table, seed: &Seed) -> Result<String, String> {
        self.count += 1;
        let mut event = self.event.clone();
        let ada = &seed.ada;
        match self.function.as_str() {
            "create-user" => {
                let body = serde_json::json!({"name": "Ada Lovelace", "email": format!("ada.{}.{}@example.com", self.count, ulid::Ulid::new())});
                event["body"] = body.to_string().into();
            }
            "update-me" | "update-post" => {
                if self.etag.is_none() {
                    let version = if self.function == "update-me" {
                        shared::users::get(table, ada.user_id).await.map_err(err)?.version
                    } else {
                        shared::posts::get_own(table, ada, seed.post).await.map_err(err)?.version
                    };
                    self.etag = Some(format!("\"{version}\""));
                }
                event["headers"]["if-match"] = self.etag.clone().into();
            }
            "change-plan" => {
                let (from, to) = if self.pro { ("pro", "free") } else { ("free", "pro") };
                event["body"] = serde_json::json!({"from": from, "to": to}).to_string().into();
            }
            "delete-me" => {
                let doomed = caller(&sign_up(table, "Doomed").await?);
                event["requestContext"]["authorizer"]["lambda"]["userId"] = doomed.user_id.to_string().into();
                event["requestContext"]["authorizer"]["lambda"]["keyId"] = doomed.key_id.to_string().into();
            }
            "revoke-api-key" => {
                let request = shared::api_keys::NewKeyRequest { name: Some("bench".into()), expires_in_days: None };
                let key = shared::api_keys::create(table, ada, request).await.map_err(err)?;
                set_path_parameter(&mut event, "keyId", &key.id.to_string());
            }
            "publish-post" | "delete-post" => {
                let draft = shared::posts::create(table, ada, new_post("Short-lived"), None).await.map_err(err).and_then(created)?;
                set_path_parameter(&mut event, "postId", &draft.id.to_string());
            }
            "delete-comment" => {
                let input = shared::comments::NewComment { text: "Short-lived".into() };
                let comment = shared::comments::create(table, ada, seed.post, input, None).await.map_err(err).and_then(created)?;
                set_path_parameter(&mut event, "commentId", &comment.id.to_string());
            }
            "unfollow-user" => shared::follows::follow(table, ada, seed.fred).await.map_err(err)?,
            "mark-notification-read" => {
                let id = fresh_notification(table, ada).await?;
                set_path_parameter(&mut event, "notificationId", &id.to_string());
            }
            "stream-processor" => {
                // Fresh event ids: a redelivered record would be skipped as
                // already applied, which is not the work to measure.
                for record in event["Records"].as_array_mut().into_iter().flatten() {
                    let id = format!("{}-{}", record["eventID"].as_str().unwrap_or("event"), self.count);
                    record["eventID"] = id.into();
                }
            }
            _ => {}
        }
        Ok(event.to_string())
    }

    /// What an answer changes for the next invocation, and clean-up that
    /// keeps the next one doing real work.
    pub async fn after(&mut self, table: &Table, seed: &Seed, answer: &Value) -> Result<(), String> {
        let status = answer["statusCode"].as_u64().unwrap_or(0);
        match self.function.as_str() {
            "update-me" | "update-post" if status == 200 => {
                self.etag = answer["headers"]["etag"].as_str().map(str::to_string).or(self.etag.take());
            }
            "change-plan" if status == 200 => self.pro = !self.pro,
            "create-api-key" if status == 201 => {
                // Stay under the free plan's quota of 2 active keys.
                let body: Value = serde_json::from_str(answer["body"].as_str().unwrap_or("{}")).map_err(err)?;
                let id = body["id"].as_str().and_then(|id| id.parse().ok()).ok_or("create-api-key: no id in the answer")?;
                shared::api_keys::revoke(table, &seed.ada, id).await.map_err(err)?;
            }
            "follow-user" if status == 204 => shared::follows::unfollow(table, &seed.ada, seed.fred).await.map_err(err)?,
            _ => {}
        }
        Ok(())
    }
}

/// Points a path parameter of an HTTP API event at another id.
fn set_path_parameter(event: &mut Value, name: &str, value: &str) {
    let old = event["pathParameters"][name].as_str().unwrap_or_default().to_string();
    for pointer in ["/rawPath", "/requestContext/http/path"] {
        if let Some(path) = event.pointer_mut(pointer)
            && let Some(text) = path.as_str()
        {
            *path = text.replace(&old, value).into();
        }
    }
    event["pathParameters"][name] = value.into();
}

/// What an answer says, for the report: the HTTP status, the authorizer's
/// decision, or the stream processor's failures.
pub fn answer_summary(function: &str, answer: &Value) -> String {
    match function {
        "authorizer" => if answer["isAuthorized"].as_bool() == Some(true) { "allow" } else { "deny" }.into(),
        "stream-processor" => match answer["batchItemFailures"].as_array().map(Vec::len) {
            Some(0) => "ok".into(),
            Some(n) => format!("{n} failed"),
            None => "?".into(),
        },
        _ => answer["statusCode"].as_u64().map_or("?".into(), |s| s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_follow_the_id() {
        let mut event = serde_json::json!({
            "rawPath": "/posts/P1/comments/C1",
            "requestContext": {"http": {"path": "/posts/P1/comments/C1"}},
            "pathParameters": {"postId": "P1", "commentId": "C1"}
        });
        set_path_parameter(&mut event, "commentId", "C2");
        assert_eq!(event["rawPath"], "/posts/P1/comments/C2");
        assert_eq!(event["requestContext"]["http"]["path"], "/posts/P1/comments/C2");
        assert_eq!(event["pathParameters"]["commentId"], "C2");
        assert_eq!(event["pathParameters"]["postId"], "P1");
    }

    #[test]
    fn answers_are_summarised_per_kind() {
        assert_eq!(answer_summary("get-post", &serde_json::json!({"statusCode": 200})), "200");
        assert_eq!(answer_summary("authorizer", &serde_json::json!({"isAuthorized": true})), "allow");
        assert_eq!(answer_summary("stream-processor", &serde_json::json!({"batchItemFailures": []})), "ok");
    }
}
