//! Creating the planned resource, or finding the one of its name: re-attaching to what an
//! earlier attempt of this step created (same inputs, same KFP run and step), following
//! the update an earlier attempt began, or, for a kind the controller updates, updating
//! it ([`crate::update`]). A resource of a kind that cannot be updated is never changed,
//! and each refusal says why and what to do.

use kube::Api;
use kube::api::PostParams;

use crate::api::{self, CallError};
use crate::decode::explain;
use crate::exit::{ApiStatus, Conflict, Failure, Refusal, Unreachable};
use crate::follow::{Goal, Limits};
use crate::identity::{REGION_ANNOTATION, annotation};
use crate::kinds::Kind;
use crate::log::log;
use crate::plan::Planned;
use crate::progress::Progress;
use crate::update;

/// Creates `planned`'s resource, or finds and takes the one of its name; returns it as
/// the API answered, and what the step waits for. Disowns (in `progress`) a resource it
/// writes to but did not create: a cancel never deletes one.
pub async fn create_or_attach<K: Kind>(
    api: &Api<K>,
    planned: &Planned<K>,
    limits: Limits,
    progress: &Progress<K>,
) -> Result<(K, Goal), Failure> {
    let name = &planned.name;
    let params = PostParams::default();
    let created = api::call("create the resource", limits.api_timeout, || {
        api.create(&params, &planned.resource)
    })
    .await;
    let status = match created {
        Ok(created) => {
            log!("created {name}");
            return Ok((created, Goal::Done));
        }
        Err(CallError::Failed(failure)) => return Err(explain(api, name, failure).await),
        Err(CallError::Api(status)) => status,
    };
    match status.code {
        409 => attach(api, planned, limits, progress).await,
        404 => Err(Failure::Unreachable(Unreachable::NotServed {
            kind: K::KIND,
            message: status.message,
        })),
        code => Err(Failure::Refused(Refusal::Create {
            status: ApiStatus::from(&*status),
            causes: (status.details.as_ref())
                .map(|details| {
                    (details.causes.iter())
                        .map(|cause| (cause.field.clone(), cause.message.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            // The inputs broke the CRD's schema or a size limit.
            schema: matches!(code, 400 | 413 | 422),
        })),
    }
}

/// The create found a resource of the name: this step's (re-attach, or follow its
/// update), one to update, or a conflict.
async fn attach<K: Kind>(
    api: &Api<K>,
    planned: &Planned<K>,
    limits: Limits,
    progress: &Progress<K>,
) -> Result<(K, Goal), Failure> {
    let name = &planned.name;
    let existing = match api::call("read the existing resource", limits.api_timeout, || {
        api.get(name)
    })
    .await
    {
        Ok(existing) => existing,
        Err(CallError::Failed(failure)) => return Err(explain(api, name, failure).await),
        Err(CallError::Api(status)) => {
            return Err(Failure::Conflict(Conflict::Unreadable {
                name: name.clone(),
                message: status.message,
            }));
        }
    };
    let comparison = planned.fingerprint.compare(&existing);
    if comparison.ours() {
        if let Some(update) = update::Update::recorded(&existing) {
            progress.disown();
            log!(
                "{name} is being updated by an earlier attempt of this step with the same inputs: following that update"
            );
            return Ok((existing, Goal::Update(update)));
        }
        log!(
            "{name} already exists with the same inputs and KFP run and step: re-attaching to it (an earlier attempt of this step created it)"
        );
        return Ok((existing, Goal::Done));
    }
    if !K::UPDATABLE_FIELDS.is_empty() {
        let region = annotation(&planned.resource, REGION_ANNOTATION);
        let existing_region = annotation(&existing, REGION_ANNOTATION);
        if existing_region != region {
            return Err(Failure::Conflict(Conflict::OtherRegion {
                kind: K::KIND,
                name: name.clone(),
                existing: existing_region.unwrap_or("(none)").to_owned(),
                wanted: region.unwrap_or("(none)").to_owned(),
            }));
        }
        progress.disown();
        let annotations = planned
            .resource
            .meta()
            .annotations
            .clone()
            .unwrap_or_default();
        return match update::begin(
            api,
            existing,
            &planned.resource,
            &annotations,
            limits.api_timeout,
        )
        .await
        {
            Ok(update::Began::Unchanged(existing)) => Ok((existing, Goal::Done)),
            Ok(update::Began::Patched(patched, update)) => Ok((patched, Goal::Update(update))),
            Err(failure) => Err(explain(api, name, failure).await),
        };
    }
    Err(Failure::Conflict(if comparison.same_inputs {
        Conflict::OtherStep {
            kind: K::KIND,
            name: name.clone(),
            recorded: comparison.recorded.unwrap_or_else(|| "none".to_owned()),
            this: (planned.fingerprint.identity.as_ref())
                .map_or_else(|| "none".to_owned(), ToString::to_string),
            name_input: K::NAME_INPUT,
        }
    } else {
        Conflict::NotOurs {
            kind: K::KIND,
            name: name.clone(),
            name_input: K::NAME_INPUT,
        }
    }))
}
