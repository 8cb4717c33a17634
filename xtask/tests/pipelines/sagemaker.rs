//! The SageMaker side of the pipeline tests: the real ACK SageMaker controller against the
//! stack's API server and our SageMaker API (`sagemaker-emulator`), whose call log the
//! tests read. One for the whole binary; scripts by job name.

use cluster::{AckController, ControllerOptions, Stack};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use sagemaker_emulator::SageMaker;

/// The TrainingJob resource.
pub fn training_jobs(client: kube::Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("sagemaker.services.k8s.aws", "v1alpha1", "TrainingJob");
    Api::namespaced_with(client, namespace, &ApiResource::from_gvk(&gvk))
}

/// SageMaker (jobs complete on the first Describe unless scripted otherwise) and the
/// controller between it and the stack's API server.
#[derive(Debug)]
pub struct SageMakerSide {
    pub sagemaker: SageMaker,
    pub controller: AckController,
}

impl SageMakerSide {
    pub fn start(stack: &Stack) -> SageMakerSide {
        let sagemaker = SageMaker::start().expect("our SageMaker API starts");
        let controller =
            AckController::start(stack.cluster(), &ControllerOptions::new(&sagemaker.url()))
                .expect("the ACK controller starts");
        SageMakerSide {
            sagemaker,
            controller,
        }
    }

    /// `CreateTrainingJob` calls for `name`, answered or refused.
    pub fn creates(&self, name: &str) -> usize {
        self.sagemaker.count(name, "CreateTrainingJob")
    }

    /// `StopTrainingJob` calls for `name`.
    pub fn stops(&self, name: &str) -> usize {
        self.sagemaker.count(name, "StopTrainingJob")
    }
}
