//! Percentiles over samples, and the summary of a run's DynamoDB calls.

use std::collections::BTreeMap;
use std::time::Duration;

/// Nearest-rank percentile (`p` in 0..=100) of unsorted samples; zero when
/// there are none.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn max(samples: &[Duration]) -> Duration {
    samples.iter().copied().max().unwrap_or_default()
}

/// The call sequence most invocations made (`"GetItem"`, `"GetItem,PutItem"`,
/// `"none"`), with how many made it.
pub fn usual_calls(sequences: &[Vec<String>]) -> (String, usize) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for sequence in sequences {
        let key = if sequence.is_empty() { "none".to_string() } else { sequence.join(",") };
        *counts.entry(key).or_default() += 1;
    }
    // Most frequent first; ties by name, so the report is stable.
    counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).unwrap_or(("none".into(), 0))
}

/// `"200×2020"`, `"201×2000, 409×20"`: how often each answer came back.
pub fn tally(answers: &[String]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for answer in answers {
        *counts.entry(answer).or_default() += 1;
    }
    counts.iter().map(|(answer, n)| format!("{answer}×{n}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_micros(*v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let samples = us(&[5, 1, 4, 2, 3]);
        assert_eq!(percentile(&samples, 50.0), Duration::from_micros(3));
        assert_eq!(percentile(&samples, 100.0), Duration::from_micros(5));
        assert_eq!(percentile(&samples, 0.0), Duration::from_micros(1));
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&us(&hundred), 99.0), Duration::from_micros(99));
        assert_eq!(percentile(&us(&hundred), 50.0), Duration::from_micros(50));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
        assert_eq!(max(&samples), Duration::from_micros(5));
    }

    #[test]
    fn usual_calls_and_tally() {
        let sequences = vec![vec!["GetItem".to_string()], vec![], vec!["GetItem".to_string()]];
        assert_eq!(usual_calls(&sequences), ("GetItem".to_string(), 2));
        assert_eq!(usual_calls(&[vec![]]), ("none".to_string(), 1));
        let answers: Vec<String> = ["200", "409", "200"].iter().map(|s| s.to_string()).collect();
        assert_eq!(tally(&answers), "200×2, 409×1");
    }
}
