//! The handle every operation takes: the DynamoDB client, the table's name
//! and the cursor signer. Built once per process (in a Lambda's `main`, or
//! once by the local stack) and cloned cheaply into each request.

use crate::keys::Placement;
use crate::round_trips::RoundTripCounter;
use crate::{Cursors, Error};
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, StalledStreamProtectionConfig};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long the SDK waits before it gives up: per attempt (then it retries,
/// up to 3 attempts with backoff) and in all. DynamoDB answers in
/// milliseconds, so a connection that has gone quiet is retried long before
/// Lambda would end the function (template.yaml's `Timeout`, which a test
/// keeps above `OPERATION_TIMEOUT`) and the caller gets a clean error.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(8);

/// Environment variables a function reads at start.
pub const TABLE_NAME_ENV: &str = "TABLE_NAME";
pub const CURSOR_SIGNING_KEY_ENV: &str = "CURSOR_SIGNING_KEY";

#[derive(Clone, Debug)]
pub struct Table {
    client: aws_sdk_dynamodb::Client,
    name: Arc<str>,
    cursors: Cursors,
    feed: crate::feed_settings::Settings,
    rate_limits: crate::rate_limits::Limits,
}

impl Table {
    /// The Lambda way: `TABLE_NAME`, `CURSOR_SIGNING_KEY` (at least 32
    /// characters of secret text) and the standard AWS
    /// environment (region and credentials from the environment, so nothing
    /// is probed over the network at start; `AWS_ENDPOINT_URL_DYNAMODB` or
    /// `AWS_ENDPOINT_URL` point the client at another endpoint). HTTPS trusts
    /// Amazon's roots only ([`crate::https`]).
    pub async fn from_env() -> Result<Self, Error> {
        let name = std::env::var(TABLE_NAME_ENV).map_err(|_| Error::internal(format!("{TABLE_NAME_ENV} is not set")))?;
        let key = std::env::var(CURSOR_SIGNING_KEY_ENV).map_err(|_| Error::internal(format!("{CURSOR_SIGNING_KEY_ENV} is not set")))?;
        // Name the variable in the init error (without a second "internal error:").
        let cursors = Cursors::new(key.as_bytes()).map_err(|e| match e {
            Error::Internal(detail) => Error::internal(format!("{CURSOR_SIGNING_KEY_ENV}: {detail}")),
            other => other,
        })?;
        Ok(Self::in_aws(&name, cursors)
            .await?
            .with_feed_settings(crate::feed_settings::Settings::from_env()?)
            .with_rate_limits(crate::rate_limits::Limits::from_env()?))
    }

    /// The table `name` in AWS, reached with the standard AWS environment
    /// (as [`Table::from_env`] does).
    pub async fn in_aws(name: &str, cursors: Cursors) -> Result<Self, Error> {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .http_client(crate::https::client_from_env()?)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            // The attempt timeout covers a stalled answer; the throughput
            // watch that stalled-stream protection runs on every response
            // body cost about 4 % of a warm GetItem's CPU (BENCHMARKS.md).
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .load()
            .await;
        let config = aws_sdk_dynamodb::config::Builder::from(&sdk);
        Ok(Self::with_config(config, name, cursors))
    }

    /// A client for a local or test endpoint (dynoxide, DynamoDB Local…), with
    /// fixed dummy credentials: such engines accept any.
    pub fn for_endpoint(endpoint_url: &str, name: &str, cursors: Cursors) -> Self {
        let config = aws_sdk_dynamodb::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "quire-local"))
            .endpoint_url(endpoint_url);
        Self::with_config(config, name, cursors)
    }

    /// Like [`Table::for_endpoint`], with one more interceptor (tests inject
    /// faults this way).
    pub fn for_endpoint_with(
        endpoint_url: &str,
        name: &str,
        cursors: Cursors,
        interceptor: impl aws_sdk_dynamodb::config::Intercept + 'static,
    ) -> Self {
        let table = Self::for_endpoint(endpoint_url, name, cursors);
        let config = table.client.config().to_builder().interceptor(interceptor);
        Self { client: aws_sdk_dynamodb::Client::from_conf(config.build()), ..table }
    }

    fn with_config(config: aws_sdk_dynamodb::config::Builder, name: impl Into<Arc<str>>, cursors: Cursors) -> Self {
        let client = aws_sdk_dynamodb::Client::from_conf(config.interceptor(RoundTripCounter).build());
        Self { client, name: name.into(), cursors, feed: Default::default(), rate_limits: Default::default() }
    }

    /// The same table, with these home-feed settings (the stream processor's).
    pub fn with_feed_settings(self, feed: crate::feed_settings::Settings) -> Self {
        Self { feed, ..self }
    }

    pub fn feed_settings(&self) -> crate::feed_settings::Settings {
        self.feed
    }

    /// The same table, with these per-plan rate limits (the authorizer's).
    pub fn with_rate_limits(self, rate_limits: crate::rate_limits::Limits) -> Self {
        Self { rate_limits, ..self }
    }

    pub fn rate_limits(&self) -> crate::rate_limits::Limits {
        self.rate_limits
    }

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn cursors(&self) -> &Cursors {
        &self.cursors
    }
}

/// Serialises an entity into an item with serde_dynamo, with the key
/// attributes of where it sits, refusing one that DynamoDB would refuse as
/// too large (413).
pub fn to_item<T: Serialize>(entity: &T, placement: &Placement) -> Result<HashMap<String, AttributeValue>, Error> {
    let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(entity)?;
    item.extend(placement.to_attributes());
    crate::item_size::check(&item)?;
    Ok(item)
}
