//! Whose a resource is: the KFP run and step a launcher runs for ([`Identity`]), the digest
//! of what the step asked for ([`SpecHash`]), and the two as a step records them on the
//! resource it creates ([`Fingerprint`]): the one test of "this resource is ours", which
//! lets a retried attempt of a step find the resource its earlier attempt created.

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

/// The sha256 of the region and the spec as JSON (field order fixed by the generated
/// types, maps sorted), in hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecHash(String);

impl SpecHash {
    pub fn of<S: Serialize>(region: &str, spec: &S) -> SpecHash {
        let mut hasher = Sha256::new();
        hasher.update(region.as_bytes());
        hasher.update([0]);
        hasher.update(serde_json::to_vec(spec).unwrap_or_default());
        SpecHash(hex(&hasher.finalize()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    pub fn from_backend(
        run: Option<&str>,
        step: Option<&str>,
        hash: &SpecHash,
    ) -> Option<Identity> {
        let substituted = |value: Option<&str>| {
            value
                .map(str::trim)
                .filter(|v| !v.is_empty() && !v.contains("{{") && !v.contains("}}"))
                .map(str::to_owned)
        };
        let run = substituted(run)?;
        let hash = hash.as_str();
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
    pub fn job_name(&self, prefix: &str, hash: &SpecHash) -> String {
        let mut hasher = Sha256::new();
        for part in [&self.run, &self.step] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(hash.as_str().as_bytes());
        format!("{prefix}-{}", hex(&hasher.finalize()[..10]))
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

/// What a step records on the resource it creates (its inputs' digest and its KFP run
/// and step), and looks for on one it finds under its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub hash: SpecHash,
    pub identity: Option<Identity>,
}

/// How a resource found under the name compares with this step's [`Fingerprint`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    pub same_inputs: bool,
    pub same_step: bool,
    /// The run and step the resource records, if any.
    pub recorded: Option<String>,
}

impl Comparison {
    /// This step created the resource: same inputs, same run and step.
    pub fn ours(&self) -> bool {
        self.same_inputs && self.same_step
    }
}

impl Fingerprint {
    /// The annotations every created resource carries: the region and this fingerprint.
    pub fn annotations(&self, region: &str) -> BTreeMap<String, String> {
        let mut annotations = BTreeMap::from([
            (REGION_ANNOTATION.to_owned(), region.to_owned()),
            (
                SPEC_HASH_ANNOTATION.to_owned(),
                self.hash.as_str().to_owned(),
            ),
        ]);
        if let Some(identity) = &self.identity {
            annotations.insert(IDENTITY_ANNOTATION.to_owned(), identity.to_string());
        }
        annotations
    }

    pub fn compare(&self, resource: &impl kube::Resource) -> Comparison {
        let recorded = annotation(resource, IDENTITY_ANNOTATION);
        Comparison {
            same_inputs: annotation(resource, SPEC_HASH_ANNOTATION) == Some(self.hash.as_str()),
            same_step: recorded == self.identity.as_ref().map(ToString::to_string).as_deref(),
            recorded: recorded.map(str::to_owned),
        }
    }
}

/// The value of an annotation of a resource.
pub fn annotation<'a>(resource: &'a impl kube::Resource, key: &str) -> Option<&'a str> {
    resource
        .meta()
        .annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::kubernetes_name;

    fn hash(text: &str) -> SpecHash {
        SpecHash(text.to_owned())
    }

    #[test]
    fn identity_is_per_run_and_step_and_the_same_for_every_attempt() {
        let id =
            |run, step| Identity::from_backend(Some(run), Some(step), &hash("abcdef0123456789ff"));
        let first = id("uid-1", "pipeline-x.train").expect("identity");
        assert_eq!(id("uid-1", "pipeline-x.train(1)"), Some(first.clone()));
        assert_ne!(id("uid-2", "pipeline-x.train"), Some(first.clone()));
        assert_ne!(id("uid-1", "pipeline-x.train-2"), Some(first.clone()));
        // A loop iteration's node is not a retry suffix.
        assert_eq!(
            id("uid-1", "p.for-loop(0:a)").map(|i| i.step),
            Some("p.for-loop(0:a)".to_owned())
        );
        let inputs = hash("abcdef0123456789ff");
        let name = first.job_name("training-job", &inputs);
        assert!(kubernetes_name(&name).is_ok() && name.len() <= 63, "{name}");
        assert_eq!(name, first.job_name("training-job", &inputs));
        assert_ne!(
            name,
            id("uid-2", "pipeline-x.train")
                .expect("id")
                .job_name("training-job", &inputs)
        );
        // One step id for two steps (a v2 DAG's node on Argo 3.7+), other inputs: two jobs.
        assert_ne!(
            name,
            first.job_name("training-job", &hash("0123456789abcdefff"))
        );
        // Placeholders a backend did not substitute are no identity.
        assert_eq!(
            Identity::from_backend(Some("{{workflow.uid}}"), Some("s"), &hash("ab")),
            None
        );
        assert_eq!(Identity::from_backend(None, Some("s"), &hash("ab")), None);
        assert_eq!(
            Identity::from_backend(
                Some("uid-1"),
                Some("{{node.name}}"),
                &hash("abcdef0123456789ff")
            )
            .map(|i| i.step),
            Some("inputs-abcdef0123456789".to_owned())
        );
    }

    #[test]
    fn the_hash_depends_on_region_and_spec() {
        let spec = serde_json::json!({"a": 1});
        assert_eq!(
            SpecHash::of("us-west-2", &spec),
            SpecHash::of("us-west-2", &spec)
        );
        assert_ne!(
            SpecHash::of("us-west-2", &spec),
            SpecHash::of("us-east-1", &spec)
        );
        assert_ne!(
            SpecHash::of("us-west-2", &spec),
            SpecHash::of("us-west-2", &serde_json::json!({"a": 2}))
        );
    }

    #[test]
    fn a_resource_is_ours_with_the_same_inputs_and_step() {
        use k8s_openapi::api::core::v1::ConfigMap;
        let fingerprint = Fingerprint {
            hash: hash("ab"),
            identity: Some(Identity {
                run: "uid-1".into(),
                step: "train".into(),
            }),
        };
        let with = |annotations: BTreeMap<String, String>| {
            let mut resource = ConfigMap::default();
            resource.metadata.annotations = Some(annotations);
            fingerprint.compare(&resource)
        };
        let ours = with(fingerprint.annotations("us-west-2"));
        assert!(ours.ours(), "{ours:?}");
        assert_eq!(ours.recorded.as_deref(), Some("uid-1/train"));
        let other_run = Fingerprint {
            identity: Some(Identity {
                run: "uid-2".into(),
                step: "train".into(),
            }),
            ..fingerprint.clone()
        };
        let theirs = with(other_run.annotations("us-west-2"));
        assert!(theirs.same_inputs && !theirs.same_step && !theirs.ours());
        let other_inputs = Fingerprint {
            hash: hash("cd"),
            ..fingerprint.clone()
        };
        assert!(!with(other_inputs.annotations("us-west-2")).same_inputs);
        assert!(!with(BTreeMap::new()).ours());
    }
}
