//! The custom resource a step creates: name, annotations and the fingerprint that lets a
//! retried step recognise the resource its earlier attempt created.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The annotation the ACK runtime reads a resource's AWS region from.
pub const REGION_ANNOTATION: &str = "services.k8s.aws/region";

/// A digest of what the step asked for (region and spec). A retried step that finds a
/// resource of its name with the same digest re-attaches to it instead of failing.
pub const SPEC_HASH_ANNOTATION: &str = "ack-kfp.launcher/spec-sha256";

/// The largest object etcd stores by default (1.5 MiB); a larger create would fail only
/// after reaching the API server. `--max-object-bytes` changes it for other clusters.
pub const MAX_OBJECT_BYTES: usize = 1536 * 1024;

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

/// The digest of the region and the spec as JSON (field order fixed by the generated
/// types, maps sorted).
pub fn spec_hash<S: Serialize>(region: &str, spec: &S) -> String {
    let mut hasher = Sha256::new();
    hasher.update(region.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(spec).unwrap_or_default());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The annotations every created resource carries.
pub fn annotations(region: &str, hash: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (REGION_ANNOTATION.to_owned(), region.to_owned()),
        (SPEC_HASH_ANNOTATION.to_owned(), hash.to_owned()),
    ])
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
    fn the_hash_depends_on_region_and_spec() {
        let spec = serde_json::json!({"a": 1});
        assert_eq!(spec_hash("us-west-2", &spec), spec_hash("us-west-2", &spec));
        assert_ne!(spec_hash("us-west-2", &spec), spec_hash("us-east-1", &spec));
        assert_ne!(
            spec_hash("us-west-2", &spec),
            spec_hash("us-west-2", &serde_json::json!({"a": 2}))
        );
    }
}
