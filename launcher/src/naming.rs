//! Resource names: the rules SageMaker and Kubernetes set for them, and unique names for
//! pipeline runs that do not name their resource and give no KFP run identity (a name
//! per run and step is [`crate::identity::Identity::job_name`]).

use std::hash::{BuildHasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

/// [`kubernetes_name`] for a kind whose SageMaker names are at most `max` characters
/// (HyperParameterTuningJob: 32).
pub fn job_name(job_name: &str, max: usize) -> Result<String, String> {
    // Over 63 characters, the general rule says it (no SageMaker name is that long).
    if job_name.len() > max && job_name.len() <= 63 {
        return Err(format!(
            "`{job_name}` is not a valid job name: SageMaker takes at most {max} characters \
             for this kind, it has {}",
            job_name.len()
        ));
    }
    kubernetes_name(job_name)
}

/// Lower-cases a SageMaker job name into a Kubernetes name, and checks both rules:
/// SageMaker takes `[a-zA-Z0-9](-*[a-zA-Z0-9])*` up to 63 characters; Kubernetes, lower
/// case with the same shape.
pub fn kubernetes_name(job_name: &str) -> Result<String, String> {
    let valid = !job_name.is_empty()
        && job_name.len() <= 63
        && job_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !job_name.starts_with('-')
        && !job_name.ends_with('-');
    if valid {
        Ok(job_name.to_ascii_lowercase())
    } else {
        Err(format!(
            "`{job_name}` is not a valid job name: expected 1 to 63 letters, digits and \
             hyphens, starting and ending with a letter or digit"
        ))
    }
}

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
    fn names_are_checked_and_lower_cased() {
        assert_eq!(
            kubernetes_name("XGBoost-Job-1").as_deref(),
            Ok("xgboost-job-1")
        );
        for bad in ["", "-a", "a-", "a_b", "a.b", &"a".repeat(64)] {
            assert!(kubernetes_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_follow_the_kinds_limit() {
        assert_eq!(
            job_name(&"a".repeat(32), 32).as_deref(),
            Ok(&*"a".repeat(32))
        );
        let long = job_name(&"a".repeat(33), 32).expect_err("too long");
        assert!(long.contains("at most 32 characters"), "{long}");
        assert!(job_name("a_b", 63).is_err());
    }

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
