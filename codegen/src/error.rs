//! The generator's one error type: what is wrong, and where (the CRD, the schema path, the
//! template or the component).

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid YAML: {0}")]
    Yaml(String),
    #[error("CRD {crd}: {problem}")]
    Crd { crd: String, problem: String },
    #[error("schema path `{path}`: {what}")]
    Unsupported { path: String, what: String },
    #[error("component template: {0}")]
    Template(String),
    #[error("component for {kind}: {problem}")]
    Component { kind: String, problem: String },
}
