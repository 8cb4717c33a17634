//! Reading a `CustomResourceDefinition` (apiextensions.k8s.io/v1) into what the double needs
//! to serve it: names, scope, served versions, the status subresource flag and each version's
//! `openAPIV3Schema`.

use serde_json::Value;

/// Why a CRD document could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    /// The text is not YAML (or JSON).
    #[error("CRD is not valid YAML: {0}")]
    Yaml(String),
    /// The document is YAML but not a v1 CRD.
    #[error(
        "not an apiextensions.k8s.io/v1 CustomResourceDefinition (kind {kind:?}, apiVersion {api_version:?})"
    )]
    NotACrd {
        /// The document's `kind`.
        kind: String,
        /// The document's `apiVersion`.
        api_version: String,
    },
    /// A field the double relies on is absent or has the wrong type.
    #[error("CRD field {0} is missing or not a string")]
    Missing(&'static str),
    /// Reading a CRD file failed.
    #[error("cannot read CRD file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// One served version of a CRD.
#[derive(Debug, Clone)]
pub struct CrdVersion {
    /// e.g. `v1alpha1`.
    pub name: String,
    /// Whether `subresources.status` is declared (status writes go through `/status` only).
    pub status_subresource: bool,
    /// The version's `schema.openAPIV3Schema` (`Value::Null` when absent: nothing validated).
    pub schema: Value,
}

/// The parts of a CRD the double serves.
#[derive(Debug, Clone)]
pub struct Crd {
    /// API group, e.g. `sagemaker.services.k8s.aws`.
    pub group: String,
    /// `names.kind`, e.g. `TrainingJob`.
    pub kind: String,
    /// `names.listKind`, e.g. `TrainingJobList`.
    pub list_kind: String,
    /// `names.plural`, e.g. `trainingjobs` (the URL segment).
    pub plural: String,
    /// `names.singular`.
    pub singular: String,
    /// `scope: Namespaced`.
    pub namespaced: bool,
    /// Served versions, in CRD order.
    pub versions: Vec<CrdVersion>,
}

impl Crd {
    /// Parses CRD YAML (or JSON) text.
    pub fn from_yaml(text: &str) -> Result<Crd, CrdError> {
        let doc: Value = serde_saphyr::from_str(text).map_err(|e| CrdError::Yaml(e.to_string()))?;
        Self::from_value(&doc)
    }

    /// Reads and parses a CRD file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Crd, CrdError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| CrdError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml(&text)
    }

    /// Interprets an already parsed CRD document.
    pub fn from_value(doc: &Value) -> Result<Crd, CrdError> {
        let s = |v: &Value| v.as_str().map(str::to_string);
        let kind = doc.get("kind").and_then(s).unwrap_or_default();
        let api_version = doc.get("apiVersion").and_then(s).unwrap_or_default();
        if kind != "CustomResourceDefinition" || api_version != "apiextensions.k8s.io/v1" {
            return Err(CrdError::NotACrd { kind, api_version });
        }
        let spec = doc.get("spec").ok_or(CrdError::Missing("spec"))?;
        let names = spec.get("names").ok_or(CrdError::Missing("spec.names"))?;
        let name =
            |k: &str, what: &'static str| names.get(k).and_then(s).ok_or(CrdError::Missing(what));
        let kind = name("kind", "spec.names.kind")?;
        let plural = name("plural", "spec.names.plural")?;
        let list_kind = names
            .get("listKind")
            .and_then(s)
            .unwrap_or_else(|| format!("{kind}List"));
        let singular = names
            .get("singular")
            .and_then(s)
            .unwrap_or_else(|| kind.to_lowercase());
        let group = spec
            .get("group")
            .and_then(s)
            .ok_or(CrdError::Missing("spec.group"))?;
        let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
        let versions = spec
            .get("versions")
            .and_then(Value::as_array)
            .ok_or(CrdError::Missing("spec.versions"))?
            .iter()
            .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(true))
            .map(|v| {
                Ok(CrdVersion {
                    name: v
                        .get("name")
                        .and_then(s)
                        .ok_or(CrdError::Missing("spec.versions[].name"))?,
                    status_subresource: v.pointer("/subresources/status").is_some(),
                    schema: v
                        .pointer("/schema/openAPIV3Schema")
                        .cloned()
                        .unwrap_or(Value::Null),
                })
            })
            .collect::<Result<Vec<_>, CrdError>>()?;
        Ok(Crd {
            group,
            kind,
            list_kind,
            plural,
            singular,
            namespaced,
            versions,
        })
    }

    /// The served version called `name`.
    pub fn version(&self, name: &str) -> Option<&CrdVersion> {
        self.versions.iter().find(|v| v.name == name)
    }

    /// A handle naming this CRD's first served version, for the in-process helpers.
    pub fn resource(&self) -> crate::ResourceRef {
        crate::ResourceRef {
            group: self.group.clone(),
            version: self
                .versions
                .first()
                .map(|v| v.name.clone())
                .unwrap_or_default(),
            plural: self.plural.clone(),
        }
    }
}
