//! Reading the counters the stream processor keeps (`ADD n` with signed
//! deltas). Exactly-once markers keep them exact, but if a bug or a manual
//! edit ever drove one below zero, a `u64` field would fail to read and the
//! whole profile or post would answer 500. Read it as zero instead, and say
//! so in the log, so the item stays readable and the drift is visible.

use serde::{Deserialize, Deserializer};

pub fn non_negative<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let value = i64::deserialize(deserializer)?;
    if value < 0 {
        tracing::warn!(value, "a stream-kept counter is below zero; read as 0");
    }
    Ok(value.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Counted {
        #[serde(default, deserialize_with = "super::non_negative")]
        n: u64,
    }

    fn read(n: &str) -> u64 {
        let item = std::collections::HashMap::from([("n".to_string(), aws_sdk_dynamodb::types::AttributeValue::N(n.into()))]);
        serde_dynamo::from_item::<_, Counted>(item).unwrap().n
    }

    #[test]
    fn a_counter_below_zero_reads_as_zero_and_others_as_they_are() {
        assert_eq!(read("-3"), 0);
        assert_eq!(read("0"), 0);
        assert_eq!(read("42"), 42);
        let missing: Counted = serde_dynamo::from_item(std::collections::HashMap::<String, aws_sdk_dynamodb::types::AttributeValue>::new()).unwrap();
        assert_eq!(missing.n, 0);
    }
}
