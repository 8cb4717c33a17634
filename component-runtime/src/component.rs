//! What the generator knows about a kind's component, as a trait the generated code
//! implements for every kind whose template names the field the launcher fills: the
//! launcher subcommand its command runs, the resource's inputs and outputs, the spec field
//! that names it, its ACK conditions and ARN, and the fields the controller updates. The launcher is written against this
//! trait, and adds only what a person decides (when a kind is done or failed, what an
//! update looks like, what is worth logging).

use crate::outputs::OutputValue;
use crate::reader::{InputErrors, ResourceInputs};

/// A kind of resource as a component: implemented by the generated resource type
/// (`generated::endpoint::Endpoint`).
pub trait Component: Sized {
    type Spec;
    type Status;
    /// The component's input flags (`<Kind>Inputs`).
    type Inputs;
    /// The component's output-file flags (`<Kind>OutputPaths`).
    type OutputPaths;
    /// The type of `status.conditions`' items: the ACK runtime's `Condition`.
    type Condition;

    /// The launcher's subcommand that the component's command runs (`endpoint`).
    const SUBCOMMAND: &'static str;
    /// The input of the spec field that names the resource (and the SageMaker resource),
    /// which the launcher fills when it is left empty.
    const NAME_INPUT: &'static str;
    /// The top-level spec fields (JSON names) the ACK controller updates on an existing
    /// resource; empty when it cannot update the kind.
    const UPDATABLE_FIELDS: &'static [&'static str];

    /// A resource named `name` with this spec, `apiVersion` and `kind` set, and no status.
    fn new(name: &str, spec: Self::Spec) -> Self;
    /// Reads every input into the spec (the name field empty when its input is), or
    /// reports every problem found in them.
    fn read(inputs: &Self::Inputs) -> Result<ResourceInputs<Self::Spec>, InputErrors>;
    /// The `region` and name inputs as given, for the checks the reader cannot make.
    fn given(inputs: &Self::Inputs) -> Given<'_>;
    /// The spec field that names the resource.
    fn name(spec: &Self::Spec) -> &str;
    fn set_name(spec: &mut Self::Spec, name: String);
    fn spec(&self) -> &Self::Spec;
    fn status(&self) -> Option<&Self::Status>;
    fn conditions(status: &Self::Status) -> &[Self::Condition];
    /// `status.ackResourceMetadata.arn`, once the controller has created the resource.
    fn arn(status: &Self::Status) -> Option<&str>;
    /// Each output's file and its value in the resource as last seen (none seen: every
    /// output is absent), in component.yaml's order.
    fn outputs<'a>(paths: &'a Self::OutputPaths, resource: Option<&Self>) -> Vec<OutputValue<'a>>;
}

/// Two inputs as given on the command line, before they are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Given<'a> {
    pub region: Option<&'a str>,
    /// The input of [`Component::NAME_INPUT`].
    pub name: Option<&'a str>,
}
