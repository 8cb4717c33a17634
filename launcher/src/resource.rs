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

/// Which KFP run and step the resource belongs to (`<run>/<step>`). A resource of the
/// right name and inputs but another run's or step's identity is never adopted.
pub const IDENTITY_ANNOTATION: &str = "ack-kfp.launcher/kfp-run-step";

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
pub fn annotations(
    region: &str,
    hash: &str,
    identity: Option<&Identity>,
) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::from([
        (REGION_ANNOTATION.to_owned(), region.to_owned()),
        (SPEC_HASH_ANNOTATION.to_owned(), hash.to_owned()),
    ]);
    if let Some(identity) = identity {
        annotations.insert(IDENTITY_ANNOTATION.to_owned(), identity.to_string());
    }
    annotations
}

/// The KFP run and step a launcher runs for, from what the backend substituted into
/// the component's `{{workflow.uid}}` and `{{node.name}}`. Every retry attempt of a step
/// gets the same pair; two runs, or two steps of one run, never do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub run: String,
    pub step: String,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.run, self.step)
    }
}

impl Identity {
    /// `None` without a run id (the launcher runs outside KFP, or the backend left the
    /// placeholder as it was). A step id the backend did not substitute (Argo before 3.4
    /// has no `{{node.name}}`) falls back to the inputs' digest: two steps of one run with
    /// the same inputs then share one job.
    pub fn from_backend(run: Option<&str>, step: Option<&str>, hash: &str) -> Option<Identity> {
        let substituted = |value: Option<&str>| {
            value
                .map(str::trim)
                .filter(|v| !v.is_empty() && !v.contains("{{") && !v.contains("}}"))
                .map(str::to_owned)
        };
        let run = substituted(run)?;
        let step = substituted(step).map_or_else(
            || format!("inputs-{}", &hash[..hash.len().min(16)]),
            |step| strip_retry_suffix(&step).to_owned(),
        );
        Some(Identity { run, step })
    }

    /// The resource and SageMaker job name for this run and step: `<prefix>-<digest>`.
    /// The digest covers the inputs' `hash` too: on KFP v2 with Argo 3.7 or later
    /// `{{node.name}}` is the enclosing DAG's node, the same for every step in it, and two
    /// steps with other inputs must still get two jobs (every attempt of one step has the
    /// same inputs, so retries still arrive at one name).
    pub fn job_name(&self, prefix: &str, hash: &str) -> String {
        let mut hasher = Sha256::new();
        for part in [&self.run, &self.step] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(hash.as_bytes());
        let digest: String = hasher.finalize()[..10]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("{prefix}-{digest}")
    }
}

/// Argo names the node of a retry attempt `<step>(<n>)`; the step is what stays.
fn strip_retry_suffix(node: &str) -> &str {
    if let Some(open) = node.rfind('(')
        && node.ends_with(')')
        && node[open + 1..node.len() - 1]
            .chars()
            .all(|c| c.is_ascii_digit())
        && open + 2 < node.len()
    {
        return &node[..open];
    }
    node
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
    fn identity_is_per_run_and_step_and_the_same_for_every_attempt() {
        let id = |run, step| Identity::from_backend(Some(run), Some(step), "abcdef0123456789ff");
        let first = id("uid-1", "pipeline-x.train").expect("identity");
        assert_eq!(id("uid-1", "pipeline-x.train(1)"), Some(first.clone()));
        assert_ne!(id("uid-2", "pipeline-x.train"), Some(first.clone()));
        assert_ne!(id("uid-1", "pipeline-x.train-2"), Some(first.clone()));
        // A loop iteration's node is not a retry suffix.
        assert_eq!(
            id("uid-1", "p.for-loop(0:a)").map(|i| i.step),
            Some("p.for-loop(0:a)".to_owned())
        );
        let hash = "abcdef0123456789ff";
        let name = first.job_name("training-job", hash);
        assert!(kubernetes_name(&name).is_ok() && name.len() <= 63, "{name}");
        assert_eq!(name, first.job_name("training-job", hash));
        assert_ne!(
            name,
            id("uid-2", "pipeline-x.train")
                .expect("id")
                .job_name("training-job", hash)
        );
        // One step id for two steps (a v2 DAG's node on Argo 3.7+), other inputs: two jobs.
        assert_ne!(name, first.job_name("training-job", "0123456789abcdefff"));
        // Placeholders a backend did not substitute are no identity.
        assert_eq!(
            Identity::from_backend(Some("{{workflow.uid}}"), Some("s"), "ab"),
            None
        );
        assert_eq!(Identity::from_backend(None, Some("s"), "ab"), None);
        assert_eq!(
            Identity::from_backend(Some("uid-1"), Some("{{node.name}}"), "abcdef0123456789ff")
                .map(|i| i.step),
            Some("inputs-abcdef0123456789".to_owned())
        );
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
