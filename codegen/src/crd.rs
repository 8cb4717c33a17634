//! Parsing a CustomResourceDefinition (apiextensions.k8s.io/v1) from YAML.
//!
//! The CRD is read into k8s-openapi's typed `CustomResourceDefinition`, whose
//! `JSONSchemaProps` has a field for every keyword the API server knows, the
//! `x-kubernetes-*` ones included; a schema shape the generator does not handle is then a
//! named case in [`crate::lower`], never a silently dropped key in a catch-all map.
//!
//! YAML goes through serde-saphyr: maintained, pure Rust, panic-free on bad input, and
//! what kube-rs itself moved to when serde_yaml was archived.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};

use crate::error::Error;

/// The parts of a CRD the generator reads, at the version it generates for.
#[derive(Clone, Debug)]
pub struct ParsedCrd {
    pub name: String,
    pub group: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    pub version: String,
    pub schema: JSONSchemaProps,
}

/// Parses one CRD document.
pub fn parse(yaml: &str) -> Result<ParsedCrd, Error> {
    let definition: CustomResourceDefinition =
        serde_saphyr::from_str(yaml).map_err(|e| Error::Yaml(e.to_string()))?;
    let name = definition.metadata.name.unwrap_or_default();
    let spec = definition.spec;
    // The storage version is the one the API server persists; ACK CRDs have exactly one.
    let index = (spec.versions.iter().position(|v| v.storage && v.served))
        .or_else(|| spec.versions.iter().position(|v| v.served))
        .ok_or_else(|| Error::Crd {
            crd: name.clone(),
            problem: "no served version".to_owned(),
        })?;
    // Taken, not cloned: the schema is most of the CRD.
    let version = spec
        .versions
        .into_iter()
        .nth(index)
        .ok_or_else(|| Error::Crd {
            crd: name.clone(),
            problem: "no served version".to_owned(),
        })?;
    let schema = (version.schema.and_then(|s| s.open_api_v3_schema)).ok_or_else(|| Error::Crd {
        crd: name.clone(),
        problem: format!("version {} has no openAPIV3Schema", version.name),
    })?;
    Ok(ParsedCrd {
        group: spec.group,
        kind: spec.names.kind,
        plural: spec.names.plural,
        namespaced: spec.scope == "Namespaced",
        version: version.name,
        schema,
        name,
    })
}
