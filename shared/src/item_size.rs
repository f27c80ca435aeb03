//! DynamoDB refuses items over 400 KB. We measure an item the way DynamoDB
//! does and refuse it with 413 before sending it, so the caller gets a clear
//! message instead of a ValidationException turned into a 500.

use crate::Error;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// DynamoDB's item size limit: 400 KB, counted in binary kilobytes.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// The size DynamoDB bills and limits: attribute names plus values.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        // 3 bytes of overhead per list or map, plus 1 per element.
        AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum::<usize>(),
        _ => 0,
    }
}

/// One byte per two significant digits, plus one.
fn number_size(n: &str) -> usize {
    let digits: String = n.chars().take_while(|c| *c != 'e' && *c != 'E').filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1
}

/// Refuses an item DynamoDB would refuse, with 413 naming the limit.
pub fn check(item: &HashMap<String, AttributeValue>) -> Result<(), Error> {
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(Error::PayloadTooLarge {
            code: "item_too_large",
            message: format!("the item would be {size} bytes; DynamoDB stores at most 400 KB ({MAX_ITEM_BYTES} bytes) per item"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn sizes_follow_dynamodb_rules() {
        let item = HashMap::from([
            ("PK".to_string(), s("USER#1")),                                // 2 + 6
            ("n".to_string(), AttributeValue::N("12345".into())),           // 1 + 4
            ("ok".to_string(), AttributeValue::Bool(true)),                 // 2 + 1
            ("tags".to_string(), AttributeValue::L(vec![s("ab"), s("c")])), // 4 + 3 + (1+2) + (1+1)
        ]);
        assert_eq!(item_size(&item), 8 + 5 + 3 + 12);
        assert_eq!(number_size("0"), 2);
        assert_eq!(number_size("-1000"), 2);
        assert_eq!(number_size("123.456"), 4);
    }

    #[test]
    fn an_item_over_400_kb_is_413_naming_the_limit() {
        let mut item = HashMap::from([("content".to_string(), s(&"x".repeat(MAX_ITEM_BYTES)))]);
        let err = check(&item).unwrap_err();
        assert_eq!(err.status(), 413);
        assert_eq!(err.code(), "item_too_large");
        assert!(err.to_string().contains("400 KB"), "{err}");

        item.insert("content".to_string(), s(&"x".repeat(MAX_ITEM_BYTES - "content".len())));
        assert!(check(&item).is_ok(), "exactly at the limit is allowed");
    }

    #[test]
    fn multibyte_text_counts_in_utf8_bytes() {
        let item = HashMap::from([("t".to_string(), s(&"é".repeat(MAX_ITEM_BYTES / 2)))]);
        assert_eq!(check(&item).unwrap_err().status(), 413);
    }
}
