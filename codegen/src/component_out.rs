//! component.yaml (KFP v1 component format) for one resource.
//!
//! The document is a typed value serialised by serde-saphyr: keys in the order the
//! structs declare them, block style, strings quoted wherever a YAML 1.1 reader (PyYAML,
//! which both KFP SDKs use) would read them as something else, and descriptions on one
//! line, never folded. Placeholders use KFP's flow style (`{inputValue: role_arn}`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_saphyr::{FlowMap, FlowSeq};

use crate::component::{ComponentModel, Presence};
use crate::error::Error;

#[derive(Serialize)]
struct ComponentSpec<'a> {
    name: &'a str,
    description: &'a str,
    inputs: Vec<InputSpec<'a>>,
    outputs: Vec<OutputSpec<'a>>,
    implementation: Implementation<'a>,
}

#[derive(Serialize)]
struct InputSpec<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    ty: &'static str,
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    optional: bool,
}

#[derive(Serialize)]
struct OutputSpec<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    ty: &'static str,
    description: &'a str,
}

#[derive(Serialize)]
struct Implementation<'a> {
    container: Container<'a>,
}

#[derive(Serialize)]
struct Container<'a> {
    image: &'a str,
    command: &'a [String],
    args: Vec<Arg>,
}

/// One element of the container's `args`.
#[derive(Serialize)]
#[serde(untagged)]
enum Arg {
    Literal(String),
    Placeholder(FlowMap<Placeholder>),
    If { r#if: IfPlaceholder },
}

/// `{inputValue: NAME}` or `{outputPath: NAME}`.
type Placeholder = BTreeMap<&'static str, String>;

fn placeholder(kind: &'static str, name: &str) -> Arg {
    Arg::Placeholder(FlowMap(BTreeMap::from([(kind, name.to_owned())])))
}

#[derive(Serialize)]
struct IfPlaceholder {
    cond: FlowMap<IsPresent>,
    then: FlowSeq<Vec<Arg>>,
}

#[derive(Serialize)]
struct IsPresent {
    #[serde(rename = "isPresent")]
    is_present: String,
}

/// The whole file, `header` lines first as YAML comments.
pub fn emit(component: &ComponentModel, header: &[String]) -> Result<String, Error> {
    let template = &component.template;
    let mut args = Vec::new();
    let inputs = component
        .inputs
        .iter()
        .map(|input| {
            let flag = Arg::Literal(format!("--{}", input.name));
            let value = placeholder("inputValue", &input.name);
            let (default, optional) = match input.presence {
                Presence::Required => (None, false),
                Presence::NeutralDefault(default) => (Some(default), false),
                // The launcher reads an empty value as "fill it in".
                Presence::FilledByLauncher => (Some(""), false),
                Presence::IfPresent => (None, true),
            };
            if optional {
                args.push(Arg::If {
                    r#if: IfPlaceholder {
                        cond: FlowMap(IsPresent {
                            is_present: input.name.clone(),
                        }),
                        then: FlowSeq(vec![flag, value]),
                    },
                });
            } else {
                args.extend([flag, value]);
            }
            InputSpec {
                name: &input.name,
                ty: input.kfp_type.name(),
                description: &input.description,
                default,
                optional,
            }
        })
        .collect();
    let outputs = component
        .outputs
        .iter()
        .map(|output| {
            args.push(Arg::Literal(format!("--{}", output.flag())));
            args.push(placeholder("outputPath", &output.name));
            OutputSpec {
                name: &output.name,
                ty: output.kfp_type.name(),
                description: &output.description,
            }
        })
        .collect();
    let spec = ComponentSpec {
        name: &template.name,
        description: &template.description,
        inputs,
        outputs,
        implementation: Implementation {
            container: Container {
                image: &template.image,
                command: &template.command,
                args,
            },
        },
    };
    let options = serde_saphyr::ser_options! {
        prefer_block_scalars: false,
    };
    let body = serde_saphyr::to_string_with_options(&spec, options)
        .map_err(|e| Error::Yaml(e.to_string()))?;
    let mut out: String = header.iter().map(|line| format!("# {line}\n")).collect();
    out.push_str(&body);
    Ok(out)
}
