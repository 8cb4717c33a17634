//! `cargo xtask regenerate --controller-version <tag> [--controller <name>]`: pin a
//! controller release's CRDs, regenerate, and report the schema drift. Each controller is
//! pinned at its own release; an upgrade moves one controller's CRDs only.
//!
//! Everything is fetched, checked and generated in memory first; only then are the CRDs,
//! the lock and `generated/` written, each file whole (written beside its target, then
//! renamed). A failure before that point leaves the working tree exactly as it was.

use std::collections::{BTreeMap, BTreeSet};
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
    /// Template keys the new release cannot honour, for the reviewer
    /// ([`crate::template_fit`]).
    pub notes: Vec<String>,
    pub generated_changed: Vec<(String, Change)>,
}

/// Pins every locked CRD of one controller at `release`, fetched from `base_url`; the
/// other controllers' CRDs stay pinned where they are. `controller` may be left out when
/// the lock pins CRDs of one controller only.
pub fn upgrade(
    root: &Path,
    controller: Option<&str>,
    release: &str,
    base_url: &str,
) -> anyhow::Result<Upgrade> {
    let lock = Lock::read(root)?;
    let controller = pick_controller(&lock, controller)?;
    let mut new_lock = Lock::default();
    let mut texts = BTreeMap::new();
    let mut drifts = Vec::new();
    for locked in &lock.crds {
        let old_yaml = locked.read_verified(root)?;
        if locked.controller != controller {
            texts.insert(locked.repo_path(), old_yaml);
            new_lock.crds.push(locked.clone());
            continue;
        }
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
        notes: plan.notes,
        generated_changed,
    })
}

/// The controller to upgrade: the one named, which the lock must pin, or the only one.
fn pick_controller<'a>(lock: &'a Lock, named: Option<&'a str>) -> anyhow::Result<&'a str> {
    let controllers: BTreeSet<&str> = lock.crds.iter().map(|c| c.controller.as_str()).collect();
    match (named, controllers.len()) {
        (Some(name), _) if controllers.contains(name) => Ok(name),
        (Some(name), _) => bail!(
            "{LOCK_FILE} pins no CRD of {name}; it pins {}",
            controllers.into_iter().collect::<Vec<_>>().join(", ")
        ),
        (None, 1) => Ok(controllers.into_iter().next().unwrap_or_default()),
        (None, _) => bail!(
            "{LOCK_FILE} pins CRDs of several controllers ({}), each at its own release: \
             name the one to upgrade with --controller",
            controllers.into_iter().collect::<Vec<_>>().join(", ")
        ),
    }
}
