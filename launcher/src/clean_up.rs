//! After SIGTERM or SIGINT: deleting the resource if it is this step's (the uid created or
//! attached to, or, while the create's answer is unknown, a resource of the name with this
//! step's inputs and identity), so the controller stops the SageMaker job. A finished
//! long-lived resource, or one the step updates, outlives the step and is left. Everything
//! within [`CLEAN_UP_BUDGET`]; what could not be done is logged.

use std::time::Duration;

use kube::api::{DeleteParams, Preconditions};

use crate::ack::Verdict;
use crate::api::{self, CallError};
use crate::exit::Failure;
use crate::kinds::{self, Class, Kind};
use crate::log::log;
use crate::progress::Progress;

/// Clean-up after a signal must end within Kubernetes' default 30 s grace period, with
/// room for writing the outputs.
pub const CLEAN_UP_BUDGET: Duration = Duration::from_secs(20);

/// Deletes this step's resource; returns the refusal if the API did not allow the
/// clean-up (the step's Role lacks a verb).
pub async fn clean_up<K: Kind>(progress: &Progress<K>) -> Option<Failure> {
    let deadline = tokio::time::Instant::now() + CLEAN_UP_BUDGET;
    let left = || deadline.saturating_duration_since(tokio::time::Instant::now());
    let Some(own) = progress.own() else {
        log!(
            "nothing of this step's to delete (nothing was created, or the step updates a resource that outlives it)"
        );
        return None;
    };
    let name = own.name.as_str();
    let api = &own.api;
    // Read first: the outputs get the latest status, and the uid is checked. A create cut
    // short by the signal may still land on the server a moment later: while its answer
    // is unknown, look a few times before concluding there is nothing to delete.
    let mut looks = 0;
    let uid = loop {
        looks += 1;
        // With the uid known the read is only for a fresh status: it may not eat the
        // delete's time.
        let read_for = if own.uid.is_some() {
            left().min(Duration::from_secs(5))
        } else {
            left()
        };
        match api::call("read the resource", read_for, || api.get_opt(name)).await {
            Ok(Some(existing)) => {
                let ours = match &own.uid {
                    Some(uid) => existing.meta().uid.as_ref() == Some(uid),
                    None => own.fingerprint.compare(&existing).ours(),
                };
                if !ours {
                    log!("{name} is not this step's; leaving it");
                    return None;
                }
                let uid = existing.meta().uid.clone();
                let kept = done_and_kept(&existing);
                progress.saw(&existing);
                match uid {
                    Some(uid) if !kept => break uid,
                    _ => return None,
                }
            }
            Ok(None) if own.uid.is_none() && looks < 4 => {
                tokio::time::sleep(Duration::from_millis(500).min(left())).await;
            }
            Ok(None) => {
                log!("nothing of this step's to delete");
                return None;
            }
            Err(error) => match own.uid.clone() {
                // The uid is known: delete without the fresh status.
                Some(uid) => {
                    log!("could not read {name} before deleting it: {error:?}");
                    if progress.last_seen().as_ref().is_some_and(done_and_kept) {
                        return None;
                    }
                    break uid;
                }
                None => {
                    log!(
                        "could not read {name} to delete it ({error:?}); if it exists, delete it by hand to stop the SageMaker job"
                    );
                    return forbidden(error);
                }
            },
        }
    };
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some(uid),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api::call("delete the resource", left(), || api.delete(name, &params)).await {
        Ok(_) => log!("deleted {name}; the controller stops the SageMaker job"),
        Err(CallError::Api(status)) if status.code == 404 => log!("{name} is already gone"),
        Err(CallError::Api(status)) if status.code == 409 => {
            log!("{name} is now another resource (its uid changed); leaving it");
        }
        Err(error) => {
            log!(
                "could not delete {name} ({error:?}): the SageMaker job keeps running; delete the resource by hand to stop it"
            );
            return forbidden(error);
        }
    }
    None
}

/// Whether a resource this step created is done and outlives the step: a Model, an
/// endpoint in service. Only a job is deleted whatever its state (which stops it).
fn done_and_kept<K: Kind>(resource: &K) -> bool {
    let done =
        K::CLASS != Class::Job && matches!(kinds::verdict(resource), Verdict::Succeeded { .. });
    if done {
        log!(
            "{} is done: a {} outlives the step that made it, so the cancel leaves it",
            resource.meta().name.as_deref().unwrap_or_default(),
            K::NOUN
        );
    }
    done
}

/// The failure to end with when the API refused the credentials during clean-up.
fn forbidden(error: CallError) -> Option<Failure> {
    match error {
        CallError::Failed(refused @ Failure::Forbidden(_)) => Some(refused),
        _ => None,
    }
}
