//! The lowering pass: from a parsed CRD's openAPIV3Schema to the [`ResourceModel`].
//!
//! Every property of `spec` and `status` becomes a field; every object with properties a
//! named type; every string with `enum` a named enum. Schema shapes with no faithful Rust
//! type are an [`Error::Unsupported`] naming the path, not a guess. Types leave this pass
//! unnamed: [`crate::share`] and [`crate::type_names`] name them.

use std::collections::BTreeSet;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};

use crate::crd::ParsedCrd;
use crate::error::Error;
use crate::model::{
    EnumType, EnumVariant, Field, FieldType, ObjectType, PathSegment, ResourceModel, Scalar,
    SchemaPath, Side, TypeDef, TypeId, TypeKind,
};
use crate::naming;

/// Builds the model of one resource, its types not yet named.
pub fn lower(crd: &ParsedCrd) -> Result<ResourceModel, Error> {
    let root = &crd.schema;
    let properties = root.properties.as_ref();
    let spec_schema = properties
        .and_then(|p| p.get("spec"))
        .ok_or_else(|| Error::Crd {
            crd: crd.name.clone(),
            problem: "the schema has no `spec` property".to_owned(),
        })?;
    let status_schema = properties.and_then(|p| p.get("status"));

    let mut lowerer = Lowerer { types: Vec::new() };
    let spec_path = SchemaPath(vec![PathSegment::Property("spec".to_owned())]);
    let spec = lowerer.object(&spec_path, Side::Spec, spec_schema)?;
    let status = status_schema
        .map(|schema| {
            let path = SchemaPath(vec![PathSegment::Property("status".to_owned())]);
            lowerer.object(&path, Side::Status, schema)
        })
        .transpose()?;

    Ok(ResourceModel {
        crd_name: crd.name.clone(),
        group: crd.group.clone(),
        version: crd.version.clone(),
        kind: crd.kind.clone(),
        plural: crd.plural.clone(),
        namespaced: crd.namespaced,
        description: root.description.clone(),
        spec,
        status,
        types: lowerer.types,
    })
}

struct Lowerer {
    types: Vec<TypeDef>,
}

impl Lowerer {
    /// Adds the object type at `path` (and, first, the types of its fields).
    fn object(
        &mut self,
        path: &SchemaPath,
        side: Side,
        schema: &JSONSchemaProps,
    ) -> Result<TypeId, Error> {
        // Take the slot before the fields' types, so types are listed parent first.
        let id = self.push(
            path,
            side,
            schema,
            TypeKind::Object(ObjectType { fields: vec![] }),
        );
        let required: BTreeSet<&str> = schema
            .required
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let mut fields = Vec::new();
        let mut rust_names = BTreeSet::new();
        for (json_name, property) in schema.properties.iter().flatten() {
            let field_path = path.child(PathSegment::Property(json_name.clone()));
            let Some(rust_name) = naming::field_ident(json_name) else {
                return Err(Error::Unsupported {
                    path: field_path.to_string(),
                    what: format!(
                        "property name {json_name:?} has no ASCII letter or digit to make a \
                         Rust name from"
                    ),
                });
            };
            let ty = self.field_type(&field_path, side, property)?;
            fields.push(Field {
                rust_name: unique(rust_name, "_", &mut rust_names),
                json_name: json_name.clone(),
                ty,
                required: required.contains(json_name.as_str()),
                description: property.description.clone(),
            });
        }
        for name in &required {
            if !schema.properties.iter().flatten().any(|(p, _)| p == name) {
                return Err(Error::Unsupported {
                    path: path.to_string(),
                    what: format!("`required` names `{name}`, which is not a property"),
                });
            }
        }
        self.types[id.0].kind = TypeKind::Object(ObjectType { fields });
        Ok(id)
    }

    fn push(
        &mut self,
        path: &SchemaPath,
        side: Side,
        schema: &JSONSchemaProps,
        kind: TypeKind,
    ) -> TypeId {
        self.types.push(TypeDef {
            // Decided by the later passes: `share`, then `type_names`.
            name: String::new(),
            path: path.clone(),
            side,
            description: schema.description.clone(),
            kind,
            shared: false,
        });
        TypeId(self.types.len() - 1)
    }

    fn field_type(
        &mut self,
        path: &SchemaPath,
        side: Side,
        schema: &JSONSchemaProps,
    ) -> Result<FieldType, Error> {
        if schema.x_kubernetes_int_or_string == Some(true) {
            return Ok(FieldType::IntOrString);
        }
        if schema.x_kubernetes_preserve_unknown_fields == Some(true) {
            // Whatever the listed properties say, any field is kept: only JSON holds that.
            return Ok(FieldType::Json);
        }
        let unsupported = |what: String| Error::Unsupported {
            path: path.to_string(),
            what,
        };
        for (keyword, present) in [
            ("allOf", schema.all_of.is_some()),
            ("anyOf", schema.any_of.is_some()),
            ("oneOf", schema.one_of.is_some()),
            ("$ref", schema.ref_path.is_some()),
        ] {
            if present {
                return Err(unsupported(format!("`{keyword}` is not supported")));
            }
        }
        let ty = match schema.type_.as_deref() {
            Some("string") if schema.enum_.is_some() => {
                FieldType::Named(self.enumeration(path, side, schema)?)
            }
            Some("string") => match schema.format.as_deref() {
                Some("date-time") => FieldType::Scalar(Scalar::DateTime),
                Some("int-or-string") => FieldType::IntOrString,
                _ => FieldType::Scalar(Scalar::String),
            },
            Some("integer") => match schema.format.as_deref() {
                Some("int32") => FieldType::Scalar(Scalar::Int32),
                _ => FieldType::Scalar(Scalar::Int64),
            },
            Some("number") => FieldType::Scalar(Scalar::Float64),
            Some("boolean") => FieldType::Scalar(Scalar::Bool),
            Some("array") => match &schema.items {
                Some(JSONSchemaPropsOrArray::Schema(items)) => FieldType::Array(Box::new(
                    self.field_type(&path.child(PathSegment::Items), side, items)?,
                )),
                Some(JSONSchemaPropsOrArray::Schemas(_)) => {
                    return Err(unsupported("tuple-typed `items` are not supported".into()));
                }
                None => FieldType::Array(Box::new(FieldType::Json)),
            },
            Some("object") | None => {
                let has_properties = schema.properties.as_ref().is_some_and(|p| !p.is_empty());
                match (&schema.additional_properties, has_properties) {
                    (_, true) => FieldType::Named(self.object(path, side, schema)?),
                    (Some(JSONSchemaPropsOrBool::Schema(values)), false) => {
                        FieldType::Map(Box::new(self.field_type(
                            &path.child(PathSegment::Values),
                            side,
                            values,
                        )?))
                    }
                    (Some(JSONSchemaPropsOrBool::Bool(true)), false) => {
                        FieldType::Map(Box::new(FieldType::Json))
                    }
                    // An object with nothing said about its contents, or no type at all.
                    _ => FieldType::Json,
                }
            }
            Some(other) => return Err(unsupported(format!("unknown type `{other}`"))),
        };
        Ok(ty)
    }

    fn enumeration(
        &mut self,
        path: &SchemaPath,
        side: Side,
        schema: &JSONSchemaProps,
    ) -> Result<TypeId, Error> {
        let mut variants = Vec::new();
        let mut rust_names = BTreeSet::new();
        for value in schema.enum_.iter().flatten() {
            let serde_json::Value::String(json_value) = &value.0 else {
                return Err(Error::Unsupported {
                    path: path.to_string(),
                    what: format!("enum value {} is not a string", value.0),
                });
            };
            let mut base = naming::pascal_case(json_value);
            if !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
                base.insert(0, 'V');
            }
            let rust_name = unique(base, "", &mut rust_names);
            variants.push(EnumVariant {
                json_value: json_value.clone(),
                rust_name,
            });
        }
        Ok(self.push(path, side, schema, TypeKind::Enum(EnumType { variants })))
    }
}

/// Names that differ in JSON can meet in Rust (`fooID`, `foo_id`): the later one, in
/// property order, gets a numeric suffix.
fn unique(base: String, separator: &str, taken: &mut BTreeSet<String>) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}{separator}{n}");
        n += 1;
    }
    name
}
