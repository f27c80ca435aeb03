//! The integration tests, in one binary (one link instead of one per file):
//! each module starts its own stack (local::testing::TestStack) and talks to
//! it over real HTTP; `common` holds the HTTP helpers.

mod common;

mod access_patterns;
mod accounts;
mod alarms;
mod api_keys;
mod authorization;
mod bad_input;
mod capacity;
mod cors;
mod crash;
mod demo;
mod events;
mod exactly_once;
mod external_endpoint;
mod feed;
mod http_caching;
mod idempotency;
mod item_size;
mod likes;
mod local_stack;
mod logs;
mod migration;
mod openapi;
mod pagination;
mod persistence;
mod posts;
mod rate_limits;
mod round_trips;
mod routes;
mod social;
mod stream;
mod stream_mapping;
mod tags;
mod template_table;
