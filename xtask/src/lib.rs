//! The project's development tasks, as a library so that tests can run them in a
//! scratch copy of the repository.
//!
//! Modules depend on each other one way: `add` and `upgrade` -> `regenerate` ->
//! `template_fit` -> `lock`, and `regenerate` -> `image` (the image reference) -> `files`;
//! `pipeline` -> `regenerate` and `image`; `fetch`, `parallel`, `rbac` and `docs` (the
//! documented-commands runner) depend on none. `stack` (`cluster up|down`) and `demo` run
//! the real stack (the `cluster` crate and our SageMaker API) and depend on none of the
//! others; `demo_pipeline` (`demo --pipeline`) also `pipeline`.

pub mod add;
pub mod demo;
pub mod demo_pipeline;
pub mod docs;
pub mod fetch;
pub mod files;
pub mod image;
pub mod lock;
pub mod parallel;
pub mod pipeline;
pub mod rbac;
pub mod regenerate;
pub mod stack;
pub mod template_fit;
pub mod upgrade;
