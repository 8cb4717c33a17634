//! What changed between two versions of a resource's schema, and what that means for the
//! component's users.
//!
//! Computed from the two [`ResourceModel`]s, not from the YAML text: every property path
//! (`spec.resourceConfig.instanceGroups[].instanceType`) with its JSON type, format,
//! required-ness, enum values and description is compared, then each change is judged
//! by where it lands: a top-level spec field is a component input, a top-level status
//! field an output, anything deeper is inside a JsonObject/JsonArray input or output.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use component_runtime::KfpType;

use crate::component::kfp_type;
use crate::model::{FieldType, ResourceModel, Scalar, TypeId, TypeKind};
use crate::naming;

/// One schema path as the drift report sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathInfo {
    /// `string`, `string(date-time)`, `integer(int32)`, `array`, `map`, `object`, `json`...
    pub json_type: String,
    pub required: bool,
    pub enum_values: Option<BTreeSet<String>>,
    pub description: Option<String>,
    /// The KFP type, for a top-level spec or status field.
    pub kfp_type: Option<KfpType>,
}

/// Every property path of a resource's spec and status, in path order.
pub fn paths(model: &ResourceModel) -> BTreeMap<String, PathInfo> {
    let mut out = BTreeMap::new();
    walk_object(model, model.spec, "spec", true, &mut out);
    if let Some(status) = model.status {
        walk_object(model, status, "status", true, &mut out);
    }
    out
}

fn walk_object(
    model: &ResourceModel,
    id: TypeId,
    prefix: &str,
    top_level: bool,
    out: &mut BTreeMap<String, PathInfo>,
) {
    for field in &model.object(id).fields {
        let path = format!("{prefix}.{}", field.json_name);
        walk_value(
            model,
            &field.ty,
            path,
            field.required,
            field.description.clone(),
            top_level,
            out,
        );
    }
}

fn walk_value(
    model: &ResourceModel,
    ty: &FieldType,
    path: String,
    required: bool,
    description: Option<String>,
    top_level: bool,
    out: &mut BTreeMap<String, PathInfo>,
) {
    let (json_type, enum_values) = match ty {
        FieldType::Scalar(Scalar::String) => ("string".to_owned(), None),
        FieldType::Scalar(Scalar::DateTime) => ("string(date-time)".to_owned(), None),
        FieldType::Scalar(Scalar::Int32) => ("integer(int32)".to_owned(), None),
        FieldType::Scalar(Scalar::Int64) => ("integer(int64)".to_owned(), None),
        FieldType::Scalar(Scalar::Float64) => ("number".to_owned(), None),
        FieldType::Scalar(Scalar::Bool) => ("boolean".to_owned(), None),
        FieldType::Named(id) => match &model.ty(*id).kind {
            TypeKind::Object(_) => ("object".to_owned(), None),
            TypeKind::Enum(e) => (
                "string".to_owned(),
                Some(e.variants.iter().map(|v| v.json_value.clone()).collect()),
            ),
        },
        FieldType::Array(_) => ("array".to_owned(), None),
        FieldType::Map(_) => ("map".to_owned(), None),
        FieldType::Json => ("json".to_owned(), None),
        FieldType::IntOrString => ("int-or-string".to_owned(), None),
    };
    out.insert(
        path.clone(),
        PathInfo {
            json_type,
            required,
            enum_values,
            description,
            kfp_type: top_level.then(|| kfp_type(ty, model)),
        },
    );
    match ty {
        FieldType::Named(id) if matches!(model.ty(*id).kind, TypeKind::Object(_)) => {
            walk_object(model, *id, &path, false, out);
        }
        FieldType::Array(items) => {
            walk_value(model, items, format!("{path}[]"), true, None, false, out);
        }
        FieldType::Map(values) => {
            walk_value(model, values, format!("{path}{{}}"), true, None, false, out);
        }
        _ => {}
    }
}

/// How one path changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathChange {
    Added {
        /// Paths below this one that were added with it.
        nested: usize,
    },
    Removed {
        nested: usize,
    },
    TypeChanged {
        from: String,
        to: String,
    },
    RequiredChanged {
        now_required: bool,
    },
    EnumChanged {
        added: Vec<String>,
        removed: Vec<String>,
    },
}

/// What a change means for a pipeline that uses the component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Impact {
    pub path: String,
    pub change: PathChange,
    /// The component input or output it touches, e.g. `input resource_config`.
    pub component: String,
    /// A short sentence for the reviewer.
    pub meaning: String,
    pub breaking: bool,
    /// Not breaking for pipelines, but code that reads the value should be looked at: a
    /// changed enum on the status side (the launcher's completion rule, consumers that
    /// match on a status value).
    pub review: bool,
}

/// The drift between two versions of one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drift {
    pub kind: String,
    pub from: String,
    pub to: String,
    pub paths_before: usize,
    pub paths_after: usize,
    pub impacts: Vec<Impact>,
    /// Paths whose description alone changed.
    pub description_only: Vec<String>,
}

impl Drift {
    pub fn has_schema_change(&self) -> bool {
        !self.impacts.is_empty()
    }

    pub fn is_breaking(&self) -> bool {
        self.impacts.iter().any(|i| i.breaking)
    }

    /// The top-level paths added (nested ones folded into their parent), for tests and
    /// summaries.
    pub fn added(&self) -> Vec<&str> {
        self.with(|c| matches!(c, PathChange::Added { .. }))
    }

    pub fn removed(&self) -> Vec<&str> {
        self.with(|c| matches!(c, PathChange::Removed { .. }))
    }

    fn with(&self, pred: impl Fn(&PathChange) -> bool) -> Vec<&str> {
        self.impacts
            .iter()
            .filter(|i| pred(&i.change))
            .map(|i| i.path.as_str())
            .collect()
    }
}

/// Compares two versions of the same resource. `from` and `to` label them (release tags).
pub fn compare(old: &ResourceModel, new: &ResourceModel, from: &str, to: &str) -> Drift {
    let (before, after) = (paths(old), paths(new));
    let mut impacts = Vec::new();
    let mut description_only = Vec::new();

    let added: Vec<&String> = after.keys().filter(|p| !before.contains_key(*p)).collect();
    let removed: Vec<&String> = before.keys().filter(|p| !after.contains_key(*p)).collect();
    for (paths, map, is_added) in [(&added, &after, true), (&removed, &before, false)] {
        let set: BTreeSet<&str> = paths.iter().map(|p| p.as_str()).collect();
        for path in paths {
            if parent_paths(path).any(|parent| set.contains(parent)) {
                continue;
            }
            let nested = set.iter().filter(|p| is_below(p, path)).count();
            let change = if is_added {
                PathChange::Added { nested }
            } else {
                PathChange::Removed { nested }
            };
            let info = &map[*path];
            impacts.push(judge(path, change, info, info));
        }
    }
    for (path, old_info) in &before {
        let Some(new_info) = after.get(path) else {
            continue;
        };
        let mut changed = false;
        if old_info.json_type != new_info.json_type {
            changed = true;
            let change = PathChange::TypeChanged {
                from: old_info.json_type.clone(),
                to: new_info.json_type.clone(),
            };
            impacts.push(judge(path, change, old_info, new_info));
        }
        if old_info.required != new_info.required {
            changed = true;
            let change = PathChange::RequiredChanged {
                now_required: new_info.required,
            };
            impacts.push(judge(path, change, old_info, new_info));
        }
        if old_info.enum_values != new_info.enum_values {
            changed = true;
            let (old_values, new_values) = (
                old_info.enum_values.clone().unwrap_or_default(),
                new_info.enum_values.clone().unwrap_or_default(),
            );
            let change = PathChange::EnumChanged {
                added: new_values.difference(&old_values).cloned().collect(),
                removed: old_values.difference(&new_values).cloned().collect(),
            };
            impacts.push(judge(path, change, old_info, new_info));
        }
        if !changed && old_info.description != new_info.description {
            description_only.push(path.clone());
        }
    }
    impacts.sort_by(|a, b| a.path.cmp(&b.path));
    Drift {
        kind: new.kind.clone(),
        from: from.to_owned(),
        to: to.to_owned(),
        paths_before: before.len(),
        paths_after: after.len(),
        impacts,
        description_only,
    }
}

/// `spec.a.b[].c` -> `spec.a.b[]`, `spec.a.b`, `spec.a`, `spec`.
fn parent_paths(path: &str) -> impl Iterator<Item = &str> {
    path.char_indices()
        .rev()
        .filter(|(i, c)| *c == '.' || ((*c == '[' || *c == '{') && *i > 0))
        .map(move |(i, _)| &path[..i])
}

fn is_below(candidate: &str, path: &str) -> bool {
    candidate.len() > path.len()
        && candidate.starts_with(path)
        && matches!(candidate.as_bytes()[path.len()], b'.' | b'[' | b'{')
}

/// The component input or output a path belongs to, and whether it is that top-level
/// field itself.
fn owner(path: &str) -> (String, bool) {
    let mut parts = path.splitn(2, '.');
    let side = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default();
    let end = rest.find(['.', '[', '{']).unwrap_or(rest.len());
    let field = &rest[..end];
    let what = if side == "spec" { "input" } else { "output" };
    (
        format!("{what} {}", naming::snake_case(field)),
        end == rest.len(),
    )
}

/// What `change` at `path` means for the component. `old` and `new` are the path's
/// info before and after; an added or removed path has only one, passed as both.
fn judge(path: &str, change: PathChange, old: &PathInfo, new: &PathInfo) -> Impact {
    let (component, top_level) = owner(path);
    let is_input = path.starts_with("spec.");
    let kfp = |info: &PathInfo| info.kfp_type.map(KfpType::name).unwrap_or_default();
    let (meaning, breaking) = match (&change, is_input, top_level) {
        (PathChange::Added { .. }, true, true) if new.required => (
            format!(
                "new required {} input: pipelines must now pass it",
                kfp(new)
            ),
            true,
        ),
        (PathChange::Added { .. }, true, true) => {
            (format!("new optional {} input", kfp(new)), false)
        }
        (PathChange::Added { .. }, false, true) => (format!("new {} output", kfp(new)), false),
        (PathChange::Added { .. }, true, false) if new.required => (
            "new required field inside the input: values without it are now rejected".into(),
            true,
        ),
        (PathChange::Added { .. }, _, false) => ("new field inside it".into(), false),
        (PathChange::Removed { .. }, true, true) => (
            "input removed: pipelines that pass it no longer compile".into(),
            true,
        ),
        (PathChange::Removed { .. }, false, true) => (
            "output removed: pipelines that consume it no longer compile".into(),
            true,
        ),
        (PathChange::Removed { .. }, true, false) => (
            "field removed from the input: values that set it are now rejected".into(),
            true,
        ),
        (PathChange::Removed { .. }, false, false) => (
            "field removed from the output: consumers reading it get nothing".into(),
            true,
        ),
        (PathChange::TypeChanged { .. }, _, true) if old.kfp_type != new.kfp_type => (
            format!(
                "{} type changes from {} to {}",
                if is_input { "input" } else { "output" },
                kfp(old),
                kfp(new)
            ),
            true,
        ),
        (PathChange::TypeChanged { .. }, true, _) => (
            "field retyped: values of the old type are now rejected".into(),
            true,
        ),
        (PathChange::TypeChanged { .. }, false, _) => (
            "field retyped in the output: consumers may misread it".into(),
            true,
        ),
        (PathChange::RequiredChanged { now_required: true }, true, _) => {
            ("now required: values without it are rejected".into(), true)
        }
        (
            PathChange::RequiredChanged {
                now_required: false,
            },
            true,
            _,
        ) => ("no longer required".into(), false),
        (PathChange::RequiredChanged { now_required }, false, _) => (
            format!(
                "the controller {} writes it",
                if *now_required {
                    "always"
                } else {
                    "no longer always"
                }
            ),
            !now_required,
        ),
        (PathChange::EnumChanged { removed, .. }, true, _) if !removed.is_empty() => (
            "allowed values removed: values using them are now rejected".into(),
            true,
        ),
        (PathChange::EnumChanged { .. }, true, _) => ("allowed values changed".into(), false),
        (PathChange::EnumChanged { .. }, false, _) => (
            "the controller's values changed: review code that matches on them (the \
             generated type reads an unlisted value as `Other`)"
                .into(),
            false,
        ),
    };
    let review = !is_input && matches!(change, PathChange::EnumChanged { .. });
    Impact {
        path: path.to_owned(),
        change,
        component,
        meaning,
        breaking,
        review,
    }
}

impl Impact {
    /// `BREAKING`, `REVIEW` or `ok`, as the text report's first column.
    pub fn verdict(&self) -> &'static str {
        if self.breaking {
            "BREAKING"
        } else if self.review {
            "REVIEW"
        } else {
            "ok"
        }
    }
}

impl PathChange {
    fn label(&self) -> String {
        match self {
            PathChange::Added { nested: 0 } => "added".to_owned(),
            PathChange::Added { nested } => format!("added (+{nested} nested)"),
            PathChange::Removed { nested: 0 } => "removed".to_owned(),
            PathChange::Removed { nested } => format!("removed (+{nested} nested)"),
            PathChange::TypeChanged { from, to } => format!("type {from} -> {to}"),
            PathChange::RequiredChanged { now_required: true } => "optional -> required".into(),
            PathChange::RequiredChanged {
                now_required: false,
            } => "required -> optional".into(),
            PathChange::EnumChanged { added, removed } => {
                format!("enum +{added:?} -{removed:?}")
            }
        }
    }
}

/// The report for a terminal: a summary line, then one aligned row per change.
pub fn render_text(drift: &Drift) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", summary(drift));
    if !drift.has_schema_change() {
        return out;
    }
    let rows: Vec<[String; 4]> = drift
        .impacts
        .iter()
        .map(|i| {
            [
                i.verdict().to_owned(),
                i.path.clone(),
                i.change.label(),
                format!("{}: {}", i.component, i.meaning),
            ]
        })
        .collect();
    let header = ["", "path", "change", "for the component"].map(str::to_owned);
    let mut widths = [0; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:w0$}  {:w1$}  {:w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if !drift.description_only.is_empty() {
        let _ = writeln!(
            out,
            "description text changed on {} more paths",
            drift.description_only.len()
        );
    }
    out
}

/// The report as Markdown, for a pull request description.
pub fn render_markdown(drift: &Drift) -> String {
    let mut out = format!(
        "### {} {} -> {}\n\n{}\n",
        drift.kind,
        drift.from,
        drift.to,
        summary(drift)
    );
    if drift.has_schema_change() {
        out.push_str("\n| | path | change | for the component |\n|---|---|---|---|\n");
        for i in &drift.impacts {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {}: {} |",
                match i.verdict() {
                    "BREAKING" => "**breaking**",
                    "REVIEW" => "**review**",
                    _ => "",
                },
                i.path,
                i.change.label(),
                i.component,
                i.meaning
            );
        }
    }
    if drift.has_schema_change() && !drift.description_only.is_empty() {
        let _ = writeln!(
            out,
            "\nDescription text also changed on {} paths: {}.",
            drift.description_only.len(),
            drift
                .description_only
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}

fn summary(drift: &Drift) -> String {
    let head = format!(
        "{} {} -> {}: {} -> {} schema paths",
        drift.kind, drift.from, drift.to, drift.paths_before, drift.paths_after
    );
    if !drift.has_schema_change() {
        return if drift.description_only.is_empty() {
            format!(
                "{head}; no schema change (the CRD differs at most in formatting or controller-gen annotations)."
            )
        } else {
            format!(
                "{head}; no schema change, descriptions only ({} paths).",
                drift.description_only.len()
            )
        };
    }
    let breaking = drift.impacts.iter().filter(|i| i.breaking).count();
    let review = drift
        .impacts
        .iter()
        .filter(|i| i.verdict() == "REVIEW")
        .count();
    format!(
        "{head}; {} added, {} removed, {} other changes; {}{}.",
        drift.added().len(),
        drift.removed().len(),
        drift.impacts.len() - drift.added().len() - drift.removed().len(),
        if breaking == 0 {
            "nothing breaking for pipelines".to_owned()
        } else {
            format!("{breaking} BREAKING for pipelines")
        },
        if review == 0 {
            String::new()
        } else {
            format!("; {review} to REVIEW (status values changed)")
        }
    )
}
