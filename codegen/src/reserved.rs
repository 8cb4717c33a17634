//! The names a generated module writes itself, which no type of the schema may take: the
//! resource's own types, the prelude names it uses unqualified and the names it imports.
//! A leaf: [`crate::type_names`] avoids these names and [`crate::rust_out`] writes them.

/// Prelude names that the generated module writes unqualified.
pub const PRELUDE_NAMES: &[&str] = &[
    "String", "Option", "Vec", "Result", "Some", "None", "Ok", "Err", "Self", "Default",
];

/// The names the generated module imports with `use` (`rust_out`'s `use_lines`; its
/// tests check that every imported name is listed here).
pub const IMPORTED_NAMES: &[&str] = &[
    "BTreeMap",
    "PathBuf",
    "IntOrString",
    "ObjectMeta",
    "Time",
    "Deserialize",
    "Serialize",
    "InputErrors",
    "InputReader",
    "KfpType",
    "OutputValue",
    "ResourceInputs",
];

/// The names of a resource's root types and of the component parts generated beside them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedNames {
    /// The resource type: the CRD's kind.
    pub kind: String,
    pub spec: String,
    pub status: String,
    /// The component's input flags.
    pub inputs: String,
    /// The component's output-file flags.
    pub output_paths: String,
}

impl FixedNames {
    pub fn of(kind: &str) -> Self {
        FixedNames {
            kind: kind.to_owned(),
            spec: format!("{kind}Spec"),
            status: format!("{kind}Status"),
            inputs: format!("{kind}Inputs"),
            output_paths: format!("{kind}OutputPaths"),
        }
    }

    pub fn all(&self) -> [&str; 5] {
        [
            &self.kind,
            &self.spec,
            &self.status,
            &self.inputs,
            &self.output_paths,
        ]
    }
}

/// Whether the generated module of `kind` uses `name` itself.
pub fn is_reserved(kind: &FixedNames, name: &str) -> bool {
    kind.all().contains(&name) || PRELUDE_NAMES.contains(&name) || IMPORTED_NAMES.contains(&name)
}
