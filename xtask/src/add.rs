//! `cargo xtask add <controller> <kind> --release <tag>`: pin one more CRD, of any ACK
//! controller, instead of editing the lock by hand.
//!
//! The file is the one ACK releases name `<service>.services.k8s.aws_<plural>.yaml` under
//! `helm/crds/` (`s3-controller`, `Bucket` -> `s3.services.k8s.aws_buckets.yaml`; `--file`
//! for a plural the simple English rule gets wrong). Like an upgrade, everything is
//! fetched, checked and generated first; then the CRD, the lock entry, a template stub
//! (`component-template/<module>.yaml`, if there is none) and `generated/` are written.

use std::path::Path;

use anyhow::{Context, bail};

use crate::fetch;
use crate::files::write_whole;
use crate::lock::{LOCK_FILE, Lock, LockedCrd, sha256_hex};
use crate::regenerate::{self, Change, TEMPLATE_DIR};

/// What `add` wrote.
#[derive(Debug)]
pub struct Added {
    pub crd: LockedCrd,
    /// The module the kind is generated into (`generated/src/<module>.rs`).
    pub module: String,
    /// The template stub, if one was written.
    pub template: Option<String>,
    pub generated_changed: Vec<(String, Change)>,
}

/// The CRD file name ACK releases use for a kind: `s3.services.k8s.aws_buckets.yaml`.
pub fn release_file_name(controller: &str, kind: &str) -> String {
    let service = controller.strip_suffix("-controller").unwrap_or(controller);
    let lower = kind.to_lowercase();
    let plural = if let Some(stem) = lower
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        format!("{stem}ies")
    } else if lower.ends_with(['s', 'x']) || lower.ends_with("ch") || lower.ends_with("sh") {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    };
    format!("{service}.services.k8s.aws_{plural}.yaml")
}

pub fn add(
    root: &Path,
    controller: &str,
    kind: &str,
    release: &str,
    base_url: &str,
    file_name: Option<&str>,
) -> anyhow::Result<Added> {
    let mut lock = Lock::read(root)?;
    let file_name = file_name.map_or_else(|| release_file_name(controller, kind), str::to_owned);
    let file = format!("{controller}/{file_name}");
    if lock.crds.iter().any(|c| c.file == file) {
        bail!("{LOCK_FILE} already pins {file}; upgrade it with --controller-version");
    }
    if let Some(other) =
        (lock.crds.iter()).find(|c| c.controller == controller && c.release != release)
    {
        bail!(
            "{LOCK_FILE} pins {controller} at {}; add its CRDs at that release (one release \
             per controller), or upgrade it first",
            other.release
        );
    }
    let url = fetch::release_file_url(base_url, controller, release, &file_name);
    let yaml = fetch::get(&url)?;
    let model = codegen::model(&yaml)
        .with_context(|| format!("{url} is not a CRD the generator can read"))?;
    if model.kind != kind {
        bail!("{url} defines {}, not {kind}", model.kind);
    }
    let pinned = LockedCrd {
        controller: controller.to_owned(),
        release: release.to_owned(),
        file,
        url: fetch::release_file_url(fetch::DEFAULT_BASE_URL, controller, release, &file_name),
        sha256: sha256_hex(yaml.as_bytes()),
    };
    lock.crds.push(pinned.clone());

    let mut models = Vec::new();
    for locked in &lock.crds {
        let text = if locked.file == pinned.file {
            yaml.clone()
        } else {
            locked.read_verified(root)?
        };
        models.push(codegen::model(&text).with_context(|| locked.repo_path())?);
    }
    let module = regenerate::module_names(&models).pop().unwrap_or_default();
    let template_path = format!("{TEMPLATE_DIR}/{module}.yaml");
    let template = (!root.join(&template_path).exists()).then(|| template_stub(kind, &module));
    // Generated as `regenerate` will, with the stub in place.
    let plan = regenerate::plan_with_templates(
        root,
        &lock,
        |locked| {
            if locked.file == pinned.file {
                Ok(yaml.clone())
            } else {
                locked.read_verified(root)
            }
        },
        |path| match (&template, path == template_path) {
            (Some(stub), true) => Some(stub.clone()),
            _ => None,
        },
    )?;

    write_whole(&root.join(pinned.repo_path()), &yaml)?;
    write_whole(&root.join(LOCK_FILE), &lock.to_toml()?)?;
    if let Some(stub) = &template {
        write_whole(&root.join(&template_path), stub)?;
    }
    let generated_changed = regenerate::apply(root, &plan)?;
    Ok(Added {
        crd: pinned,
        module,
        template: template.map(|_| template_path),
        generated_changed,
    })
}

/// A template that generates a working component.yaml, to be named and described by hand.
fn template_stub(kind: &str, module: &str) -> String {
    let generic = codegen::ComponentTemplate::generic(kind);
    format!(
        "# The hand-written parts of the {kind} component.yaml: a stub written by `cargo xtask add`.\n\
         # Name and describe the component, and point `command` at the launcher's subcommand for\n\
         # this kind, before publishing it. The image comes from image.toml next to this file.\n\
         kind: {kind}\n\
         name: {}\n\
         description: {}\n\
         command: [ack-kfp-launcher, {}]\n",
        generic.name,
        generic.description,
        module.replace('_', "-"),
    )
}
