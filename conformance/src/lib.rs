//! The generated code of every SageMaker CRD in the fixture mirror, compiled: all CRDs of
//! releases v0.4.2 and v1.9.1 (`v1_9_1::training_job::TrainingJob`, ...), every TrainingJob
//! release with the real component template (`training_job_releases::v0_0_1`, ...), and
//! the synthetic CRDs (`widget`, `awkward`), and the CRDs shaped like other controllers'
//! (`other_controllers::bucket`).
//!
//! The modules are written by `build.rs` from the fixtures. A warning in any of them fails
//! the build, which is the test that generated code is warning-free for all CRDs.
#![deny(warnings)]

include!(concat!(env!("OUT_DIR"), "/corpus.rs"));

/// Reads a JSON value as a generated type and writes it back, or says why it cannot.
pub type RoundTrip = fn(serde_json::Value) -> Result<serde_json::Value, String>;

/// Reads `value` as a `T` and writes it back as JSON: what [`RESOURCES`] holds per type.
///
/// # Errors
///
/// Why `value` is not a `T` (or, never expected, why a `T` does not serialise).
pub fn round_trip<T>(value: serde_json::Value) -> Result<serde_json::Value, String>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let typed: T = serde_json::from_value(value).map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}
