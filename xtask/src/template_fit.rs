//! A component template names top-level spec fields of its kind (`filled_by_launcher`,
//! `spec_outputs`, `updatable`), written against the pinned release. Another release of
//! the controller may lack one of them: an older release, or a field renamed. This is
//! checked before the generator sees the template, against the release being generated, so
//! that what is said names the field, the kind, the release and the template file.
//!
//! An `updatable` field the release lacks is left out of what the launcher updates (the
//! kind's `UPDATABLE_FIELDS`), with a note for the reviewer: the controller of that release
//! cannot update a field it does not have. A name field the launcher fills or a spec output
//! the release lacks is an error: the component cannot be generated without them.

use anyhow::bail;
use codegen::{ComponentTemplate, ResourceModel};

use crate::lock::LockedCrd;

/// The template as it applies to one release, and what was left out of it.
#[derive(Debug)]
pub struct Fitted {
    pub template: ComponentTemplate,
    /// One line per `updatable` field left out, for the reviewer.
    pub notes: Vec<String>,
}

/// Fits `template` (read from `template_path`) to the release of `locked` that `model` was
/// lowered from.
pub fn fit(
    mut template: ComponentTemplate,
    model: &ResourceModel,
    locked: &LockedCrd,
    template_path: &str,
) -> anyhow::Result<Fitted> {
    let spec = model.object(model.spec);
    let has = |field: &str| spec.fields.iter().any(|f| f.json_name == field);
    let release = format!("{} {}", locked.controller, locked.release);
    let required = (template
        .filled_by_launcher
        .keys()
        .map(|f| ("filled_by_launcher", f)))
    .chain(template.spec_outputs.values().map(|f| ("spec_outputs", f)));
    for (key, field) in required {
        if !has(field) {
            bail!(
                "{template_path}: `{key}` names `{field}`, a spec field that {kind} of {release} \
                 does not have ({crd} has no top-level `spec.{field}`); the component cannot be \
                 generated without it: name this release's field in the template",
                kind = model.kind,
                crd = locked.repo_path(),
            );
        }
    }
    let mut notes = Vec::new();
    template.updatable.retain(|field| {
        let kept = has(field);
        if !kept {
            notes.push(format!(
                "{kind} of {release} has no spec field `{field}`, which {template_path} lists \
                 as `updatable`: left out of what the launcher updates ({kind}::UPDATABLE_FIELDS)",
                kind = model.kind,
            ));
        }
        kept
    });
    Ok(Fitted { template, notes })
}
