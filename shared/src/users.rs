//! Users: sign-up, profiles, plans, deletion.

use crate::api_keys::{self, NewApiKey};
use crate::auth::Caller;
use crate::conditions::{Item, update_condition_failed};
use crate::idempotency::{self, Created, Idempotency, Response};
use crate::ids::UserId;
use crate::keys::Placement;
use crate::transaction::{Refused, Transaction};
use crate::{Error, Page, PageRequest, Plan, Table, clock, keys, to_item, validate};
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};

/// The parts of the sign-up and deletion transactions.
const PROFILE: &str = "profile";
const EMAIL_GUARD: &str = "email guard";
const FIRST_KEY: &str = "first key";

/// The profile item: `USER#<id>` / `PROFILE`, in GSI1 (all users) and GSI2 (by email).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserItem {
    pub entity: String,
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub bio: String,
    pub plan: Plan,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
    /// Counts kept by the stream processor.
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    pub follower_count: u64,
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    pub following_count: u64,
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    pub published_post_count: u64,
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    pub unread_notification_count: u64,
    /// Kept exact by the key routes, in the same transaction as the key.
    #[serde(default)]
    pub active_key_count: u32,
    /// Set while the stream processor pulls this author's posts into
    /// followers' feeds instead of pushing them (crate::feed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub feed_pulled: bool,
}

pub const ENTITY: &str = "user";

/// What anyone may see.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PublicProfile {
    pub id: UserId,
    pub name: String,
    pub bio: String,
    pub created_at: String,
    pub follower_count: u64,
    pub following_count: u64,
    pub published_post_count: u64,
}

/// What the user sees of themselves.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OwnProfile {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub bio: String,
    pub plan: Plan,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
    pub follower_count: u64,
    pub following_count: u64,
    pub published_post_count: u64,
    pub unread_notification_count: u64,
    pub active_key_count: u32,
}

/// A profile as the indexes hold it (`keys::LISTED_ATTRIBUTES`): what a
/// listing shows, and nothing only its owner sees.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedProfile {
    user_id: UserId,
    name: String,
    #[serde(default)]
    bio: String,
    created_at: String,
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    follower_count: u64,
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    following_count: u64,
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    published_post_count: u64,
}

impl From<ListedProfile> for PublicProfile {
    fn from(u: ListedProfile) -> Self {
        Self {
            id: u.user_id,
            name: u.name,
            bio: u.bio,
            created_at: u.created_at,
            follower_count: u.follower_count,
            following_count: u.following_count,
            published_post_count: u.published_post_count,
        }
    }
}

impl From<UserItem> for PublicProfile {
    fn from(u: UserItem) -> Self {
        Self {
            id: u.user_id,
            name: u.name,
            bio: u.bio,
            created_at: u.created_at,
            follower_count: u.follower_count,
            following_count: u.following_count,
            published_post_count: u.published_post_count,
        }
    }
}

impl From<UserItem> for OwnProfile {
    fn from(u: UserItem) -> Self {
        Self {
            id: u.user_id,
            name: u.name,
            email: u.email,
            bio: u.bio,
            plan: u.plan,
            created_at: u.created_at,
            updated_at: u.updated_at,
            version: u.version,
            follower_count: u.follower_count,
            following_count: u.following_count,
            published_post_count: u.published_post_count,
            unread_notification_count: u.unread_notification_count,
            active_key_count: u.active_key_count,
        }
    }
}

/// `POST /users` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedUp {
    pub user: PublicProfile,
    /// Its `secret` is shown this once and never again.
    pub api_key: NewApiKey,
}

fn account_gone() -> Error {
    Error::not_found("this account no longer exists")
}

fn user_not_found() -> Error {
    Error::not_found("no such user")
}

/// Creates the user, their email guard and first API key in one transaction.
/// A taken email (compared trimmed, case-insensitively) is 409.
pub async fn sign_up(table: &Table, input: SignUp, idempotency: Option<&Idempotency>) -> Result<Created<SignedUp>, Error> {
    let name = validate::single_line("name", &input.name, validate::NAME_MAX_CHARS)?;
    let email = validate::email(&input.email)?;
    if let Some(first) = idempotency::previous(table, idempotency).await? {
        return Ok(Created::Replayed(first));
    }
    let now = clock::now();
    let user_id = UserId::generate();
    let user = UserItem {
        entity: ENTITY.into(),
        user_id,
        name,
        email: email.clone(),
        bio: String::new(),
        plan: Plan::Free,
        created_at: now.rfc3339(),
        updated_at: now.rfc3339(),
        version: 1,
        follower_count: 0,
        following_count: 0,
        published_post_count: 0,
        unread_notification_count: 0,
        active_key_count: 1,
        feed_pulled: false,
    };
    let guard_item = to_item(&EmailGuard { entity: EMAIL_GUARD_ENTITY.into(), user_id }, &Placement::new(keys::email_guard(&email)))?;
    let (key_item, new_key) = api_keys::new_key(user_id, Plan::Free, Some("default".into()), None, now)?;

    let transaction = Transaction::new()
        .put_new(PROFILE, table, to_item(&user, &keys::profile_placement(user_id, &email))?)?
        .put_new(EMAIL_GUARD, table, guard_item)?
        .put_new(FIRST_KEY, table, key_item)?;
    let signed_up = SignedUp { user: user.into(), api_key: new_key };
    match idempotency::transact_maybe_recorded(table, idempotency, transaction, || Response::new(201, None, &signed_up), now).await {
        Ok(None) => Ok(Created::New(signed_up)),
        Ok(Some(first)) => Ok(Created::Replayed(first)),
        Err(Refused::Cancelled(c)) if c.failed(EMAIL_GUARD) => {
            Err(Error::Conflict { code: "email_taken", message: "an account with this email already exists".into() })
        }
        Err(refused) => Err(refused.into()),
    }
}

pub const EMAIL_GUARD_ENTITY: &str = "emailGuard";

/// The guard item that keeps emails unique: `EMAIL#<email>` / `EMAIL`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmailGuard {
    entity: String,
    user_id: UserId,
}

/// One profile by id (GetItem); 404 if there is none.
pub async fn get(table: &Table, user_id: UserId) -> Result<UserItem, Error> {
    let output = table.client().get_item().table_name(table.name()).set_key(Some(keys::profile(user_id).to_attributes())).send().await?;
    let item = output.item.ok_or_else(user_not_found)?;
    Ok(serde_dynamo::from_item(item)?)
}

/// The caller's own profile; 404 once the account is deleted.
pub async fn get_own(table: &Table, caller: &Caller) -> Result<UserItem, Error> {
    get(table, caller.user_id).await.map_err(|e| if e.status() == 404 { account_gone() } else { e })
}

/// All users, newest first: per page, one Query on each of GSI1's
/// `USERS#<shard>` partitions, side by side, merged.
pub async fn list(table: &Table, page: &PageRequest) -> Result<Page<PublicProfile>, Error> {
    let page: Page<ListedProfile> = table.query_sharded_page(&keys::all_users(), page).await?;
    Ok(page.map(Into::into))
}

/// The user with this email: one Query on GSI2; 404 if none.
pub async fn find_by_email(table: &Table, raw_email: &str) -> Result<PublicProfile, Error> {
    let email = validate::email(raw_email)?;
    let position = keys::by_email(&email);
    let output = table
        .client()
        .query()
        .table_name(table.name())
        .index_name(keys::GSI2.name)
        .key_condition_expression("#pk = :email AND #sk = :profile")
        .expression_attribute_names("#pk", keys::GSI2.pk)
        .expression_attribute_names("#sk", keys::GSI2.sk)
        .expression_attribute_values(":email", AttributeValue::S(position.pk))
        .expression_attribute_values(":profile", AttributeValue::S(position.sk))
        .limit(1)
        .send()
        .await?;
    let item = output.items.unwrap_or_default().into_iter().next().ok_or_else(|| Error::not_found("no user has this email"))?;
    Ok(serde_dynamo::from_item::<_, ListedProfile>(item)?.into())
}

/// `PATCH /me` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    pub name: Option<String>,
    pub bio: Option<String>,
}

/// Updates name and/or bio in one conditional UpdateItem. With `if_match`,
/// the stored version must equal it (else 412); the version always grows by one.
pub async fn update_profile(table: &Table, caller: &Caller, patch: ProfilePatch, if_match: Option<u64>) -> Result<UserItem, Error> {
    let name = patch.name.map(|n| validate::single_line("name", &n, validate::NAME_MAX_CHARS)).transpose()?;
    let bio = patch.bio.map(|b| validate::multi_line("bio", &b, validate::BIO_MAX_CHARS)).transpose()?;
    if name.is_none() && bio.is_none() {
        return Err(Error::invalid("nothing to update: send name and/or bio"));
    }
    let mut sets = vec!["version = version + :one", "updatedAt = :now"];
    let mut request = table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(keys::profile(caller.user_id).to_attributes()))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":now", AttributeValue::S(clock::now().rfc3339()));
    if let Some(name) = name {
        sets.push("#name = :name");
        request = request.expression_attribute_names("#name", "name").expression_attribute_values(":name", AttributeValue::S(name));
    }
    if let Some(bio) = bio {
        sets.push("bio = :bio");
        request = request.expression_attribute_values(":bio", AttributeValue::S(bio));
    }
    let mut condition = "attribute_exists(PK)".to_string();
    if let Some(version) = if_match {
        condition.push_str(" AND version = :expected");
        request = request.expression_attribute_values(":expected", AttributeValue::N(version.to_string()));
    }
    let request = request.update_expression(format!("SET {}", sets.join(", "))).condition_expression(condition);
    match conditional_update(request).await? {
        Ok(user) => Ok(user),
        Err(None) => Err(account_gone()),
        Err(Some(old)) => {
            let current = old.get("version").and_then(|v| v.as_n().ok()).cloned().unwrap_or_default();
            Err(Error::PreconditionFailed {
                code: "version_mismatch",
                message: format!("If-Match does not match the current version ({current}); fetch the profile and retry"),
            })
        }
    }
}

/// Sends a conditional update of a profile: `Ok(new profile)`, or, when the
/// condition failed, `Err(the profile as it was)` (`None` if there is none).
async fn conditional_update(request: UpdateItemFluentBuilder) -> Result<Result<UserItem, Option<Item>>, Error> {
    let result =
        request.return_values(ReturnValue::AllNew).return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld).send().await;
    match result {
        Ok(output) => Ok(Ok(serde_dynamo::from_item(output.attributes.unwrap_or_default())?)),
        Err(err) => match update_condition_failed(&err) {
            Some(old) => Ok(Err(old)),
            None => Err(err.into()),
        },
    }
}

/// `PUT /me/plan` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanChange {
    pub from: Plan,
    pub to: Plan,
}

/// Moves the plan from `from` to `to` in one conditional UpdateItem: if the
/// current plan is not `from`, nothing changes and the answer is 409.
pub async fn change_plan(table: &Table, caller: &Caller, change: PlanChange) -> Result<UserItem, Error> {
    let request = table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(keys::profile(caller.user_id).to_attributes()))
        .update_expression("SET #plan = :to, version = version + :one, updatedAt = :now")
        .condition_expression("attribute_exists(PK) AND #plan = :from")
        .expression_attribute_names("#plan", "plan")
        .expression_attribute_values(":to", AttributeValue::S(change.to.as_str().into()))
        .expression_attribute_values(":from", AttributeValue::S(change.from.as_str().into()))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":now", AttributeValue::S(clock::now().rfc3339()));
    match conditional_update(request).await? {
        Ok(user) => Ok(user),
        Err(None) => Err(account_gone()),
        Err(Some(old)) => {
            let current = old.get("plan").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            Err(Error::Conflict { code: "plan_mismatch", message: format!("the current plan is {current}, not {}", change.from.as_str()) })
        }
    }
}

/// Deletes the profile and its email guard in one transaction (after one
/// GetItem to learn the email). Posts, keys and follows go later, through
/// the stream processor.
pub async fn delete(table: &Table, caller: &Caller) -> Result<(), Error> {
    let user = get_own(table, caller).await?;
    let delete = |key: keys::Key| {
        Delete::builder()
            .table_name(table.name())
            .set_key(Some(key.to_attributes()))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(Error::internal)
    };
    let transaction =
        Transaction::new().delete(PROFILE, delete(keys::profile(caller.user_id))?).delete(EMAIL_GUARD, delete(keys::email_guard(&user.email))?);
    match transaction.send(table).await {
        Ok(()) => Ok(()),
        // Deleted meanwhile by a concurrent request: the outcome is the same.
        Err(Refused::Cancelled(c)) if c.failed(PROFILE) => Ok(()),
        Err(refused) => Err(refused.into()),
    }
}
