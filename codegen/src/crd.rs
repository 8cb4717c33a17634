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
    CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps,
};

use crate::Error;

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
    /// The whole definition, for anything beyond the above (printer columns,
    /// subresources, annotations).
    pub definition: CustomResourceDefinition,
}

impl ParsedCrd {
    /// The `status` subresource is enabled.
    pub fn has_status_subresource(&self) -> bool {
        self.served_version()
            .and_then(|v| v.subresources.as_ref())
            .is_some_and(|s| s.status.is_some())
    }

    fn served_version(&self) -> Option<&CustomResourceDefinitionVersion> {
        self.definition
            .spec
            .versions
            .iter()
            .find(|v| v.name == self.version)
    }
}

/// Parses one CRD document.
pub fn parse(yaml: &str) -> Result<ParsedCrd, Error> {
    let definition: CustomResourceDefinition =
        serde_saphyr::from_str(yaml).map_err(|e| Error::Yaml(e.to_string()))?;
    let spec = &definition.spec;
    let name = definition.metadata.name.clone().unwrap_or_default();
    // The storage version is the one the API server persists; ACK CRDs have exactly one.
    let version = spec
        .versions
        .iter()
        .find(|v| v.storage && v.served)
        .or_else(|| spec.versions.iter().find(|v| v.served))
        .ok_or_else(|| Error::Crd {
            crd: name.clone(),
            problem: "no served version".to_owned(),
        })?;
    let schema = version
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.clone())
        .ok_or_else(|| Error::Crd {
            crd: name.clone(),
            problem: format!("version {} has no openAPIV3Schema", version.name),
        })?;
    Ok(ParsedCrd {
        group: spec.group.clone(),
        kind: spec.names.kind.clone(),
        plural: spec.names.plural.clone(),
        namespaced: spec.scope == "Namespaced",
        version: version.name.clone(),
        schema,
        name,
        definition,
    })
}
