//! A post as stored, in three kinds of item, and the views of it clients get:
//! - the card (`POST#<id>` / `POST`): everything but the content, small, the
//!   only post item the indexes hold, and the only one counters rewrite;
//! - the body (`POST#<id>` / `POST#BODY`): the content;
//! - the view counters (`POST#<id>#VIEWS#<n>` / `VIEWS`), one partition
//!   each, created at publication; the stream processor copies each one's
//!   total onto the card (`views`, by counter), where it is summed.

use crate::ids::{PostId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Published,
}

/// The card: `POST#<id>` / `POST`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostItem {
    pub entity: String,
    pub post_id: PostId,
    pub author_id: UserId,
    /// Copied from the profile; the stream processor follows renames.
    pub author_name: String,
    pub title: String,
    pub excerpt: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub status: Status,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    pub version: u64,
    /// Each view counter's latest total, by counter number, as the stream
    /// processor last saw it; their sum is the view count.
    #[serde(default)]
    pub views: BTreeMap<String, u64>,
    /// Kept by the stream processor.
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    pub comment_count: u64,
    /// Kept by the stream processor.
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    pub like_count: u64,
    /// The ULID made at publication: the post's order in its author's
    /// listing and on its tags' pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publication: Option<String>,
}

impl PostItem {
    pub fn view_count(&self) -> u64 {
        self.views.values().sum()
    }
}

pub const BODY_ENTITY: &str = "postBody";

/// The body: `POST#<id>` / `POST#BODY`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostBody {
    pub entity: String,
    pub post_id: PostId,
    pub content: String,
}

pub const TAG_ENTITY: &str = "postTag";

/// A published post's place on a tag's page: `TAG#<tag>#<shard>` /
/// `<publication ULID>`. Only the post id: the page reads the cards.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostTag {
    pub entity: String,
    pub post_id: PostId,
    pub tag: String,
}

pub const VIEWS_ENTITY: &str = "postViews";

/// One view counter: `POST#<id>#VIEWS#<shard>` / `VIEWS`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewCounter {
    pub entity: String,
    pub post_id: PostId,
    pub shard: u32,
    pub views: u64,
}

/// A published post, as anyone sees it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostView {
    pub id: PostId,
    pub author_id: UserId,
    pub author_name: String,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    pub created_at: String,
    pub published_at: Option<String>,
    pub view_count: u64,
    pub comment_count: u64,
    pub like_count: u64,
}

/// A post in a listing: the excerpt instead of the content, so a page of
/// long posts stays small.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostSummary {
    pub id: PostId,
    pub author_id: UserId,
    pub author_name: String,
    pub title: String,
    pub excerpt: String,
    pub tags: Vec<String>,
    pub status: Status,
    pub created_at: String,
    pub published_at: Option<String>,
    pub view_count: u64,
    pub comment_count: u64,
    pub like_count: u64,
}

/// One of the caller's own posts, in any status.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnPostView {
    pub id: PostId,
    pub author_id: UserId,
    pub author_name: String,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    pub status: Status,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
    pub version: u64,
    pub view_count: u64,
    pub comment_count: u64,
    pub like_count: u64,
}

impl PostView {
    pub fn new(p: PostItem, content: String) -> Self {
        let view_count = p.view_count();
        Self {
            id: p.post_id,
            author_id: p.author_id,
            author_name: p.author_name,
            title: p.title,
            content,
            tags: p.tags,
            created_at: p.created_at,
            published_at: p.published_at,
            view_count,
            comment_count: p.comment_count,
            like_count: p.like_count,
        }
    }
}

/// A card as the indexes hold it (`keys::LISTED_ATTRIBUTES`): what a
/// listing shows.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedPost {
    post_id: PostId,
    author_id: UserId,
    author_name: String,
    title: String,
    excerpt: String,
    #[serde(default)]
    tags: Vec<String>,
    status: Status,
    created_at: String,
    #[serde(default)]
    published_at: Option<String>,
    #[serde(default)]
    views: BTreeMap<String, u64>,
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    comment_count: u64,
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    like_count: u64,
}

impl ListedPost {
    pub fn id(&self) -> PostId {
        self.post_id
    }
}

impl From<ListedPost> for PostSummary {
    fn from(p: ListedPost) -> Self {
        Self {
            id: p.post_id,
            author_id: p.author_id,
            author_name: p.author_name,
            title: p.title,
            excerpt: p.excerpt,
            tags: p.tags,
            status: p.status,
            created_at: p.created_at,
            published_at: p.published_at,
            view_count: p.views.values().sum(),
            comment_count: p.comment_count,
            like_count: p.like_count,
        }
    }
}

impl OwnPostView {
    pub fn new(p: PostItem, content: String) -> Self {
        let view_count = p.view_count();
        Self {
            id: p.post_id,
            author_id: p.author_id,
            author_name: p.author_name,
            title: p.title,
            content,
            tags: p.tags,
            status: p.status,
            created_at: p.created_at,
            updated_at: p.updated_at,
            published_at: p.published_at,
            version: p.version,
            view_count,
            comment_count: p.comment_count,
            like_count: p.like_count,
        }
    }
}
