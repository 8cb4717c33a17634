//! The hand-written parts of a component (`component-template/<module>.yaml`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::Error;

/// What the CRD cannot say about a component: its name, image and command, and the spec
/// fields that the launcher fills itself.
///
/// The template file holds everything but the image: every component runs the same
/// launcher image, whose reference lives in one place (`component-template/image.toml`,
/// versioned by `cargo xtask image --set-version`), so the caller sets [`Self::image`]
/// after [`Self::parse`].
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ComponentTemplate {
    /// The CRD kind this template belongs to; generation fails on a mismatch.
    pub kind: String,
    pub name: String,
    pub description: String,
    /// The container image, `repository:version`. Not read from the template file (an
    /// `image:` key there is an unknown field): the caller sets it.
    #[serde(skip)]
    pub image: String,
    pub command: Vec<String>,
    /// Spec fields (by JSON name) that the CRD requires but the launcher fills when the
    /// input is empty, with the sentence that tells the pipeline author so.
    #[serde(default)]
    pub filled_by_launcher: BTreeMap<String, String>,
    /// Outputs that hand on a top-level spec field rather than a status field, by output
    /// name: `sagemaker_resource_name: endpointName` (what the earlier components output
    /// besides the status).
    #[serde(default)]
    pub spec_outputs: BTreeMap<String, String>,
    /// The top-level spec fields (JSON names) the controller updates on an existing
    /// resource; empty for kinds it cannot update. The launcher patches only these, and
    /// only the Role of kinds with some gets `patch`.
    #[serde(default)]
    pub updatable: Vec<String>,
}

impl ComponentTemplate {
    /// A template for a kind that has no hand-written one yet: enough to generate and
    /// compile its types and inputs, not to publish a component.
    pub fn generic(kind: &str) -> Self {
        ComponentTemplate {
            kind: kind.to_owned(),
            name: format!("ACK - {kind}"),
            description: format!("Creates an ACK {kind} and waits for it."),
            image: "ack-sagemaker-kfp-launcher:0.1.0".to_owned(),
            command: vec!["ack-kfp-launcher".to_owned()],
            filled_by_launcher: BTreeMap::new(),
            spec_outputs: BTreeMap::new(),
            updatable: Vec::new(),
        }
    }

    /// Parses a template file; [`Self::image`] is left empty for the caller to set.
    pub fn parse(yaml: &str) -> Result<Self, Error> {
        serde_saphyr::from_str(yaml).map_err(|e| Error::Template(e.to_string()))
    }
}
