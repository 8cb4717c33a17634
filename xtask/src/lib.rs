//! The project's development tasks, as a library so that tests can run them in a
//! scratch copy of the repository.

pub mod fetch;
pub mod image;
pub mod lock;
pub mod parallel;
pub mod regenerate;
pub mod upgrade;
