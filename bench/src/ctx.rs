//! What every section of the benchmark needs: where things are, and how many runs.

use std::path::PathBuf;

use crate::workload::Programs;

/// What every section needs.
#[derive(Debug)]
pub struct Ctx {
    pub root: PathBuf,
    /// The directory of this binary and of the measured ones (`target/release`).
    pub bin_dir: PathBuf,
    /// The `measure-rss` wrapper binary.
    pub rss_wrapper: PathBuf,
    pub quick: bool,
    /// Measured runs of each measurement (10, or 2 in quick mode), after one warm-up.
    pub runs: usize,
    pub programs: Programs,
    pub scratch: tempfile::TempDir,
}
