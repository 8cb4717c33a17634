//! Shared helpers of the test bed's own tests: a kube-rs client configured from the
//! kubeconfig the bed writes, and the TrainingJob API handle.

#![allow(dead_code)]

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;
use testbed::TestBed;

pub const NS: &str = "ml-jobs";

/// A client built the way the launcher builds one: from a kubeconfig file.
pub async fn client(bed: &TestBed) -> kube::Client {
    kube::Client::try_from(config(bed).await).unwrap()
}

/// A client without kube's built-in retries of 429/503/504, to see those answers as errors.
pub async fn client_without_retries(bed: &TestBed) -> kube::Client {
    let mut config = config(bed).await;
    config.default_retry = false;
    kube::Client::try_from(config).unwrap()
}

pub async fn config(bed: &TestBed) -> kube::Config {
    let dir = std::env::temp_dir().join(format!(
        "testbed-kubeconfig-{}-{}",
        std::process::id(),
        bed.addr().port()
    ));
    bed.write_kubeconfig(&dir, NS).unwrap();
    let kc = Kubeconfig::read_from(&dir).unwrap();
    let _ = std::fs::remove_file(&dir);
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    assert_eq!(config.default_namespace, NS);
    config
}

pub fn training_jobs_resource() -> ApiResource {
    let gvk = GroupVersionKind::gvk("sagemaker.services.k8s.aws", "v1alpha1", "TrainingJob");
    ApiResource::from_gvk_with_plural(&gvk, "trainingjobs")
}

pub async fn api(bed: &TestBed) -> Api<DynamicObject> {
    Api::default_namespaced_with(client(bed).await, &training_jobs_resource())
}

pub fn bed() -> TestBed {
    TestBed::start_for_training_jobs().unwrap()
}

/// A sample CR from `fixtures/` as a DynamicObject.
pub fn sample(file: &str) -> DynamicObject {
    serde_json::from_value(testbed::fixture(file).unwrap()).unwrap()
}

pub fn sample_named(file: &str, name: &str) -> Value {
    let mut v = testbed::fixture(file).unwrap();
    v["metadata"]["name"] = name.into();
    v["spec"]["trainingJobName"] = name.into();
    v
}

/// The `kube::Error::Api` status of a failed call.
pub fn api_error<T: std::fmt::Debug>(r: Result<T, kube::Error>) -> Box<kube::core::Status> {
    match r {
        Err(kube::Error::Api(s)) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}
