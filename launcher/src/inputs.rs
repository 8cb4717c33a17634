//! Reading a step's inputs: the generated reader's problems, and the checks it cannot
//! make (the form of `region`, the name field against the kind's name rules), all reported
//! together, one line each, before anything reaches the cluster.

use component_runtime::ResourceInputs;

use crate::exit::{Failure, InvalidInput};
use crate::kinds::Kind;
use crate::log::log;
use crate::{naming, region};

/// Every input read into the spec, or every problem with them.
pub fn read<K: Kind>(inputs: &K::Inputs) -> Result<ResourceInputs<K::Spec>, Failure> {
    let given = K::given(inputs);
    let mut problems = Vec::new();
    if let Some(region) = given.region.filter(|r| !r.is_empty())
        && let Err(problem) = region::check(region)
    {
        problems.push(format!("input `region`: {problem}"));
    }
    if let Some(name) = given.name.filter(|n| !n.is_empty())
        && let Err(problem) = naming::job_name(name, K::NAME_MAX)
    {
        problems.push(format!("input `{}`: {problem}", K::NAME_INPUT));
    }
    match K::read(inputs) {
        Ok(read) if problems.is_empty() => {
            if let Some(warning) = region::warning(&read.region) {
                log!("warning: input `region`: {warning}");
            }
            Ok(read)
        }
        Ok(_) => Err(Failure::InvalidInput(InvalidInput::Problems(problems))),
        Err(errors) => {
            problems.splice(0..0, errors.0.iter().map(ToString::to_string));
            Err(Failure::InvalidInput(InvalidInput::Problems(problems)))
        }
    }
}
