//! `crds/lock.toml`: which CRD files are vendored, where they came from, and their sha256.

use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const LOCK_FILE: &str = "crds/lock.toml";

const LOCK_HEADER: &str = "\
# The pinned ACK CRDs that `cargo xtask regenerate` generates from. Written by the xtask;
# each file's sha256 is checked before generating.
";

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    #[serde(default, rename = "crd")]
    pub crds: Vec<LockedCrd>,
}

/// One vendored CRD file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LockedCrd {
    /// The controller's repository name, e.g. `sagemaker-controller`.
    pub controller: String,
    /// The release tag the file was taken from.
    pub release: String,
    /// Path under `crds/`.
    pub file: String,
    /// Where the file was downloaded from.
    pub url: String,
    pub sha256: String,
}

impl Lock {
    pub fn read(root: &Path) -> anyhow::Result<Lock> {
        let path = root.join(LOCK_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn to_toml(&self) -> anyhow::Result<String> {
        Ok(format!("{LOCK_HEADER}\n{}", toml::to_string(self)?))
    }
}

impl LockedCrd {
    /// The file's path relative to the repository root.
    pub fn repo_path(&self) -> String {
        format!("crds/{}", self.file)
    }

    /// Reads the vendored file and checks it is the one the lock pins.
    pub fn read_verified(&self, root: &Path) -> anyhow::Result<String> {
        let path = root.join(self.repo_path());
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let actual = sha256_hex(&bytes);
        if actual != self.sha256 {
            bail!(
                "{} does not match {LOCK_FILE}: its sha256 is {actual}, the lock pins {} \
                 ({} {}). Restore the file (git checkout -- {}) or pin a release with \
                 `cargo xtask regenerate --controller-version <tag>`.",
                self.repo_path(),
                self.sha256,
                self.controller,
                self.release,
                self.repo_path(),
            );
        }
        String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
