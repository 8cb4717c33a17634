//! The types the ACK runtime defines and every ACK CRD repeats (`Condition`,
//! `AckResourceMetadata`, the resource and secret references), as a model of their own:
//! generated once into the `ack` module that each kind's module imports (so code that
//! reads conditions is written against one type for all kinds), and handed to the
//! [`crate::share`] pass, which decides where a kind's type is one of them.
//!
//! The model comes from a reference schema (`ack_runtime.yaml`, the runtime's types as
//! controller-gen writes them into every CRD), through the same passes as any CRD.

use std::sync::OnceLock;

use crate::model::ResourceModel;
use crate::{crd, lower, type_names};

/// The module's name, beside the kinds' modules (`super::ack::Condition`).
pub const MODULE: &str = "ack";

/// The runtime's types as controller-gen writes them into every CRD.
const RUNTIME_CRD: &str = include_str!("ack_runtime.yaml");

/// Names the runtime's Go types have, where the property they sit under says less.
const NAMES: &[(&str, &str)] = &[
    ("spec.resourceReference", "AwsResourceReferenceWrapper"),
    ("spec.resourceReference.from", "AwsResourceReference"),
];

/// The runtime's types, lowered and named (once per process).
pub fn runtime() -> &'static ResourceModel {
    static RUNTIME: OnceLock<ResourceModel> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let parsed = crd::parse(RUNTIME_CRD).expect("ack_runtime.yaml is a valid CRD");
        let mut model = lower::lower(&parsed).expect("ack_runtime.yaml lowers");
        for ty in &mut model.types {
            let path = ty.path.to_string();
            if let Some((_, name)) = NAMES.iter().find(|(p, _)| *p == path) {
                ty.name = (*name).to_owned();
            }
        }
        type_names::assign(model)
    })
}
