//! Limits on what clients may store, each refused with 400 and a message that
//! names the field and the limit. The README's API section lists the same.

use crate::Error;

pub const NAME_MAX_CHARS: usize = 100;
pub const BIO_MAX_CHARS: usize = 500;
pub const KEY_NAME_MAX_CHARS: usize = 100;
pub const EMAIL_MAX_BYTES: usize = 254;
pub const KEY_EXPIRY_MAX_DAYS: u32 = 365;

fn invalid(message: String) -> Error {
    Error::BadRequest { code: "invalid_field", message }
}

/// A one-line name: trimmed, 1 to `max` characters, no control characters.
pub fn single_line(field: &str, raw: &str, max: usize) -> Result<String, Error> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(invalid(format!("{field} must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!("{field} must not contain control characters")));
    }
    Ok(value.to_string())
}

/// Free text: up to `max` characters; line breaks and tabs allowed, other
/// control characters not.
pub fn multi_line(field: &str, raw: &str, max: usize) -> Result<String, Error> {
    let value = raw.trim();
    if value.chars().count() > max {
        return Err(invalid(format!("{field} must be at most {max} characters")));
    }
    if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(invalid(format!("{field} must not contain control characters other than line breaks and tabs")));
    }
    Ok(value.to_string())
}

/// An email, normalised for uniqueness: trimmed and lower case.
pub fn email(raw: &str) -> Result<String, Error> {
    let value = raw.trim().to_lowercase();
    if value.len() > EMAIL_MAX_BYTES {
        return Err(invalid(format!("email must be at most {EMAIL_MAX_BYTES} characters")));
    }
    let valid = email_address::EmailAddress::parse_with_options(&value, email_address::Options::default().without_display_text())
        .is_ok_and(|addr| addr.domain().contains('.'));
    if !valid || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid("email is not a valid address (expected name@example.com)".into()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_single_line() {
        assert_eq!(single_line("name", "  Ada  ", 100).unwrap(), "Ada");
        assert_eq!(single_line("name", &"é".repeat(100), 100).unwrap().chars().count(), 100);
        for bad in ["", "   ", "a\nb", "a\u{0}b", "a\u{7f}"] {
            assert_eq!(single_line("name", bad, 100).unwrap_err().code(), "invalid_field", "{bad:?}");
        }
        let err = single_line("name", &"x".repeat(101), 100).unwrap_err();
        assert!(err.to_string().contains("at most 100"), "{err}");
    }

    #[test]
    fn free_text_allows_line_breaks_only() {
        assert_eq!(multi_line("bio", "line one\nline two\ttab", 500).unwrap(), "line one\nline two\ttab");
        assert_eq!(multi_line("bio", "", 500).unwrap(), "");
        assert!(multi_line("bio", "bell\u{7}", 500).is_err());
        assert!(multi_line("bio", &"x".repeat(501), 500).is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "Ada <ada@example.com>", "ada@exa\u{0}mple.com"] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(email(&long).unwrap_err().to_string().contains("254"));
    }
}
