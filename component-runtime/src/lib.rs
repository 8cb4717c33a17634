//! The hand-written code that generated component code calls at run time.
//!
//! Kubeflow Pipelines hands every component input to the container as one command-line
//! string, spelled as the SDK and backend spell it (see [`kfp_type`]); optional inputs
//! always arrive, carrying a neutral default that means "not set". The generated
//! `*Inputs::read` calls an [`InputReader`] once per input, which reads every spelling
//! into the generated spec types and collects every problem with its input name and JSON
//! path ([`reader`]). The generated `*OutputPaths::values` list the outputs that
//! [`write_outputs`] writes. [`Component`] is what the generator knows about a kind's
//! component, implemented by the generated code for each kind the launcher runs.

pub mod component;
pub mod kfp_type;
pub mod outputs;
pub mod reader;

pub use component::{Component, Given};
pub use kfp_type::KfpType;
pub use outputs::{OutputValue, write_outputs};
pub use reader::{InputError, InputErrors, InputReader, ResourceInputs};
