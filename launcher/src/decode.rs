//! Naming the field that does not decode: when the cluster's resource does not fit the
//! generated types (a newer controller wrote it), the object is read again as plain JSON
//! and decoded step by step, so the failure says which field and what to do.

use kube::Api;
use kube::api::{ApiResource, DynamicObject};

use crate::exit::{Failure, Undecodable};
use crate::kinds::Kind;

/// `failure` with the path of the offending field added, if it is a decoding failure.
pub async fn explain<K: Kind>(api: &Api<K>, name: &str, failure: Failure) -> Failure {
    let Failure::Undecodable(_) = failure else {
        return failure;
    };
    undecodable(api, name).await.unwrap_or(failure)
}

/// Reads `name` as plain JSON and names the first field the generated types cannot hold.
async fn undecodable<K: Kind>(api: &Api<K>, name: &str) -> Option<Failure> {
    let resource = ApiResource::erase::<K>(&());
    let namespace = api.namespace().unwrap_or("default").to_owned();
    let raw: Api<DynamicObject> =
        Api::namespaced_with(api.clone().into_client(), &namespace, &resource);
    let object = raw.get(name).await.ok()?;
    let value = serde_json::to_value(object).ok()?;
    // By reference, as the input reader decodes: one instantiation of the decoder for the
    // spec types both read, not two (the launcher's size).
    let error = serde_path_to_error::deserialize::<_, K>(&value).err()?;
    Some(Failure::Undecodable(Undecodable::Field {
        kind: K::KIND,
        name: name.to_owned(),
        path: error.path().to_string(),
        error: error.inner().to_string(),
    }))
}
