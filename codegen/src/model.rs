//! The typed model of one custom resource: what every output is generated from.
//!
//! Types live in one list and refer to each other by [`TypeId`]; their Rust names are
//! decided once, by [`crate::type_names`], before the model is handed on. Nothing in here
//! is Rust source text: emitters decide how a [`FieldType`] is spelled.

use std::fmt;

/// One custom resource kind, at the version the CRD serves and stores.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceModel {
    /// The CRD's `metadata.name`, e.g. `trainingjobs.sagemaker.services.k8s.aws`.
    pub crd_name: String,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    /// The description of the whole resource, from the schema's root.
    pub description: Option<String>,
    /// `spec`: always an object type.
    pub spec: TypeId,
    /// `status`, if the schema has one.
    pub status: Option<TypeId>,
    /// Every named type, spec and status side alike; `TypeId` indexes into it.
    pub types: Vec<TypeDef>,
}

impl ResourceModel {
    pub fn ty(&self, id: TypeId) -> &TypeDef {
        &self.types[id.0]
    }

    /// The object type behind `id`.
    ///
    /// # Panics
    /// If `id` names an enum; `spec` and `status` never do.
    pub fn object(&self, id: TypeId) -> &ObjectType {
        match &self.types[id.0].kind {
            TypeKind::Object(object) => object,
            TypeKind::Enum(_) => panic!("{} is an enum, not an object", self.types[id.0].path),
        }
    }
}

/// Index of a [`TypeDef`] in [`ResourceModel::types`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(pub usize);

/// A named type: a struct for an object schema, an enum for a string schema with `enum`.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDef {
    /// The Rust type name, unique in the resource.
    pub name: String,
    /// Where in the schema the type comes from.
    pub path: SchemaPath,
    pub side: Side,
    pub description: Option<String>,
    pub kind: TypeKind,
    /// The type is one the ACK runtime defines ([`crate::ack`]): the kind's module imports
    /// it instead of defining it, and `name` is the runtime's.
    pub shared: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    Object(ObjectType),
    Enum(EnumType),
}

/// Which half of the resource a type belongs to. Spec types are written by users and
/// reject unknown fields; status types are written by the controller and must accept
/// fields a newer controller adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Spec,
    Status,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObjectType {
    /// In the schema's property order (alphabetical in controller-gen output).
    pub fields: Vec<Field>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The property name, kept exactly.
    pub json_name: String,
    /// The Rust identifier, as text `syn` parses (`r#type` for a keyword).
    pub rust_name: String,
    pub ty: FieldType,
    pub required: bool,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumType {
    pub variants: Vec<EnumVariant>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumVariant {
    /// The value as JSON holds it.
    pub json_value: String,
    /// The Rust variant name.
    pub rust_name: String,
}

/// The type of a field's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldType {
    Scalar(Scalar),
    /// A named object or enum type.
    Named(TypeId),
    Array(Box<FieldType>),
    /// An object with `additionalProperties`: string keys, values of one type.
    Map(Box<FieldType>),
    /// Any JSON: `x-kubernetes-preserve-unknown-fields`, or an object with no properties.
    Json,
    /// `x-kubernetes-int-or-string`.
    IntOrString,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    String,
    /// `format: date-time`.
    DateTime,
    /// `integer` with `format: int32`.
    Int32,
    /// `integer` with `format: int64` or no format.
    Int64,
    /// `number`.
    Float64,
    Bool,
}

/// A path through the schema: `spec.resourceConfig.instanceGroups[].instanceType`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaPath(pub Vec<PathSegment>);

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathSegment {
    Property(String),
    /// An array's items: `[]`.
    Items,
    /// A map's values: `{}`.
    Values,
}

impl SchemaPath {
    pub fn child(&self, segment: PathSegment) -> SchemaPath {
        let mut segments = self.0.clone();
        segments.push(segment);
        SchemaPath(segments)
    }
}

impl fmt::Display for SchemaPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Property(name) if i == 0 => f.write_str(name)?,
                PathSegment::Property(name) => write!(f, ".{name}")?,
                PathSegment::Items => f.write_str("[]")?,
                PathSegment::Values => f.write_str("{}")?,
            }
        }
        Ok(())
    }
}
