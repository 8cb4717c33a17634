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
