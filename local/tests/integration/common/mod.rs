//! HTTP helpers for the integration tests: every request goes over real HTTP
//! to a `TestStack` (see `local::testing`).

pub use local::testing::spec;

use reqwest::header::HeaderMap;
use serde_json::Value;

pub use local::testing::TestStack;

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The DynamoDB operations the request made, as the local stack reports them.
    pub fn dynamodb_calls(&self) -> Vec<String> {
        let raw = self.headers.get(local::gateway::DYNAMODB_CALLS_HEADER).expect("the stack reports calls");
        raw.to_str().unwrap().split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    /// The authorizer's DynamoDB operations for the request.
    pub fn authorizer_calls(&self) -> Vec<String> {
        let raw = self.headers.get(local::gateway::AUTHORIZER_CALLS_HEADER).expect("the stack reports authorizer calls");
        raw.to_str().unwrap().split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    /// The capacity units the request's calls consumed, by table and index:
    /// `{"read":{"table":0.5},"write":{}}`, as the local stack reports them.
    pub fn capacity(&self) -> Value {
        let raw = self.headers.get(local::gateway::DYNAMODB_CAPACITY_HEADER).expect("the stack reports capacity");
        serde_json::from_slice(raw.as_bytes()).expect("capacity as JSON")
    }

    /// The same for the authorizer's calls on the request.
    pub fn authorizer_capacity(&self) -> Value {
        let raw = self.headers.get(local::gateway::AUTHORIZER_CAPACITY_HEADER).expect("the stack reports authorizer capacity");
        serde_json::from_slice(raw.as_bytes()).expect("capacity as JSON")
    }

    /// The body for an assertion message, cut short.
    pub fn brief(&self) -> String {
        self.body.to_string().chars().take(500).collect()
    }

    /// Asserts the error status and the `{"error":{"code","message"}}` body.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.brief());
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.brief());
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "body: {}", self.brief());
    }
}

/// Requests to a stack over real HTTP, built up and then sent:
///
/// ```ignore
/// stack.get("/health").send().await
/// stack.post("/posts").key(&user.key).json(json!({"title": "T", "content": "C"})).send().await
/// stack.patch(&path).key(&key).json(body).header("if-match", "\"1\"").send().await
/// ```
///
/// For [`LocalStack`](local::LocalStack), so a [`TestStack`] has it too.
pub trait Api {
    /// A request with any method (`"GET"`, `"PATCH"`, ...) to `path`
    /// (path and query, already encoded).
    fn request(&self, method: &str, path: &str) -> Request;

    fn get(&self, path: &str) -> Request {
        self.request("GET", path)
    }

    fn post(&self, path: &str) -> Request {
        self.request("POST", path)
    }

    fn put(&self, path: &str) -> Request {
        self.request("PUT", path)
    }

    fn patch(&self, path: &str) -> Request {
        self.request("PATCH", path)
    }

    fn delete(&self, path: &str) -> Request {
        self.request("DELETE", path)
    }
}

impl Api for local::LocalStack {
    fn request(&self, method: &str, path: &str) -> Request {
        let method = method.parse().unwrap_or_else(|_| panic!("not an HTTP method: {method:?}"));
        Request(reqwest::Client::new().request(method, format!("{}{path}", self.url())))
    }
}

/// A request being built; [`Request::send`] sends it.
#[must_use = "a request does nothing until sent"]
pub struct Request(reqwest::RequestBuilder);

impl Request {
    /// Sends `key` as the API key (`Authorization: Bearer ...`).
    pub fn key(self, key: &str) -> Self {
        Self(self.0.bearer_auth(key))
    }

    /// A JSON body.
    pub fn json(self, body: Value) -> Self {
        Self(self.0.json(&body))
    }

    /// A body sent as it is, typed `application/json` (for JSON text written
    /// out by hand, or bytes that are not JSON at all).
    pub fn raw_json(self, body: impl Into<reqwest::Body>) -> Self {
        Self(self.0.header("content-type", "application/json").body(body))
    }

    pub fn header(self, name: &str, value: &str) -> Self {
        Self(self.0.header(name, value))
    }

    /// Sends the request and reads the JSON answer, which must be what
    /// openapi.yaml documents for the request's operation and the status.
    pub async fn send(self) -> Reply {
        let (client, request) = self.0.build_split();
        let request = request.expect("a valid request");
        let (method, path) = (request.method().to_string(), request.url().path().to_string());
        let response = client.execute(request).await.expect("the stack answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {bytes:?}")) };
        spec::check(&method, &path, status, &headers, &body);
        Reply { status, headers, body }
    }
}

/// Sends `n` requests at once (`make(i)` builds the i-th) and returns their
/// statuses, for races that must end with exactly one winner.
pub async fn race(n: usize, make: impl Fn(usize) -> Request) -> Vec<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let request = make(i);
        tasks.spawn(async move { request.send().await.status });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses
}

/// How many of `statuses` are `status`.
pub fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// A signed-up user: id and the secret of their first API key.
pub struct User {
    pub id: String,
    pub key: String,
    pub email: String,
}

pub async fn sign_up(stack: &TestStack, name: &str, email: &str) -> User {
    let reply = stack.post("/users").json(serde_json::json!({"name": name, "email": email})).send().await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    User {
        id: reply.body["user"]["id"].as_str().unwrap().to_string(),
        key: reply.body["apiKey"]["secret"].as_str().unwrap().to_string(),
        email: email.to_string(),
    }
}

/// Waits until the feed of the user with `key` shows `posts` posts (the
/// stream processor copies them there), on any engine.
pub async fn wait_for_feed(stack: &TestStack, key: &str, posts: usize) {
    let started = std::time::Instant::now();
    loop {
        let feed = stack.get("/me/feed").key(key).send().await;
        if feed.body["items"].as_array().is_some_and(|items| items.len() == posts) {
            return;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(180), "the feed never showed {posts} posts: {}", feed.brief());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A unique email for a test.
pub fn email(name: &str) -> String {
    format!("{name}.{}@example.com", ulid::Ulid::new().to_string().to_lowercase())
}

/// Options for a stack keeping its data in `dir`, as `cargo run -p local` does.
pub fn folder_options(dir: &std::path::Path, attach_stream: bool) -> local::Options {
    local::Options {
        template: local::template::default_path(),
        storage: local::Storage::Folder(dir.to_path_buf()),
        table_name: "quire".into(),
        port: 0,
        ttl_sweep_every: None,
        attach_stream,
        overrides: Default::default(),
    }
}

/// Something of each kind a route's path can name, all owned by `owner`,
/// plus `other`, a second user: enough to call every route of the template
/// for real. The owner is on the pro plan, so tests may give them more keys.
pub struct World {
    pub owner: User,
    pub other: User,
    /// The owner's published post.
    pub published: String,
    /// The owner's draft.
    pub draft: String,
    /// The owner's comment on `published`.
    pub comment: String,
    /// An active key of the owner's besides the one in `owner.key`.
    pub spare_key: String,
    /// The owner's `post_published` notification.
    pub notification: String,
    /// A tag of `published` (and of `draft`), which `other` likes.
    pub tag: String,
}

/// The `id` of a 201 answer.
fn created_id(reply: &Reply) -> String {
    assert_eq!(reply.status, 201, "{}", reply.brief());
    reply.body["id"].as_str().expect("an id").to_string()
}

/// Creates a draft and publishes it; its id.
pub async fn publish_new_post(stack: &TestStack, key: &str) -> String {
    let post = created_id(&stack.post("/posts").key(key).json(serde_json::json!({"title": "T", "content": "C"})).send().await);
    let mut published = stack.post(&format!("/posts/{post}/publish")).key(key).send().await;
    // moto copies the whole table for each transaction, and the copy fails
    // (its 500: "dictionary changed size during iteration") when the stream
    // processor writes the table meanwhile; ask again there, a few times.
    for _ in 0..5 {
        if published.status != 500 || stack.offers(local::testing::Guarantee::IsolatedTransactions) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        published = stack.post(&format!("/posts/{post}/publish")).key(key).send().await;
    }
    assert_eq!(published.status, 200, "{}", published.brief());
    post
}

/// How large a [`World`]'s items and a route's body are: small, or every
/// text at its limit in four-byte characters (the largest items the API
/// lets anyone store).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Small,
    Largest,
}

/// The largest text of `chars` characters: four UTF-8 bytes each.
pub fn largest_text(chars: usize) -> String {
    "𝕏".repeat(chars)
}

/// The largest tag list: as many tags as allowed, each as long as allowed.
pub fn largest_tags() -> Value {
    let tag = |n: usize| format!("{n}{}", largest_text(shared::posts::TAG_MAX_CHARS - 1));
    Value::Array((0..shared::posts::TAGS_MAX).map(|n| Value::String(tag(n))).collect())
}

impl World {
    pub async fn build(stack: &TestStack) -> Self {
        Self::build_sized(stack, Size::Small).await
    }

    /// A world whose items are small, or all at their largest.
    pub async fn build_sized(stack: &TestStack, size: Size) -> Self {
        use serde_json::json;
        let name = |small: &str| if size == Size::Small { small.to_string() } else { largest_text(100) };
        let owner = sign_up(stack, &name("Owner"), &email("owner")).await;
        let other = sign_up(stack, &name("Other"), &email("other")).await;
        let key = owner.key.as_str();
        // A post of the other user's in the owner's home feed, first: on an
        // engine whose stream a cancelled transaction breaks (moto), before
        // any transaction here can lose a race. Waited for only where no
        // earlier test's world in the same table can have broken it.
        publish_new_post(stack, &other.key).await;
        let followed = stack.put(&format!("/users/{}/follow", other.id)).key(key).send().await;
        assert_eq!(followed.status, 204, "{}", followed.brief());
        if stack.offers(local::testing::Guarantee::IsolatedTransactions) {
            wait_for_feed(stack, key, 1).await;
        }
        if size == Size::Largest {
            let bio = stack.patch("/me").key(key).json(json!({"bio": largest_text(500)})).send().await;
            assert_eq!(bio.status, 200, "{}", bio.brief());
        }
        let upgrade = stack.put("/me/plan").key(key).json(json!({"from": "free", "to": "pro"})).send().await;
        assert_eq!(upgrade.status, 200, "{}", upgrade.brief());
        let spare_key = created_id(&stack.post("/me/api-keys").key(key).json(json!({"name": name("spare")})).send().await);
        let post = match size {
            Size::Small => json!({"title": "T", "content": "C", "tags": ["rust"]}),
            Size::Largest => json!({"title": largest_text(200), "content": largest_text(100_000), "tags": largest_tags()}),
        };
        let tag = post["tags"][0].as_str().unwrap().to_string();
        let published = created_id(&stack.post("/posts").key(key).json(post.clone()).send().await);
        let publication = stack.post(&format!("/posts/{published}/publish")).key(key).send().await;
        assert_eq!(publication.status, 200, "{}", publication.brief());
        let draft = created_id(&stack.post("/posts").key(key).json(post).send().await);
        let comment_path = format!("/posts/{published}/comments");
        let text = if size == Size::Small { "mine".to_string() } else { largest_text(5_000) };
        let comment = created_id(&stack.post(&comment_path).key(key).json(json!({"text": text})).send().await);
        let notifications = stack.get("/me/notifications").key(key).send().await;
        let notification = notifications.body["items"][0]["id"].as_str().expect("the post_published notification").to_string();
        // On an engine without isolated transactions (moto), a stream
        // processor's transaction running at the same moment can make this one
        // fail; ask again a few times before calling it a failure.
        let mut liked = stack.put(&format!("/posts/{published}/like")).key(&other.key).send().await;
        for _ in 0..5 {
            if liked.status == 204 || stack.offers(local::testing::Guarantee::IsolatedTransactions) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            liked = stack.put(&format!("/posts/{published}/like")).key(&other.key).send().await;
        }
        assert_eq!(liked.status, 204, "{}", liked.brief());
        // Counters and notifications settle, so every item has the size it
        // keeps when capacity is measured (only engines that report it).
        if stack.offers(local::testing::Guarantee::ExactConsumedCapacity) {
            stack.settle().await;
        }
        Self { owner, other, published, draft, comment, spare_key, notification, tag }
    }

    /// A template path with its parameters filled in (publishing takes the
    /// draft, every other post route the published post).
    pub fn path(&self, method: &str, template_path: &str) -> String {
        let post = if method == "POST" && template_path.ends_with("/publish") { &self.draft } else { &self.published };
        template_path
            .split('/')
            .map(|segment| match segment {
                "{userId}" => self.owner.id.as_str(),
                "{postId}" => post.as_str(),
                "{commentId}" => self.comment.as_str(),
                "{keyId}" => self.spare_key.as_str(),
                "{notificationId}" => self.notification.as_str(),
                "{tag}" => self.tag.as_str(),
                s if s.starts_with('{') => panic!("World::path has no value for {s} in {method} {template_path}: add one"),
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The query string a route needs to succeed, if any (the unread
    /// notifications: the listing that reads an index).
    pub fn query(&self, route_key: &str) -> String {
        match route_key {
            "GET /users/by-email" => format!("?email={}", self.owner.email),
            "GET /me/notifications" => "?unread=true".into(),
            _ => String::new(),
        }
    }
}

/// What a field of a request body holds, for generating valid and invalid values.
#[derive(Clone, Copy, Debug)]
pub enum FieldKind {
    /// One line of text, 1 to `max` characters.
    Line {
        max: usize,
    },
    /// Free text up to `max` characters (line breaks allowed); `may_be_empty`.
    Text {
        max: usize,
        may_be_empty: bool,
    },
    Email,
    /// A whole number from `min` to `max`.
    Number {
        min: i64,
        max: i64,
    },
    /// A plan name: `free` or `pro`.
    Plan,
    /// A list of tags.
    Tags,
}

/// A field of a request body: its name, kind, whether it is required and a
/// valid value for the owner of a [`World`].
pub struct Field {
    pub name: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    pub sample: fn() -> serde_json::Value,
}

/// The body of every route that reads one (keyed by route key).
/// `bad_input.rs` checks this list against the handlers that read a body, so
/// a new body route cannot be left out.
pub fn body_fields(route_key: &str) -> Option<&'static [Field]> {
    use FieldKind::*;
    use serde_json::json;
    const NAME: Field = Field { name: "name", kind: Line { max: 100 }, required: true, sample: || json!("Ann") };
    const TITLE: Field = Field { name: "title", kind: Line { max: 200 }, required: true, sample: || json!("A title") };
    const CONTENT: Field =
        Field { name: "content", kind: Text { max: 100_000, may_be_empty: false }, required: true, sample: || json!("Some words.") };
    const TAGS: Field = Field { name: "tags", kind: Tags, required: false, sample: || json!(["rust"]) };
    const fn optional(field: Field) -> Field {
        Field { required: false, ..field }
    }
    // Constants, so the slices below are promoted to 'static.
    const OPTIONAL_NAME: Field = optional(NAME);
    const OPTIONAL_TITLE: Field = optional(TITLE);
    const OPTIONAL_CONTENT: Field = optional(CONTENT);
    let fields: &'static [Field] = match route_key {
        "POST /users" => &[NAME, Field { name: "email", kind: Email, required: true, sample: || json!(email("new")) }],
        "PATCH /me" => {
            &[OPTIONAL_NAME, Field { name: "bio", kind: Text { max: 500, may_be_empty: true }, required: false, sample: || json!("Hello.") }]
        }
        // The World's owner is on the pro plan.
        "PUT /me/plan" => &[
            Field { name: "from", kind: Plan, required: true, sample: || json!("pro") },
            Field { name: "to", kind: Plan, required: true, sample: || json!("free") },
        ],
        "POST /me/api-keys" => {
            &[OPTIONAL_NAME, Field { name: "expiresInDays", kind: Number { min: 1, max: 365 }, required: false, sample: || json!(30) }]
        }
        "POST /posts" => &[TITLE, CONTENT, TAGS],
        "PATCH /posts/{postId}" => &[OPTIONAL_TITLE, OPTIONAL_CONTENT, TAGS],
        "POST /posts/{postId}/comments" => {
            &[Field { name: "text", kind: Text { max: 5_000, may_be_empty: false }, required: true, sample: || json!("Nice.") }]
        }
        _ => return None,
    };
    Some(fields)
}

/// A valid body for the route, if it reads one: every field's sample.
pub fn valid_body(route_key: &str) -> Option<Value> {
    sized_body(route_key, Size::Small)
}

/// A valid body for the route, its texts small (the samples) or at their limits.
pub fn sized_body(route_key: &str, size: Size) -> Option<Value> {
    let value = |field: &Field| match (size, field.kind) {
        (Size::Largest, FieldKind::Line { max } | FieldKind::Text { max, .. }) => Value::String(largest_text(max)),
        (Size::Largest, FieldKind::Tags) => largest_tags(),
        _ => (field.sample)(),
    };
    body_fields(route_key).map(|fields| Value::Object(fields.iter().map(|f| (f.name.to_string(), value(f))).collect()))
}
