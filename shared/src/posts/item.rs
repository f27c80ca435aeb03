//! A post as stored (`POST#<id>` / `POST`), and the views of it clients get.

use crate::ids::{PostId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Published,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostItem {
    pub entity: String,
    pub post_id: PostId,
    pub author_id: UserId,
    /// Copied from the profile; the stream processor follows renames.
    pub author_name: String,
    pub title: String,
    pub content: String,
    pub excerpt: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub status: Status,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    pub version: u64,
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    pub view_count: u64,
    /// Kept by the stream processor.
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    pub comment_count: u64,
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
}

impl From<PostItem> for PostView {
    fn from(p: PostItem) -> Self {
        Self {
            id: p.post_id,
            author_id: p.author_id,
            author_name: p.author_name,
            title: p.title,
            content: p.content,
            tags: p.tags,
            created_at: p.created_at,
            published_at: p.published_at,
            view_count: p.view_count,
            comment_count: p.comment_count,
        }
    }
}

impl From<PostItem> for PostSummary {
    fn from(p: PostItem) -> Self {
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
            view_count: p.view_count,
            comment_count: p.comment_count,
        }
    }
}

impl From<PostItem> for OwnPostView {
    fn from(p: PostItem) -> Self {
        Self {
            id: p.post_id,
            author_id: p.author_id,
            author_name: p.author_name,
            title: p.title,
            content: p.content,
            tags: p.tags,
            status: p.status,
            created_at: p.created_at,
            updated_at: p.updated_at,
            published_at: p.published_at,
            version: p.version,
            view_count: p.view_count,
            comment_count: p.comment_count,
        }
    }
}
