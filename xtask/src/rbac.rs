//! The Role (and its RoleBinding) a pipeline step needs, from the lock and the templates,
//! so that it covers every kind that has a component with exactly the verbs the launcher
//! uses on it: `component-template/rbac.yaml` (written by `regenerate`, for the default
//! namespace and service account) and `cargo xtask rbac --namespace NS --service-account
//! SA` (printed, for a user's namespace) are the same manifest.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::bail;

/// Where the manifest is written (beside the templates, where the README points to it).
pub const RBAC_FILE: &str = "component-template/rbac.yaml";

/// What the launcher does with the resource of its step, whatever the kind: `create`s it,
/// `get`s it (a retried step re-attaches to its own; an update reads the existing one),
/// `watch`es it, `list`s it (to resume after 410 Gone) and `delete`s it when the run is
/// cancelled before it finished creating.
pub const LAUNCHER_VERBS: [&str; 5] = ["get", "list", "watch", "create", "delete"];

/// What it does besides on kinds the controller can update (the template's `updatable`):
/// a merge patch of the updatable spec fields of an existing resource. Never `update`.
pub const UPDATE_VERBS: [&str; 1] = ["patch"];

/// One kind with a component: its API group, plural, and whether the controller updates it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub group: String,
    pub plural: String,
    pub updatable: bool,
}

/// Whom the Role is for: a namespace and the service account pipeline steps run as there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub namespace: String,
    pub service_account: String,
}

impl Default for Subject {
    /// What `component-template/rbac.yaml` is written for: a Kubeflow profile's namespace
    /// and its `default-editor`, the service account multi-user Kubeflow runs steps as.
    fn default() -> Self {
        Subject {
            namespace: "kubeflow-user".to_owned(),
            service_account: "default-editor".to_owned(),
        }
    }
}

impl Subject {
    /// A subject for a user's namespace, refusing names the API server would refuse (a
    /// namespace is a DNS-1123 label, a service account name a DNS-1123 subdomain), so that
    /// nothing is printed that `kubectl apply` would reject halfway.
    pub fn new(namespace: &str, service_account: &str) -> anyhow::Result<Subject> {
        if !is_dns1123_label(namespace) {
            bail!(
                "--namespace `{namespace}`: expected a Kubernetes namespace name: at most 63 \
                 lower-case letters, digits and `-`, starting and ending with a letter or digit"
            );
        }
        if service_account.len() > 253 || !service_account.split('.').all(is_dns1123_label) {
            bail!(
                "--service-account `{service_account}`: expected a ServiceAccount name: lower-case \
                 letters, digits, `-` and `.` (at most 253), each `.`-separated part starting and \
                 ending with a letter or digit"
            );
        }
        Ok(Subject {
            namespace: namespace.to_owned(),
            service_account: service_account.to_owned(),
        })
    }
}

fn is_dns1123_label(name: &str) -> bool {
    let alphanumeric = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|&c| alphanumeric(c) || c == b'-')
        && alphanumeric(bytes[0])
        && alphanumeric(bytes[bytes.len() - 1])
}

/// The manifest for these kinds, for `subject`: one rule per API group with the launcher's
/// verbs, and one for the updatable kinds with `patch` besides.
pub fn manifest(grants: &[Grant], subject: &Subject) -> String {
    let Subject {
        namespace,
        service_account,
    } = subject;
    let mut rules: BTreeMap<(&str, bool), Vec<&str>> = BTreeMap::new();
    for grant in grants {
        rules
            .entry((&grant.group, grant.updatable))
            .or_default()
            .push(&grant.plural);
    }
    let mut out = format!(
        "# Generated from crds/lock.toml and the component templates (xtask/src/rbac.rs): every\n\
         # kind with a component, with the verbs the launcher uses on it. Do not edit: for your\n\
         # namespace and the service account your steps run as (Kubeflow multi-user: the\n\
         # profile's default-editor; standalone KFP: pipeline-runner), print it with\n\
         #   cargo xtask rbac --namespace NAMESPACE --service-account NAME | kubectl apply -f -\n\
         #\n\
         # What a pipeline step running the generated components needs, in one namespace, and\n\
         # nothing else (no pods, no secrets, nothing cluster-wide). The launcher creates the\n\
         # resource (get: re-attach when a retried step finds its own, or read the one an update\n\
         # changes), follows it (watch; list to resume after 410 Gone) and deletes it when the\n\
         # run is cancelled before it finished creating. `patch` only on the kinds the ACK\n\
         # controller updates (the templates' `updatable`): an update patches their spec.\n\
         # Checked by xtask/tests/rbac.rs and, against a real API server, launcher/tests/cluster_*.rs.\n\
         apiVersion: rbac.authorization.k8s.io/v1\n\
         kind: Role\n\
         metadata:\n  name: ack-kfp-launcher\n  namespace: {namespace}\n\
         rules:\n",
    );
    for ((group, updatable), mut plurals) in rules {
        plurals.sort_unstable();
        plurals.dedup();
        let verbs: Vec<&str> = if updatable {
            LAUNCHER_VERBS
                .iter()
                .chain(&UPDATE_VERBS)
                .copied()
                .collect()
        } else {
            LAUNCHER_VERBS.to_vec()
        };
        let _ = writeln!(
            out,
            "- apiGroups: [{group}]\n  resources: [{}]\n  verbs: [{}]",
            plurals.join(", "),
            verbs.join(", ")
        );
    }
    let _ = write!(
        out,
        "---\n\
         apiVersion: rbac.authorization.k8s.io/v1\n\
         kind: RoleBinding\n\
         metadata:\n  name: ack-kfp-launcher\n  namespace: {namespace}\n\
         roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: ack-kfp-launcher\n\
         subjects:\n\
         - kind: ServiceAccount\n  name: {service_account}\n  namespace: {namespace}\n",
    );
    out
}
