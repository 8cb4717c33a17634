//! The pass that shares the ACK runtime's types: a kind's object type whose lowered shape
//! (property names, required-ness and types, recursively; the descriptions aside) is that
//! of a runtime type is marked [`TypeDef::shared`] and takes the runtime's name, so that
//! the kind's module imports it from the one `ack` module instead of defining it.
//!
//! Sharing is decided by schema, never by name: a type that merely looks alike (an older
//! release's metadata without `partition`) stays the kind's own. Like typify's
//! replacements, the runtime's model is handed in (see [`crate::ack::runtime`]); this
//! pass never calls back into the lowering.

use crate::model::{FieldType, ResourceModel, TypeDef, TypeId, TypeKind};

/// Marks the types of `model` that have the shape of one of `runtime`'s types.
pub fn share(mut model: ResourceModel, runtime: &ResourceModel) -> ResourceModel {
    let roots: Vec<TypeId> = roots(runtime).collect();
    // Children come after their parents in the list: from the end, a nested type is looked
    // at before the types that hold it.
    for index in (0..model.types.len()).rev() {
        if !matches!(model.types[index].kind, TypeKind::Object(_)) {
            continue;
        }
        for &root in &roots {
            let mut pairs = Vec::new();
            if same_shape(
                &model.types,
                TypeId(index),
                &runtime.types,
                root,
                &mut pairs,
            ) {
                for (own, shared) in pairs {
                    model.types[own.0].shared = true;
                    model.types[own.0]
                        .name
                        .clone_from(&runtime.types[shared.0].name);
                }
                break;
            }
        }
    }
    model
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
