//! What is left of the simulated ACK SageMaker controllers: the one for the hosting,
//! monitoring and registry kinds ([`hosting`]), in-process on the API double's store, until
//! their outcome tests run on the real controller too. (The simulated TrainingJob and job
//! controllers are gone: the job kinds' outcomes run on the real controller,
//! `launcher/tests/job_kinds.rs`.)

pub(crate) mod hosting;

pub use hosting::{
    HostingClass, HostingController, HostingControllerOptions, HostingKind, HostingOutcome,
    LAST_ENDPOINT_CONFIG_ANNOTATION, SageMakerCall, UpdateOutcome,
};

use crate::ResourceRef;

/// The annotation that holds a resource's AWS region.
pub const REGION_ANNOTATION: &str = "services.k8s.aws/region";

/// The served resource of a SageMaker kind (`sagemaker.services.k8s.aws/v1alpha1`).
pub(crate) fn sagemaker_resource(plural: &str) -> ResourceRef {
    ResourceRef {
        group: "sagemaker.services.k8s.aws".into(),
        version: "v1alpha1".into(),
        plural: plural.into(),
    }
}

/// The finalizer the controller puts on a resource of `kind`.
pub(crate) fn sagemaker_finalizer(kind: &str) -> String {
    format!("finalizers.sagemaker.services.k8s.aws/{kind}")
}

/// The vendored CRD of the kind with this plural, as YAML.
pub(crate) fn vendored_crd(plural: &str) -> std::io::Result<String> {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
            "../crds/sagemaker-controller/sagemaker.services.k8s.aws_{plural}.yaml"
        )),
    )
}

/// 2025-01-01T00:00:00Z: where every resource's simulated clock starts.
pub const SIMULATED_EPOCH: i64 = 1_735_689_600;
