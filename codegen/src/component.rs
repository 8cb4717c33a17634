//! The KFP component of a resource: its inputs and outputs, derived from the model.
//!
//! Both the Rust input structs and component.yaml are emitted from this one list, so the
//! flags the launcher accepts and the arguments component.yaml passes cannot disagree.

use std::collections::BTreeSet;

use component_runtime::KfpType;

use crate::error::Error;
use crate::model::{Field, FieldType, ResourceModel, Scalar, TypeId, TypeKind};
use crate::template::ComponentTemplate;
use crate::{docs, naming};

/// The input every component has besides its spec fields.
pub const REGION_INPUT: &str = "region";
const REGION_DESCRIPTION: &str = "The AWS region to create the resource in; written to the \
     resource's services.k8s.aws/region annotation, which the ACK controller reads.";

#[derive(Clone, Debug, PartialEq)]
pub struct ComponentModel {
    pub template: ComponentTemplate,
    /// `region` first, then one per top-level spec field in property order.
    pub inputs: Vec<Input>,
    /// One per top-level status field, in property order, then the template's spec
    /// outputs in name order.
    pub outputs: Vec<Output>,
    /// What the launcher reads of the resource besides inputs and outputs; `None` when the
    /// template names no field the launcher fills (the types and inputs are generated, but
    /// the launcher cannot run the kind).
    pub launched: Option<Launched>,
}

/// The fields the launcher reads of a resource it runs (the generated
/// `component_runtime::Component` impl).
#[derive(Clone, Debug, PartialEq)]
pub struct Launched {
    /// The launcher's subcommand the component's command runs (the template's
    /// `command[1]`).
    pub subcommand: String,
    /// The index in [`ComponentModel::inputs`] of the input of the spec field that names
    /// the resource, which the launcher fills when it is empty.
    pub name_input: usize,
    /// That spec field.
    pub name_field: FieldAccess,
    /// `status.conditions`, and the type of its items.
    pub conditions: FieldAccess,
    pub condition_type: TypeId,
    /// `status.ackResourceMetadata`, and its `arn`.
    pub metadata: FieldAccess,
    pub arn: FieldAccess,
}

/// A field as Rust reaches it: its name, and whether it is an `Option`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldAccess {
    pub rust_name: String,
    pub required: bool,
}

impl FieldAccess {
    fn of(field: &Field) -> Self {
        FieldAccess {
            rust_name: field.rust_name.clone(),
            required: field.required,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    /// The component input name, which is also the launcher's flag: `role_arn`.
    pub name: String,
    /// The Rust field of the inputs struct.
    pub rust_name: String,
    pub kfp_type: KfpType,
    pub description: String,
    pub source: InputSource,
    pub presence: Presence,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSource {
    /// The `region` annotation.
    Region,
    /// The top-level spec field with this JSON name (index into the spec's fields).
    SpecField { json_name: String, index: usize },
}

/// Whether an input must be given, and how an optional one is left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    Required,
    /// Always passed; the launcher reads this value as "not set".
    NeutralDefault(&'static str),
    /// Passed only when given, through an `isPresent` condition: no value of the type
    /// can mean "not set" (any number could be meant).
    IfPresent,
    /// Required by the CRD but filled by the launcher when empty.
    FilledByLauncher,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub name: String,
    pub rust_name: String,
    pub kfp_type: KfpType,
    pub description: String,
    /// The JSON name of the top-level field it hands on, in the status or the spec.
    pub json_name: String,
    pub source: OutputSource,
    /// The schema requires the field (old CRDs did for status), so it is no `Option`.
    pub required: bool,
}

/// Where an output's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputSource {
    Status,
    /// A spec field the template names in `spec_outputs`, with its Rust field.
    Spec {
        rust_field: String,
    },
}

impl Output {
    /// The launcher flag that receives this output's file path.
    pub fn flag(&self) -> String {
        format!("{}_output_path", self.name)
    }
}

/// The KFP type of a field's value: scalars by type, an enum as the String it is in JSON,
/// objects, maps and schema-less JSON as a JsonObject, arrays as a JsonArray.
pub fn kfp_type(ty: &FieldType, model: &ResourceModel) -> KfpType {
    match ty {
        FieldType::Scalar(Scalar::String | Scalar::DateTime) | FieldType::IntOrString => {
            KfpType::String
        }
        FieldType::Scalar(Scalar::Int32 | Scalar::Int64) => KfpType::Integer,
        FieldType::Scalar(Scalar::Float64) => KfpType::Float,
        FieldType::Scalar(Scalar::Bool) => KfpType::Bool,
        FieldType::Named(id) => match model.ty(*id).kind {
            TypeKind::Object(_) => KfpType::JsonObject,
            TypeKind::Enum(_) => KfpType::String,
        },
        FieldType::Array(_) => KfpType::JsonArray,
        FieldType::Map(_) | FieldType::Json => KfpType::JsonObject,
    }
}

/// The launcher's own options (its `RunOptions`, and clap's `help` and `version`), as clap
/// ids. A spec field of that name would give a second argument with the same id, which
/// clap refuses by panicking when the launcher starts; a test of the launcher's command
/// line (`launcher/src/cli.rs`) derives its options from its clap command and checks that
/// they are exactly these.
pub const LAUNCHER_OPTIONS: &[&str] = &[
    "api_timeout",
    "dry_run",
    "help",
    "kfp_run_id",
    "kfp_step_id",
    "max_object_bytes",
    "namespace",
    "recoverable_timeout",
    "status_timeout",
    "time_limit",
    "version",
];

/// Python keywords: KFP v1 fails to load a component with an input named like one.
const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

pub fn build(model: &ResourceModel, template: &ComponentTemplate) -> Result<ComponentModel, Error> {
    if template.kind != model.kind {
        return Err(Error::Template(format!(
            "the template is for kind `{}`, the CRD defines `{}`",
            template.kind, model.kind
        )));
    }
    let spec = model.object(model.spec);
    let template_fields = [
        (
            "filled_by_launcher",
            template.filled_by_launcher.keys().collect::<Vec<_>>(),
        ),
        ("spec_outputs", template.spec_outputs.values().collect()),
        ("updatable", template.updatable.iter().collect()),
    ];
    for (key, fields) in template_fields {
        for field in fields {
            if !spec.fields.iter().any(|f| &f.json_name == field) {
                return Err(Error::Template(format!(
                    "{key} names `{field}`, which is not a top-level spec field"
                )));
            }
        }
    }

    let mut inputs = vec![Input {
        name: REGION_INPUT.to_owned(),
        rust_name: REGION_INPUT.to_owned(),
        kfp_type: KfpType::String,
        description: REGION_DESCRIPTION.to_owned(),
        source: InputSource::Region,
        presence: Presence::Required,
    }];
    for (index, field) in spec.fields.iter().enumerate() {
        let kfp_type = kfp_type(&field.ty, model);
        let mut description = describe(field.description.as_deref(), &field.json_name, "spec");
        let presence = if let Some(note) = template.filled_by_launcher.get(&field.json_name) {
            description = format!("{description} {note}");
            Presence::FilledByLauncher
        } else if field.required {
            Presence::Required
        } else {
            kfp_type
                .neutral_default()
                .map_or(Presence::IfPresent, Presence::NeutralDefault)
        };
        let (name, rust_name) = match component_name(&field.json_name, "spec") {
            Renamed::No(name) => (name, field.rust_name.clone()),
            Renamed::Yes(name) => (name.clone(), name),
        };
        inputs.push(Input {
            name,
            rust_name,
            kfp_type,
            description,
            source: InputSource::SpecField {
                json_name: field.json_name.clone(),
                index,
            },
            presence,
        });
    }

    let mut outputs: Vec<Output> = match model.status {
        Some(status) => model
            .object(status)
            .fields
            .iter()
            .map(|field| Output {
                name: match component_name(&field.json_name, "status") {
                    Renamed::No(name) | Renamed::Yes(name) => name,
                },
                rust_name: field.rust_name.clone(),
                kfp_type: kfp_type(&field.ty, model),
                description: describe(field.description.as_deref(), &field.json_name, "status"),
                json_name: field.json_name.clone(),
                source: OutputSource::Status,
                required: field.required,
            })
            .collect(),
        None => Vec::new(),
    };
    for (name, json_name) in &template.spec_outputs {
        let Some(field) = spec.fields.iter().find(|f| &f.json_name == json_name) else {
            continue; // Checked above.
        };
        outputs.push(Output {
            name: name.clone(),
            rust_name: name.clone(),
            kfp_type: kfp_type(&field.ty, model),
            description: format!(
                "The resource's `spec.{json_name}`, as created (the name the launcher derived, \
                 when the input was empty)."
            ),
            json_name: json_name.clone(),
            source: OutputSource::Spec {
                rust_field: field.rust_name.clone(),
            },
            required: field.required,
        });
    }

    check_names("input", inputs.iter().map(|i| i.name.as_str()), &model.kind)?;
    check_names(
        "output",
        outputs.iter().map(|o| o.name.as_str()),
        &model.kind,
    )?;
    let launched = launched(model, template, &inputs)?;
    let flags: Vec<String> = inputs
        .iter()
        .map(|i| i.name.clone())
        .chain(outputs.iter().map(Output::flag))
        .collect();
    check_names(
        "launcher flag",
        flags.iter().map(String::as_str),
        &model.kind,
    )?;

    Ok(ComponentModel {
        template: template.clone(),
        inputs,
        outputs,
        launched,
    })
}

/// The fields the launcher reads, if the template names the one it fills: a String that
/// names the resource (the launcher fills nothing else), with the ACK conditions and ARN in
/// the status.
fn launched(
    model: &ResourceModel,
    template: &ComponentTemplate,
    inputs: &[Input],
) -> Result<Option<Launched>, Error> {
    let mut filled = template.filled_by_launcher.keys();
    let (Some(name_json), None) = (filled.next(), filled.next()) else {
        if template.filled_by_launcher.is_empty() && !template.updatable.is_empty() {
            return Err(Error::Template(
                "`updatable` needs the field the launcher fills (`filled_by_launcher`): only the \
                 launcher updates a resource"
                    .to_owned(),
            ));
        }
        if template.filled_by_launcher.len() > 1 {
            return Err(Error::Template(
                "`filled_by_launcher` names more than one field; the launcher fills one, the \
                 field that names the resource"
                    .to_owned(),
            ));
        }
        return Ok(None);
    };
    let Some(subcommand) = template
        .command
        .get(1)
        .filter(|_| template.command.first().map(String::as_str) == Some("ack-kfp-launcher"))
    else {
        return Err(Error::Template(
            "`command` must run the launcher's subcommand for the kind \
             (`[ack-kfp-launcher, <subcommand>, ...]`): the launcher fills `filled_by_launcher`"
                .to_owned(),
        ));
    };
    let spec = model.object(model.spec);
    let Some(name_field) = spec.fields.iter().find(|f| &f.json_name == name_json) else {
        return Ok(None); // Checked by the caller: a top-level spec field.
    };
    if name_field.ty != FieldType::Scalar(Scalar::String) {
        return Err(Error::Template(format!(
            "filled_by_launcher names `{name_json}`, which is not a string; the launcher fills \
             the field that names the resource"
        )));
    }
    let Some(name_input) = inputs.iter().position(
        |i| matches!(&i.source, InputSource::SpecField { json_name, .. } if json_name == name_json),
    ) else {
        return Ok(None); // Every spec field is an input.
    };
    let missing = |what: &str| Error::Component {
        kind: model.kind.clone(),
        problem: format!("the launcher reads `{what}`, which the CRD does not have"),
    };
    let status = model.status.map(|id| model.object(id));
    let status_field =
        |json: &str| status.and_then(|s| s.fields.iter().find(|f| f.json_name == json));
    let conditions = status_field("conditions").ok_or_else(|| missing("status.conditions"))?;
    let FieldType::Array(items) = &conditions.ty else {
        return Err(missing("status.conditions[]"));
    };
    let FieldType::Named(condition_type) = **items else {
        return Err(missing("status.conditions[]"));
    };
    let metadata =
        status_field("ackResourceMetadata").ok_or_else(|| missing("status.ackResourceMetadata"))?;
    let FieldType::Named(metadata_type) = metadata.ty else {
        return Err(missing("status.ackResourceMetadata.arn"));
    };
    let arn = match &model.ty(metadata_type).kind {
        TypeKind::Object(object) => object
            .fields
            .iter()
            .find(|f| f.json_name == "arn" && f.ty == FieldType::Scalar(Scalar::String)),
        TypeKind::Enum(_) => None,
    }
    .ok_or_else(|| missing("status.ackResourceMetadata.arn"))?;
    Ok(Some(Launched {
        subcommand: subcommand.clone(),
        name_input,
        name_field: FieldAccess::of(name_field),
        conditions: FieldAccess::of(conditions),
        condition_type,
        metadata: FieldAccess::of(metadata),
        arn: FieldAccess::of(arn),
    }))
}

enum Renamed {
    No(String),
    Yes(String),
}

/// The input or output name of a top-level field: its snake_case name, unless that
/// cannot be one (it starts with a digit, is a Python keyword, or is one of the
/// launcher's own options or `region`); then it is prefixed with the side, `spec_` or
/// `status_` (`spec.namespace` -> input `spec_namespace`).
fn component_name(json_name: &str, side: &str) -> Renamed {
    let name = naming::snake_case(json_name);
    let clashes = name.starts_with(|c: char| c.is_ascii_digit())
        || PYTHON_KEYWORDS.contains(&name.as_str())
        || (side == "spec" && (name == REGION_INPUT || LAUNCHER_OPTIONS.contains(&name.as_str())));
    if clashes {
        Renamed::Yes(format!("{side}_{name}"))
    } else {
        Renamed::No(name)
    }
}

fn describe(description: Option<&str>, json_name: &str, side: &str) -> String {
    match description.map(docs::first_sentence) {
        Some(sentence) if !sentence.is_empty() => sentence,
        _ => format!("The resource's {side}.{json_name}."),
    }
}

fn check_names<'a>(
    what: &str,
    names: impl Iterator<Item = &'a str>,
    kind: &str,
) -> Result<(), Error> {
    let mut seen = BTreeSet::new();
    for name in names {
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        let problem = if !valid {
            Some("is not of the form [a-z][a-z0-9_]*".to_owned())
        } else if PYTHON_KEYWORDS.contains(&name) {
            Some("is a Python keyword, which KFP v1 cannot load".to_owned())
        } else if !seen.insert(name) {
            Some("is used twice".to_owned())
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(Error::Component {
                kind: kind.to_owned(),
                problem: format!("{what} name `{name}` {problem}"),
            });
        }
    }
    Ok(())
}
