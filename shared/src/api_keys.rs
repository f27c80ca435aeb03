//! API keys and their validation.
//!
//! A key reads `quire_<userId>_<keyId>_<secret>`: the ids tell the authorizer
//! exactly which item to check, so validating and counting a use is one
//! UpdateItem, and a malformed key is refused without any call. The secret
//! is 256 random bits in hex; only its SHA-256 is stored.

use crate::auth::Caller;
use crate::conditions::{Item, update_condition_failed};
use crate::ids::{ApiKeyId, UserId};
use crate::keys::Placement;
use crate::transaction::{Refused, Transaction};
use crate::{Error, Page, PageRequest, Plan, Table, clock, keys, to_item, validate};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, Update};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const KEY_PREFIX: &str = "quire_";
const SECRET_HEX_LEN: usize = 64;
/// Revoked keys stay listed this long, then TTL removes them.
pub const REVOKED_KEY_RETENTION_DAYS: u32 = 30;

/// The parts of the key transactions: the profile, which keeps the quota's
/// count, and the key.
const PROFILE: &str = "profile";
const KEY: &str = "key";

/// The `USER#<id>` / `APIKEY#<keyId>` item.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyItem {
    pub entity: String,
    pub key_id: ApiKeyId,
    pub user_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Hex SHA-256 of the secret; the secret itself is never stored.
    pub secret_hash: String,
    pub last_four: String,
    pub active: bool,
    #[serde(default)]
    pub usage_count: u64,
    pub plan: Plan,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Epoch seconds; the table's TTL attribute. For a revoked key, when it is purged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

pub const ENTITY: &str = "apiKey";

/// A listed key: never the secret or its hash.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    pub id: ApiKeyId,
    pub name: Option<String>,
    pub last_four: String,
    pub active: bool,
    pub usage_count: u64,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub expires_at: Option<String>,
}

impl From<ApiKeyItem> for ApiKeyView {
    fn from(k: ApiKeyItem) -> Self {
        Self {
            id: k.key_id,
            name: k.name,
            last_four: k.last_four,
            active: k.active,
            usage_count: k.usage_count,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
            expires_at: k.expires_at.and_then(clock::rfc3339_from_epoch),
        }
    }
}

/// A key as created: the only time its secret is ever shown.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub name: Option<String>,
    /// The whole bearer token: `Authorization: Bearer <secret>`.
    pub secret: String,
    pub last_four: String,
    pub created_at: String,
    pub expires_at: Option<String>,
}

/// A parsed key string. Its `Debug` hides the secret.
pub struct KeyString {
    pub user_id: UserId,
    pub key_id: ApiKeyId,
    secret: String,
}

impl std::fmt::Debug for KeyString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyString({KEY_PREFIX}{}_{}_<secret>)", self.user_id, self.key_id)
    }
}

impl KeyString {
    fn generate(user_id: UserId) -> Self {
        Self { user_id, key_id: ApiKeyId::generate(), secret: crate::random::secret_hex(SECRET_HEX_LEN / 2) }
    }

    /// Strict: prefix, two canonical ULIDs, 64 lower-case hex characters.
    pub fn parse(raw: &str) -> Option<Self> {
        let rest = raw.strip_prefix(KEY_PREFIX)?;
        let mut parts = rest.split('_');
        let (user, key, secret) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some()
            || secret.len() != SECRET_HEX_LEN
            || !secret.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            || user.bytes().any(|b| b.is_ascii_lowercase())
            || key.bytes().any(|b| b.is_ascii_lowercase())
        {
            return None;
        }
        Some(Self { user_id: UserId::parse(user).ok()?, key_id: ApiKeyId::parse(key).ok()?, secret: secret.to_string() })
    }

    pub fn expose(&self) -> String {
        format!("{KEY_PREFIX}{}_{}_{}", self.user_id, self.key_id, self.secret)
    }

    fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.secret.as_bytes()))
    }

    fn last_four(&self) -> String {
        self.secret[SECRET_HEX_LEN - 4..].to_string()
    }
}

/// A fresh key for `user_id`: the item to store and the response to show once.
pub(crate) fn new_key(
    user_id: UserId,
    plan: Plan,
    name: Option<String>,
    expires_in_days: Option<u32>,
    now: clock::Now,
) -> Result<(Item, NewApiKey), Error> {
    let key = KeyString::generate(user_id);
    let expires_at = expires_in_days.map(|days| now.plus_days(days).epoch_seconds());
    let item = ApiKeyItem {
        entity: ENTITY.into(),
        key_id: key.key_id,
        user_id,
        name: name.clone(),
        secret_hash: key.hash(),
        last_four: key.last_four(),
        active: true,
        usage_count: 0,
        plan,
        created_at: now.rfc3339(),
        last_used_at: None,
        revoked_at: None,
        expires_at,
    };
    let shown = NewApiKey {
        id: key.key_id,
        name,
        secret: key.expose(),
        last_four: key.last_four(),
        created_at: item.created_at.clone(),
        expires_at: expires_at.and_then(clock::rfc3339_from_epoch),
    };
    Ok((to_item(&item, &Placement::new(keys::api_key(user_id, key.key_id)))?, shown))
}

/// `POST /me/api-keys` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewKeyRequest {
    pub name: Option<String>,
    pub expires_in_days: Option<u32>,
}

/// Creates a key if the caller's plan allows another active one. The quota
/// check and the new key are one transaction, so concurrent requests cannot
/// overshoot it.
pub async fn create(table: &Table, caller: &Caller, request: NewKeyRequest) -> Result<NewApiKey, Error> {
    let name = request.name.map(|n| validate::single_line("name", &n, validate::KEY_NAME_MAX_CHARS)).transpose()?;
    if let Some(days) = request.expires_in_days
        && !(1..=validate::KEY_EXPIRY_MAX_DAYS).contains(&days)
    {
        return Err(Error::BadRequest {
            code: "invalid_field",
            message: format!("expiresInDays must be from 1 to {}", validate::KEY_EXPIRY_MAX_DAYS),
        });
    }
    let (item, shown) = new_key(caller.user_id, caller.plan, name, request.expires_in_days, clock::now())?;
    let count_it = Update::builder()
        .table_name(table.name())
        .set_key(Some(keys::profile(caller.user_id).to_attributes()))
        .update_expression("ADD activeKeyCount :one")
        .condition_expression(
            "attribute_exists(PK) AND ((#plan = :free AND activeKeyCount < :freeMax) OR (#plan = :pro AND activeKeyCount < :proMax))",
        )
        .expression_attribute_names("#plan", "plan")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":free", AttributeValue::S(Plan::Free.as_str().into()))
        .expression_attribute_values(":pro", AttributeValue::S(Plan::Pro.as_str().into()))
        .expression_attribute_values(":freeMax", AttributeValue::N(Plan::Free.max_active_keys().to_string()))
        .expression_attribute_values(":proMax", AttributeValue::N(Plan::Pro.max_active_keys().to_string()))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(Error::internal)?;
    match Transaction::new().update(PROFILE, count_it).put_new(KEY, table, item)?.send(table).await {
        Ok(()) => Ok(shown),
        Err(Refused::Cancelled(c)) if c.failed(PROFILE) => match c.old(PROFILE) {
            None => Err(Error::not_found("this account no longer exists")),
            Some(profile) => {
                let plan = profile.get("plan").and_then(|p| p.as_s().ok()).map_or("current", String::as_str);
                let max = if plan == Plan::Pro.as_str() { Plan::Pro.max_active_keys() } else { Plan::Free.max_active_keys() };
                Err(Error::Forbidden {
                    code: "plan_limit_reached",
                    message: format!("the {plan} plan allows {max} active API keys; revoke one or upgrade"),
                })
            }
        },
        Err(refused) => Err(refused.into()),
    }
}

/// The caller's keys, oldest first: one Query per page.
pub async fn list(table: &Table, caller: &Caller, page: &PageRequest) -> Result<Page<ApiKeyView>, Error> {
    let page: Page<ApiKeyItem> = table.query_page(&keys::api_keys(caller.user_id), page).await?;
    Ok(page.map(Into::into))
}

/// Revokes one of the caller's keys (idempotent), freeing its place in the
/// quota, in one transaction. The item stays listed, inactive, for
/// `REVOKED_KEY_RETENTION_DAYS`, then TTL removes it.
pub async fn revoke(table: &Table, caller: &Caller, key_id: ApiKeyId) -> Result<(), Error> {
    let now = clock::now();
    let deactivate = Update::builder()
        .table_name(table.name())
        .set_key(Some(keys::api_key(caller.user_id, key_id).to_attributes()))
        .update_expression("SET active = :false, revokedAt = :now, expiresAt = :purge")
        .condition_expression("attribute_exists(PK) AND active = :true")
        .expression_attribute_values(":false", AttributeValue::Bool(false))
        .expression_attribute_values(":true", AttributeValue::Bool(true))
        .expression_attribute_values(":now", AttributeValue::S(now.rfc3339()))
        .expression_attribute_values(":purge", AttributeValue::N(now.plus_days(REVOKED_KEY_RETENTION_DAYS).epoch_seconds().to_string()))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(Error::internal)?;
    let uncount = Update::builder()
        .table_name(table.name())
        .set_key(Some(keys::profile(caller.user_id).to_attributes()))
        .update_expression("ADD activeKeyCount :minusOne")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_values(":minusOne", AttributeValue::N("-1".into()))
        .build()
        .map_err(Error::internal)?;
    match Transaction::new().update(KEY, deactivate).update(PROFILE, uncount).send(table).await {
        Ok(()) => Ok(()),
        Err(Refused::Cancelled(c)) if c.failed(KEY) => match c.old(KEY) {
            None => Err(Error::not_found("no such API key")),
            Some(_) => Ok(()), // already revoked
        },
        Err(Refused::Cancelled(c)) if c.failed(PROFILE) => Err(Error::not_found("this account no longer exists")),
        Err(refused) => Err(refused.into()),
    }
}

/// What the authorizer decides for one request.
#[derive(Debug, PartialEq, Eq)]
pub enum Access {
    /// A valid key within its plan's limit: the use is counted.
    Allowed(Caller),
    /// A valid key that has used up its plan's requests this window: not
    /// counted; the route answers 429 with `Retry-After`.
    Limited { caller: Caller, retry_after_seconds: u64 },
    /// No valid, active, unexpired key.
    Denied,
}

/// The authorizer's check of an `Authorization` header value. One
/// conditional UpdateItem for a well-formed key (none for a malformed one)
/// checks the hash, `active`, `expiresAt` and the window's count against the
/// plan's limit, and counts the use; when the condition fails, the item's
/// old image (`ReturnValuesOnConditionCheckFailure`) tells an exhausted
/// window from a bad key. After a key sat idle for two windows or more, a
/// second UpdateItem removes the idle window's count.
pub async fn authenticate(table: &Table, authorization: &str) -> Result<Access, Error> {
    let Some(token) = bearer_token(authorization) else {
        return Ok(Access::Denied);
    };
    let Some(key) = KeyString::parse(token) else {
        return Ok(Access::Denied);
    };
    let (now_ms, limits) = (clock::now_ms(), table.rate_limits());
    let now = clock::from_epoch_ms(now_ms);
    let window = limits.window(now_ms);
    let hash = key.hash();
    let under = |plan: &str| format!("(#plan = :{plan} AND (attribute_not_exists(#count) OR #count < :{plan}Max))");
    let result = table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(keys::api_key(key.user_id, key.key_id).to_attributes()))
        .update_expression("ADD usageCount :one, #count :one SET lastUsedAt = :now REMOVE #previous")
        .condition_expression(format!(
            "secretHash = :hash AND active = :true AND (attribute_not_exists(expiresAt) OR expiresAt > :epoch) AND ({} OR {})",
            under("free"),
            under("pro")
        ))
        .expression_attribute_names("#count", window.counter())
        .expression_attribute_names("#previous", window.previous_counter())
        .expression_attribute_names("#plan", "plan")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":now", AttributeValue::S(now.rfc3339()))
        .expression_attribute_values(":hash", AttributeValue::S(hash.clone()))
        .expression_attribute_values(":true", AttributeValue::Bool(true))
        .expression_attribute_values(":epoch", AttributeValue::N(now.epoch_seconds().to_string()))
        .expression_attribute_values(":free", AttributeValue::S(Plan::Free.as_str().into()))
        .expression_attribute_values(":pro", AttributeValue::S(Plan::Pro.as_str().into()))
        .expression_attribute_values(":freeMax", AttributeValue::N(limits.per_window(Plan::Free).to_string()))
        .expression_attribute_values(":proMax", AttributeValue::N(limits.per_window(Plan::Pro).to_string()))
        .return_values(ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    let (attributes, counted) = match result {
        Ok(output) => (output.attributes.unwrap_or_default(), true),
        Err(err) => match update_condition_failed(&err) {
            Some(Some(old)) => (old, false),
            Some(None) => return Ok(Access::Denied),
            None => return Err(err.into()),
        },
    };
    let idle_counts = window.older_counts(attributes.keys());
    let item: ApiKeyItem = serde_dynamo::from_item(attributes)?;
    // DynamoDB compared the hash already; compare again here in constant
    // time so this code never trusts a path that skipped the condition (and
    // a refused write's old image is only a limited key if the key is good).
    let matches: bool = item.secret_hash.as_bytes().ct_eq(hash.as_bytes()).into();
    let unexpired = item.expires_at.is_none_or(|at| at > now.epoch_seconds());
    if !(matches && item.active && unexpired) {
        return Ok(Access::Denied);
    }
    let caller = Caller { user_id: item.user_id, key_id: item.key_id, plan: item.plan };
    if !counted {
        return Ok(Access::Limited { caller, retry_after_seconds: window.retry_after_seconds(now_ms) });
    }
    // Housekeeping only: the use is counted already, so a failure here must
    // not refuse the request.
    if !idle_counts.is_empty()
        && let Err(e) = remove_counts(table, &caller, &idle_counts).await
    {
        tracing::warn!(error = %e, "old window counts stay on the key until its next idle spell");
    }
    Ok(Access::Allowed(caller))
}

/// Removes window counts left from before a key sat idle (the request's own
/// update removes only the previous window's).
async fn remove_counts(table: &Table, caller: &Caller, counts: &[String]) -> Result<(), Error> {
    let placeholders: Vec<String> = (0..counts.len()).map(|i| format!("#c{i}")).collect();
    let mut update = table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(keys::api_key(caller.user_id, caller.key_id).to_attributes()))
        .update_expression(format!("REMOVE {}", placeholders.join(", ")))
        .condition_expression("attribute_exists(PK)");
    for (placeholder, name) in placeholders.iter().zip(counts) {
        update = update.expression_attribute_names(placeholder, name);
    }
    match update.send().await {
        Ok(_) => Ok(()),
        Err(err) if update_condition_failed(&err).is_some() => Ok(()), // revoked and purged meanwhile
        Err(err) => Err(err.into()),
    }
}

fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_strings_round_trip_and_hide_their_secret_in_debug() {
        let key = KeyString::generate(UserId::generate());
        let text = key.expose();
        assert!(text.starts_with(KEY_PREFIX) && text.len() == KEY_PREFIX.len() + 26 + 1 + 26 + 1 + 64);
        let parsed = KeyString::parse(&text).unwrap();
        assert_eq!((parsed.user_id, parsed.key_id), (key.user_id, key.key_id));
        assert_eq!(parsed.hash(), key.hash());
        assert!(!format!("{parsed:?}").contains(&key.secret));
        assert_ne!(KeyString::generate(key.user_id).secret, key.secret);
    }

    #[test]
    fn malformed_keys_do_not_parse() {
        let good = KeyString::generate(UserId::generate()).expose();
        let bad = [
            String::new(),
            good.replacen(KEY_PREFIX, "qk_", 1),
            good[..good.len() - 1].to_string(),
            format!("{good}0"),
            format!("{good}_x"),
            good.to_uppercase(),
            good.replace('_', "#"),
            good.to_lowercase(), // ids must be canonical
        ];
        for b in bad {
            assert!(KeyString::parse(&b).is_none(), "{b}");
        }
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer   abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }

    #[test]
    fn only_the_hash_is_stored() {
        let (item, shown) = new_key(UserId::generate(), Plan::Free, None, Some(7), clock::now()).unwrap();
        let secret = shown.secret.rsplit('_').next().unwrap().to_string();
        let stored = format!("{item:?}");
        assert!(!stored.contains(&secret) && !stored.contains(&shown.secret));
        assert_eq!(item["secretHash"].as_s().unwrap(), &hex::encode(Sha256::digest(secret.as_bytes())));
        assert!(item["expiresAt"].as_n().is_ok());
    }
}
