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

/// The README's command for a user's namespace, as written: its Role and RoleBinding,
/// applied to a real kube-apiserver (as `kubectl apply -f -` would create them), let the
/// service account do exactly what the launcher does there, and nothing elsewhere, as the
/// API server's own authorizer answers.
#[test]
fn the_readme_rbac_command_grants_exactly_the_launchers_verbs_in_that_namespace() {
    use k8s_openapi::api::authorization::v1::{
        ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
    };
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    use kube::api::{Api, PostParams};

    let root = common::repo_root();
    let block = xtask::docs::block_by_id(&root, "rbac").expect("the README's RBAC block");
    let [line] = block.command_lines().try_into().expect("one command line");
    let (command, apply) = line
        .split_once(" | ")
        .expect("`cargo xtask rbac ... | kubectl ...`");
    assert_eq!(apply.trim(), "kubectl apply -f -");
    let words = xtask::docs::split_words(command).expect("words");
    assert_eq!(words[..3], ["cargo", "xtask", "rbac"]);
    let flag = |name: &str| {
        let at = words.iter().position(|w| w == name).expect(name);
        words[at + 1].clone()
    };
    let (namespace, service_account) = (flag("--namespace"), flag("--service-account"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(&words[2..])
        .current_dir(&root)
        .output()
        .expect("xtask runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest = String::from_utf8(output.stdout).expect("UTF-8");

    let cluster = cluster::Cluster::start().expect("cluster starts");
    for ns in [namespace.as_str(), "another-team"] {
        cluster.create_namespace(ns).expect("namespace");
    }
    for doc in serde_saphyr::from_multiple::<serde_json::Value>(&manifest).expect("YAML") {
        let ns = doc["metadata"]["namespace"]
            .as_str()
            .expect("namespaced")
            .to_owned();
        assert_eq!(
            ns, namespace,
            "every object goes to the namespace asked for"
        );
        let pp = PostParams::default();
        match doc["kind"].as_str() {
            Some("Role") => {
                let role: Role = serde_json::from_value(doc).expect("Role");
                cluster
                    .block_on(Api::<Role>::namespaced(cluster.client(), &ns).create(&pp, &role))
                    .expect("the API server accepts the Role");
            }
            Some("RoleBinding") => {
                let binding: RoleBinding = serde_json::from_value(doc).expect("RoleBinding");
                cluster
                    .block_on(
                        Api::<RoleBinding>::namespaced(cluster.client(), &ns).create(&pp, &binding),
                    )
                    .expect("the API server accepts the RoleBinding");
            }
            other => panic!("unexpected kind {other:?}"),
        }
    }

    let user = format!("system:serviceaccount:{namespace}:{service_account}");
    let reviews: Api<SubjectAccessReview> = Api::all(cluster.client());
    let allowed = |ns: &str, group: &str, resource: &str, verb: &str| {
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(user.clone()),
                groups: Some(vec![
                    "system:serviceaccounts".into(),
                    format!("system:serviceaccounts:{namespace}"),
                    "system:authenticated".into(),
                ]),
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(ns.into()),
                    group: Some(group.into()),
                    resource: Some(resource.into()),
                    verb: Some(verb.into()),
                    ..ResourceAttributes::default()
                }),
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let answer = cluster
            .block_on(reviews.create(&PostParams::default(), &review))
            .expect("the authorizer answers");
        answer.status.expect("status").allowed
    };

    let group = "sagemaker.services.k8s.aws";
    let grants = xtask::regenerate::plan(&root).expect("plan").grants;
    assert_eq!(grants.len(), 13, "every kind with a component");
    let all_verbs = [
        "get",
        "list",
        "watch",
        "create",
        "delete",
        "patch",
        "update",
        "deletecollection",
    ];
    for grant in &grants {
        for verb in all_verbs {
            let expected = xtask::rbac::LAUNCHER_VERBS.contains(&verb)
                || (grant.updatable && xtask::rbac::UPDATE_VERBS.contains(&verb));
            assert_eq!(
                allowed(&namespace, group, &grant.plural, verb),
                expected,
                "{verb} {} in {namespace}",
                grant.plural
            );
            assert!(
                !allowed("another-team", group, &grant.plural, verb),
                "{verb} {} in another namespace",
                grant.plural
            );
        }
    }
    let updatable: Vec<&str> = (grants.iter().filter(|g| g.updatable))
        .map(|g| g.plural.as_str())
        .collect();
    assert_eq!(updatable, ["endpoints", "monitoringschedules"]);
    for (group, resource) in [
        ("", "secrets"),
        ("", "pods"),
        ("", "configmaps"),
        (group, "apps"),
    ] {
        for verb in ["get", "list", "create"] {
            assert!(
                !allowed(&namespace, group, resource, verb),
                "{verb} {resource}"
            );
        }
    }
}

#[test]
fn a_name_kubernetes_would_refuse_is_refused_with_nothing_printed() {
    let run = |namespace: &str, service_account: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args([
                "rbac",
                "--namespace",
                namespace,
                "--service-account",
                service_account,
            ])
            .env("RUST_BACKTRACE", "0")
            .output()
            .expect("xtask runs")
    };
    for (namespace, service_account, named) in [
        ("Team_A", "default-editor", "--namespace `Team_A`"),
        ("team-a-", "default-editor", "--namespace `team-a-`"),
        (
            &"a".repeat(64) as &str,
            "default-editor",
            "--namespace `aaaa",
        ),
        (
            "team-a",
            "Default Editor",
            "--service-account `Default Editor`",
        ),
        ("team-a", "editor..x", "--service-account `editor..x`"),
    ] {
        let output = run(namespace, service_account);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{namespace} {service_account}"
        );
        assert!(stderr.contains(named), "{stderr}");
        assert!(output.stdout.is_empty(), "nothing printed");
    }
    let fine = run("kubeflow", "pipeline-runner.v1");
    assert!(
        fine.status.success(),
        "{}",
        String::from_utf8_lossy(&fine.stderr)
    );
    let text = String::from_utf8(fine.stdout).expect("UTF-8");
    assert!(
        text.contains("  name: pipeline-runner.v1\n  namespace: kubeflow\n"),
        "{text}"
    );
}
