//! `component-template/rbac.yaml`, the manifest the README points pipeline operators to,
//! grants exactly the verbs the launcher uses on every kind with a component, in one
//! namespace, and is what `regenerate` makes of the lock.

mod common;

use std::collections::BTreeSet;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Object {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    metadata: Metadata,
    #[serde(default)]
    rules: Vec<Rule>,
    #[serde(rename = "roleRef")]
    role_ref: Option<RoleRef>,
    #[serde(default)]
    subjects: Vec<Subject>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    name: String,
    namespace: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    #[serde(rename = "apiGroups", default)]
    api_groups: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(rename = "resourceNames", default)]
    resource_names: Vec<String>,
    #[serde(rename = "nonResourceURLs", default)]
    non_resource_urls: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RoleRef {
    #[serde(rename = "apiGroup")]
    api_group: String,
    kind: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct Subject {
    kind: String,
    name: String,
    namespace: Option<String>,
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn rbac_manifest_grants_only_what_the_launcher_uses_in_one_namespace() {
    let path = common::repo_root().join("component-template/rbac.yaml");
    let text = std::fs::read_to_string(&path).expect("component-template/rbac.yaml");
    let objects: Vec<Object> = serde_saphyr::from_multiple(&text).expect("valid manifest");

    let kinds: Vec<_> = objects.iter().map(|o| o.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["Role", "RoleBinding"],
        "a Role and its RoleBinding only"
    );
    for object in &objects {
        assert_eq!(object.api_version, "rbac.authorization.k8s.io/v1");
        assert!(!object.kind.starts_with("Cluster"), "{}", object.kind);
    }
    let (role, binding) = (&objects[0], &objects[1]);
    let namespace = role
        .metadata
        .namespace
        .as_deref()
        .expect("a namespaced Role");

    // Every pinned kind that has a component (a template), by API group and plural, with
    // the verbs it needs: `patch` only where the template says the controller updates it.
    let root = common::repo_root();
    let lock = xtask::lock::Lock::read(&root).expect("lock");
    let launcher_verbs = set(&["get", "list", "watch", "create", "delete"]);
    let mut expected: std::collections::BTreeMap<(String, String), BTreeSet<String>> =
        Default::default();
    for locked in &lock.crds {
        let model = codegen::model(&locked.read_verified(&root).expect("CRD")).expect("model");
        let module = codegen::naming::snake_case(&model.kind);
        let Ok(template) =
            std::fs::read_to_string(root.join(format!("component-template/{module}.yaml")))
        else {
            continue;
        };
        let template = codegen::ComponentTemplate::parse(&template).expect("template");
        let mut verbs = launcher_verbs.clone();
        if !template.updatable.is_empty() {
            verbs.insert("patch".to_owned());
        }
        expected.insert((model.group, model.plural), verbs);
    }
    assert_eq!(expected.len(), 13, "{expected:?}");
    let patched: Vec<&str> = expected
        .iter()
        .filter(|(_, verbs)| verbs.contains("patch"))
        .map(|((_, plural), _)| plural.as_str())
        .collect();
    assert_eq!(patched, ["endpoints", "monitoringschedules"]);
    let mut granted: std::collections::BTreeMap<(String, String), BTreeSet<String>> =
        Default::default();
    for rule in &role.rules {
        assert_eq!(rule.api_groups.len(), 1, "one group per rule: {rule:?}");
        let verbs: BTreeSet<String> = rule.verbs.iter().cloned().collect();
        assert_eq!(
            verbs.len(),
            rule.verbs.len(),
            "no repeated verbs: {:?}",
            rule.verbs
        );
        assert!(
            !verbs.contains("update") && !verbs.contains("*"),
            "{rule:?}"
        );
        assert!(rule.resource_names.is_empty() && rule.non_resource_urls.is_empty());
        for resource in &rule.resources {
            let previous = granted.insert(
                (rule.api_groups[0].clone(), resource.clone()),
                verbs.clone(),
            );
            assert!(previous.is_none(), "{resource} in two rules");
        }
    }
    assert_eq!(granted, expected);
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        xtask::regenerate::plan(&root).expect("plan").files[xtask::rbac::RBAC_FILE],
        "rbac.yaml is what `cargo xtask regenerate` makes of the lock"
    );

    assert_eq!(binding.metadata.namespace.as_deref(), Some(namespace));
    let role_ref = binding.role_ref.as_ref().expect("roleRef");
    assert_eq!(
        (
            role_ref.api_group.as_str(),
            role_ref.kind.as_str(),
            role_ref.name.as_str()
        ),
        (
            "rbac.authorization.k8s.io",
            "Role",
            role.metadata.name.as_str()
        )
    );
    assert_eq!(binding.subjects.len(), 1, "{:?}", binding.subjects);
    let subject = &binding.subjects[0];
    assert_eq!(subject.kind, "ServiceAccount");
    assert!(!subject.name.is_empty());
    assert_eq!(subject.namespace.as_deref(), Some(namespace));
}
