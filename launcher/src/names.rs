//! Unique resource names for pipeline runs that do not name their job.

use std::hash::{BuildHasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

/// `<prefix>-<unix seconds>-<4 random base-36 characters>`: valid as a SageMaker job name
/// (`[a-zA-Z0-9](-*[a-zA-Z0-9])*`, at most 63 characters) and as a Kubernetes name.
pub fn generate(prefix: &str) -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    // RandomState is seeded from the OS per process: enough to tell retries apart.
    let mut random = RandomState::new().hash_one(seconds);
    let suffix: String = (0..4)
        .map(|_| {
            let digit = (random % 36) as u32;
            random /= 36;
            char::from_digit(digit, 36).unwrap_or('0')
        })
        .collect();
    let mut name = format!("{prefix}-{seconds}-{suffix}");
    name.truncate(63);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_for_sagemaker_and_kubernetes() {
        let name = generate("training-job");
        assert!(name.len() <= 63, "{name}");
        assert!(name.starts_with("training-job-"), "{name}");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{name}"
        );
        assert!(!name.ends_with('-'));
    }
}
