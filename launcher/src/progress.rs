//! The step's state, shared between the step and the clean-up after a signal: the last
//! state of the resource seen (what the outputs are written from, whichever way the step
//! ends) and what this step may have to delete. The step hands it on ([`crate::attach`],
//! [`crate::follow`]) rather than taking callbacks that write back into it.

use std::sync::{Mutex, MutexGuard, PoisonError};

use kube::Api;

use crate::identity::Fingerprint;
use crate::kinds::Kind;

pub struct Progress<K: Kind> {
    state: Mutex<State<K>>,
}

struct State<K: Kind> {
    last_seen: Option<K>,
    own: Option<Own<K>>,
}

/// A resource this step may have to delete after a signal.
#[derive(Clone)]
pub struct Own<K: Kind> {
    pub api: Api<K>,
    pub name: String,
    pub fingerprint: Fingerprint,
    /// The uid created or attached to; `None` while the create's answer is not known.
    pub uid: Option<String>,
}

impl<K: Kind> Default for Progress<K> {
    fn default() -> Self {
        Progress {
            state: Mutex::new(State {
                last_seen: None,
                own: None,
            }),
        }
    }
}

impl<K: Kind> Progress<K> {
    fn lock(&self) -> MutexGuard<'_, State<K>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The resource as it was just seen.
    pub fn saw(&self, resource: &K) {
        self.lock().last_seen = Some(resource.clone());
    }

    pub fn last_seen(&self) -> Option<K> {
        self.lock().last_seen.clone()
    }

    /// Set just before the create is sent: what a signal from now on may delete.
    pub fn creating(&self, own: Own<K>) {
        self.lock().own = Some(own);
    }

    /// The uid the step created or attached to.
    pub fn attached(&self, uid: Option<String>) {
        if let Some(own) = &mut self.lock().own {
            own.uid = uid;
        }
    }

    /// The step writes to a resource it did not create (it follows an update, or updates
    /// it): a cancel never deletes it.
    pub fn disown(&self) {
        self.lock().own = None;
    }

    pub fn own(&self) -> Option<Own<K>> {
        self.lock().own.clone()
    }
}
