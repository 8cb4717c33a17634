//! `cargo xtask regenerate --controller-version <tag>`: pin a controller release's CRDs,
//! regenerate, and report the schema drift.
//!
//! Everything is fetched, checked and generated in memory first; only then are the CRDs,
//! the lock and `generated/` written, each file whole (written beside its target, then
//! renamed). A failure before that point leaves the working tree exactly as it was.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use codegen::drift::Drift;

use crate::fetch;
use crate::files::write_whole;
use crate::lock::{LOCK_FILE, Lock, LockedCrd, sha256_hex};
use crate::regenerate::{self, Change, Plan};

/// What an upgrade did.
#[derive(Debug)]
pub struct Upgrade {
    /// One per CRD, old release against new.
    pub drifts: Vec<Drift>,
    /// Files written under `crds/`.
    pub crds_changed: Vec<String>,
    pub generated_changed: Vec<(String, Change)>,
}

/// Pins every locked CRD at `release`, fetched from `base_url`.
pub fn upgrade(root: &Path, release: &str, base_url: &str) -> anyhow::Result<Upgrade> {
    let lock = Lock::read(root)?;
    let mut new_lock = Lock::default();
    let mut texts = BTreeMap::new();
    let mut drifts = Vec::new();
    for locked in &lock.crds {
        let old_yaml = locked.read_verified(root)?;
        let old = codegen::model(&old_yaml).with_context(|| locked.repo_path())?;
        let file_name = locked.file.rsplit('/').next().unwrap_or(&locked.file);
        let url = fetch::release_file_url(base_url, &locked.controller, release, file_name);
        let yaml = fetch::get(&url)?;
        let new = codegen::model(&yaml)
            .with_context(|| format!("{url} is not a CRD the generator can read"))?;
        if (new.group.as_str(), new.kind.as_str()) != (old.group.as_str(), old.kind.as_str()) {
            bail!(
                "{url} defines {} ({}), not {} ({}) like {}",
                new.kind,
                new.group,
                old.kind,
                old.group,
                locked.repo_path()
            );
        }
        drifts.push(codegen::drift::compare(
            &old,
            &new,
            &locked.release,
            release,
        ));
        let pinned = LockedCrd {
            release: release.to_owned(),
            url: fetch::release_file_url(
                fetch::DEFAULT_BASE_URL,
                &locked.controller,
                release,
                file_name,
            ),
            sha256: sha256_hex(yaml.as_bytes()),
            ..locked.clone()
        };
        texts.insert(pinned.repo_path(), yaml);
        new_lock.crds.push(pinned);
    }
    let plan: Plan = regenerate::plan_with(root, &new_lock, |locked| {
        Ok(texts[&locked.repo_path()].clone())
    })?;

    // Everything is known and valid: now write.
    let mut crds_changed = Vec::new();
    for (path, text) in &texts {
        if std::fs::read(root.join(path)).ok().as_deref() != Some(text.as_bytes()) {
            write_whole(&root.join(path), text)?;
            crds_changed.push(path.clone());
        }
    }
    write_whole(&root.join(LOCK_FILE), &new_lock.to_toml()?)?;
    let generated_changed = regenerate::apply(root, &plan)?;
    Ok(Upgrade {
        drifts,
        crds_changed,
        generated_changed,
    })
}
