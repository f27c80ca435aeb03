//! Pagination: `?limit=` and `?cursor=` in, `{"items":[…],"nextCursor":…}`
//! out. Cursors are signed ([`crate::cursor`]); [`crate::query`] reads a page.

use crate::Error;
use serde::Serialize;

pub const DEFAULT_LIMIT: i32 = 20;
pub const MAX_LIMIT: i32 = 100;

/// What the client asked for: page size and where to resume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i32,
    pub cursor: Option<String>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, cursor: None }
    }
}

impl PageRequest {
    /// Reads the raw `limit` and `cursor` query values.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, Error> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<i32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| Error::BadRequest { code: "invalid_limit", message: format!("limit must be a whole number from 1 to {MAX_LIMIT}") })?,
        };
        let cursor = cursor.filter(|c| !c.is_empty()).map(str::to_string);
        Ok(Self { limit, cursor })
    }
}

/// One page of a listing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The same page with each item converted (an item into what a client sees).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_1_to_100_default_20() {
        assert_eq!(PageRequest::parse(None, None).unwrap(), PageRequest { limit: 20, cursor: None });
        assert_eq!(PageRequest::parse(Some("100"), Some("")).unwrap().limit, 100);
        assert_eq!(PageRequest::parse(Some("1"), Some("abc")).unwrap().cursor.as_deref(), Some("abc"));
        for bad in ["0", "101", "-1", "", "ten", "1.5", "99999999999999999999", " 5"] {
            let err = PageRequest::parse(Some(bad), None).unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "invalid_limit"), "{bad:?}");
        }
    }
}
