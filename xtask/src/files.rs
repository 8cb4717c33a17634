//! Writing files so that no reader sees half of one: the one helper every task that
//! writes into the repository uses (image, regenerate, upgrade), in a module of its own so
//! that those modules do not import each other for it.

use std::path::Path;

use anyhow::Context;

/// Writes beside the target, then renames, so no reader sees half a file.
pub fn write_whole(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))
}
