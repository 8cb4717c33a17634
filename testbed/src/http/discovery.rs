//! Discovery and version documents: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/{group}`,
//! `/apis/{group}/{version}`, built from the registered CRDs (unaggregated v1 discovery).

use serde_json::{Value, json};

use crate::crd::Crd;

pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0+testbed",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub(crate) fn core_versions(addr: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": addr}]
    })
}

pub(crate) fn core_v1() -> Value {
    json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": []})
}

fn group_doc(name: &str, crds: &[&Crd]) -> Value {
    let mut versions: Vec<Value> = Vec::new();
    for crd in crds {
        for v in &crd.versions {
            let gv = json!({"groupVersion": format!("{name}/{}", v.name), "version": v.name});
            if !versions.contains(&gv) {
                versions.push(gv);
            }
        }
    }
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": versions,
        "preferredVersion": versions.first().cloned().unwrap_or(Value::Null),
    })
}

/// Groups in name order, each with the CRDs it holds.
fn groups(crds: &[Crd]) -> Vec<(&str, Vec<&Crd>)> {
    let mut out: Vec<(&str, Vec<&Crd>)> = Vec::new();
    for crd in crds {
        match out.iter_mut().find(|(g, _)| *g == crd.group) {
            Some((_, list)) => list.push(crd),
            None => out.push((&crd.group, vec![crd])),
        }
    }
    out
}

pub(crate) fn group_list(crds: &[Crd]) -> Value {
    let groups: Vec<Value> = groups(crds)
        .into_iter()
        .map(|(g, list)| group_doc(g, &list))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub(crate) fn group(crds: &[Crd], name: &str) -> Option<Value> {
    groups(crds)
        .into_iter()
        .find(|(g, _)| *g == name)
        .map(|(g, list)| group_doc(g, &list))
}

pub(crate) fn resources(crds: &[Crd], group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for crd in crds.iter().filter(|c| c.group == group) {
        let Some(v) = crd.version(version) else {
            continue;
        };
        resources.push(json!({
            "name": crd.plural,
            "singularName": crd.singular,
            "namespaced": crd.namespaced,
            "kind": crd.kind,
            "verbs": ["delete", "get", "list", "patch", "create", "update", "watch"],
        }));
        if v.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", crd.plural),
                "singularName": "",
                "namespaced": crd.namespaced,
                "kind": crd.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    (!resources.is_empty()).then(|| {
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("{group}/{version}"), "resources": resources})
    })
}
