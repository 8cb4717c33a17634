//! The SageMaker side of the pipeline tests: what reconciles the steps' resources and
//! records SageMaker's calls. (Development stand-in: testbed's simulated controller
//! against the stack's API server, until the real controller and emulator land.)

use std::sync::Mutex;
use std::time::Duration;

use cluster::Stack;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use testbed::{ClusterController, ControllerOptions, Scenario};

/// The TrainingJob resource.
pub fn training_jobs(client: kube::Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("sagemaker.services.k8s.aws", "v1alpha1", "TrainingJob");
    Api::namespaced_with(client, namespace, &ApiResource::from_gvk(&gvk))
}

pub struct SageMakerSide {
    controller: Mutex<ClusterController>,
}

impl SageMakerSide {
    pub fn start(stack: &Stack, namespace: &str) -> SageMakerSide {
        static CRD: std::sync::Once = std::sync::Once::new();
        CRD.call_once(|| {
            let text = std::fs::read_to_string(
                crate::common::repo_root()
                    .join("crds/sagemaker-controller/sagemaker.services.k8s.aws_trainingjobs.yaml"),
            )
            .unwrap();
            stack
                .cluster()
                .apply_crd(&serde_saphyr::from_str(&text).unwrap())
                .unwrap();
        });
        let controller = ClusterController::start(
            stack.cluster().client(),
            stack.cluster().handle(),
            namespace,
            ControllerOptions {
                time_scale: Duration::from_millis(1),
                ..ControllerOptions::default()
            },
        );
        SageMakerSide {
            controller: Mutex::new(controller),
        }
    }

    fn count(&self, name: &str, op: &str) -> usize {
        self.controller
            .lock()
            .unwrap()
            .aws_calls()
            .iter()
            .filter(|c| c.job_name == name && c.operation == op && c.error.is_none())
            .count()
    }

    pub fn creates(&self, name: &str) -> usize {
        self.count(name, "CreateTrainingJob")
    }

    pub fn stops(&self, name: &str) -> usize {
        self.count(name, "StopTrainingJob")
    }

    /// Jobs of this namespace train for about `_d` before they complete.
    pub fn jobs_train_for(&self, _d: Duration) {
        self.controller
            .lock()
            .unwrap()
            .set_scenario(Scenario::completes_after(800));
    }

    /// Jobs of this namespace train until stopped.
    pub fn jobs_run_until_stopped(&self) {
        self.controller
            .lock()
            .unwrap()
            .set_scenario(Scenario::runs_forever());
    }
}
