//! What clients send to create or edit a post, and the rules it must meet.

use crate::{Error, validate};
use serde::Deserialize;

pub const TITLE_MAX_CHARS: usize = 200;
pub const CONTENT_MAX_CHARS: usize = 100_000;
pub const TAGS_MAX: usize = 10;
pub const TAG_MAX_CHARS: usize = 30;
/// Listings show this much of the content.
pub const EXCERPT_CHARS: usize = 280;

/// `POST /posts` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    pub title: String,
    pub content: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `PATCH /posts/{postId}` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostPatch {
    pub title: Option<String>,
    pub content: Option<String>,
    pub tags: Option<Vec<String>>,
}

pub(super) fn title(raw: &str) -> Result<String, Error> {
    validate::single_line("title", raw, TITLE_MAX_CHARS)
}

pub(super) fn content(raw: &str) -> Result<String, Error> {
    let value = validate::multi_line("content", raw, CONTENT_MAX_CHARS)?;
    if value.is_empty() {
        return Err(Error::BadRequest { code: "invalid_field", message: "content must not be empty".into() });
    }
    Ok(value)
}

/// Up to 10 tags of 1–30 characters, lower-cased, duplicates dropped.
pub(super) fn tags(raw: &[String]) -> Result<Vec<String>, Error> {
    if raw.len() > TAGS_MAX {
        return Err(Error::BadRequest { code: "invalid_field", message: format!("at most {TAGS_MAX} tags") });
    }
    let mut tags: Vec<String> = Vec::new();
    for tag in raw {
        let tag = self::tag(tag)?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

/// One tag, as it is stored (lower case), e.g. from a path.
pub(super) fn tag(raw: &str) -> Result<String, Error> {
    Ok(validate::single_line("tag", raw, TAG_MAX_CHARS)?.to_lowercase())
}

pub(super) fn excerpt(content: &str) -> String {
    content.chars().take(EXCERPT_CHARS).collect()
}
