//! HTTPS: the kube-rs client verifies the test bed against the CA in the kubeconfig.

mod common;

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DynamicObject, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use testbed::{Crd, Options, TestBed};

fn tls_bed() -> TestBed {
    let bed = TestBed::start_with(Options {
        tls: true,
        ..Options::default()
    })
    .unwrap();
    bed.register_crd(Crd::from_file(testbed::training_job_crd_path()).unwrap());
    bed
}

async fn api_from(yaml: &str) -> Api<DynamicObject> {
    let kc = Kubeconfig::from_yaml(yaml).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    let mut config = config;
    config.default_retry = false;
    Api::default_namespaced_with(
        kube::Client::try_from(config).unwrap(),
        &common::training_jobs_resource(),
    )
}

#[tokio::test]
async fn https_with_the_generated_ca() {
    let bed = tls_bed();
    assert!(bed.base_url().starts_with("https://127.0.0.1:"));
    assert!(
        bed.ca_pem()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let yaml = bed.kubeconfig_yaml(common::NS);
    assert!(yaml.contains("certificate-authority-data: "));
    let api = api_from(&yaml).await;
    let created = api
        .create(
            &PostParams::default(),
            &common::sample("my-training-job.yaml"),
        )
        .await
        .unwrap();
    let mut stream = api
        .watch(&WatchParams::default().timeout(10), "0")
        .await
        .unwrap()
        .boxed();
    let WatchEvent::Added(o) = stream.try_next().await.unwrap().unwrap() else {
        panic!("expected ADDED")
    };
    assert_eq!(o.metadata.uid, created.metadata.uid);
    assert_eq!(common::api_error(api.get("missing").await).code, 404);
}

#[tokio::test]
async fn https_without_the_ca_is_rejected_before_any_request() {
    let bed = tls_bed();
    let yaml: String = bed
        .kubeconfig_yaml(common::NS)
        .lines()
        .filter(|l| !l.contains("certificate-authority-data"))
        .collect::<Vec<_>>()
        .join("\n");
    let api = api_from(&yaml).await;
    let err = api.get_opt("x").await.unwrap_err();
    assert!(!matches!(err, kube::Error::Api(_)), "{err:?}");
    assert!(bed.requests().records().is_empty());
}
