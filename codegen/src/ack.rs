//! The types the ACK runtime defines and every ACK CRD repeats (`Condition`,
//! `AckResourceMetadata`, the resource and secret references), generated once into a
//! module of their own that each kind's module imports, so code that reads conditions is
//! written against one type for all kinds.
//!
//! Sharing is decided by schema, never by name: a kind's type becomes the shared one only
//! where its lowered shape (property names, required-ness and types, recursively; the
//! descriptions aside) is that of the runtime's type in `ack_runtime.yaml`. A type that
//! merely looks alike (an older release's metadata without `partition`) stays the kind's
//! own.

use std::sync::OnceLock;

use crate::model::{FieldType, ResourceModel, TypeDef, TypeId, TypeKind};
use crate::{crd, lower};

/// The module's name, beside the kinds' modules (`super::ack::Condition`).
pub const MODULE: &str = "ack";

/// The runtime's types as controller-gen writes them into every CRD.
const RUNTIME_CRD: &str = include_str!("ack_runtime.yaml");

/// Names the runtime's Go types have, where the property they sit under says less.
const NAMES: &[(&str, &str)] = &[
    ("spec.resourceReference", "AwsResourceReferenceWrapper"),
    ("spec.resourceReference.from", "AwsResourceReference"),
];

/// The runtime's types, lowered like any CRD (once per process).
pub fn runtime() -> &'static ResourceModel {
    static RUNTIME: OnceLock<ResourceModel> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let parsed = crd::parse(RUNTIME_CRD).expect("ack_runtime.yaml is a valid CRD");
        let mut model = lower::lower_unshared(&parsed).expect("ack_runtime.yaml lowers");
        for ty in &mut model.types {
            let path = ty.path.to_string();
            if let Some((_, name)) = NAMES.iter().find(|(p, _)| *p == path) {
                ty.name = (*name).to_owned();
            }
        }
        model
    })
}

/// The runtime types a kind's type may be replaced by: those directly under the
/// reference's spec and status, with their nested types.
fn roots(runtime: &ResourceModel) -> impl Iterator<Item = TypeId> + '_ {
    [Some(runtime.spec), runtime.status]
        .into_iter()
        .flatten()
        .flat_map(|root| &runtime.object(root).fields)
        .filter_map(|field| named(&field.ty))
}

fn named(ty: &FieldType) -> Option<TypeId> {
    match ty {
        FieldType::Named(id) => Some(*id),
        FieldType::Array(inner) | FieldType::Map(inner) => named(inner),
        _ => None,
    }
}

/// If the object `id` of `types` (its nested types lowered) has the shape of a runtime
/// type, marks it and its nested types as shared, with the runtime's names.
pub(crate) fn share(types: &mut [TypeDef], id: TypeId) {
    let runtime = runtime();
    for root in roots(runtime) {
        let mut pairs = Vec::new();
        if same_shape(types, id, &runtime.types, root, &mut pairs) {
            for (own, shared) in pairs {
                types[own.0].shared = true;
                types[own.0].name.clone_from(&runtime.types[shared.0].name);
            }
            return;
        }
    }
}

/// The two types have the same side, fields and field types, recursively. `pairs`
/// collects which type of `a` stands for which of `b`.
fn same_shape(
    a: &[TypeDef],
    a_id: TypeId,
    b: &[TypeDef],
    b_id: TypeId,
    pairs: &mut Vec<(TypeId, TypeId)>,
) -> bool {
    let (ta, tb) = (&a[a_id.0], &b[b_id.0]);
    if ta.side != tb.side {
        return false;
    }
    pairs.push((a_id, b_id));
    match (&ta.kind, &tb.kind) {
        (TypeKind::Object(oa), TypeKind::Object(ob)) => {
            oa.fields.len() == ob.fields.len()
                && oa.fields.iter().zip(&ob.fields).all(|(fa, fb)| {
                    fa.json_name == fb.json_name
                        && fa.required == fb.required
                        && same_field_type(a, &fa.ty, b, &fb.ty, pairs)
                })
        }
        (TypeKind::Enum(ea), TypeKind::Enum(eb)) => {
            ea.variants.len() == eb.variants.len()
                && (ea.variants.iter().zip(&eb.variants))
                    .all(|(va, vb)| va.json_value == vb.json_value)
        }
        _ => false,
    }
}

fn same_field_type(
    a: &[TypeDef],
    fa: &FieldType,
    b: &[TypeDef],
    fb: &FieldType,
    pairs: &mut Vec<(TypeId, TypeId)>,
) -> bool {
    match (fa, fb) {
        (FieldType::Named(x), FieldType::Named(y)) => same_shape(a, *x, b, *y, pairs),
        (FieldType::Array(x), FieldType::Array(y)) | (FieldType::Map(x), FieldType::Map(y)) => {
            same_field_type(a, x, b, y, pairs)
        }
        (FieldType::Named(_) | FieldType::Array(_) | FieldType::Map(_), _) => false,
        _ => fa == fb,
    }
}
