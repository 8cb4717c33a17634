//! The generated code of every SageMaker CRD in the fixture mirror (releases v0.4.2 and
//! v1.9.1), compiled: `corpus::v1_9_1::training_job::TrainingJob` and so on.
//!
//! The modules are written by `build.rs` from the fixtures. A warning in any of them fails
//! the build, which is the test that generated code is warning-free for all CRDs.
#![deny(warnings)]

include!(concat!(env!("OUT_DIR"), "/corpus.rs"));
